package dev.attn4j.tensor;

/**
 * Element types an {@link NDArray} can hold. F32 is the working type: every fast kernel is F32.
 * F64 exists for reference computations (naive float64 checks, finite-difference gradients).
 * BF16 and F16 are storage types for frozen weights (torch.bfloat16, torch.float16): kept in 16
 * bits in memory (a heap {@code short[]} or a memory-mapped file) and widened to F32 inside the
 * GEMM's packing; copies, views, {@code to(DType)} and the right operand of a matrix product take
 * them, other ops reject them naming the op. QUANTIZED is the storage type of block-quantized
 * weights ({@link QuantizedMatrix}, GGUF's Q8_0, Q4_K, ...; the format is the storage's): read-only,
 * taken by copies, views, {@code to(DType)} (dequantizing), embedding lookups and the right operand
 * of a matrix product, like the 16-bit types.
 */
public enum DType {
    F32(4),
    F64(8),
    /** bfloat16: F32's sign and 8 exponent bits, 7 mantissa bits (the upper half of an F32). */
    BF16(2),
    /** IEEE 754 binary16: 5 exponent bits, 10 mantissa bits. */
    F16(2),
    /** Block-quantized weights ({@link Storage.Quantized}); no fixed element size (see {@link QuantType}). */
    QUANTIZED(0);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element; QUANTIZED has none (its blocks hold fractions of bytes per value). */
    public int byteSize() {
        if (this == QUANTIZED) throw new IllegalStateException("QUANTIZED has no fixed element size; see Storage.byteSize()");
        return byteSize;
    }

    /**
     * Whether this is a storage type for frozen weights (BF16, F16, QUANTIZED), which only copies,
     * views, {@code to(DType)}, lookups and the right operand of a matrix product take.
     */
    public boolean isStorageType() {
        return this == BF16 || this == F16 || this == QUANTIZED;
    }

    /** Whether this is BF16 or F16 (a 16-bit storage type, not a compute type). */
    public boolean is16Bit() {
        return this == BF16 || this == F16;
    }

    /**
     * {@code value} rounded to this 16-bit type (round to nearest, ties to even, as torch's
     * {@code .to(torch.bfloat16)} / {@code .half()}), as its bits. NaN stays NaN; values past the
     * largest finite value become infinity of the same sign.
     */
    public short roundBits(float value) {
        return switch (this) {
            case BF16 -> {
                int bits = Float.floatToRawIntBits(value);
                if (Float.isNaN(value)) yield (short) ((bits >>> 16) | 0x0040);   // quiet, so no payload turns into inf
                int lsb = (bits >>> 16) & 1;
                yield (short) ((bits + 0x7FFF + lsb) >>> 16);
            }
            case F16 -> Float.floatToFloat16(value);
            default -> throw new IllegalStateException(this + " is not a 16-bit type");
        };
    }

    /** The F32 value of this 16-bit type's {@code bits} (exact). */
    public float widen(short bits) {
        return switch (this) {
            case BF16 -> Float.intBitsToFloat(bits << 16);
            case F16 -> Float.float16ToFloat(bits);
            default -> throw new IllegalStateException(this + " is not a 16-bit type");
        };
    }
}
