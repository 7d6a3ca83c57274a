package dev.attn4j.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementary functions written out in vector arithmetic (FMAs, compares, bit shifts) instead of
 * the Vector API's {@code lanewise(EXP)}, which calls an out-of-line math-library stub per
 * vector. Measured by sampling the BERT forward: the erfc-form GELU we had then (one exp per
 * vector) went from about 6.5% to 3.5% of the time; in a softmax row the difference was within
 * this machine's noise. The softmax of {@link SimdAttention} uses it.
 */
final class VectorMath {
    private static final VectorSpecies<Float> S = SimdKernels.S;

    /** Below this e^x is subnormal in float; such lanes, and -Infinity, give 0. */
    private static final float EXP_MIN_ARG = -87.33654f;
    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer, kept in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    /** ln 2 in two parts (the first exact in a few bits), so n * LN2_HI is exact for |n| <= 126. */
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    /** e^r = 1 + r + r^2 (P0 r^5 + ... + P5) on |r| <= ln2 / 2 (the coefficients of Cephes' expf). */
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    private VectorMath() {
    }

    /**
     * e^x for x &lt;= 0, within 1 ulp (0.89 at worst over every 7th float in [-88, 0]; the Cephes
     * form r + 1 + r^2 P(r) with a Math.max clamp had 1.26 and about seven more vector
     * instructions). Arguments below -87.34 (where e^x would be subnormal) and -Infinity give 0,
     * NaN gives NaN. Positive arguments are not handled (the exponent arithmetic would overflow
     * above 88.7): the softmax only needs x &lt;= 0.
     * x = n ln2 + r with n = round(x / ln2), e^x = 2^n e^r, and 2^n is built in the exponent bits.
     */
    static FloatVector expNonPositive(FloatVector x) {
        // One compare serves the clamp and the final zeroing (a compare and a blend: FloatVector.max
        // follows Math.max for NaN and -0.0 and compiled to six instructions). NaN compares false, so
        // it stays NaN through the arithmetic.
        VectorMask<Float> tiny = x.compare(VectorOperators.LT, EXP_MIN_ARG);
        FloatVector xc = x.blend(EXP_MIN_ARG, tiny);
        // n + 127 + ROUNDER: the low mantissa bits hold n + 127 (in [1, 127]), 2^n's exponent field
        FloatVector shifted = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUNDER + 127));
        FloatVector n = shifted.sub(ROUNDER + 127);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);                                                  // |r| <= ln2 / 2
        // e^r = 1 + r + r^2 (P0 r^5 + ... + P5), evaluated as one Horner chain of FMAs
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector er = r.fma(FloatVector.broadcast(S, P0), FloatVector.broadcast(S, P1))
                .fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5))
                .fma(r, one).fma(r, one);
        // Shifting left by 23 drops ROUNDER's bits and puts n + 127 in the exponent field: 2^n.
        IntVector pow2 = shifted.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23);
        return er.mul(pow2.reinterpretAsFloats()).blend(0f, tiny);
    }
}
