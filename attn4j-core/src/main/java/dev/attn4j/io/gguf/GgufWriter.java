package dev.attn4j.io.gguf;

import dev.attn4j.io.AtomicFiles;
import dev.attn4j.tensor.QuantizedMatrix;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a GGUF v3 file (layout in {@link GgufFile}): metadata in the order put, tensors in the
 * order added, each tensor's data at the next multiple of the alignment ({@code general.alignment}
 * if put, as UINT32, else 32), as llama.cpp and gguf-py write them. {@link #write} streams the
 * file into a temporary file beside the target and renames it over the target. Tensor data is
 * referenced, not copied, until written.
 */
public final class GgufWriter {
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();

    private record Entry(String name, GgmlType type, long[] ne, MemorySegment data) {
    }

    /** Sets metadata {@code key} (replacing an earlier value, keeping its place). */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("GGUF metadata key must not be empty");
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufValue.ofString(v)); }
    public GgufWriter putU32(String key, long v) { return put(key, GgufValue.ofU32(v)); }
    public GgufWriter putF32(String key, float v) { return put(key, GgufValue.ofF32(v)); }

    /**
     * Adds a tensor of {@code type} with {@code shape} in PyTorch order (outermost first; the file
     * stores ggml's reversed ne) whose bytes are {@code data} (exactly the size the type and shape
     * need, little-endian).
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, MemorySegment data) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("GGUF tensor name must not be empty");
        if (tensors.containsKey(name)) throw new IllegalArgumentException("duplicate GGUF tensor '" + name + "'");
        if (shape.length > GgufFile.MAX_DIMS) throw new IllegalArgumentException("tensor '" + name + "': at most 4 dims, got " + shape.length);
        long[] ne = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) throw new IllegalArgumentException("tensor '" + name + "': negative dim in " + java.util.Arrays.toString(shape));
            ne[i] = shape[shape.length - 1 - i];
        }
        GgufTensorInfo info = new GgufTensorInfo(name, type, ne, 0);
        if (ne.length > 0 && ne[0] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " needs the last dim a multiple of "
                    + type.blockSize() + ", got " + ne[0]);
        }
        if (data.byteSize() != info.byteSize()) {
            throw new IllegalArgumentException("tensor '" + name + "': " + type + " " + java.util.Arrays.toString(shape) + " needs "
                    + info.byteSize() + " bytes, got " + data.byteSize());
        }
        tensors.put(name, new Entry(name, type, ne, data));
        return this;
    }

    /** Adds F32 values of {@code shape} (PyTorch order). */
    public GgufWriter addF32(String name, float[] values, long... shape) {
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.multiplyExact(values.length, 4)]);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, values.length);
        return addTensor(name, GgmlType.F32, shape, seg);
    }

    /** Adds a quantized matrix as a 2-D tensor [rows, cols]. */
    public GgufWriter addQuantized(String name, QuantizedMatrix q) {
        return addTensor(name, GgmlType.of(q.type()), new long[] {q.rows(), q.cols()}, q.data());
    }

    private long alignment() {
        GgufValue al = metadata.get("general.alignment");
        if (al == null) return GgufFile.DEFAULT_ALIGNMENT;
        if (al.type() != GgufValueType.UINT32 || al.asLong() == 0 || Long.bitCount(al.asLong()) != 1) {
            throw new IllegalArgumentException("general.alignment must be a UINT32 power of two, got " + al);
        }
        return al.asLong();
    }

    /** Writes the file atomically. */
    public void write(Path target) throws IOException {
        long alignment = alignment();
        Out h = new Out();
        h.u32(GgufFile.MAGIC);
        h.u32(3);
        h.u64(tensors.size());
        h.u64(metadata.size());
        for (var e : metadata.entrySet()) {
            h.string(e.getKey());
            h.u32(e.getValue().type().id());
            h.value(e.getValue());
        }
        long off = 0;
        long[] offsets = new long[tensors.size()];
        int i = 0;
        for (Entry t : tensors.values()) {
            h.string(t.name);
            h.u32(t.ne.length);
            for (long d : t.ne) h.u64(d);
            h.u32(t.type.id());
            h.u64(off);
            offsets[i++] = off;
            off = align(off + t.data.byteSize(), alignment);
        }
        byte[] header = h.toByteArray();
        long dataStart = align(header.length, alignment);
        AtomicFiles.write(target, ch -> {
            writeFully(ch, ByteBuffer.wrap(header));
            long pos = header.length;
            int k = 0;
            for (Entry t : tensors.values()) {
                long at = dataStart + offsets[k++];
                writeFully(ch, ByteBuffer.allocate((int) (at - pos)));
                long n = t.data.byteSize();
                for (long o = 0; o < n; o += 1 << 24) {
                    long len = Math.min(1 << 24, n - o);
                    MemorySegment part = t.data.asSlice(o, len);
                    ByteBuffer bb = part.isNative() ? part.asByteBuffer() : ByteBuffer.wrap(part.toArray(ValueLayout.JAVA_BYTE));
                    writeFully(ch, bb);
                }
                pos = at + n;
            }
            // llama.cpp pads the last tensor too: the file ends at a multiple of the alignment
            long end = align(pos, alignment);
            writeFully(ch, ByteBuffer.allocate((int) (end - pos)));
        });
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) ch.write(b);
    }

    static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    private static final class Out extends java.io.ByteArrayOutputStream {
        void u32(long v) {
            for (int i = 0; i < 4; i++) write((int) (v >>> (8 * i)));
        }

        void u64(long v) {
            for (int i = 0; i < 8; i++) write((int) (v >>> (8 * i)));
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }

        void value(GgufValue v) {
            switch (v.type()) {
                case UINT8, INT8, BOOL -> write(v.type() == GgufValueType.BOOL ? (v.asBoolean() ? 1 : 0) : (int) v.asLong());
                case UINT16, INT16 -> { long x = v.asLong(); write((int) x); write((int) (x >>> 8)); }
                case UINT32, INT32 -> u32(v.asLong());
                case UINT64, INT64 -> u64(v.asLong());
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v.value()));
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v.value()));
                case STRING -> string(v.asString());
                case ARRAY -> {
                    List<GgufValue> l = v.asList();
                    u32(v.elementType().id());
                    u64(l.size());
                    for (GgufValue e : l) value(e);
                }
            }
        }
    }
}
