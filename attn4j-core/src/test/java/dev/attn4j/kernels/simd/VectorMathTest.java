package dev.attn4j.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** {@link VectorMath#expNonPositive} against Math.exp (float64) on fresh random arguments and the special values. */
class VectorMathTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rnd = new SplittableRandom(seed);
    private static final int L = SimdKernels.L;

    private float[] exp(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += L) VectorMath.expNonPositive(FloatVector.fromArray(SimdKernels.S, x, i)).intoArray(y, i);
        return y;
    }

    @Test
    void withinOneUlpOnNormalResults() {
        float[] x = new float[1 << 16];
        for (int i = 0; i < x.length; i++) {
            // uniform over [-87.3, 0] and log-uniform near 0, so both the reduction and tiny r are exercised
            x[i] = i % 2 == 0 ? (float) -rnd.nextDouble(87.3) : (float) -Math.pow(10, -rnd.nextDouble(1, 30));
        }
        float[] y = exp(x);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double want = Math.exp(x[i]);
            worst = Math.max(worst, Math.abs(y[i] - want) / Math.ulp((float) want));
        }
        assertThat(worst).as("max error in ulps, seed %d", seed).isLessThanOrEqualTo(1.0);
    }

    @Test
    void specialValues() {
        float[] x = new float[L * ((8 + L - 1) / L)];
        float[] in = {Float.NEGATIVE_INFINITY, Float.NaN, -0f, 0f, -87.33654f, -87.4f, -1e30f, -Float.MIN_VALUE};
        System.arraycopy(in, 0, x, 0, in.length);
        float[] y = exp(x);
        assertThat(y[0]).isEqualTo(0f);
        assertThat(y[1]).isNaN();
        assertThat(y[2]).isEqualTo(1f);
        assertThat(y[3]).isEqualTo(1f);
        assertThat((double) y[4]).isCloseTo(Math.exp(-87.33654), org.assertj.core.data.Offset.offset(1e-44));
        assertThat(y[5]).as("below the normal range: 0").isEqualTo(0f);
        assertThat(y[6]).isEqualTo(0f);
        assertThat(y[7]).isEqualTo(1f);
    }
}
