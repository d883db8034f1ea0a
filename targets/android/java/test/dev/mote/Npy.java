package dev.mote;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Just enough of NumPy's .npy format (version 1.0) to talk to {@code mote run}. */
final class Npy {
    private Npy() {}

    private static String shapeText(int[] shape) {
        StringBuilder s = new StringBuilder("(");
        for (int d : shape) {
            s.append(d).append(", ");
        }
        return s.append(")").toString();
    }

    /** Writes {@code data} (little-endian element bytes) as an array of dtype {@code descr}. */
    static void write(Path path, String descr, int[] shape, byte[] data) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': "
                + shapeText(shape) + ", }";
        int unpadded = 10 + dict.length() + 1;
        int padded = (unpadded + 63) / 64 * 64;
        StringBuilder header = new StringBuilder(dict);
        while (10 + header.length() + 1 < padded) {
            header.append(' ');
        }
        header.append('\n');
        byte[] h = header.toString().getBytes(StandardCharsets.US_ASCII);
        ByteBuffer out = ByteBuffer.allocate(10 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII));
        out.put((byte) 1).put((byte) 0).putShort((short) h.length).put(h).put(data);
        Files.write(path, out.array());
    }

    static void writeInt8(Path path, int[] shape, byte[] data) throws IOException {
        write(path, "|i1", shape, data);
    }

    static void writeFloat32(Path path, int[] shape, float[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        write(path, "<f4", shape, b.array());
    }

    /** Reads a little-endian float32 .npy file (what {@code mote run --output} writes). */
    static float[] readFloat32(Path path) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[6];
        b.get(magic);
        if (magic[0] != (byte) 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IOException(path + ": not an .npy file");
        }
        int major = b.get();
        b.get();
        int headerLen = major == 1 ? (b.getShort() & 0xffff) : b.getInt();
        byte[] h = new byte[headerLen];
        b.get(h);
        String header = new String(h, StandardCharsets.US_ASCII);
        if (!header.contains("'descr': '<f4'") || !header.contains("'fortran_order': False")) {
            throw new IOException(path + ": not a C-order float32 array: " + header.trim());
        }
        float[] v = new float[b.remaining() / 4];
        b.asFloatBuffer().get(v);
        return v;
    }
}
