package dev.attn4j.io.safetensors;

import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * A memory-mapped safetensors file. {@link #open} maps the whole file read-only and checks the
 * header completely (UTF-8 JSON object, known dtypes, shapes, offsets that tile the data buffer
 * exactly), so later reads cannot run outside the file.
 *
 * <p>F32 tensors come back as zero-copy, read-only views of the mapping; other float and
 * integer types are converted to heap F32 arrays, except that {@link #get16} keeps BF16 and F16
 * tensors in 16 bits (zero-copy views too). {@link #close()} unmaps the file: views
 * obtained earlier then throw {@link IllegalStateException} on access (never a crash), and so
 * does every method of this object. Instances may be read from several threads.
 *
 * <p>The file must not be truncated or rewritten in place while mapped; {@link SafetensorsWriter}
 * replaces files by renaming, which leaves existing mappings intact.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes per positional read of {@link #readCopy}. */
    private static final int READ_CHUNK = 1 << 20;

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    /** Open for the mapping's lifetime: heap copies are read through it (see {@link #getCopy}). */
    private final FileChannel channel;
    private final Map<String, TensorInfo> tensors;
    private final List<String> names;
    private final Map<String, String> metadata;
    private final long dataStart;
    private volatile boolean closed;

    private SafetensorsFile(Path file, Arena arena, MemorySegment mapped, FileChannel channel, HeaderParser.Header header) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.channel = channel;
        this.tensors = header.tensors();
        this.names = List.copyOf(header.tensors().keySet());
        this.metadata = header.metadata();
        this.dataStart = header.dataStart();
    }

    /**
     * Maps {@code file} and validates its header.
     *
     * @throws SafetensorsException when the file is not a valid safetensors file (the message
     *                              names the file and the problem)
     * @throws IOException          when the file cannot be read
     */
    public static SafetensorsFile open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new SafetensorsException(file, "is a directory, not a safetensors file (use SafetensorsCheckpoint for a checkpoint directory)");
        }
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "safetensors file does not exist");
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = ch.size();
            // Check the header with plain reads first: only a valid file gets mapped (and an arena,
            // whose close costs a thread handshake).
            HeaderParser.Header header = HeaderParser.parse(file, ch, size);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                return new SafetensorsFile(file, arena, mapped, ch, header);
            } catch (IOException | RuntimeException | Error e) {
                arena.close();
                throw e;
            }
        } catch (IOException | RuntimeException | Error e) {
            ch.close();
            throw e;
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return file;
    }

    /** Tensor names in the order of the JSON header. */
    public List<String> names() {
        return names;
    }

    /** Whether a tensor of that name exists. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** Number of tensors. */
    public int size() {
        return names.size();
    }

    /** The {@code __metadata__} map of the header (empty when there is none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** File offset of the first data byte (8 + header length); tensor offsets are relative to it. */
    public long dataStart() {
        return dataStart;
    }

    /** Header entry of tensor {@code name}. */
    public TensorInfo info(String name) throws SafetensorsException {
        ensureOpen();
        TensorInfo t = tensors.get(name);
        if (t == null) throw Names.notFound(file, name, names);
        return t;
    }

    /** The raw little-endian bytes of tensor {@code name}: a read-only slice of the mapping (no copy). */
    public MemorySegment bytes(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        return mapped.asSlice(dataStart + t.begin(), t.byteSize());
    }

    /**
     * Tensor {@code name} as an F32 array. F32 data is a zero-copy read-only view of the mapping
     * (valid until {@link #close()}; writing through it throws IllegalArgumentException, use
     * {@link NDArray#copy()} for a writable copy); F16, BF16, F64, FP8 and integer types (BOOL as 0/1) are
     * converted to a new heap array.
     *
     * @throws SafetensorsException for an unknown name or a dtype with no F32 conversion (F4, F6, C64)
     */
    public NDArray get(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        MemorySegment src = mapped.asSlice(dataStart + t.begin(), t.byteSize());
        int[] shape = t.shape();
        int n = (int) t.numel();
        if (t.dtype() == SafetensorsDType.F32) {
            return NDArray.of(src.asReadOnly(), shape);
        }
        float[] out = new float[n];
        switch (t.dtype()) {
            case F16 -> {
                short[] h = new short[n];
                MemorySegment.copy(src, I16_LE, 0, h, 0, n);
                for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(h[i]);
            }
            case BF16 -> {
                short[] h = new short[n];
                MemorySegment.copy(src, I16_LE, 0, h, 0, n);
                for (int i = 0; i < n; i++) out[i] = FloatFormats.fromBFloat16(h[i]);
            }
            case F64 -> {
                double[] d = new double[n];
                MemorySegment.copy(src, F64_LE, 0, d, 0, n);
                for (int i = 0; i < n; i++) out[i] = (float) d[i];
            }
            case F8_E5M2 -> {
                for (int i = 0; i < n; i++) out[i] = FloatFormats.fromF8E5M2(src.get(ValueLayout.JAVA_BYTE, i));
            }
            case F8_E4M3 -> {
                for (int i = 0; i < n; i++) out[i] = FloatFormats.fromF8E4M3(src.get(ValueLayout.JAVA_BYTE, i));
            }
            case F8_E8M0 -> {
                for (int i = 0; i < n; i++) out[i] = FloatFormats.fromF8E8M0(src.get(ValueLayout.JAVA_BYTE, i));
            }
            case U64 -> {
                long[] v = readLongs(t, src, n);
                for (int i = 0; i < n; i++) out[i] = unsignedToFloat(v[i]);
            }
            default -> {
                if (!t.dtype().isInteger()) {
                    throw new SafetensorsException(file, "tensor " + HeaderParser.quote(name) + " has dtype " + t.dtype()
                            + ", which has no conversion to F32");
                }
                long[] v = readLongs(t, src, n);
                for (int i = 0; i < n; i++) out[i] = v[i];
            }
        }
        return NDArray.of(out, shape);
    }

    /**
     * Tensor {@code name} as a new, writable, contiguous heap F32 array (what the fast kernels
     * want), whatever its dtype; F32 data is read from the file with positional reads, not through
     * the mapping, whose pages would otherwise stay in the process's resident set beside the copy
     * (a model that keeps its embeddings as views and copies the rest held the whole file twice).
     * Stays valid after {@link #close()}.
     *
     * @throws SafetensorsException as {@link #get}
     */
    public NDArray getCopy(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        if (t.dtype() != SafetensorsDType.F32) return get(name);
        int n = (int) t.numel();
        float[] out = new float[n];
        readCopy(t, (chunk, first, count) -> MemorySegment.copy(chunk, F32_LE, 0, out, first, count), Float.BYTES);
        return NDArray.of(out, t.shape());
    }

    /** Copies {@code count} elements of the chunk segment into the destination from element {@code first}. */
    private interface ChunkSink {
        void accept(MemorySegment chunk, int first, int count);
    }

    /**
     * Reads tensor {@code t}'s bytes with positional reads of the channel in chunks of whole
     * elements of {@code elementBytes}, handing each to {@code sink}; from the mapping instead once
     * an interrupted reader has closed the channel.
     */
    private void readCopy(TensorInfo t, ChunkSink sink, int elementBytes) throws SafetensorsException {
        ensureOpen();
        long pos = dataStart + t.begin(), end = pos + t.byteSize();
        int chunk = (int) Math.min(READ_CHUNK, t.byteSize());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(chunk, 1), 64);
            java.nio.ByteBuffer bb = buf.asByteBuffer();
            int element = 0;
            while (pos < end) {
                int len = (int) Math.min(chunk, end - pos);
                bb.clear().limit(len);
                while (bb.hasRemaining()) {
                    int r = channel.read(bb, pos + bb.position());
                    if (r < 0) throw new SafetensorsException(file, "tensor " + HeaderParser.quote(t.name()) + ": file ends at byte "
                            + (pos + bb.position()) + " while reading it (was the file truncated while open?)");
                }
                sink.accept(buf, element, len / elementBytes);
                element += len / elementBytes;
                pos += len;
            }
        } catch (java.nio.channels.ClosedChannelException e) {
            if (closed) throw new IllegalStateException(file + " is closed", e);
            // An interrupt of a reading thread closes a FileChannel for everyone (the interrupt
            // status stays set for the caller to see); the mapping still holds the same bytes.
            long start = dataStart + t.begin();
            sink.accept(mapped.asSlice(start, t.byteSize()), 0, (int) (t.byteSize() / elementBytes));
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException e) {
            throw new SafetensorsException(file, "reading tensor " + HeaderParser.quote(t.name()) + ": " + e.getMessage());
        }
    }

    /**
     * BF16 or F16 tensor {@code name} kept in 16 bits (DType BF16 / F16): a zero-copy read-only
     * view of the mapping, valid until {@link #close()}, when its first byte is at an even file
     * offset (safetensors writers pad the header to 8 bytes, so every 16-bit tensor is); otherwise
     * a heap copy, so that no element straddles two cache lines. The GEMM widens it to F32 while
     * packing ({@link dev.attn4j.kernels.Kernels#gemm16}).
     *
     * @throws SafetensorsException for an unknown name or a dtype other than BF16 and F16
     */
    public NDArray get16(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        dev.attn4j.tensor.DType dt = dtype16(t);
        long start = dataStart + t.begin();
        if (start % 2 != 0) return get16Copy(name);
        return NDArray.of(mapped.asSlice(start, t.byteSize()).asReadOnly(), dt, t.shape());
    }

    /**
     * BF16 or F16 tensor {@code name} as a new, writable heap 16-bit array ({@code short[]}); stays
     * valid after {@link #close()}.
     *
     * @throws SafetensorsException as {@link #get16}
     */
    public NDArray get16Copy(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        dev.attn4j.tensor.DType dt = dtype16(t);
        int n = (int) t.numel();
        short[] bits = new short[n];
        readCopy(t, (chunk, first, count) -> MemorySegment.copy(chunk, I16_LE, 0, bits, first, count), Short.BYTES);
        return NDArray.of(bits, dt, t.shape());
    }

    private dev.attn4j.tensor.DType dtype16(TensorInfo t) throws SafetensorsException {
        return switch (t.dtype()) {
            case BF16 -> dev.attn4j.tensor.DType.BF16;
            case F16 -> dev.attn4j.tensor.DType.F16;
            default -> throw new SafetensorsException(file, "tensor " + HeaderParser.quote(t.name()) + " has dtype "
                    + t.dtype() + ", not BF16 or F16 (use get() for F32)");
        };
    }

    /**
     * Integer tensor {@code name} (BOOL, U8, I8, I16, U16, I32, U32, I64, U64) as longs in
     * row-major order, e.g. a position_ids buffer.
     *
     * @throws SafetensorsException for a float dtype, or a U64 value above {@link Long#MAX_VALUE}
     */
    public long[] getLongs(String name) throws SafetensorsException {
        TensorInfo t = info(name);
        requireInteger(t);
        int n = (int) t.numel();
        long[] v = readLongs(t, mapped.asSlice(dataStart + t.begin(), t.byteSize()), n);
        if (t.dtype() == SafetensorsDType.U64) {
            for (int i = 0; i < n; i++) {
                if (v[i] < 0) {
                    throw new SafetensorsException(file, "tensor " + HeaderParser.quote(name) + " (U64) element " + i
                            + " = " + Long.toUnsignedString(v[i]) + " does not fit in a long");
                }
            }
        }
        return v;
    }

    /**
     * Integer tensor {@code name} as ints in row-major order.
     *
     * @throws SafetensorsException for a float dtype, or an element outside the int range (named
     *                              with its index)
     */
    public int[] getInts(String name) throws SafetensorsException {
        long[] v = getLongs(name);
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] < Integer.MIN_VALUE || v[i] > Integer.MAX_VALUE) {
                throw new SafetensorsException(file, "tensor " + HeaderParser.quote(name) + " (" + tensors.get(name).dtype()
                        + ") element " + i + " = " + v[i] + " does not fit in an int");
            }
            out[i] = (int) v[i];
        }
        return out;
    }

    private void requireInteger(TensorInfo t) throws SafetensorsException {
        if (!t.dtype().isInteger()) {
            throw new SafetensorsException(file, "tensor " + HeaderParser.quote(t.name()) + " has dtype " + t.dtype()
                    + ", not an integer type (use get() for floats)");
        }
    }

    /** Integer elements widened to long; U64 keeps its bits (may read as negative). */
    private static long[] readLongs(TensorInfo t, MemorySegment src, int n) {
        long[] out = new long[n];
        switch (t.dtype()) {
            case I64, U64 -> MemorySegment.copy(src, I64_LE, 0, out, 0, n);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = src.getAtIndex(I32_LE, i); }
            case U32 -> { for (int i = 0; i < n; i++) out[i] = Integer.toUnsignedLong(src.getAtIndex(I32_LE, i)); }
            case I16 -> { for (int i = 0; i < n; i++) out[i] = src.getAtIndex(I16_LE, i); }
            case U16 -> { for (int i = 0; i < n; i++) out[i] = Short.toUnsignedInt(src.getAtIndex(I16_LE, i)); }
            case I8 -> { for (int i = 0; i < n; i++) out[i] = src.get(ValueLayout.JAVA_BYTE, i); }
            case U8 -> { for (int i = 0; i < n; i++) out[i] = Byte.toUnsignedInt(src.get(ValueLayout.JAVA_BYTE, i)); }
            case BOOL -> { for (int i = 0; i < n; i++) out[i] = src.get(ValueLayout.JAVA_BYTE, i) != 0 ? 1 : 0; }
            default -> throw new IllegalStateException("not an integer dtype: " + t.dtype());
        }
        return out;
    }

    private static float unsignedToFloat(long v) {
        if (v >= 0) return v;
        // Halve (keeping the low bit as a sticky bit so rounding stays correct), convert, double.
        return ((float) ((v >>> 1) | (v & 1))) * 2f;
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException(file + " is closed");
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return closed;
    }

    /** Unmaps the file and closes its channel. Idempotent. Views handed out earlier become unusable. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        arena.close();
        try {
            channel.close();
        } catch (IOException e) {
            // read-only: nothing was written that a failed close could lose
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + names.size() + " tensors]";
    }
}
