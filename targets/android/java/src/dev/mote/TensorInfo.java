package dev.mote;

import java.util.Arrays;

/** A graph input or output of a {@link Model}: its name, element type, shape and quantization. */
public final class TensorInfo {
    private final int index;
    private final String name;
    private final DType dtype;
    private final int[] shape;
    private final int byteSize;
    private final boolean quantized;
    private final float scale;
    private final int zeroPoint;

    TensorInfo(int index, String name, DType dtype, int[] shape, int byteSize, boolean quantized,
            float scale, int zeroPoint) {
        this.index = index;
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.byteSize = byteSize;
        this.quantized = quantized;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    /** Position among the model's inputs (or outputs). */
    public int index() {
        return index;
    }

    /** The tensor's name in the model (the ONNX graph's input or output name). */
    public String name() {
        return name;
    }

    /** Element type. */
    public DType dtype() {
        return dtype;
    }

    /** The shape (a copy), e.g. {@code [1, 96, 96, 3]}. */
    public int[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape. */
    public int elementCount() {
        return byteSize / dtype.byteSize();
    }

    /** Size in bytes: what {@code setInput} takes and {@code getOutput} gives. */
    public int byteSize() {
        return byteSize;
    }

    /** Whether the tensor is quantized: {@code real = scale * (q - zeroPoint)}. */
    public boolean isQuantized() {
        return quantized;
    }

    /** Quantization scale (0 when not quantized). */
    public float scale() {
        return scale;
    }

    /** Quantization zero point (0 when not quantized). */
    public int zeroPoint() {
        return zeroPoint;
    }

    @Override
    public String toString() {
        String q = quantized ? " (scale " + scale + ", zero point " + zeroPoint + ")" : "";
        return index + ": '" + name + "' " + dtype + " " + Arrays.toString(shape) + q;
    }
}
