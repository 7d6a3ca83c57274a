package dev.attn4j.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A matrix W [rows, cols] of block-quantized weights ({@link QuantType}): row r is the
 * {@code cols / blockSize} blocks at byte {@code r * rowBytes()} of {@code data}, as ggml lays out
 * a 2-D tensor (ne0 = cols). The storage is either a heap {@code byte[]} wrapped as a segment or a
 * slice of a memory-mapped file (read-only, no copy). Its one hot operation is the matrix-vector
 * product {@code y = W x} of a decode step ({@code Kernels.matVecQ}); {@code Quants} quantizes and
 * dequantizes.
 */
public record QuantizedMatrix(QuantType type, int rows, int cols, MemorySegment data) {

    public QuantizedMatrix {
        if (type == null || data == null) throw new IllegalArgumentException("quantized matrix needs a type and data");
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        long need = Math.multiplyExact((long) rows, type.rowBytes(cols));
        if (data.byteSize() != need) {
            throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "] needs " + need
                    + " bytes, got " + data.byteSize());
        }
        if (data.heapBase().isPresent() && !(data.heapBase().get() instanceof byte[])) {
            throw new IllegalArgumentException("heap quantized data must be a byte[] segment");
        }
    }

    /** Zeroed heap storage. */
    public static QuantizedMatrix heap(QuantType type, int rows, int cols) {
        long n = Math.multiplyExact((long) rows, type.rowBytes(cols));
        if (n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException(type + " matrix [" + rows + ", " + cols + "] too large for the heap");
        return new QuantizedMatrix(type, rows, cols, MemorySegment.ofArray(new byte[(int) n]));
    }

    /** Bytes of one row. */
    public long rowBytes() { return type.rowBytes(cols); }

    /** Blocks per row. */
    public int blocksPerRow() { return cols / type.blockSize(); }
}
