package dev.attn4j.io.safetensors;

/**
 * Conversions between F32 and the narrow float formats safetensors files use. F16 needs none
 * here: {@link Float#floatToFloat16} and {@link Float#float16ToFloat} already round to nearest
 * even and keep NaN.
 */
public final class FloatFormats {
    private FloatFormats() {
    }

    /**
     * F32 to bfloat16 bits, rounding to nearest with ties to even. NaN stays NaN (the quiet bit
     * is set so that a payload held only in the dropped low bits does not turn into infinity);
     * values that round past the largest bfloat16 become infinity of the same sign.
     */
    public static short toBFloat16(float f) {
        return dev.attn4j.tensor.DType.BF16.roundBits(f);
    }

    /** bfloat16 bits to F32 (exact). */
    public static float fromBFloat16(short b) {
        return dev.attn4j.tensor.DType.BF16.widen(b);
    }

    /** FP8 E5M2 (sign, 5 exponent bits, 2 mantissa bits; the upper byte of an F16) to F32. */
    public static float fromF8E5M2(byte b) {
        return Float.float16ToFloat((short) (b << 8));
    }

    /**
     * FP8 E4M3 in the "FN" variant used by safetensors/PyTorch (bias 7, no infinities, only
     * S.1111.111 is NaN) to F32.
     */
    public static float fromF8E4M3(byte b) {
        int e = (b >>> 3) & 0xF;
        int m = b & 0x7;
        float sign = (b & 0x80) != 0 ? -1f : 1f;
        if (e == 0xF && m == 0x7) return Float.NaN;
        if (e == 0) return sign * Math.scalb((float) m, -9);          // subnormal: m/8 * 2^-6
        return sign * Math.scalb(1f + m / 8f, e - 7);
    }

    /** FP8 E8M0 (an unsigned power-of-two scale, 0xFF is NaN) to F32. */
    public static float fromF8E8M0(byte b) {
        int e = b & 0xFF;
        if (e == 0xFF) return Float.NaN;
        return Math.scalb(1f, e - 127);
    }
}
