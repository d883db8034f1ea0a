package dev.mote;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * A compiled mote model ({@code .mote} file, made by {@code mote compile}) and the memory it runs
 * in, backed by the native library {@code libmote_jni.so}.
 *
 * <pre>{@code
 * try (Model model = Model.load(bytes)) {
 *     TensorInfo in = model.input(0);              // e.g. 'input_1_int8' INT8 [1, 96, 96, 3]
 *     byte[] scores = model.run(pixels);           // input 0 -> output 0, raw int8 values
 *     long nanos = model.lastInferenceNanos();     // time of the model run alone
 * }
 * }</pre>
 *
 * <p>Data goes in and out in three forms: Java arrays ({@code byte[]} holds the raw bytes of any
 * element type, little-endian; {@code float[]} is for FLOAT32 tensors), and direct
 * {@link ByteBuffer}s, read and written from their position to their limit, which must span
 * exactly {@link TensorInfo#byteSize()} bytes (the position is not moved). For multi-byte types a
 * buffer must be little-endian ({@code buffer.order(ByteOrder.LITTLE_ENDIAN)}).
 *
 * <p>A run reuses the inputs' memory, so every input is written again before each run (the
 * one-call {@code run} forms do that); running with an input not written since the last run is an
 * {@link InvalidStateException}.
 *
 * <p>The methods are {@code synchronized}: a model may be shared between threads, and its calls
 * run one at a time. For parallel inference, load one model per thread. Close the model (or use
 * try-with-resources) to free its native memory; any call after {@link #close()} throws
 * {@link ModelClosedException}.
 */
public final class Model implements AutoCloseable {
    /** Alignment, in bytes, that the model bytes of {@link #load(ByteBuffer)} need. */
    public static final int ALIGNMENT = 16;

    static {
        System.loadLibrary("mote_jni");
    }

    /** The native session (a Rust {@code Box} pointer); 0 once closed. */
    private long handle;
    /** The buffer lent to {@link #load(ByteBuffer)}, kept reachable while the model is open. */
    private ByteBuffer lent;
    private final TensorInfo[] inputs;
    private final TensorInfo[] outputs;

    private Model(long handle, ByteBuffer lent) {
        this.handle = handle;
        this.lent = lent;
        try {
            this.inputs = infos(handle, true);
            this.outputs = infos(handle, false);
        } catch (RuntimeException e) {
            nFree(handle);
            this.handle = 0;
            throw e;
        }
    }

    private static TensorInfo[] infos(long handle, boolean input) {
        TensorInfo[] all = new TensorInfo[nCount(handle, input)];
        for (int i = 0; i < all.length; i++) {
            int[] v = nInfo(handle, input, i);
            int rank = v[4];
            all[i] = new TensorInfo(i, nName(handle, input, i), DType.fromCode(v[0]),
                    Arrays.copyOfRange(v, 5, 5 + rank), v[1], v[2] != 0, nScale(handle, input, i),
                    v[3]);
        }
        return all;
    }

    /**
     * Loads a model from the bytes of a {@code .mote} file, copying them into native memory
     * (aligned as the weights need), and validates it once: every offset, shape and parameter.
     *
     * @throws InvalidModelException the bytes are not a valid model
     * @throws UnsupportedVersionException the model is for another version of the format
     */
    public static Model load(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalArgumentException("bytes is null");
        }
        return new Model(nLoadBytes(bytes), null);
    }

    /**
     * Loads a model from a direct buffer WITHOUT copying it: the bytes from the buffer's position
     * to its limit are read in place. They must start at a 16-byte aligned address (a mapped
     * file at offset 0, or a buffer from {@link #allocateAligned(int)}), and must not change
     * until the model is closed; the model keeps the buffer referenced until then.
     *
     * @throws IllegalArgumentException the buffer is not direct
     * @throws MisalignedException the bytes do not start at a 16-byte aligned address
     * @throws InvalidModelException the bytes are not a valid model
     * @throws UnsupportedVersionException the model is for another version of the format
     */
    public static Model load(ByteBuffer buffer) {
        requireDirect(buffer, "buffer");
        return new Model(nLoadBuffer(buffer, buffer.position(), buffer.remaining()), buffer);
    }

    /**
     * A direct, little-endian buffer of {@code size} bytes whose memory starts at a 16-byte
     * aligned address: for {@link #load(ByteBuffer)}, and for inputs and outputs.
     */
    public static ByteBuffer allocateAligned(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        ByteBuffer raw = ByteBuffer.allocateDirect(size + ALIGNMENT - 1);
        int shift = (int) ((ALIGNMENT - nAddress(raw) % ALIGNMENT) % ALIGNMENT);
        raw.position(shift);
        raw.limit(shift + size);
        return raw.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The native library's version, e.g. "0.1.0". */
    public static String version() {
        return nVersion();
    }

    private static void requireDirect(ByteBuffer b, String what) {
        if (b == null) {
            throw new IllegalArgumentException(what + " is null");
        }
        if (!b.isDirect()) {
            throw new IllegalArgumentException(what + " is not a direct ByteBuffer (use "
                    + "ByteBuffer.allocateDirect or Model.allocateAligned), or pass an array");
        }
    }

    private static void requireOrder(ByteBuffer b, TensorInfo t) {
        if (t.dtype().byteSize() > 1 && b.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.dtype()
                    + ": its buffer must be little-endian (buffer.order(ByteOrder.LITTLE_ENDIAN))");
        }
    }

    private long live() {
        if (handle == 0) {
            throw new ModelClosedException("the model is closed");
        }
        return handle;
    }

    private static TensorInfo pick(TensorInfo[] all, int index, String what) {
        if (index < 0 || index >= all.length) {
            throw new NoSuchTensorException(
                    "no " + what + " " + index + ": the model has " + all.length);
        }
        return all[index];
    }

    /** Number of graph inputs. */
    public int inputCount() {
        return inputs.length;
    }

    /** Number of graph outputs. */
    public int outputCount() {
        return outputs.length;
    }

    /** Graph input {@code index}. @throws NoSuchTensorException no such input */
    public TensorInfo input(int index) {
        return pick(inputs, index, "input");
    }

    /** Graph output {@code index}. @throws NoSuchTensorException no such output */
    public TensorInfo output(int index) {
        return pick(outputs, index, "output");
    }

    /** All graph inputs, in order. */
    public List<TensorInfo> inputs() {
        return Collections.unmodifiableList(Arrays.asList(inputs));
    }

    /** All graph outputs, in order. */
    public List<TensorInfo> outputs() {
        return Collections.unmodifiableList(Arrays.asList(outputs));
    }

    /** Bytes of native working memory (the arena) the model runs in. */
    public synchronized long arenaSize() {
        return nArenaSize(live());
    }

    /** Writes input {@code index} from its raw bytes (little-endian for multi-byte types). */
    public synchronized void setInput(int index, byte[] data) {
        nSetInputBytes(live(), index, data);
    }

    /** Writes FLOAT32 input {@code index}. @throws WrongDTypeException the input is not FLOAT32 */
    public synchronized void setInput(int index, float[] data) {
        nSetInputFloats(live(), index, data);
    }

    /** Writes input {@code index} from a direct buffer's position to its limit. */
    public synchronized void setInput(int index, ByteBuffer data) {
        long h = live();
        requireDirect(data, "data");
        requireOrder(data, input(index));
        nSetInputBuffer(h, index, data, data.position(), data.remaining());
    }

    /**
     * Runs the convolutions on {@code threads} threads (1 to 16; 1, the default, runs everything
     * on the calling thread). Each convolution with work enough is cut into bands of output rows
     * run at once; outputs stay the same bit for bit for int8 models. Call it from the thread
     * that runs the model: that thread then works on bands too. While the model runs, the other
     * threads spin rather than sleep (waking a thread costs more than a layer takes).
     *
     * @throws IllegalArgumentException {@code threads} is outside 1 to 16
     */
    public synchronized void setThreads(int threads) {
        nSetThreads(live(), threads);
    }

    /**
     * Runs the model on the inputs written since the last run.
     *
     * @throws InvalidStateException an input was not written since the last run
     */
    public synchronized void run() {
        nRun(live());
    }

    /** Reads output {@code index} as raw bytes into {@code dst} (exactly its byte size). */
    public synchronized void getOutput(int index, byte[] dst) {
        nGetOutputBytes(live(), index, dst);
    }

    /** Reads FLOAT32 output {@code index} into {@code dst} (exactly its element count). */
    public synchronized void getOutput(int index, float[] dst) {
        nGetOutputFloats(live(), index, dst);
    }

    /** Reads output {@code index} into a direct buffer, from its position to its limit. */
    public synchronized void getOutput(int index, ByteBuffer dst) {
        long h = live();
        requireDirect(dst, "dst");
        requireOrder(dst, output(index));
        nGetOutputBuffer(h, index, dst, dst.position(), dst.remaining());
    }

    /** Output {@code index} as a new array of its raw bytes. */
    public synchronized byte[] getOutputBytes(int index) {
        byte[] out = new byte[output(index).byteSize()];
        getOutput(index, out);
        return out;
    }

    /** FLOAT32 output {@code index} as a new array. */
    public synchronized float[] getOutputFloats(int index) {
        float[] out = new float[output(index).elementCount()];
        getOutput(index, out);
        return out;
    }

    private void requireSingleInput() {
        if (inputs.length != 1) {
            throw new IllegalArgumentException("the model has " + inputs.length
                    + " inputs: use setInput(index, ...) for each, run(), getOutput(...)");
        }
    }

    /** One call for a one-input model: raw bytes of input 0 in, raw bytes of output 0 out. */
    public synchronized byte[] run(byte[] input) {
        requireSingleInput();
        setInput(0, input);
        run();
        return getOutputBytes(0);
    }

    /** One call for a one-input FLOAT32 model: input 0 in, FLOAT32 output 0 out. */
    public synchronized float[] run(float[] input) {
        requireSingleInput();
        setInput(0, input);
        run();
        return getOutputFloats(0);
    }

    /** One call for a one-input model with direct buffers: input 0 in, output 0 out. */
    public synchronized void run(ByteBuffer input, ByteBuffer output) {
        requireSingleInput();
        setInput(0, input);
        run();
        getOutput(0, output);
    }

    /** One call with direct buffers: one per input in, one per output (or fewer) out. */
    public synchronized void run(ByteBuffer[] inputs, ByteBuffer[] outputs) {
        live();
        if (inputs == null || inputs.length != this.inputs.length) {
            throw new IllegalArgumentException("the model has " + this.inputs.length
                    + " inputs, " + (inputs == null ? "null" : inputs.length + " buffers")
                    + " given");
        }
        if (outputs == null || outputs.length > this.outputs.length) {
            throw new IllegalArgumentException("the model has " + this.outputs.length
                    + " outputs, " + (outputs == null ? "null" : outputs.length + " buffers")
                    + " given");
        }
        for (int i = 0; i < inputs.length; i++) {
            setInput(i, inputs[i]);
        }
        run();
        for (int i = 0; i < outputs.length; i++) {
            getOutput(i, outputs[i]);
        }
    }

    /**
     * Nanoseconds the last successful run took, measured around the model's execution alone
     * (not the copies in and out): the figure to report as on-device latency. 0 before the first.
     */
    public synchronized long lastInferenceNanos() {
        return nLastNanos(live());
    }

    /** Whether {@link #close()} was called. */
    public synchronized boolean isClosed() {
        return handle == 0;
    }

    /** Frees the native memory. Idempotent; every later call except this throws. */
    @Override
    public synchronized void close() {
        long h = handle;
        handle = 0;
        lent = null;
        nFree(h);
    }

    private static native long nLoadBytes(byte[] bytes);

    private static native long nLoadBuffer(ByteBuffer buffer, int offset, int length);

    private static native void nFree(long handle);

    private static native int nCount(long handle, boolean input);

    private static native String nName(long handle, boolean input, int index);

    private static native int[] nInfo(long handle, boolean input, int index);

    private static native float nScale(long handle, boolean input, int index);

    private static native long nArenaSize(long handle);

    private static native void nSetInputBytes(long handle, int index, byte[] data);

    private static native void nSetInputFloats(long handle, int index, float[] data);

    private static native void nSetInputBuffer(long handle, int index, ByteBuffer data,
            int offset, int length);

    private static native void nRun(long handle);

    private static native void nSetThreads(long handle, int threads);

    private static native long nLastNanos(long handle);

    private static native void nGetOutputBytes(long handle, int index, byte[] dst);

    private static native void nGetOutputFloats(long handle, int index, float[] dst);

    private static native void nGetOutputBuffer(long handle, int index, ByteBuffer dst,
            int offset, int length);

    private static native long nAddress(ByteBuffer buffer);

    private static native String nVersion();
}
