package dev.attn4j.io.gguf;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (llama.cpp's format, versions 2 and 3), memory-mapped read-only. Layout, all
 * little-endian:
 * <pre>
 *   magic "GGUF" | version u32 | tensor_count u64 | kv_count u64
 *   kv_count x  { key: string | value_type u32 | value }
 *   tensor_count x { name: string | n_dims u32 | ne[n_dims] u64 | ggml_type u32 | offset u64 }
 *   padding to general.alignment (u32 metadata, default 32) | tensor data
 * </pre>
 * where a string is {@code u64 length | UTF-8 bytes} and an array value is
 * {@code element_type u32 | count u64 | count values}. Tensor offsets are relative to the data
 * section and multiples of the alignment. Every inconsistency (truncation, bad magic or version,
 * unknown types, a string or array longer than the file, dims that overflow, data past the end,
 * overlapping tensors) is one {@link GgufException} naming the file, the offset and the key or
 * tensor. Tensors come back as views of the mapping (no copy), valid until {@link #close()}.
 */
public final class GgufFile implements AutoCloseable {
    /** "GGUF" read as a little-endian u32. */
    public static final int MAGIC = 0x46554747;
    public static final int DEFAULT_ALIGNMENT = 32;
    static final int MAX_DIMS = 4;
    private static final int MAX_ARRAY_DEPTH = 8;

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final long alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, MemorySegment file, int version, Map<String, GgufValue> metadata,
                     Map<String, GgufTensorInfo> tensors, long alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.file = file;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Maps and parses {@code path}; everything wrong with it is a {@link GgufException}. */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufFile f = parse(path, arena, seg);
            return f;
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment seg) throws GgufException {
        Cursor c = new Cursor(path, seg);
        if (seg.byteSize() < 4) throw c.error(0, "truncated: " + seg.byteSize() + " bytes, not even the magic");
        int magic = c.u32("magic");
        if (magic != MAGIC) {
            throw c.error(0, String.format("bad magic 0x%08x (expected 0x%08x, \"GGUF\"): not a GGUF file", magic, MAGIC));
        }
        long version = c.u32("version") & 0xFFFFFFFFL;
        if (version != 2 && version != 3) {
            if (version == 1) throw c.error(4, "GGUF version 1 is not supported (only 2 and 3)");
            if (Integer.reverseBytes((int) version) == 2 || Integer.reverseBytes((int) version) == 3) {
                throw c.error(4, "big-endian GGUF (version " + Integer.reverseBytes((int) version) + " byte-swapped) is not supported");
            }
            throw c.error(4, "unknown GGUF version " + version + " (supported: 2, 3)");
        }
        long nTensors = c.u64("tensor_count");
        long nKv = c.u64("metadata_kv_count");
        // each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info 8 + 4 + 4 + 8
        if (nKv < 0 || nKv > c.remaining() / 13) throw c.error(16, "truncated or corrupt: metadata_kv_count " + Long.toUnsignedString(nKv) + " cannot fit in the " + c.remaining() + " bytes left");
        if (nTensors < 0 || nTensors > c.remaining() / 24) {
            throw c.error(8, "truncated or corrupt: tensor_count " + Long.toUnsignedString(nTensors) + " cannot fit in the " + c.remaining() + " bytes left");
        }
        Map<String, GgufValue> meta = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            long at = c.pos;
            String key = c.string("metadata key #" + i);
            if (meta.containsKey(key)) throw c.error(at, "duplicate metadata key '" + key + "'");
            long typeAt = c.pos;
            long t = c.u32("type of '" + key + "'") & 0xFFFFFFFFL;
            GgufValueType type = GgufValueType.of(t);
            if (type == null) throw c.error(typeAt, "metadata '" + key + "': unknown value type " + t);
            meta.put(key, c.value(type, key, 0));
        }
        long alignment = DEFAULT_ALIGNMENT;
        GgufValue al = meta.get("general.alignment");
        if (al != null) {
            if (al.type() != GgufValueType.UINT32) throw c.error(-1, "general.alignment must be UINT32, is " + al.type());
            alignment = al.asLong();
            if (alignment == 0 || Long.bitCount(alignment) != 1) throw c.error(-1, "general.alignment " + alignment + " is not a power of two");
        }
        Map<String, GgufTensorInfo> infos = new LinkedHashMap<>();
        for (long i = 0; i < nTensors; i++) {
            long at = c.pos;
            String name = c.string("name of tensor #" + i);
            if (infos.containsKey(name)) throw c.error(at, "duplicate tensor '" + name + "'");
            long nd = c.u32("n_dims of '" + name + "'") & 0xFFFFFFFFL;
            if (nd > MAX_DIMS) throw c.error(c.pos - 4, "tensor '" + name + "': " + nd + " dims (ggml allows at most " + MAX_DIMS + ")");
            long[] ne = new long[(int) nd];
            long numel = 1;
            for (int d = 0; d < nd; d++) {
                ne[d] = c.u64("dim " + d + " of '" + name + "'");
                if (ne[d] < 0) throw c.error(c.pos - 8, "tensor '" + name + "': dim " + d + " = " + Long.toUnsignedString(ne[d]) + " is negative as int64");
                try {
                    numel = Math.multiplyExact(numel, ne[d]);
                } catch (ArithmeticException e) {
                    throw c.error(at, "tensor '" + name + "': dims " + java.util.Arrays.toString(ne) + " overflow int64");
                }
            }
            long typeAt = c.pos;
            long tid = c.u32("type of '" + name + "'") & 0xFFFFFFFFL;
            GgmlType type = GgmlType.of(tid);
            if (type == null) throw c.error(typeAt, "tensor '" + name + "': unknown ggml type " + tid);
            if (nd > 0 && ne[0] % type.blockSize() != 0) {
                throw c.error(at, "tensor '" + name + "': " + type + " needs ne[0] a multiple of " + type.blockSize() + ", got " + ne[0]);
            }
            long off = c.u64("offset of '" + name + "'");
            if (off < 0 || off % alignment != 0) {
                throw c.error(c.pos - 8, "tensor '" + name + "': data offset " + Long.toUnsignedString(off) + " is not a multiple of the alignment " + alignment);
            }
            infos.put(name, new GgufTensorInfo(name, type, ne, off));
        }
        long dataOffset = (c.pos + alignment - 1) / alignment * alignment;
        long dataSize = seg.byteSize() - dataOffset;
        if (!infos.isEmpty() && dataSize < 0) throw c.error(c.pos, "truncated: the tensor data section (at " + dataOffset + ") is missing");
        List<GgufTensorInfo> byOffset = new ArrayList<>(infos.values());
        byOffset.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        long end = 0;
        GgufTensorInfo prev = null;
        for (GgufTensorInfo t : byOffset) {
            long bytes;
            try {
                bytes = t.byteSize();
            } catch (ArithmeticException e) {
                throw c.error(-1, "tensor '" + t.name() + "': " + t.type() + " " + java.util.Arrays.toString(t.ne()) + " is too large");
            }
            if (t.offset() > dataSize || bytes > dataSize - t.offset()) {
                throw c.error(dataOffset + t.offset(), "tensor '" + t.name() + "' (" + t.type() + " " + java.util.Arrays.toString(t.ne())
                        + ", " + bytes + " bytes at data offset " + t.offset() + ") runs past the end of the file (" + Math.max(0, dataSize)
                        + " data bytes)");
            }
            if (t.offset() < end) {
                throw c.error(dataOffset + t.offset(), "tensors '" + prev.name() + "' and '" + t.name() + "' overlap");
            }
            end = t.offset() + bytes;
            prev = t;
        }
        return new GgufFile(path, arena, seg, (int) version, Collections.unmodifiableMap(meta),
                Collections.unmodifiableMap(infos), alignment, dataOffset);
    }

    public Path path() { return path; }

    public int version() { return version; }

    /** Metadata in file order. */
    public Map<String, GgufValue> metadata() { return metadata; }

    /** The value of {@code key}, or null. */
    public GgufValue get(String key) { return metadata.get(key); }

    /** Tensor infos by name, in file order. */
    public Map<String, GgufTensorInfo> tensors() { return tensors; }

    public long alignment() { return alignment; }

    /** Byte offset of the data section in the file. */
    public long dataOffset() { return dataOffset; }

    /** The info of tensor {@code name}; a GgufException names the file if there is none. */
    public GgufTensorInfo info(String name) throws GgufException {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) throw new GgufException(path, "no tensor named '" + name + "'");
        return t;
    }

    /** The raw bytes of tensor {@code name}: a read-only view of the mapping. */
    public MemorySegment bytes(String name) throws GgufException {
        GgufTensorInfo t = info(name);
        return file.asSlice(dataOffset + t.offset(), t.byteSize());
    }

    /**
     * An F32, F16 or BF16 tensor as an NDArray of its PyTorch shape viewing the mapping (16-bit
     * ones as {@code Storage.Halfs}); other types are an error naming the tensor.
     */
    public NDArray array(String name) throws GgufException {
        GgufTensorInfo t = info(name);
        DType dt = switch (t.type()) {
            case F32 -> DType.F32;
            case F16 -> DType.F16;
            case BF16 -> DType.BF16;
            default -> throw new GgufException(path, "tensor '" + name + "' is " + t.type() + ", not F32/F16/BF16"
                    + (t.type().quantType() != null ? " (use quantized())" : ""));
        };
        long[] s = t.shape();
        int[] shape = new int[s.length];
        for (int i = 0; i < s.length; i++) {
            if (s[i] > Integer.MAX_VALUE) throw new GgufException(path, "tensor '" + name + "': dim " + s[i] + " too large for an NDArray");
            shape[i] = (int) s[i];
        }
        if (t.numel() > Integer.MAX_VALUE) throw new GgufException(path, "tensor '" + name + "': " + t.numel() + " elements too many for an NDArray");
        MemorySegment b = bytes(name);
        return dt == DType.F32 ? NDArray.of(b, shape) : NDArray.of(b, dt, shape);
    }

    /**
     * A Q8_0 / Q4_0 / Q4_1 tensor as a {@link QuantizedMatrix} [rows, ne[0]] viewing the mapping,
     * rows being the product of the outer dims.
     */
    public QuantizedMatrix quantized(String name) throws GgufException {
        GgufTensorInfo t = info(name);
        QuantType q = t.type().quantType();
        if (q == null) throw new GgufException(path, "tensor '" + name + "' is " + t.type() + ", which attn4j cannot compute with quantized");
        long[] ne = t.ne();
        long cols = ne.length == 0 ? 1 : ne[0];
        long rows = cols == 0 ? 0 : t.numel() / cols;
        if (cols > Integer.MAX_VALUE || rows > Integer.MAX_VALUE) throw new GgufException(path, "tensor '" + name + "' too large");
        if (cols % q.blockSize() != 0) {
            // the header check covers tensors with dims; a zero-dim one is a single value, no whole block
            throw new GgufException(path, "tensor '" + name + "': " + t.type() + " rows need a multiple of " + q.blockSize()
                    + " values, got " + cols + " (shape " + java.util.Arrays.toString(ne) + ")");
        }
        return new QuantizedMatrix(q, (int) rows, (int) cols, bytes(name));
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Bounds-checked little-endian reads through the header. */
    private static final class Cursor {
        private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        final Path path;
        final MemorySegment s;
        long pos;

        Cursor(Path path, MemorySegment s) {
            this.path = path;
            this.s = s;
        }

        GgufException error(long at, String problem) {
            return new GgufException(path, at >= 0 ? problem + " (at byte " + at + ")" : problem);
        }

        long remaining() {
            return s.byteSize() - pos;
        }

        private void need(long n, String what) throws GgufException {
            if (n > remaining()) {
                throw error(pos, "truncated: " + what + " needs " + n + " bytes, the file has " + remaining() + " left");
            }
        }

        int u32(String what) throws GgufException {
            need(4, what);
            int v = s.get(U32, pos);
            pos += 4;
            return v;
        }

        long u64(String what) throws GgufException {
            need(8, what);
            long v = s.get(U64, pos);
            pos += 8;
            return v;
        }

        String string(String what) throws GgufException {
            long at = pos;
            long len = u64(what + " (length)");
            if (len < 0 || len > remaining()) {
                throw error(at, what + ": string of " + Long.toUnsignedString(len) + " bytes runs past the end of the file ("
                        + remaining() + " bytes left)");
            }
            ByteBuffer bb = s.asSlice(pos, len).asByteBuffer();
            try {
                String str = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bb).toString();
                pos += len;
                return str;
            } catch (CharacterCodingException e) {
                throw error(at, what + ": not valid UTF-8");
            }
        }

        GgufValue value(GgufValueType type, String key, int depth) throws GgufException {
            String what = "value of '" + key + "'";
            return switch (type) {
                case UINT8 -> { need(1, what); yield GgufValue.of(type, s.get(ValueLayout.JAVA_BYTE, pos++) & 0xFFL); }
                case INT8 -> { need(1, what); yield GgufValue.of(type, s.get(ValueLayout.JAVA_BYTE, pos++)); }
                case UINT16 -> { need(2, what); long v = s.get(U16, pos) & 0xFFFFL; pos += 2; yield GgufValue.of(type, v); }
                case INT16 -> { need(2, what); long v = s.get(U16, pos); pos += 2; yield GgufValue.of(type, v); }
                case UINT32 -> GgufValue.of(type, u32(what) & 0xFFFFFFFFL);
                case INT32 -> GgufValue.of(type, u32(what));
                case UINT64, INT64 -> GgufValue.of(type, u64(what));
                case FLOAT32 -> { need(4, what); float v = s.get(F32, pos); pos += 4; yield GgufValue.ofF32(v); }
                case FLOAT64 -> { need(8, what); double v = s.get(F64, pos); pos += 8; yield GgufValue.ofF64(v); }
                case BOOL -> {
                    need(1, what);
                    int b = s.get(ValueLayout.JAVA_BYTE, pos);
                    if (b != 0 && b != 1) throw error(pos, what + ": bool byte " + b + " is neither 0 nor 1");
                    pos++;
                    yield GgufValue.ofBool(b == 1);
                }
                case STRING -> GgufValue.ofString(string(what));
                case ARRAY -> {
                    long at = pos;
                    if (depth >= MAX_ARRAY_DEPTH) throw error(at, what + ": arrays nested deeper than " + MAX_ARRAY_DEPTH);
                    long et = u32(what + " (array element type)") & 0xFFFFFFFFL;
                    GgufValueType elem = GgufValueType.of(et);
                    if (elem == null) throw error(at, what + ": unknown array element type " + et);
                    long n = u64(what + " (array length)");
                    if (n < 0 || n > remaining() / elem.minBytes()) {
                        throw error(at, what + ": array of " + Long.toUnsignedString(n) + " " + elem + " cannot fit in the "
                                + remaining() + " bytes left");
                    }
                    List<GgufValue> l = new ArrayList<>((int) Math.min(n, 1 << 16));
                    for (long i = 0; i < n; i++) l.add(value(elem, key + "[" + i + "]", depth + 1));
                    yield GgufValue.ofArray(elem, l);
                }
            };
        }
    }
}
