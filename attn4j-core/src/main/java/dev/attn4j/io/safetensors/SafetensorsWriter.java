package dev.attn4j.io.safetensors;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes safetensors files. Tensors are stored in the map's iteration order, each converted to
 * one element type (F32 bit-exact, F16 and BF16 rounded to nearest even, or F64). Any
 * {@link NDArray} works, including non-contiguous views and memory-mapped arrays.
 *
 * <p>Writing is atomic: the file is written to a temporary file in the same directory, forced
 * to disk, then renamed over {@code file}. If anything fails (including the map or an array
 * throwing midway), {@code file} keeps its previous contents and the temporary file is removed.
 * Since the old file is replaced by rename, a {@link SafetensorsFile} still mapping it keeps
 * reading the old data.
 */
public final class SafetensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    private SafetensorsWriter() {
    }

    /** Writes {@code tensors} as F32 with no metadata. */
    public static void write(Path file, Map<String, NDArray> tensors) throws IOException {
        write(file, tensors, Map.of(), SafetensorsDType.F32);
    }

    /**
     * Writes {@code tensors} (name to array, in iteration order) and {@code metadata} (stored as
     * {@code __metadata__}, may be null or empty), converting every tensor to {@code dtype}.
     *
     * @param dtype F32, F16, BF16 or F64
     * @throws IllegalArgumentException for another dtype, a null name/array/metadata entry, or
     *                                  the reserved name {@code __metadata__}
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata,
                             SafetensorsDType dtype) throws IOException {
        if (dtype != SafetensorsDType.F32 && dtype != SafetensorsDType.F16 && dtype != SafetensorsDType.BF16
                && dtype != SafetensorsDType.F64) {
            throw new IllegalArgumentException("SafetensorsWriter writes F32, F16, BF16 or F64, not " + dtype);
        }
        // Iterate the caller's map exactly once, before touching the file system.
        List<Map.Entry<String, NDArray>> entries = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null) throw new IllegalArgumentException("tensor name is null");
            if (name.equals(HeaderParser.METADATA_KEY)) {
                throw new IllegalArgumentException("tensor name " + HeaderParser.METADATA_KEY + " is reserved for metadata");
            }
            if (e.getValue() == null) throw new IllegalArgumentException("tensor " + HeaderParser.quote(name) + " is null");
            entries.add(Map.entry(name, e.getValue()));
        }
        byte[] header = header(entries, metadata == null ? Map.of() : metadata, dtype);
        if (header.length > HeaderParser.MAX_HEADER_BYTES) {
            throw new SafetensorsException(file, "header would be " + header.length + " bytes, more than the "
                    + HeaderParser.MAX_HEADER_BYTES + " readers accept (too many tensors or too much metadata)");
        }

        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path temp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                buf.putLong(header.length);
                for (int off = 0; off < header.length; ) {
                    int n = Math.min(buf.remaining(), header.length - off);
                    buf.put(header, off, n);
                    off += n;
                    if (!buf.hasRemaining()) drain(ch, buf);
                }
                for (Map.Entry<String, NDArray> e : entries) writeData(ch, buf, e.getValue(), dtype);
                drain(ch, buf);
                ch.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
            dev.attn4j.io.AtomicFiles.syncDirectory(dir);
        } finally {
            if (!moved) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // the original failure matters more; the temp file name starts with '.'
                }
            }
        }
    }

    /** The JSON header, padded with spaces to a multiple of 8 bytes so the data stays aligned. */
    private static byte[] header(List<Map.Entry<String, NDArray>> entries, Map<String, String> metadata,
                                 SafetensorsDType dtype) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long offset = 0;
        try (JsonGenerator g = Json.FACTORY.createGenerator(out)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(HeaderParser.METADATA_KEY);
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    if (m.getKey() == null || m.getValue() == null) {
                        throw new IllegalArgumentException("metadata has a null key or value: " + m);
                    }
                    g.writeStringField(m.getKey(), m.getValue());
                }
                g.writeEndObject();
            }
            for (Map.Entry<String, NDArray> e : entries) {
                NDArray a = e.getValue();
                long bytes = (long) a.numel() * dtype.bits() / 8;
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("dtype", dtype.name());
                g.writeArrayFieldStart("shape");
                for (int d : a.shape().toArray()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data_offsets");
                g.writeNumber(offset);
                g.writeNumber(offset + bytes);
                g.writeEndArray();
                g.writeEndObject();
                offset += bytes;
            }
            g.writeEndObject();
        }
        int pad = (8 - out.size() % 8) % 8;
        for (int i = 0; i < pad; i++) out.write(' ');
        return out.toByteArray();
    }

    /** Appends the elements of {@code a} in row-major order, converted to {@code dtype}. */
    private static void writeData(FileChannel ch, ByteBuffer buf, NDArray a, SafetensorsDType dtype) throws IOException {
        int n = a.numel();
        int elemBytes = dtype.bits() / 8;
        var storage = a.storage();
        boolean dense = a.isDenseHeapF32();
        float[] heap = dense ? a.floatArray() : null;
        int base = a.offset();
        NDArray.ElementCursor cursor = dense ? null : new NDArray.ElementCursor(a);
        boolean exactDouble = dtype == SafetensorsDType.F64 && a.dtype() == DType.F64;
        for (int i = 0; i < n; i++) {
            if (buf.remaining() < elemBytes) drain(ch, buf);
            if (exactDouble) {
                buf.putDouble(storage.getDouble(cursor.next()));
                continue;
            }
            float v = dense ? heap[base + i] : storage.getFloat(cursor.next());
            switch (dtype) {
                case F32 -> buf.putInt(Float.floatToRawIntBits(v));
                case F16 -> buf.putShort(Float.floatToFloat16(v));
                case BF16 -> buf.putShort(FloatFormats.toBFloat16(v));
                default -> buf.putDouble(v);
            }
        }
    }

    private static void drain(FileChannel ch, ByteBuffer buf) throws IOException {
        buf.flip();
        while (buf.hasRemaining()) ch.write(buf);
        buf.clear();
    }

}
