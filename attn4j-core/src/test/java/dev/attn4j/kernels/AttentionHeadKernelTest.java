package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.attn4j.kernels.simd.SimdKernels;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link Kernels#attentionHead} of both implementations against a float64 softmax attention, on
 * sizes around the vector length and the 4- and 8-row blocks, with strided (interleaved) operands, no
 * mask, a shared key-padding row and a per-query mask, fully masked rows, and output guards.
 */
class AttentionHeadKernelTest {
    static final List<Kernels> IMPLS = List.of(new SimdKernels(), Kernels.scalar());
    static final int[] ROWS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 23, 24, 25, 33};
    static final int[] KEYS = {1, 2, 7, 15, 16, 17, 31, 32, 33, 47, 48, 49, 65, 96, 97, 129};
    static final int[] WIDTHS = {1, 7, 16, 17, 32, 33, 47, 48, 49, 64, 97};

    final long seed = System.nanoTime();
    final SplittableRandom rnd = new SplittableRandom(seed);

    enum MaskKind { NONE, SHARED, PER_QUERY }

    float[] randoms(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-1.5, 1.5);
        return x;
    }

    @Test
    void agreesWithFloat64Reference() {
        for (Kernels kern : IMPLS) {
            for (int trial = 0; trial < 120; trial++) {
                int L = ROWS[rnd.nextInt(ROWS.length)], S = KEYS[rnd.nextInt(KEYS.length)];
                int E = WIDTHS[rnd.nextInt(WIDTHS.length)], Ev = WIDTHS[rnd.nextInt(WIDTHS.length)];
                MaskKind kind = MaskKind.values()[rnd.nextInt(3)];
                check(kern, L, S, E, Ev, kind, trial);
            }
            // the BERT shape: 12 heads of 32 interleaved in [T, 3 * 384]
            check(kern, 42, 42, 32, 32, MaskKind.SHARED, -1);
        }
    }

    private void check(Kernels kern, int L, int S, int E, int Ev, MaskKind kind, int trial) {
        // operands interleaved in wider rows, like heads in a [T, 3C] projection
        int ldq = E + rnd.nextInt(3) * 16 + rnd.nextInt(2), ldk = E + rnd.nextInt(20), ldv = Ev + rnd.nextInt(20);
        int ldo = Ev + rnd.nextInt(20);
        int qOff = rnd.nextInt(5), kOff = rnd.nextInt(5), vOff = rnd.nextInt(5), oOff = rnd.nextInt(5), bOff = rnd.nextInt(5);
        float[] q = randoms(qOff + (L - 1) * ldq + E + 3), k = randoms(kOff + (S - 1) * ldk + E), v = randoms(vOff + (S - 1) * ldv + Ev);
        float scale = (float) (1 / Math.sqrt(E));
        float[] bias = null;
        int biasLd = 0;
        if (kind != MaskKind.NONE) {
            biasLd = kind == MaskKind.SHARED ? 0 : S + rnd.nextInt(3);
            int rows = kind == MaskKind.SHARED ? 1 : L;
            bias = new float[bOff + (rows - 1) * biasLd + S];
            for (int i = 0; i < bias.length; i++) {
                double u = rnd.nextDouble();
                bias[i] = u < 0.25 ? Float.NEGATIVE_INFINITY : (float) rnd.nextDouble(-2, 2);
            }
            if (rnd.nextBoolean()) {                                           // one row with every key masked
                int row = kind == MaskKind.SHARED ? 0 : rnd.nextInt(L);
                for (int j = 0; j < S; j++) bias[bOff + row * biasLd + j] = Float.NEGATIVE_INFINITY;
            }
        }
        float[] out = new float[oOff + (L - 1) * ldo + Ev + 7];
        java.util.Arrays.fill(out, 42f);
        float[] scratch = new float[Kernels.attentionScratchSize(S, E)];
        java.util.Arrays.fill(scratch, Float.NaN);                           // stale scratch must not leak into results
        kern.attentionHead(L, S, E, Ev, scale, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, bias, bOff, biasLd, out, oOff, ldo,
                scratch);
        String where = kern.name() + " L=" + L + " S=" + S + " E=" + E + " Ev=" + Ev + " mask=" + kind + " trial=" + trial
                + " seed=" + seed + "L";
        for (int i = 0; i < L; i++) {
            double[] s = new double[S];
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < S; j++) {
                double dot = 0;
                for (int p = 0; p < E; p++) dot += (double) q[qOff + i * ldq + p] * k[kOff + j * ldk + p];
                s[j] = scale * dot + (bias == null ? 0 : bias[bOff + i * biasLd + j]);
                m = Math.max(m, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < S; j++) sum += s[j] = m == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - m);
            for (int c = 0; c < Ev; c++) {
                double want = 0, mag = 0;
                for (int j = 0; j < S; j++) {
                    want += s[j] * v[vOff + j * ldv + c];
                    mag += s[j] * Math.abs(v[vOff + j * ldv + c]);
                }
                if (sum > 0) {
                    want /= sum;
                    mag /= sum;
                }
                float got = out[oOff + i * ldo + c];
                double tol = 2e-6 * (mag + 1) * Math.sqrt(E + S);
                if (!(Math.abs(got - want) <= tol)) {
                    fail(where + ": out[" + i + ", " + c + "] = " + got + ", want " + want + " (tol " + tol + ")");
                }
            }
        }
        // nothing written outside the output rows
        for (int i = 0; i < out.length; i++) {
            int r = (i - oOff) / ldo, c = (i - oOff) % ldo;
            boolean inside = i >= oOff && r < L && c < Ev;
            if (!inside) assertThat(out[i]).as(where + ": out[" + i + "] outside the output was written").isEqualTo(42f);
        }
    }

    @Test
    void aNaNScoreMakesItsRowNaNAsInTorch() {
        // torch.softmax over a row holding a NaN is NaN everywhere; a row whose every score is NaN
        // must not pass for a fully masked row (output 0). With a mask (the bias-row path) and
        // without one; a +inf query (scores +-inf or NaN) must not break the other rows.
        for (Kernels kern : IMPLS) {
            for (boolean masked : new boolean[] {true, false}) {
                int L = 9, S = 1 + rnd.nextInt(40), E = 8, Ev = 5;
                float[] q = randoms(L * E), k = randoms(S * E), v = randoms(S * Ev), out = new float[L * Ev];
                q[2 * E + 3] = Float.NaN;                                      // row 2: every score NaN
                q[6 * E] = Float.POSITIVE_INFINITY;                            // row 6: not checked
                float[] bias = null;
                if (masked) {
                    bias = new float[L * S];
                    bias[5 * S + rnd.nextInt(S)] = Float.NaN;                  // row 5: one score NaN
                    for (int j = 0; j < S; j++) bias[7 * S + j] = Float.NEGATIVE_INFINITY;   // row 7: fully masked
                }
                kern.attentionHead(L, S, E, Ev, 0.3f, q, 0, E, k, 0, E, v, 0, Ev, bias, 0, masked ? S : 0, out, 0, Ev,
                        new float[Kernels.attentionScratchSize(S, E)]);
                for (int i = 0; i < L; i++) {
                    for (int c = 0; c < Ev; c++) {
                        float got = out[i * Ev + c];
                        String what = kern.name() + " masked=" + masked + " S=" + S + " out[" + i + ", " + c + "] seed=" + seed;
                        if (i == 2 || (masked && i == 5)) assertThat(got).as(what).isNaN();
                        else if (masked && i == 7) assertThat(got).as(what).isEqualTo(0f);
                        else if (i != 6) assertThat(Float.isFinite(got)).as(what + " = " + got).isTrue();
                    }
                }
            }
        }
    }

    @Test
    void simdAndScalarAgreeClosely() {
        Kernels simd = IMPLS.get(0), scalar = IMPLS.get(1);
        for (int trial = 0; trial < 20; trial++) {
            int L = 1 + rnd.nextInt(70), S = 1 + rnd.nextInt(200), E = 1 + rnd.nextInt(70), Ev = 1 + rnd.nextInt(70);
            float[] q = randoms(L * E), k = randoms(S * E), v = randoms(S * Ev);
            float[] a = new float[L * Ev], b = new float[L * Ev], scratch = new float[Kernels.attentionScratchSize(S, E)];
            simd.attentionHead(L, S, E, Ev, 0.125f, q, 0, E, k, 0, E, v, 0, Ev, null, 0, 0, a, 0, Ev, scratch);
            scalar.attentionHead(L, S, E, Ev, 0.125f, q, 0, E, k, 0, E, v, 0, Ev, null, 0, 0, b, 0, Ev, scratch);
            for (int i = 0; i < a.length; i++) {
                assertThat((double) a[i]).as("L=%d S=%d E=%d Ev=%d i=%d seed=%dL", L, S, E, Ev, i, seed)
                        .isCloseTo(b[i], org.assertj.core.data.Offset.offset(1e-5 * (1 + Math.abs(b[i]))));
            }
        }
    }

    @Test
    void badArgumentsNameTheOperand() {
        for (Kernels kern : IMPLS) {
            float[] q = new float[4 * 8], k = new float[5 * 8], v = new float[5 * 8], out = new float[4 * 8];
            float[] scratch = new float[Kernels.attentionScratchSize(5, 8)];
            assertThatThrownBy(() -> kern.attentionHead(4, 6, 8, 8, 1f, q, 0, 8, k, 0, 8, v, 0, 8, null, 0, 0, out, 0, 8, scratch))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("attentionHead: k [6, 8]");
            assertThatThrownBy(() -> kern.attentionHead(4, 5, 8, 8, 1f, q, 0, 8, k, 0, 8, v, 0, 8, new float[3], 0, 0, out, 0, 8,
                    scratch)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias [1, 5]");
            assertThatThrownBy(() -> kern.attentionHead(4, 5, 8, 8, 1f, q, 0, 8, k, 0, 8, v, 0, 8, null, 0, 0, out, 0, 8,
                    new float[10])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scratch");
        }
    }
}
