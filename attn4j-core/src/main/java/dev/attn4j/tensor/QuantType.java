package dev.attn4j.tensor;

/**
 * Block-quantized weight formats as GGUF (ggml) defines them: each row of a matrix is a run of
 * blocks of {@link #blockSize()} values stored in {@link #blockBytes()} bytes, little-endian,
 * no padding. Byte layouts (ggml's {@code block_q8_0} etc.; {@code d} and {@code m} are IEEE
 * half floats):
 * <pre>
 *   Q8_0  34 bytes: d (2)        | qs: 32 x int8            value[j] = d * qs[j]
 *   Q4_0  18 bytes: d (2)        | qs: 16 bytes of nibbles  value[j] = d * (nib[j] - 8)
 *   Q4_1  20 bytes: d (2), m (2) | qs: 16 bytes of nibbles  value[j] = d * nib[j] + m
 * </pre>
 * where for the 4-bit formats {@code nib[j] = qs[j] & 0xF} and {@code nib[j + 16] = qs[j] >> 4}
 * for j &lt; 16 (the low nibbles hold the first half of the block, the high nibbles the second).
 */
public enum QuantType {
    Q8_0(8, 32, 34),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20);

    private final int ggmlType;
    private final int blockSize;
    private final int blockBytes;

    QuantType(int ggmlType, int blockSize, int blockBytes) {
        this.ggmlType = ggmlType;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type's number in ggml's {@code enum ggml_type} (and GGUF tensor infos). */
    public int ggmlType() { return ggmlType; }

    /** Values per block. */
    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int blockBytes() { return blockBytes; }

    /** Bytes of one row of {@code cols} values; cols must be a multiple of the block size. */
    public long rowBytes(long cols) {
        if (cols % blockSize != 0) {
            throw new IllegalArgumentException(this + " rows need a multiple of " + blockSize + " values, got " + cols);
        }
        return cols / blockSize * blockBytes;
    }

    /** The format with ggml type number {@code id}, or null. */
    public static QuantType ofGgml(int id) {
        for (QuantType t : values()) if (t.ggmlType == id) return t;
        return null;
    }
}
