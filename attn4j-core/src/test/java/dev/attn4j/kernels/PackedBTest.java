package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.kernels.simd.SimdKernels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A B packed once ({@link Kernels#packB}) gives the same bits as packing it in the call, on every
 * path of the SIMD GEMM (one thread; row slabs over a shared B; columns split by panels for a few
 * rows against a wide B; depths past KC, widths past NC, edge tiles), with and without bias,
 * residual and activation; a packed B of another shape or orientation is refused.
 */
class PackedBTest {
    static final int[][] SHAPES = {
            {1, 384, 384}, {4, 49, 7}, {16, 1536, 384}, {16, 384, 1536}, {16, 1152, 384}, {7, 100, 500}, {17, 97, 900},
            {5, 800, 33}, {40, 1600, 130}, {130, 96, 400}, {600, 384, 200}, {64, 64, 777}, {3, 2000, 40}, {9, 48, 385},
    };
    final int threadsBefore = Parallel.threads();
    final long seed = System.nanoTime();

    @AfterEach
    void restore() {
        Parallel.setThreads(threadsBefore);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void packedOnceIsBitIdenticalToPackingPerCall(int threads) {
        Parallel.setThreads(threads);
        Kernels kern = new SimdKernels();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int[] s : SHAPES) {
            int m = s[0], n = s[1], k = s[2];
            for (boolean transB : new boolean[] {true, false}) {
                for (int variant = 0; variant < 2; variant++) {
                    int ldb = (transB ? k : n) + 3, bOff = 5;
                    float[] a = fill(rnd, m * k), b = fill(rnd, bOff + (transB ? n : k) * ldb);
                    float[] bias = variant == 0 ? null : fill(rnd, n), res = variant == 0 ? null : fill(rnd, m * n);
                    UnaryOp act = variant == 0 ? null : UnaryOp.GELU_ERF;
                    PackedB packed = kern.packB(transB, k, n, b, bOff, ldb);
                    assertThat(packed).isNotNull();
                    float[] expected = new float[m * n], actual = new float[m * n];
                    kern.gemmBiasResidual(false, transB, m, n, k, a, 0, k, b, bOff, ldb, bias, 0, res, 0, n, expected, 0, n, act);
                    kern.gemmBiasResidual(false, transB, m, n, k, a, 0, k, b, bOff, ldb, packed, bias, 0, res, 0, n, actual, 0, n, act);
                    for (int i = 0; i < m * n; i++) {
                        if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                            throw new AssertionError("m=" + m + " n=" + n + " k=" + k + " transB=" + transB + " variant=" + variant
                                    + " threads=" + threads + " element " + i + ": " + actual[i] + " vs " + expected[i] + " (seed " + seed + ")");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void aPackedBOfAnotherShapeIsRefusedAndTheReferenceIgnoresIt(int threads) {
        Parallel.setThreads(threads);
        Kernels kern = new SimdKernels();
        float[] b = new float[64 * 32], a = new float[4 * 32], c = new float[4 * 64];
        PackedB packed = kern.packB(true, 32, 64, b, 0, 32);
        assertThatThrownBy(() -> kern.gemmBiasResidual(false, false, 4, 64, 32, a, 0, 32, b, 0, 64, packed, null, 0, null, 0, 0,
                c, 0, 64, null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("packed B");
        assertThatThrownBy(() -> kern.packB(true, 32, 64, b, 0, 31)).isInstanceOf(IllegalArgumentException.class);
        assertThat(Kernels.scalar().packB(true, 32, 64, b, 0, 32)).isNull();
        float[] c2 = new float[4 * 64];
        Kernels.scalar().gemmBiasResidual(false, true, 4, 64, 32, a, 0, 32, b, 0, 32, packed, null, 0, null, 0, 0, c2, 0, 64, null);
        assertThat(c2).containsOnly(0f);
    }

    static float[] fill(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }
}
