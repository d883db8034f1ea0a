package dev.mote;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;

/**
 * The Java API on the host JVM against the host build of libmote_jni.so, with the MLPerf Tiny
 * visual-wake-words models (int8 and float) compiled by {@code mote compile}. The reference is the
 * {@code mote} command itself: each input is written to an .npy file, {@code mote run} runs it,
 * and the Java outputs must equal its outputs bit for bit.
 *
 * <p>System properties (set by scripts/android.sh): {@code mote.cli} (the mote binary),
 * {@code mote.models} (a folder with vww_96_int8.mote and vww_96_float.mote), {@code mote.images}
 * (models/images).
 */
public class ModelTest {
    private static final int[] VWW_SHAPE = {1, 96, 96, 3};
    private static final int VWW_BYTES = 96 * 96 * 3;

    @Rule
    public TemporaryFolder tmp = new TemporaryFolder();

    private static Path property(String name) {
        String v = System.getProperty(name);
        if (v == null) {
            throw new IllegalStateException("system property " + name + " is not set (run scripts/android.sh)");
        }
        return Paths.get(v);
    }

    private static byte[] modelBytes(String name) throws IOException {
        return Files.readAllBytes(property("mote.models").resolve(name));
    }

    private static byte[] int8Model() throws IOException {
        return modelBytes("vww_96_int8.mote");
    }

    private static byte[] floatModel() throws IOException {
        return modelBytes("vww_96_float.mote");
    }

    /** Runs the mote CLI; returns its stdout, failing on a non-zero exit. */
    private static String mote(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(property("mote.cli").toString());
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
            byte[] buf = new byte[8192];
            for (int n; (n = in.read(buf)) > 0; ) {
                out.write(buf, 0, n);
            }
        }
        assertTrue("mote timed out", p.waitFor(120, TimeUnit.SECONDS));
        String text = new String(out.toByteArray(), StandardCharsets.UTF_8);
        assertEquals("mote " + String.join(" ", args) + " failed:\n" + text, 0, p.exitValue());
        return text;
    }

    /** Output 0 of {@code mote run} on one input .npy file. */
    private float[] moteRun(byte[] model, Path input) throws Exception {
        Path m = tmp.newFile("model.mote").toPath();
        Files.write(m, model);
        Path out = tmp.getRoot().toPath().resolve("out-" + System.nanoTime() + ".npy");
        mote("run", m.toString(), "--input", input.toString(), "--output", out.toString());
        Files.delete(m);
        return Npy.readFloat32(out);
    }

    private float[] moteRunInt8(byte[] model, byte[] input) throws Exception {
        Path in = tmp.newFile().toPath();
        Npy.writeInt8(in, VWW_SHAPE, input);
        return moteRun(model, in);
    }

    private float[] moteRunFloat(byte[] model, float[] input) throws Exception {
        Path in = tmp.newFile().toPath();
        Npy.writeFloat32(in, VWW_SHAPE, input);
        return moteRun(model, in);
    }

    /** Deterministic pseudo-random int8 values (a 32-bit LCG). */
    private static byte[] noise(int n, int seed) {
        byte[] v = new byte[n];
        int s = seed;
        for (int i = 0; i < n; i++) {
            s = s * 1664525 + 1013904223;
            v[i] = (byte) (s >>> 24);
        }
        return v;
    }

    /** A bundled photo resized to 96x96 RGB (bilinear), as pixel values 0..255. */
    private static int[] photo(String file) throws IOException {
        BufferedImage src = ImageIO.read(property("mote.images").resolve(file).toFile());
        assertNotNull(file, src);
        BufferedImage small = new BufferedImage(96, 96, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = small.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(src, 0, 0, 96, 96, null);
        g.dispose();
        int[] px = new int[VWW_BYTES];
        for (int y = 0; y < 96; y++) {
            for (int x = 0; x < 96; x++) {
                int rgb = small.getRGB(x, y);
                int o = (y * 96 + x) * 3;
                px[o] = (rgb >> 16) & 0xff;
                px[o + 1] = (rgb >> 8) & 0xff;
                px[o + 2] = rgb & 0xff;
            }
        }
        return px;
    }

    /** The int8 model's input: {@code pixel - 128} (its scale is 1/255, zero point -128). */
    private static byte[] photoInt8(String file) throws IOException {
        int[] px = photo(file);
        byte[] v = new byte[px.length];
        for (int i = 0; i < px.length; i++) {
            v[i] = (byte) (px[i] - 128);
        }
        return v;
    }

    private static float[] photoFloat(String file) throws IOException {
        int[] px = photo(file);
        float[] v = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            v[i] = px[i] / 255.0f;
        }
        return v;
    }

    private static void assertBitsEqual(String what, float[] expected, byte[] int8) {
        assertEquals(what + ": length", expected.length, int8.length);
        for (int i = 0; i < int8.length; i++) {
            assertEquals(what + ": element " + i, Float.floatToIntBits(expected[i]),
                    Float.floatToIntBits((float) int8[i]));
        }
    }

    private static void assertBitsEqual(String what, float[] expected, float[] got) {
        assertEquals(what + ": length", expected.length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals(what + ": element " + i + " (" + got[i] + " vs " + expected[i] + ")",
                    Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]));
        }
    }

    private static ByteBuffer aligned(byte[] bytes) {
        ByteBuffer b = Model.allocateAligned(bytes.length);
        b.put(bytes);
        b.flip();
        return b;
    }

    /** Runs {@code input} through every way the API offers; all must agree. */
    private static byte[] runAllWays(byte[] modelBytes, byte[] input) {
        byte[] viaArrays;
        byte[] viaBuffers = new byte[2];
        byte[] viaSteps = new byte[2];
        byte[] viaLent;
        try (Model m = Model.load(modelBytes)) {
            viaArrays = m.run(input);

            ByteBuffer in = ByteBuffer.allocateDirect(input.length);
            in.put(input).flip();
            ByteBuffer out = ByteBuffer.allocateDirect(2);
            m.run(in, out);
            assertEquals("positions are not moved", 0, in.position());
            out.get(viaBuffers);

            m.setInput(0, aligned(input));
            m.run();
            m.getOutput(0, viaSteps);
        }
        ByteBuffer lent = aligned(modelBytes);
        try (Model m = Model.load(lent)) {
            ByteBuffer out = Model.allocateAligned(2);
            m.run(new ByteBuffer[] {aligned(input)}, new ByteBuffer[] {out});
            viaLent = new byte[2];
            out.get(viaLent);
        }
        assertArrayEquals("direct buffers", viaArrays, viaBuffers);
        assertArrayEquals("setInput/run/getOutput", viaArrays, viaSteps);
        assertArrayEquals("model lent without copy", viaArrays, viaLent);
        return viaArrays;
    }

    @Test
    public void int8ModelDescribesItsInputsAndOutputs() throws Exception {
        try (Model m = Model.load(int8Model())) {
            assertEquals(1, m.inputCount());
            assertEquals(1, m.outputCount());
            TensorInfo in = m.input(0);
            assertEquals("input_1_int8", in.name());
            assertEquals(DType.INT8, in.dtype());
            assertArrayEquals(VWW_SHAPE, in.shape());
            assertEquals(VWW_BYTES, in.byteSize());
            assertEquals(VWW_BYTES, in.elementCount());
            assertTrue(in.isQuantized());
            assertEquals(1.0f / 255, in.scale(), 1e-9f);
            assertEquals(-128, in.zeroPoint());
            TensorInfo out = m.output(0);
            assertEquals("Identity_int8", out.name());
            assertEquals(DType.INT8, out.dtype());
            assertArrayEquals(new int[] {1, 2}, out.shape());
            assertTrue(out.isQuantized());
            assertEquals(Arrays.asList(in), m.inputs());
            assertEquals(Arrays.asList(out), m.outputs());
            assertTrue(m.arenaSize() > 0);
            assertEquals(0, m.lastInferenceNanos());
        }
    }

    @Test
    public void versionIsTheMoteCommandsVersion() throws Exception {
        assertEquals("mote " + Model.version(), mote("--version").trim());
    }

    @Test
    public void int8OutputsEqualMoteRunBitForBit() throws Exception {
        byte[] model = int8Model();
        String[] photos = {"astronaut.png", "chelsea.png"};
        List<byte[]> inputs = new ArrayList<>();
        inputs.add(noise(VWW_BYTES, 1));
        inputs.add(noise(VWW_BYTES, 2));
        for (String p : photos) {
            inputs.add(photoInt8(p));
        }
        for (int k = 0; k < inputs.size(); k++) {
            byte[] got = runAllWays(model, inputs.get(k));
            assertBitsEqual("input " + k, moteRunInt8(model, inputs.get(k)), got);
        }
    }

    @Test
    public void thePersonIsAPersonAndTheCatIsNot() throws Exception {
        try (Model m = Model.load(int8Model())) {
            byte[] astronaut = m.run(photoInt8("astronaut.png"));
            byte[] cat = m.run(photoInt8("chelsea.png"));
            // Output 0 is "no person", output 1 "person" (int8 scores, same scale).
            assertTrue(Arrays.toString(astronaut), astronaut[1] > astronaut[0]);
            assertTrue(Arrays.toString(cat), cat[0] > cat[1]);
        }
    }

    @Test
    public void floatOutputsEqualMoteRunBitForBit() throws Exception {
        byte[] model = floatModel();
        float[] input = photoFloat("astronaut.png");
        float[] expected = moteRunFloat(model, input);
        try (Model m = Model.load(model)) {
            assertEquals(DType.FLOAT32, m.input(0).dtype());
            assertFalse(m.input(0).isQuantized());
            assertBitsEqual("float[]", expected, m.run(input));

            ByteBuffer in = Model.allocateAligned(input.length * 4);
            in.asFloatBuffer().put(input);
            ByteBuffer out = Model.allocateAligned(m.output(0).byteSize());
            m.run(in, out);
            float[] got = new float[m.output(0).elementCount()];
            out.asFloatBuffer().get(got);
            assertBitsEqual("direct buffers", expected, got);

            byte[] raw = new byte[in.capacity()];
            in.get(raw);
            m.setInput(0, raw);
            m.run();
            assertBitsEqual("raw bytes in, floats out", expected, m.getOutputFloats(0));
        }
    }

    @Test
    public void threadsKeepTheOutputs() throws Exception {
        // The API end to end; how layers are cut into bands, and that the bands' outputs are the
        // whole layers', is tested in Rust (tests/threads.rs), on models that get cut.
        byte[] noise = noise(VWW_BYTES, 5);
        float[] photo = photoFloat("astronaut.png");
        byte[] int8One;
        float[] floatOne;
        try (Model m = Model.load(int8Model())) {
            int8One = m.run(noise);
        }
        try (Model m = Model.load(floatModel())) {
            floatOne = m.run(photo);
        }
        try (Model m = Model.load(int8Model())) {
            m.setThreads(2);
            for (int k = 0; k < 3; k++) {
                assertArrayEquals("int8, run " + k, int8One, m.run(noise));
            }
            m.setThreads(1);
            assertArrayEquals("int8, back to one thread", int8One, m.run(noise));
            assertThrows(IllegalArgumentException.class, () -> m.setThreads(0));
            assertThrows(IllegalArgumentException.class, () -> m.setThreads(17));
        }
        try (Model m = Model.load(floatModel())) {
            m.setThreads(3);
            assertArrayEquals("float", floatOne, m.run(photo), 1e-5f);
        }
    }

    @Test
    public void lastInferenceTimeIsMeasured() throws Exception {
        try (Model m = Model.load(int8Model())) {
            assertEquals(0, m.lastInferenceNanos());
            long before = System.nanoTime();
            m.run(noise(VWW_BYTES, 3));
            long wall = System.nanoTime() - before;
            long t = m.lastInferenceNanos();
            assertTrue("last inference " + t + " ns", t > 0);
            assertTrue("last inference " + t + " ns within the call's " + wall + " ns", t <= wall);
            // A failed run keeps the last successful run's time.
            assertThrows(InvalidStateException.class, m::run);
            assertEquals(t, m.lastInferenceNanos());
        }
    }

    @Test
    public void garbageBytesAreInvalidModels() throws Exception {
        assertThrows(InvalidModelException.class, () -> Model.load(noise(1000, 7)));
        assertThrows(InvalidModelException.class, () -> Model.load(new byte[0]));
        assertThrows(InvalidModelException.class,
                () -> Model.load("not a model".getBytes(StandardCharsets.US_ASCII)));
        byte[] model = int8Model();
        assertThrows(InvalidModelException.class, () -> Model.load(Arrays.copyOf(model, model.length / 2)));
        byte[] damaged = model.clone();
        damaged[damaged.length - 5] ^= 0x10;
        InvalidModelException e = assertThrows(InvalidModelException.class, () -> Model.load(damaged));
        assertTrue(e.getMessage(), e.getMessage().contains("checksum"));
        assertThrows(InvalidModelException.class, () -> Model.load(aligned(noise(1000, 8))));
    }

    @Test
    public void aModelForAnotherFormatVersionIsUnsupported() throws Exception {
        byte[] model = int8Model();
        model[4] = 99; // the major version (u16, little-endian, after the magic "MOTE")
        model[5] = 0;
        UnsupportedVersionException e =
                assertThrows(UnsupportedVersionException.class, () -> Model.load(model));
        assertTrue(e.getMessage(), e.getMessage().contains("99"));
    }

    @Test
    public void lentBytesMustBeDirectAndAligned() throws Exception {
        byte[] model = int8Model();
        ByteBuffer shifted = Model.allocateAligned(model.length + 1);
        shifted.position(1);
        shifted.put(model);
        shifted.position(1);
        assertThrows(MisalignedException.class, () -> Model.load(shifted));
        assertThrows(MisalignedException.class, () -> Model.load(shifted.slice()));
        assertThrows(IllegalArgumentException.class, () -> Model.load(ByteBuffer.wrap(model)));
        assertThrows(IllegalArgumentException.class, () -> Model.load((ByteBuffer) null));
        assertThrows(IllegalArgumentException.class, () -> Model.load((byte[]) null));
    }

    @Test
    public void wrongInputsAreTypedErrorsAndTheModelStaysUsable() throws Exception {
        try (Model m = Model.load(int8Model())) {
            WrongSizeException e = assertThrows(WrongSizeException.class, () -> m.run(new byte[10]));
            assertTrue(e.getMessage(), e.getMessage().contains("27648 bytes, got 10"));
            assertThrows(WrongSizeException.class, () -> m.setInput(0, new byte[VWW_BYTES + 1]));
            assertThrows(WrongSizeException.class, () -> m.run(ByteBuffer.allocateDirect(5), ByteBuffer.allocateDirect(2)));
            assertThrows(WrongDTypeException.class, () -> m.run(new float[VWW_BYTES]));
            assertThrows(NoSuchTensorException.class, () -> m.input(1));
            assertThrows(NoSuchTensorException.class, () -> m.output(-1));
            assertThrows(NoSuchTensorException.class, () -> m.setInput(3, new byte[VWW_BYTES]));
            assertThrows(NoSuchTensorException.class, () -> m.setInput(-1, new float[1]));
            assertThrows(IllegalArgumentException.class,
                    () -> m.setInput(0, ByteBuffer.wrap(new byte[VWW_BYTES])));
            assertThrows(IllegalArgumentException.class, () -> m.setInput(0, (byte[]) null));
            assertThrows(IllegalArgumentException.class,
                    () -> m.run(new ByteBuffer[0], new ByteBuffer[0]));

            // Still works, and gives what it gives on a fresh model.
            byte[] input = noise(VWW_BYTES, 4);
            byte[] out = m.run(input);
            assertThrows(WrongSizeException.class, () -> m.getOutput(0, new byte[3]));
            assertThrows(WrongDTypeException.class, () -> m.getOutput(0, new float[2]));
            try (Model fresh = Model.load(int8Model())) {
                assertArrayEquals(fresh.run(input), out);
            }
        }
    }

    @Test
    public void callsOutOfOrderAreInvalidState() throws Exception {
        try (Model m = Model.load(int8Model())) {
            assertThrows(InvalidStateException.class, () -> m.getOutputBytes(0));
            assertThrows(InvalidStateException.class, m::run);
            m.setInput(0, noise(VWW_BYTES, 5));
            m.run();
            m.getOutputBytes(0);
            // The run reused the input's memory: it must be written again.
            InvalidStateException e = assertThrows(InvalidStateException.class, m::run);
            assertTrue(e.getMessage(), e.getMessage().contains("input 0 ('input_1_int8')"));
            assertThrows(InvalidStateException.class, () -> m.getOutputBytes(0));
            // A failed write leaves the input unwritten.
            assertThrows(WrongSizeException.class, () -> m.setInput(0, new byte[1]));
            assertThrows(InvalidStateException.class, m::run);
        }
    }

    @Test
    public void floatBuffersMustBeLittleEndian() throws Exception {
        try (Model m = Model.load(floatModel())) {
            ByteBuffer big = ByteBuffer.allocateDirect(m.input(0).byteSize()).order(ByteOrder.BIG_ENDIAN);
            assertThrows(IllegalArgumentException.class, () -> m.setInput(0, big));
        }
    }

    @Test
    public void useAfterCloseThrows() throws Exception {
        Model m = Model.load(int8Model());
        byte[] input = noise(VWW_BYTES, 6);
        m.run(input);
        assertFalse(m.isClosed());
        m.close();
        assertTrue(m.isClosed());
        m.close(); // idempotent
        assertThrows(ModelClosedException.class, () -> m.run(input));
        assertThrows(ModelClosedException.class, () -> m.setInput(0, input));
        assertThrows(ModelClosedException.class, m::run);
        assertThrows(ModelClosedException.class, () -> m.getOutputBytes(0));
        assertThrows(ModelClosedException.class, m::lastInferenceNanos);
        assertThrows(ModelClosedException.class, m::arenaSize);
        InvalidStateException e = assertThrows(InvalidStateException.class, () -> m.run(input));
        assertTrue(e instanceof ModelClosedException);
        // The description is plain Java data and stays readable.
        assertEquals("input_1_int8", m.input(0).name());
    }

    @Test
    public void aRustPanicArrivesAsInternalException() throws Exception {
        Model.version(); // loads the library
        InternalException e = assertThrows(InternalException.class, PanicProbe::panic);
        assertTrue(e.getMessage(), e.getMessage().contains("deliberate panic from PanicProbe"));
        assertTrue(e instanceof MoteException);
        // The library goes on working.
        try (Model m = Model.load(int8Model())) {
            m.run(noise(VWW_BYTES, 9));
        }
    }

    @Test
    public void aModelSharedBetweenThreadsGivesTheSameAnswers() throws Exception {
        byte[][] inputs = {noise(VWW_BYTES, 10), noise(VWW_BYTES, 11), noise(VWW_BYTES, 12)};
        byte[][] expected = new byte[inputs.length][];
        try (Model m = Model.load(int8Model())) {
            for (int i = 0; i < inputs.length; i++) {
                expected[i] = m.run(inputs[i]);
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> jobs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    final int first = t;
                    jobs.add(pool.submit(() -> {
                        for (int r = 0; r < 6; r++) {
                            int i = (first + r) % inputs.length;
                            assertArrayEquals(expected[i], m.run(inputs[i]));
                        }
                    }));
                }
                for (Future<?> j : jobs) {
                    j.get(120, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
