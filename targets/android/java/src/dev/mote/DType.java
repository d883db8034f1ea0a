package dev.mote;

/** Element type of a tensor. Multi-byte types are little-endian in byte buffers and arrays. */
public enum DType {
    /** IEEE 754 binary32. */
    FLOAT32(1, 4),
    /** Signed 8-bit integer (a quantized tensor: {@code real = scale * (q - zeroPoint)}). */
    INT8(2, 1),
    /** Unsigned 8-bit integer. */
    UINT8(3, 1),
    /** Signed 32-bit integer. */
    INT32(4, 4);

    private final int code;
    private final int byteSize;

    DType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    static DType fromCode(int code) {
        for (DType d : values()) {
            if (d.code == code) {
                return d;
            }
        }
        throw new InternalException("unknown element type code " + code);
    }
}
