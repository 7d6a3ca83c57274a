package dev.attn4j.kernels;

import dev.attn4j.tensor.QuantType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The reference quantizers of the k-quants (Q4_K, Q5_K, Q6_K; byte layouts in {@link QuantType}),
 * the searches ggml's {@code quantize_row_q4_K_ref}, {@code q5_K} and {@code q6_K} run without an
 * importance matrix, so that attn4j's files have llama.cpp's errors:
 * <ul>
 *   <li>Q4_K / Q5_K: per sub-block of 32 a scale and a min by {@link #makeQkx2} (a grid of
 *       candidate scales around (max - min) / nmax, each refit by weighted least squares with
 *       weights {@code sqrt(mean x^2) + |x|}); the 8 scales and 8 mins then quantized to 6 bits
 *       against the largest (d = max scale / 63, dmin = max min / 63), and the values requantized
 *       with the rounded scales;</li>
 *   <li>Q6_K: per sub-block of 16 a signed scale by {@link #makeQx} (candidates -(32 + 0.1 i) / max
 *       for i in -9..9, weights x^2); the 16 scales quantized to int8 against the largest.</li>
 * </ul>
 * All arithmetic is float as in C; {@link #nearestInt} rounds half to even as ggml's
 * {@code nearest_int} (the 1.5 * 2^23 trick) does.
 */
final class KQuants {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private KQuants() {
    }

    static int nearestInt(float v) {
        return (int) Math.rint(v);
    }

    private static void putHalf(MemorySegment s, long off, float v) {
        s.set(F16, off, Float.floatToFloat16(v));
    }

    private static void put(MemorySegment s, long off, int b) {
        s.set(ValueLayout.JAVA_BYTE, off, (byte) b);
    }

    /** Quantizes the 256 values x[xOff ..] into one block of {@code type} at byte {@code o} of out. */
    static void quantizeBlock(QuantType type, float[] x, int xOff, MemorySegment out, long o) {
        switch (type) {
            case Q4_K -> quantizeQ45K(x, xOff, out, o, false);
            case Q5_K -> quantizeQ45K(x, xOff, out, o, true);
            case Q6_K -> quantizeQ6K(x, xOff, out, o);
            default -> throw new IllegalArgumentException(type + " is not a k-quant");
        }
    }

    private static void quantizeQ45K(float[] x, int xOff, MemorySegment out, long o, boolean five) {
        int nmax = five ? 31 : 15;
        int[] l = new int[256], laux = new int[32];
        float[] weights = new float[32], mins = new float[8], scales = new float[8], theMin = new float[1];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++) {
            int base = xOff + 32 * j;
            float sumX2 = 0;
            for (int i = 0; i < 32; i++) sumX2 += x[base + i] * x[base + i];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int i = 0; i < 32; i++) weights[i] = avX + Math.abs(x[base + i]);
            scales[j] = five ? makeQkx2(32, nmax, x, base, weights, l, 32 * j, theMin, laux, -0.5f, 0.1f, 15)
                    : makeQkx2(32, nmax, x, base, weights, l, 32 * j, theMin, laux, -1f, 0.1f, 20);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f, invMin = maxMin > 0 ? 63f / maxMin : 0f;
        int[] sc = new int[12];
        for (int j = 0; j < 8; j++) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF), lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                sc[j] = ls;
                sc[j + 4] = lm;
            } else {
                sc[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
                sc[j - 4] |= (ls >> 4) << 6;
                sc[j] |= (lm >> 4) << 6;
            }
        }
        putHalf(out, o, maxScale / 63f);
        putHalf(out, o + 2, maxMin / 63f);
        for (int j = 0; j < 12; j++) put(out, o + 4 + j, sc[j]);
        float d = QuantType.half(out, o), dmin = QuantType.half(out, o + 2);
        for (int j = 0; j < 8; j++) {
            float dj = d * QuantType.scaleMinK4(out, o + 4, j, false);
            if (dj == 0f) continue;
            float dm = dmin * QuantType.scaleMinK4(out, o + 4, j, true);
            for (int i = 0; i < 32; i++) {
                int q = nearestInt((x[xOff + 32 * j + i] + dm) / dj);
                l[32 * j + i] = Math.max(0, Math.min(nmax, q));
            }
        }
        long qs = o + (five ? 48 : 16), qh = o + 16;
        if (five) for (int j = 0; j < 32; j++) put(out, qh + j, 0);
        int m1 = 1, m2 = 2;
        for (int n = 0; n < 256; n += 64) {
            for (int j = 0; j < 32; j++) {
                int l1 = l[n + j], l2 = l[n + j + 32];
                if (five) {
                    int h = out.get(ValueLayout.JAVA_BYTE, qh + j) & 0xFF;
                    if (l1 > 15) { l1 -= 16; h |= m1; }
                    if (l2 > 15) { l2 -= 16; h |= m2; }
                    put(out, qh + j, h);
                }
                put(out, qs + n / 2 + j, l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
        }
    }

    private static void quantizeQ6K(float[] x, int xOff, MemorySegment out, long o) {
        int[] l = new int[256];
        float[] scales = new float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++) {
            float scale = makeQx(16, 32, x, xOff + 16 * ib, l, 16 * ib);
            scales[ib] = scale;
            if (Math.abs(scale) > maxAbsScale) {
                maxAbsScale = Math.abs(scale);
                maxScale = scale;
            }
        }
        if (maxAbsScale == 0f) {
            for (int i = 0; i < 210; i++) put(out, o + i, 0);
            return;
        }
        float iscale = -128f / maxScale;
        putHalf(out, o + 208, 1 / iscale);
        for (int ib = 0; ib < 16; ib++) put(out, o + 192 + ib, Math.min(127, nearestInt(iscale * scales[ib])));
        float d = QuantType.half(out, o + 208);
        for (int j = 0; j < 16; j++) {
            float dj = d * out.get(ValueLayout.JAVA_BYTE, o + 192 + j);
            if (dj == 0f) continue;
            for (int i = 0; i < 16; i++) {
                int q = nearestInt(x[xOff + 16 * j + i] / dj);
                l[16 * j + i] = Math.max(-32, Math.min(31, q)) + 32;
            }
        }
        for (int h = 0; h < 2; h++) {
            int j = 128 * h;
            long ql = o + 64 * h, qh = o + 128 + 32 * h;
            for (int i = 0; i < 32; i++) {
                int q1 = l[j + i] & 0xF, q2 = l[j + i + 32] & 0xF, q3 = l[j + i + 64] & 0xF, q4 = l[j + i + 96] & 0xF;
                put(out, ql + i, q1 | (q3 << 4));
                put(out, ql + i + 32, q2 | (q4 << 4));
                put(out, qh + i, (l[j + i] >> 4) | ((l[j + i + 32] >> 4) << 2) | ((l[j + i + 64] >> 4) << 4) | ((l[j + i + 96] >> 4) << 6));
            }
        }
    }

    /**
     * ggml's {@code make_qkx2_quants}: levels L[lOff .. lOff + n) in [0, nmax] and returns the scale;
     * the min (as a positive offset, value = scale * L - min) goes to theMin[0].
     */
    static float makeQkx2(int n, int nmax, float[] x, int xOff, float[] weights, int[] l, int lOff, float[] theMin, int[] laux,
                          float rmin, float rdelta, int nstep) {
        float min = x[xOff], max = x[xOff], sumW = weights[0], sumX = sumW * x[xOff];
        for (int i = 1; i < n; i++) {
            float v = x[xOff + i];
            if (v < min) min = v;
            if (v > max) max = v;
            float w = weights[i];
            sumW += w;
            sumX += w * v;
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; i++) l[lOff + i] = 0;
            theMin[0] = -min;
            return 0f;
        }
        float iscale = nmax / (max - min), scale = 1 / iscale, bestMad = 0;
        for (int i = 0; i < n; i++) {
            int q = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xOff + i] - min))));
            l[lOff + i] = q;
            float diff = scale * q + min - x[xOff + i];
            bestMad += weights[i] * (diff * diff);
        }
        for (int is = 0; is <= nstep; is++) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; i++) {
                int q = Math.max(0, Math.min(nmax, nearestInt(iscale * (x[xOff + i] - min))));
                laux[i] = q;
                float w = weights[i];
                sumL += w * q;
                sumL2 += w * q * q;
                sumXl += w * q * x[xOff + i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float mad = 0;
                for (int i = 0; i < n; i++) {
                    float diff = thisScale * laux[i] + thisMin - x[xOff + i];
                    mad += weights[i] * (diff * diff);
                }
                if (mad < bestMad) {
                    for (int i = 0; i < n; i++) l[lOff + i] = laux[i];
                    bestMad = mad;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /**
     * ggml's {@code make_qx_quants} with rmse_type 1 and no importance weights: signed levels
     * L[lOff ..] + nmax in [0, 2 nmax) and returns the (signed) scale.
     */
    static float makeQx(int n, int nmax, float[] x, int xOff, int[] l, int lOff) {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++) {
            float ax = Math.abs(x[xOff + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xOff + i];
            }
        }
        if (amax < 1e-30f) {
            for (int i = 0; i < n; i++) l[lOff + i] = 0;
            return 0f;
        }
        float iscale = -nmax / max, sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            int q = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
            l[lOff + i] = q + nmax;
            float w = v * v;
            sumlx += w * v * q;
            suml2 += w * q * q;
        }
        float scale = sumlx / suml2, best = scale * sumlx;
        for (int is = -9; is <= 9; is++) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++) {
                float v = x[xOff + i];
                int q = Math.max(-nmax, Math.min(nmax - 1, nearestInt(iscale * v)));
                float w = v * v;
                sumlx += w * v * q;
                suml2 += w * q * q;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; i++) {
                    int q = nearestInt(iscale * x[xOff + i]);
                    l[lOff + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, q));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }
}
