package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.attn4j.kernels.simd.SimdKernels;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GEMM and batched GEMM of both implementations against a float64 reference: every transpose
 * combination, odd sizes that leave edge tiles, padded leading dimensions, offsets, alpha/beta
 * cases, on one thread and on several. Tolerance per element: (k + 4) eps times
 * |alpha| sum_p |a_ip b_pj| + |beta c_ij|, the usual float accumulation bound.
 */
class GemmTest {
    static final List<Kernels> IMPLS = List.of(new SimdKernels(), Kernels.scalar());
    /**
     * m, n, k: single elements, edge tiles around 7 x 48 (and 1- or 2-vector right edges, also past
     * NC: n = 1024), odd depths (the micro-kernel's unrolled loop and its tail), blocks crossing KC
     * and NC, the direct path.
     */
    static final int[][] SHAPES = {
            {1, 1, 1}, {3, 17, 33}, {17, 3, 65}, {33, 65, 3}, {65, 127, 17}, {127, 33, 130}, {130, 130, 130},
            {8, 48, 128}, {16, 96, 256}, {9, 49, 129}, {2, 50, 7}, {5, 7, 9}, {20, 20, 20}, {1, 300, 40},
            {300, 1, 40}, {4, 16, 600}, {400, 97, 150}, {64, 130, 300}, {8, 3100, 16}, {16, 64, 40}, {24, 80, 33},
            {40, 256, 32}, {16, 100, 500}, {7, 48, 129}, {14, 96, 385}, {21, 49, 7}, {6, 48, 64}, {71, 144, 777},
            {15, 112, 20}, {30, 1024, 400}, {64, 64, 777},
    };
    static final float PAD = 12345.5f;

    final long seed = System.nanoTime();
    final SplittableRandom rnd = new SplittableRandom(seed);
    final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    float[] randoms(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        return x;
    }

    /** One random case: returns normally or fails with the seed and the parameters. */
    void check(Kernels kern, boolean tA, boolean tB, int m, int n, int k, float alpha, float beta, boolean nanInC) {
        int extra = rnd.nextInt(4);
        int lda = (tA ? m : k) + rnd.nextInt(3), ldb = (tB ? k : n) + rnd.nextInt(3), ldc = n + extra;
        lda = Math.max(lda, 1);
        ldb = Math.max(ldb, 1);
        int aOff = rnd.nextInt(4), bOff = rnd.nextInt(4), cOff = rnd.nextInt(4);
        float[] a = randoms(aOff + (tA ? k : m) * lda + 1);
        float[] b = randoms(bOff + (tB ? n : k) * ldb + 1);
        float[] c = new float[cOff + m * ldc + 2];
        java.util.Arrays.fill(c, PAD);
        float[] c0 = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float v = nanInC ? Float.NaN : (float) rnd.nextDouble(-1, 1);
                c[cOff + i * ldc + j] = v;
                c0[i * n + j] = v;
            }
        }
        kern.gemm(tA, tB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        String what = kern.name() + " transA=" + tA + " transB=" + tB + " m=" + m + " n=" + n + " k=" + k
                + " alpha=" + alpha + " beta=" + beta + " lda=" + lda + " ldb=" + ldb + " ldc=" + ldc
                + " threads=" + Parallel.threads() + " seed=" + seed + "L";
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0, sa = 0;
                for (int p = 0; p < k; p++) {
                    double x = tA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    double y = tB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                    s += x * y;
                    sa += Math.abs(x * y);
                }
                double want = alpha * s + (beta == 0 ? 0 : beta * (double) c0[i * n + j]);
                double tol = (k + 4) * 0x1p-24 * (Math.abs(alpha) * sa + (beta == 0 ? 0 : Math.abs(beta * c0[i * n + j]))) + 1e-30;
                float got = c[cOff + i * ldc + j];
                if (!(Math.abs(got - want) <= tol)) {
                    fail("C[" + i + "][" + j + "] = " + got + ", want " + want + " (tol " + tol + "): " + what);
                }
            }
        }
        // Nothing outside the m x n window may change.
        for (int idx = 0; idx < c.length; idx++) {
            int rel = idx - cOff;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inside && c[idx] != PAD) fail("C[" + idx + "] outside the result was written: " + what);
        }
    }

    /**
     * gemmBiasResidual on shapes that take every path of the SIMD GEMM (direct, matrix-vector
     * columns, one thread, shared-B row slabs, column split): against float64, with only bias,
     * only residual or both, with or without an activation, and nothing written outside C.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void biasAndResidualStartC(int threads) {
        Parallel.setThreads(threads);
        int[][] shapes = {{1, 300, 40}, {3, 700, 500}, {5, 7, 9}, {130, 130, 130}, {400, 97, 150}, {71, 1000, 50},
                {300, 40, 777}, {2000, 130, 30}, {64, 2100, 70}, {16, 1152, 384}, {9, 100, 61}, {50, 1024, 30}};
        for (Kernels kern : IMPLS) {
            for (int[] sh : shapes) {
                int m = sh[0], n = sh[1], k = sh[2], mode = rnd.nextInt(4);
                boolean tB = rnd.nextBoolean();
                int lda = k + rnd.nextInt(3), ldb = (tB ? k : n) + rnd.nextInt(3), ldr = n + rnd.nextInt(3), ldc = n + rnd.nextInt(3);
                float[] a = randoms(1 + m * lda), b = randoms(2 + (tB ? n : k) * ldb);
                // mode 0: bias, 1: residual, 2: both, 3: neither (then only the activation, if any)
                float[] bias = mode % 2 == 1 ? null : randoms(3 + n), res = mode == 0 || mode == 3 ? null : randoms(1 + m * ldr);
                float[] c = new float[2 + m * ldc + 1];
                java.util.Arrays.fill(c, PAD);
                UnaryOp act = new UnaryOp[] {null, UnaryOp.GELU_ERF, UnaryOp.RELU}[rnd.nextInt(3)];
                kern.gemmBiasResidual(false, tB, m, n, k, a, 1, lda, b, 2, ldb, bias, 3, res, 1, ldr, c, 2, ldc, act);
                String what = kern.name() + " m=" + m + " n=" + n + " k=" + k + " transB=" + tB + " mode=" + mode + " act=" + act
                        + " threads=" + threads + " seed=" + seed + "L";
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0, sa = 0;
                        for (int p = 0; p < k; p++) {
                            double x = a[1 + i * lda + p], y = tB ? b[2 + j * ldb + p] : b[2 + p * ldb + j];
                            sum += x * y;
                            sa += Math.abs(x * y);
                        }
                        double init = (bias == null ? 0 : bias[3 + j]) + (res == null ? 0 : res[1 + i * ldr + j]);
                        double want = sum + init, tol = (k + 4) * 0x1p-24 * (sa + Math.abs(init)) + 1e-30;
                        if (act != null) {                                    // slope <= 1.13; the activation's own error a few ulps
                            want = ScalarKernels.apply(act, (float) want);
                            tol = 1.2 * tol + 16 * Math.ulp((float) Math.abs(want)) + 1e-30;
                        }
                        float got = c[2 + i * ldc + j];
                        if (!(Math.abs(got - want) <= tol)) fail("C[" + i + "][" + j + "] = " + got + ", want " + want + ": " + what);
                    }
                }
                for (int idx = 0; idx < c.length; idx++) {
                    int rel = idx - 2;
                    boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
                    if (!inside && c[idx] != PAD) fail("C[" + idx + "] outside the result was written: " + what);
                }
            }
            assertThatThrownBy(() -> kern.gemmBiasResidual(false, false, 2, 3, 4, new float[8], 0, 4, new float[12], 0, 3,
                    new float[2], 0, null, 0, 0, new float[6], 0, 3, null)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("bias");
        }
    }

    float randomAlpha() {
        return new float[]{1f, 0.5f, -1.75f, 3f}[rnd.nextInt(4)];
    }

    float randomBeta() {
        return new float[]{0f, 1f, 0.25f, -2f}[rnd.nextInt(4)];
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void allShapesAndTransposes(int threads) {
        Parallel.setThreads(threads);
        for (Kernels kern : IMPLS) {
            for (int[] s : SHAPES) {
                for (int t = 0; t < 4; t++) {
                    float beta = randomBeta();
                    check(kern, (t & 1) != 0, (t & 2) != 0, s[0], s[1], s[2], randomAlpha(), beta, beta == 0f);
                }
            }
        }
    }

    @Test
    void bigEnoughToSplitOverThreads() {
        Parallel.setThreads(2);
        Kernels kern = new SimdKernels();
        // Row split with shared packed B (m >= n), column split (n > m), with edge tiles; the
        // direct path split by columns (m = 2). With k > KC the row slabs run in groups of A panels
        // (96 x 50 x 800; 800 x 780 x 400 also crosses NC).
        for (int t = 0; t < 4; t++) {
            check(kern, (t & 1) != 0, (t & 2) != 0, 203, 147, 261, randomAlpha(), randomBeta(), false);
            check(kern, (t & 1) != 0, (t & 2) != 0, 300, 1024, 420, randomAlpha(), randomBeta(), false);
            check(kern, (t & 1) != 0, (t & 2) != 0, 61, 419, 200, randomAlpha(), randomBeta(), false);
            check(kern, (t & 1) != 0, (t & 2) != 0, 96, 50, 800, randomAlpha(), randomBeta(), false);
            check(kern, (t & 1) != 0, (t & 2) != 0, 2, 1000, 700, randomAlpha(), randomBeta(), false);
            check(kern, (t & 1) != 0, (t & 2) != 0, 800, 780, 400, randomAlpha(), randomBeta(), false);
        }
    }

    @Test
    void betaZeroIgnoresNaNInCAndAlphaZeroOrKZeroScalesC() {
        for (Kernels kern : IMPLS) {
            for (int[] s : new int[][]{{1, 1, 1}, {33, 65, 17}, {130, 50, 70}}) {
                check(kern, false, false, s[0], s[1], s[2], 1f, 0f, true);
                check(kern, true, true, s[0], s[1], s[2], -2f, 0f, true);
            }
            float[] c = {1, 2, 3, 4, 5, 6};
            kern.gemm(false, false, 2, 3, 0, 1f, new float[0], 0, 1, new float[3], 0, 3, 0.5f, c, 0, 3);
            assertThat(c).as(kern.name() + " k = 0").containsExactly(0.5f, 1, 1.5f, 2, 2.5f, 3);
            c = new float[]{Float.NaN, 2, 3, 4, 5, 6};
            kern.gemm(false, false, 2, 3, 0, 1f, new float[0], 0, 1, new float[3], 0, 3, 0f, c, 0, 3);
            assertThat(c).as(kern.name() + " k = 0, beta = 0").containsOnly(0f);
        }
        float[] c = {1, 2, 3, 4};
        new SimdKernels().gemm(false, false, 2, 2, 2, 0f, new float[]{1, 2, 3, 4}, 0, 2, new float[]{1, 2, 3, 4}, 0, 2, 2f, c, 0, 2);
        assertThat(c).containsExactly(2, 4, 6, 8);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void batched(int threads) {
        Parallel.setThreads(threads);
        int[][] cases = {{6, 37, 41, 32}, {5, 64, 64, 32}, {2, 9, 200, 70}, {8, 3, 5, 7}, {1, 20, 30, 40}, {3, 130, 129, 60}};
        for (Kernels kern : IMPLS) {
            for (int[] cs : cases) {
                for (int t = 0; t < 4; t++) {
                    for (int broadcast = 0; broadcast < 3; broadcast++) {
                        checkBatch(kern, (t & 1) != 0, (t & 2) != 0, cs[0], cs[1], cs[2], cs[3], broadcast);
                    }
                }
            }
        }
    }

    /** broadcast: 0 none, 1 strideA = 0, 2 strideB = 0. */
    void checkBatch(Kernels kern, boolean tA, boolean tB, int batch, int m, int n, int k, int broadcast) {
        int lda = tA ? m : k, ldb = tB ? k : n, ldc = n + 1;
        int strideA = broadcast == 1 ? 0 : m * k + 3, strideB = broadcast == 2 ? 0 : k * n + 1, strideC = m * ldc + 2;
        float[] a = randoms(2 + strideA * (batch - 1) + m * k);
        float[] b = randoms(1 + strideB * (batch - 1) + k * n);
        float[] c = randoms(3 + strideC * batch);
        float[] c0 = c.clone();
        float alpha = randomAlpha(), beta = randomBeta();
        kern.gemmBatch(batch, tA, tB, m, n, k, alpha, a, 2, strideA, lda, b, 1, strideB, ldb, beta, c, 3, strideC, ldc);
        String what = kern.name() + " batch=" + batch + " transA=" + tA + " transB=" + tB + " m=" + m + " n=" + n
                + " k=" + k + " broadcast=" + broadcast + " threads=" + Parallel.threads() + " seed=" + seed + "L";
        for (int e = 0; e < batch; e++) {
            int ao = 2 + e * strideA, bo = 1 + e * strideB, co = 3 + e * strideC;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, sa = 0;
                    for (int p = 0; p < k; p++) {
                        double x = tA ? a[ao + p * lda + i] : a[ao + i * lda + p];
                        double y = tB ? b[bo + j * ldb + p] : b[bo + p * ldb + j];
                        s += x * y;
                        sa += Math.abs(x * y);
                    }
                    double old = c0[co + i * ldc + j];
                    double want = alpha * s + beta * old;
                    double tol = (k + 4) * 0x1p-24 * (Math.abs(alpha) * sa + Math.abs(beta * old));
                    float got = c[co + i * ldc + j];
                    if (!(Math.abs(got - want) <= tol)) {
                        fail("entry " + e + " C[" + i + "][" + j + "] = " + got + ", want " + want + ": " + what);
                    }
                }
                // The padding column of each row is untouched.
                assertThat(c[co + i * ldc + n]).as("padding " + what).isEqualTo(c0[co + i * ldc + n]);
            }
        }
    }

    @Test
    void badArgumentsGiveClearErrors() {
        for (Kernels kern : IMPLS) {
            float[] a = new float[12], b = new float[12], c = new float[12];
            assertThatThrownBy(() -> kern.gemm(false, false, 3, 4, 5, 1f, a, 0, 5, b, 0, 4, 0f, c, 0, 4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A").hasMessageContaining("15");
            assertThatThrownBy(() -> kern.gemm(false, false, 3, 4, 2, 1f, a, 0, 1, b, 0, 4, 0f, c, 0, 4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("leading dimension of A");
            assertThatThrownBy(() -> kern.gemm(false, true, 3, 4, 2, 1f, a, 0, 2, b, 0, 2, 0f, c, 1, 4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("C");
            assertThatThrownBy(() -> kern.gemm(false, false, -1, 4, 2, 1f, a, 0, 2, b, 0, 4, 0f, c, 0, 4))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
            assertThatThrownBy(() -> kern.gemmBatch(3, false, false, 2, 2, 2, 1f, a, 0, 4, 2, b, 0, 4, 2, 0f, c, 0, 2, 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overlap");
            assertThatThrownBy(() -> kern.gemmBatch(4, false, false, 2, 2, 2, 1f, a, 0, 4, 2, b, 0, 4, 2, 0f, c, 0, 4, 2))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A");
        }
    }
}
