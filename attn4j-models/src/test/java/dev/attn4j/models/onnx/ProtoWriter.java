package dev.attn4j.models.onnx;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Test helper: writes protobuf wire format, to build small ONNX models by hand. */
final class ProtoWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    ProtoWriter varint(int field, long v) {
        tag(field, 0);
        raw(v);
        return this;
    }

    ProtoWriter fixed32(int field, float f) {
        tag(field, 5);
        int bits = Float.floatToRawIntBits(f);
        for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
        return this;
    }

    ProtoWriter bytes(int field, byte[] b) {
        tag(field, 2);
        raw(b.length);
        out.writeBytes(b);
        return this;
    }

    ProtoWriter string(int field, String s) {
        return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    ProtoWriter message(int field, ProtoWriter m) {
        return bytes(field, m.toByteArray());
    }

    ProtoWriter packedVarints(int field, long... vs) {
        ProtoWriter p = new ProtoWriter();
        for (long v : vs) p.raw(v);
        return bytes(field, p.toByteArray());
    }

    ProtoWriter packedFloats(int field, float... fs) {
        ByteBuffer b = ByteBuffer.allocate(4 * fs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : fs) b.putFloat(f);
        return bytes(field, b.array());
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }

    private void tag(int field, int wire) {
        raw(((long) field << 3) | wire);
    }

    private void raw(long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    // ---- ONNX helpers ----

    /** A FLOAT TensorProto with raw_data (or float_data when {@code typed}), dims unpacked or packed. */
    static ProtoWriter floatTensor(String name, long[] dims, float[] values, boolean typed, boolean packedDims) {
        ProtoWriter t = new ProtoWriter();
        if (packedDims) t.packedVarints(1, dims);
        else for (long d : dims) t.varint(1, d);
        t.varint(2, OnnxDataType.FLOAT.code());
        t.string(8, name);
        if (typed) {
            t.packedFloats(4, values);
        } else {
            ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : values) b.putFloat(f);
            t.bytes(9, b.array());
        }
        return t;
    }

    static ProtoWriter int64Tensor(String name, long[] dims, long[] values) {
        ProtoWriter t = new ProtoWriter();
        for (long d : dims) t.varint(1, d);
        t.varint(2, OnnxDataType.INT64.code());
        t.string(8, name);
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        t.bytes(9, b.array());
        return t;
    }

    static ProtoWriter node(String name, String op, String[] inputs, String[] outputs, ProtoWriter... attrs) {
        ProtoWriter n = new ProtoWriter();
        for (String i : inputs) n.string(1, i);
        for (String o : outputs) n.string(2, o);
        n.string(3, name);
        n.string(4, op);
        for (ProtoWriter a : attrs) n.message(5, a);
        return n;
    }

    static ProtoWriter tensorAttr(String name, ProtoWriter tensor) {
        return new ProtoWriter().string(1, name).message(5, tensor).varint(20, 4);
    }

    static ProtoWriter intAttr(String name, long v) {
        return new ProtoWriter().string(1, name).varint(3, v).varint(20, 2);
    }

    static byte[] model(ProtoWriter graph) {
        return new ProtoWriter().varint(1, 8).string(2, "test").string(3, "0")
                .message(8, new ProtoWriter().string(1, "").varint(2, 14))
                .message(7, graph).toByteArray();
    }
}
