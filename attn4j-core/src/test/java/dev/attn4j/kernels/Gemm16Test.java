package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.attn4j.tensor.DType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Kernels#gemm16} (B in BF16 or F16, widened while packing or streaming) against
 * {@link Kernels#gemm} of the same implementation on B widened to F32 beforehand: the bits of C
 * must be the same, over GemmTest's shapes (every edge tile, KC and NC crossings, the direct path)
 * and matrix-vector shapes (m = 1 and 2, the decode step, split over threads), every transpose,
 * padded leading dimensions and offsets, heap and off-heap B, 1 to 3 threads. The F32 GEMM itself
 * is checked against float64 by GemmTest.
 */
class Gemm16Test {
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int[][] MATVEC = {{1, 3000, 700}, {1, 4100, 1030}, {2, 700, 500}, {1, 1000, 64}, {1, 1000, 65},
            {3, 129, 200}, {1, 200, 3000}, {1, 64, 64}, {1, 17, 300}};

    final long seed = System.nanoTime();
    final SplittableRandom rnd = new SplittableRandom(seed);
    final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    /** Random 16-bit patterns of finite values in about [-2, 2], some exact zeros (the axpy skips those). */
    short[] randomBits(DType t, int n) {
        short[] s = new short[n];
        for (int i = 0; i < n; i++) {
            float v = rnd.nextInt(16) == 0 ? 0f : (float) rnd.nextDouble(-2, 2);
            s[i] = t.roundBits(v);
        }
        return s;
    }

    float[] randoms(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        return x;
    }

    void check(Kernels kern, DType t, boolean tA, boolean tB, int m, int n, int k, boolean offHeap, Arena arena) {
        int lda = Math.max(1, (tA ? m : k) + rnd.nextInt(3)), ldb = Math.max(1, (tB ? k : n) + rnd.nextInt(3));
        int ldc = n + rnd.nextInt(3), aOff = rnd.nextInt(4), bOff = rnd.nextInt(4), cOff = rnd.nextInt(4);
        float[] a = randoms(aOff + (tA ? k : m) * lda + 1);
        for (int i = 0; i < a.length; i++) if (rnd.nextInt(8) == 0) a[i] = 0f;   // the matrix-vector loops skip zero rows
        short[] bits = randomBits(t, bOff + (tB ? n : k) * ldb + 1);
        float[] wide = new float[bits.length];
        for (int i = 0; i < bits.length; i++) wide[i] = t.widen(bits[i]);
        MemorySegment seg = MemorySegment.ofArray(bits);
        if (offHeap) {
            MemorySegment native_ = arena.allocate(bits.length * 2L + 1, 1).asSlice(1);   // odd address: unaligned loads
            for (int i = 0; i < bits.length; i++) native_.setAtIndex(I16_LE, i, bits[i]);
            seg = native_;
        }
        float alpha = new float[] {1f, -0.5f, 3f}[rnd.nextInt(3)], beta = new float[] {0f, 1f, 0.25f}[rnd.nextInt(3)];
        float[] c = randoms(cOff + m * ldc + 2), want = c.clone();
        kern.gemm(tA, tB, m, n, k, alpha, a, aOff, lda, wide, bOff, ldb, beta, want, cOff, ldc);
        kern.gemm16(tA, tB, m, n, k, alpha, a, aOff, lda, seg, t, bOff, ldb, beta, c, cOff, ldc);
        compare(c, want, kern.name() + " " + t + " transA=" + tA + " transB=" + tB + " m=" + m + " n=" + n + " k=" + k
                + " alpha=" + alpha + " beta=" + beta + " offHeap=" + offHeap + " threads=" + Parallel.threads() + " seed=" + seed + "L");
    }

    static void compare(float[] got, float[] want, String what) {
        for (int i = 0; i < got.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])) {
                fail("C[" + i + "] = " + got[i] + ", F32 GEMM on the widened B gives " + want[i] + ": " + what);
            }
        }
    }

    /** As {@link #compare}, allowing one unit in the last place. */
    static void compareWithinUlp(float[] got, float[] want, String what) {
        for (int i = 0; i < got.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i]) && !(Math.abs(got[i] - want[i]) <= Math.ulp(want[i]))) {
                fail("C[" + i + "] = " + got[i] + ", F32 GEMM on the widened B gives " + want[i] + " (more than 1 ulp): " + what);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void sameBitsAsF32OnWidenedB(int threads) {
        Parallel.setThreads(threads);
        try (Arena arena = Arena.ofShared()) {
            for (Kernels kern : GemmTest.IMPLS) {
                for (int[][] shapes : new int[][][] {GemmTest.SHAPES, MATVEC}) {
                    for (int[] s : shapes) {
                        if (kern == Kernels.scalar() && (long) s[0] * s[1] * s[2] > 300_000) continue;   // its gemm16 widens, then runs gemm
                        for (int tr = 0; tr < 4; tr++) {
                            DType t = rnd.nextBoolean() ? DType.BF16 : DType.F16;
                            check(kern, t, (tr & 1) != 0, (tr & 2) != 0, s[0], s[1], s[2], rnd.nextInt(4) == 0, arena);
                        }
                    }
                }
            }
        }
    }

    /** gemm16BiasResidual against gemmBiasResidual on the widened B, on the paths GemmTest's bias test takes. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void biasResidualSameBits(int threads) {
        Parallel.setThreads(threads);
        int[][] shapes = {{1, 300, 40}, {3, 700, 500}, {5, 7, 9}, {130, 130, 130}, {400, 97, 150}, {71, 1000, 50},
                {300, 40, 777}, {2000, 130, 30}, {64, 2100, 70}, {16, 1152, 384}, {1, 2048, 512}};
        for (Kernels kern : GemmTest.IMPLS) {
            for (int[] sh : shapes) {
                int m = sh[0], n = sh[1], k = sh[2], mode = rnd.nextInt(4);
                DType t = rnd.nextBoolean() ? DType.BF16 : DType.F16;
                boolean tB = rnd.nextBoolean();
                int lda = k + rnd.nextInt(3), ldb = (tB ? k : n) + rnd.nextInt(3), ldr = n + rnd.nextInt(3), ldc = n + rnd.nextInt(3);
                float[] a = randoms(1 + m * lda);
                short[] bits = randomBits(t, 2 + (tB ? n : k) * ldb);
                float[] wide = new float[bits.length];
                for (int i = 0; i < bits.length; i++) wide[i] = t.widen(bits[i]);
                float[] bias = mode % 2 == 1 ? null : randoms(3 + n), res = mode == 0 || mode == 3 ? null : randoms(1 + m * ldr);
                UnaryOp act = new UnaryOp[] {null, UnaryOp.GELU_ERF, UnaryOp.SILU}[rnd.nextInt(3)];
                float[] c = new float[2 + m * ldc + 1], want = c.clone();
                kern.gemmBiasResidual(false, tB, m, n, k, a, 1, lda, wide, 2, ldb, bias, 3, res, 1, ldr, want, 2, ldc, act);
                kern.gemm16BiasResidual(false, tB, m, n, k, a, 1, lda, MemorySegment.ofArray(bits), t, 2, ldb, bias, 3, res, 1,
                        ldr, c, 2, ldc, act);
                String what = kern.name() + " " + t + " m=" + m + " n=" + n + " k=" + k + " transB=" + tB + " mode=" + mode
                        + " act=" + act + " threads=" + threads + " seed=" + seed + "L";
                if (act == UnaryOp.SILU) {
                    // SILU's e^x is the Vector API's EXP, whose last bit differs between the interpreter's
                    // Math.exp and C2's intrinsic: the two calls may run in different tiers
                    compareWithinUlp(c, want, what);
                } else {
                    compare(c, want, what);
                }
            }
        }
    }

    /**
     * Every 16-bit pattern (zeros, subnormals, normals, infinities, NaNs) as one row or column of
     * B, through the streaming, widen-first and packing paths: the SIMD widening (BF16 a shift,
     * F16 arithmetic on the bits) must give what DType.widen gives (Float.float16ToFloat).
     */
    @Test
    void everyBitPatternWidensExactly() {
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        MemorySegment seg = MemorySegment.ofArray(all);
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            float[] wide = new float[all.length];
            for (int i = 0; i < all.length; i++) wide[i] = t.widen(all[i]);
            for (int m : new int[] {1, 8}) {
                for (boolean tB : new boolean[] {false, true}) {
                    float[] a = new float[m];
                    java.util.Arrays.fill(a, 1f);
                    a[m - 1] = 0.5f;
                    float[] c = new float[m * all.length], want = new float[m * all.length];
                    Kernels kern = GemmTest.IMPLS.get(0);
                    kern.gemm(false, tB, m, all.length, 1, 1f, a, 0, 1, wide, 0, tB ? 1 : all.length, 0f, want, 0, all.length);
                    kern.gemm16(false, tB, m, all.length, 1, 1f, a, 0, 1, seg, t, 0, tB ? 1 : all.length, 0f, c, 0, all.length);
                    compare(c, want, t + " every bit pattern, m=" + m + " transB=" + tB);
                }
            }
        }
    }

    @Test
    void badArgumentsGiveClearErrors() {
        for (Kernels kern : GemmTest.IMPLS) {
            MemorySegment small = MemorySegment.ofArray(new short[11]);
            assertThatThrownBy(() -> kern.gemm16(false, false, 2, 3, 4, 1f, new float[8], 0, 4, small, DType.BF16, 0, 3, 0f,
                    new float[6], 0, 3)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("B [4, 3]")
                    .hasMessageContaining("segment has 11");
            assertThatThrownBy(() -> kern.gemm16(false, false, 2, 3, 4, 1f, new float[8], 0, 4, MemorySegment.ofArray(new short[12]),
                    DType.F32, 0, 3, 0f, new float[6], 0, 3)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("BF16 or F16");
        }
    }
}
