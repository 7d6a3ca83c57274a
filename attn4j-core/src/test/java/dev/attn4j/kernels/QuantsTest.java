package dev.attn4j.kernels;

import dev.attn4j.kernels.simd.SimdKernels;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Block quantization: bytes bit for bit those of gguf-py's ports of ggml's reference quantizers
 * (scripts/gen-quant-refs.py), dequantization likewise, the round trip within each format's error
 * bound, and the SIMD matrix-vector kernel against the scalar reference and a float64 dot of the
 * dequantized weights.
 */
class QuantsTest {
    static final int ROWS = 12, COLS = 96;
    private final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    static byte[] resource(String name) throws IOException {
        try (InputStream in = QuantsTest.class.getResourceAsStream("/quant/" + name)) {
            assertThat(in).as("test resource /quant/%s", name).isNotNull();
            return in.readAllBytes();
        }
    }

    static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    @ParameterizedTest
    @EnumSource(value = QuantType.class, names = {"Q8_0", "Q4_0", "Q4_1"})
    void quantizeMatchesGgmlReferenceBitForBit(QuantType type) throws IOException {
        float[] x = floats(resource("input.f32"));
        QuantizedMatrix q = Quants.quantize(type, x, 0, ROWS, COLS);
        byte[] expected = resource(type + ".bin");
        byte[] got = q.data().toArray(ValueLayout.JAVA_BYTE);
        for (int r = 0; r < ROWS; r++) {
            int rb = (int) q.rowBytes();
            assertThat(java.util.Arrays.copyOfRange(got, r * rb, (r + 1) * rb)).as("%s row %d", type, r)
                    .isEqualTo(java.util.Arrays.copyOfRange(expected, r * rb, (r + 1) * rb));
        }
    }

    /** Rows x values of the k-quant reference files (random block bytes). */
    static final int K_ROWS = 3, K_COLS = 512;

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void dequantizeMatchesGgufPyBitForBit(QuantType type) throws IOException {
        QuantizedMatrix q = type.isK() ? new QuantizedMatrix(type, K_ROWS, K_COLS, MemorySegment.ofArray(resource(type + ".bin")))
                : new QuantizedMatrix(type, ROWS, COLS, MemorySegment.ofArray(resource(type + ".bin")));
        float[] expected = floats(resource(type + ".deq.f32"));
        float[] got = Quants.dequantize(q);
        for (int i = 0; i < got.length; i++) {
            assertThat(Float.floatToIntBits(got[i])).as("%s element %d: %s vs %s", type, i, got[i], expected[i])
                    .isEqualTo(Float.floatToIntBits(expected[i]));
        }
    }

    /** Edge-case rows (zeros, constants, tiny, huge, grid values, a ramp) then Gaussian rows: the k-quant inputs. */
    static float[] kInput(int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        java.util.Arrays.fill(x, 0, cols, 0f);
        java.util.Arrays.fill(x, cols, 2 * cols, 0.25f);
        for (int i = 2 * cols; i < 3 * cols; i++) x[i] *= 1e-3f;
        for (int i = 3 * cols; i < 4 * cols; i++) x[i] *= 1e4f;
        for (int i = 4 * cols; i < 5 * cols; i += 2) x[i] = Math.round(x[i] * 8) / 8f;
        for (int i = 5 * cols; i < 6 * cols; i++) x[i] = i - 5 * cols - 100f;
        for (int i = 6 * cols; i < 7 * cols; i++) x[i] = Math.abs(x[i]);                    // all positive: min clamps to 0
        return x;
    }

    /**
     * The k-quant search against llama.cpp's own {@code quantize_row_*_ref} (its C code, through the
     * native library de.kherud:llama bundles): llama.cpp is compiled with contracted multiply-adds,
     * so a few scales land one level apart; over 90% of the bytes agree and the errors agree
     * within 2% per row (both dequantized by {@link Quants}, which matches gguf-py bit for bit).
     */
    @ParameterizedTest
    @EnumSource(value = QuantType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void kQuantsMatchLlamaCpp(QuantType type) {
        org.junit.jupiter.api.Assumptions.assumeTrue(LlamaCppNative.available(), "llama.cpp's native library (de.kherud:llama) not loadable here");
        int rows = 10, cols = 512;
        float[] x = kInput(rows, cols, 7 + type.ordinal());
        QuantizedMatrix q = Quants.quantize(type, x, 0, rows, cols);
        byte[] got = q.data().toArray(ValueLayout.JAVA_BYTE);
        byte[] theirs = LlamaCppNative.quantize(type, x);
        float[] theirDeq = Quants.dequantize(new QuantizedMatrix(type, rows, cols, MemorySegment.ofArray(theirs)));
        float[] ours = Quants.dequantize(q);
        int same = 0;
        for (int i = 0; i < got.length; i++) if (got[i] == theirs[i]) same++;
        assertThat((double) same / got.length).as("%s fraction of bytes identical to llama.cpp's", type).isGreaterThan(0.9);
        for (int r = 0; r < rows; r++) {
            double e1 = 0, e2 = 0;
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                e1 += Math.pow(x[i] - ours[i], 2);
                e2 += Math.pow(x[i] - theirDeq[i], 2);
            }
            assertThat(Math.sqrt(e1)).as("%s row %d squared error vs llama.cpp's", type, r)
                    .isLessThanOrEqualTo(Math.sqrt(e2) * 1.02 + 1e-12);
        }
    }

    @ParameterizedTest
    @EnumSource(value = QuantType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void kQuantRoundTripWithinTheFormatsErrorBound(QuantType type) {
        int rows = 7, cols = 768;
        float[] x = kInput(rows, cols, 3 + type.ordinal());
        float[] y = Quants.dequantize(Quants.quantize(type, x, 0, rows, cols));
        // per sub-block (32 values with a min for Q4_K / Q5_K, 16 signed for Q6_K) the error stays within
        // one quantization step of the sub-block's range: the search may trade half a step of rounding for a
        // better fit, and the sub-block scales are themselves rounded to 6 / 8 bits against the block's largest
        int sub = type == QuantType.Q6_K ? 16 : 32, levels = type == QuantType.Q4_K ? 15 : type == QuantType.Q5_K ? 31 : 32;
        double sumErr2 = 0, sumX2 = 0;
        for (int b = 0; b < x.length / sub; b++) {
            double min = 0, max = 0, amax = 0, blockAmax = 0;
            for (int j = 0; j < sub; j++) {
                float v = x[b * sub + j];
                min = Math.min(min, v);
                max = Math.max(max, v);
                amax = Math.max(amax, Math.abs(v));
            }
            int super0 = b * sub / 256 * 256;
            for (int j = 0; j < 256; j++) blockAmax = Math.max(blockAmax, Math.abs(x[super0 + j]));
            double step = type == QuantType.Q6_K ? amax / levels : (max - min) / levels;
            double scaleRounding = blockAmax / (type == QuantType.Q6_K ? 128 * 32 : 63 * levels);   // the sub-scale's own grid
            // d (and dmin) are f16: below 2^-14 they are subnormal, absolute spacing 2^-24, times |sc q| at most
            double f16Abs = Math.scalb(1.0, -25) * (type == QuantType.Q6_K ? 128 * 32 : 63 * (levels + 1));
            double bound = 1.0 * step + 2 * scaleRounding + f16Abs + 1e-30;
            double worst = 0;
            for (int j = 0; j < sub; j++) {
                double e = Math.abs(x[b * sub + j] - y[b * sub + j]);
                worst = Math.max(worst, e);
                sumErr2 += e * e;
                sumX2 += (double) x[b * sub + j] * x[b * sub + j];
            }
            assertThat(worst).as("%s sub-block %d (range [%s, %s])", type, b, min, max).isLessThanOrEqualTo(bound);
        }
        double rel = Math.sqrt(sumErr2 / sumX2);
        assertThat(rel).as("%s relative RMS error", type).isLessThan(type == QuantType.Q4_K ? 0.12 : type == QuantType.Q5_K ? 0.06 : 0.03);
    }

    @ParameterizedTest
    @EnumSource(value = QuantType.class, names = {"Q8_0", "Q4_0", "Q4_1"})
    void roundTripWithinTheFormatsErrorBound(QuantType type) {
        SplittableRandom rng = new SplittableRandom(type.ordinal() + 1);
        int rows = 9, cols = 32 * 7;
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(-3, 3)));
        float[] y = Quants.dequantize(Quants.quantize(type, x, 0, rows, cols));
        double eps16 = Math.scalb(1.0, -10);                       // f16 relative spacing (scales are rounded to f16)
        for (int b = 0; b < x.length / 32; b++) {
            double amax = 0, min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
            for (int j = 0; j < 32; j++) {
                float v = x[b * 32 + j];
                amax = Math.max(amax, Math.abs(v));
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            double bound = switch (type) {
                case Q8_0 -> (amax / 127) * (0.5 + 128 * eps16);      // half a step, plus the scale's rounding on |q| <= 127
                case Q4_0 -> (amax / 8) * (1 + 8 * eps16);            // the side opposite the max clips at +7: up to a step
                case Q4_1 -> ((max - min) / 15) * (0.5 + 15 * eps16) + Math.abs(min) * eps16;
                default -> throw new IllegalStateException(type.toString());
            };
            double worst = 0;
            for (int j = 0; j < 32; j++) worst = Math.max(worst, Math.abs(x[b * 32 + j] - y[b * 32 + j]));
            assertThat(worst).as("%s block %d (amax %s)", type, b, amax).isLessThanOrEqualTo(bound * (1 + 1e-6) + 1e-30);
            if (type == QuantType.Q8_0) assertThat(worst).isLessThanOrEqualTo(amax / 100);
        }
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void simdMatVecMatchesScalarAndFloat64(QuantType type) {
        Kernels simd = new SimdKernels(), scalar = Kernels.scalar();
        SplittableRandom rng = new SplittableRandom(42 + type.ordinal());
        for (int threads = 1; threads <= 3; threads++) {
            Parallel.setThreads(threads);
            for (int rows : new int[] {1, 3, 7, 33, 130}) {
                for (int cols : type.isK() ? new int[] {256, 768, 2304} : new int[] {32, 96, 160, 416, 2080}) {
                    for (boolean mapped : new boolean[] {false, true}) {
                        check(type, simd, scalar, rng, rows, cols, mapped, threads);
                    }
                }
            }
        }
    }

    private static void check(QuantType type, Kernels simd, Kernels scalar, SplittableRandom rng, int rows, int cols,
                              boolean offHeap, int threads) {
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        QuantizedMatrix q = Quants.quantize(type, w, 0, rows, cols);
        try (Arena arena = Arena.ofShared()) {
            if (offHeap) {
                MemorySegment s = arena.allocate(q.data().byteSize() + 3).asSlice(3);      // unaligned, native
                s.copyFrom(q.data());
                q = new QuantizedMatrix(type, rows, cols, s);
            }
            int xOff = 5, yOff = 2;
            float[] x = new float[xOff + cols];
            for (int i = xOff; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            float[] ys = new float[yOff + rows + 1], yr = new float[yOff + rows + 1];
            ys[yOff + rows] = yr[yOff + rows] = 7f;                                        // past the end: untouched
            simd.matVecQ(q, x, xOff, ys, yOff);
            scalar.matVecQ(q, x, xOff, yr, yOff);
            float[] deq = Quants.dequantize(q);
            for (int r = 0; r < rows; r++) {
                double exact = 0, mag = 0;
                for (int c = 0; c < cols; c++) {
                    exact += (double) deq[r * cols + c] * x[xOff + c];
                    mag += Math.abs((double) deq[r * cols + c] * x[xOff + c]);
                }
                double tol = 1e-5 * mag + 1e-6;
                String what = String.format("%s [%d, %d] row %d, %d threads, %s", type, rows, cols, r, threads, offHeap ? "native" : "heap");
                assertThat((double) ys[yOff + r]).as("simd " + what).isCloseTo(exact, org.assertj.core.data.Offset.offset(tol));
                assertThat((double) yr[yOff + r]).as("scalar " + what).isCloseTo(exact, org.assertj.core.data.Offset.offset(tol));
                assertThat((double) ys[yOff + r]).as("simd vs scalar " + what).isCloseTo(yr[yOff + r], org.assertj.core.data.Offset.offset(tol));
            }
            assertThat(ys[yOff + rows]).isEqualTo(7f);
            assertThat(ys[0]).isEqualTo(0f);
        }
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void gemmQMatchesTheFloatGemmOnDequantizedWeights(QuantType type) {
        SplittableRandom rng = new SplittableRandom(11 + type.ordinal());
        int n = 70, k = type.isK() ? 512 : 96;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        QuantizedMatrix q = Quants.quantize(type, w, 0, n, k);
        float[] deq = Quants.dequantize(q);
        for (Kernels kern : new Kernels[] {new SimdKernels(), Kernels.scalar()}) {
            for (int m : new int[] {1, 3, Quants.GEMM_MIN_ROWS, 9}) {
                int lda = k + 3, ldc = n + 5, aOff = 2, cOff = 1;
                float[] a = new float[aOff + m * lda];
                for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian();
                float[] c = new float[cOff + m * ldc], ref = new float[cOff + m * ldc];
                java.util.Arrays.fill(c, 9f);
                kern.gemmQ(m, a, aOff, lda, q, c, cOff, ldc);
                Kernels.scalar().gemm(false, true, m, n, k, 1f, a, aOff, lda, deq, 0, k, 0f, ref, cOff, ldc);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        assertThat(c[cOff + i * ldc + j]).as("%s %s m=%d [%d, %d]", type, kern.name(), m, i, j)
                                .isCloseTo(ref[cOff + i * ldc + j], org.assertj.core.data.Offset.offset(2e-3f));
                    }
                    if (i + 1 < m) assertThat(c[cOff + i * ldc + n]).as("gap between rows untouched").isEqualTo(9f);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void dequantizeRowsIsTheReferenceBitForBit(QuantType type) {
        SplittableRandom rng = new SplittableRandom(5 + type.ordinal());
        int n = 37, k = type.isK() ? 512 : 160;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        QuantizedMatrix heap = Quants.quantize(type, w, 0, n, k);
        float[] all = Quants.dequantize(heap);
        Arena arena = Arena.ofAuto();
        MemorySegment s = arena.allocate(heap.data().byteSize() + 1).asSlice(1);                  // unaligned, native
        s.copyFrom(heap.data());
        for (QuantizedMatrix q : new QuantizedMatrix[] {heap, new QuantizedMatrix(type, n, k, s)})
        for (Kernels kern : new Kernels[] {new SimdKernels(), Kernels.scalar()}) {
            int from = 3, rows = 30, yOff = 7;
            float[] y = new float[yOff + rows * k + 2];
            java.util.Arrays.fill(y, 9f);
            kern.dequantizeRows(q, from, rows, y, yOff);
            for (int i = 0; i < rows * k; i++) {
                assertThat(Float.floatToRawIntBits(y[yOff + i])).as("%s %s [%d]", type, kern.name(), i)
                        .isEqualTo(Float.floatToRawIntBits(all[from * k + i]));
            }
            assertThat(y[yOff - 1]).isEqualTo(9f);
            assertThat(y[yOff + rows * k]).isEqualTo(9f);
            assertThatThrownBy(() -> kern.dequantizeRows(q, 30, 8, new float[8 * k], 0)).hasMessageContaining("rows [30, 38) of 37");
        }
    }

    /** C = act(A W^T + bias + residual) against the F32 GEMM with the same epilogue on the dequantized W. */
    @ParameterizedTest
    @EnumSource(QuantType.class)
    void gemmQBiasResidualMatchesTheFloatGemmOnDequantizedWeights(QuantType type) {
        SplittableRandom rng = new SplittableRandom(23 + type.ordinal());
        // k = 16384: panels of 64 rows, so the 70 rows of W take two (bias, residual and C offsets per panel)
        for (int k : type == QuantType.Q8_0 ? new int[] {96, 16384} : new int[] {type.isK() ? 512 : 96}) {
            int n = 70;
            float[] w = new float[n * k];
            for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
            QuantizedMatrix q = Quants.quantize(type, w, 0, n, k);
            float[] deq = Quants.dequantize(q);
            float[] bias = new float[n + 4];
            for (int i = 0; i < bias.length; i++) bias[i] = (float) rng.nextGaussian();
            for (Kernels kern : new Kernels[] {new SimdKernels(), Kernels.scalar()}) {
                for (int m : new int[] {1, 3, Quants.GEMM_MIN_ROWS, 9}) {
                    for (UnaryOp act : new UnaryOp[] {null, UnaryOp.GELU_ERF}) {
                        int lda = k + 3, ldc = n + 5, ldr = n + 2, aOff = 2, cOff = 1, resOff = 3, biasOff = 4;
                        float[] a = new float[aOff + m * lda], res = new float[resOff + m * ldr];
                        for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian() / (float) Math.sqrt(k / 96.0);
                        for (int i = 0; i < res.length; i++) res[i] = (float) rng.nextGaussian();
                        float[] c = new float[cOff + m * ldc], ref = new float[cOff + m * ldc];
                        java.util.Arrays.fill(c, 9f);
                        kern.gemmQBiasResidual(m, a, aOff, lda, q, bias, biasOff, res, resOff, ldr, c, cOff, ldc, act);
                        Kernels.scalar().gemmBiasResidual(false, true, m, n, k, a, aOff, lda, deq, 0, k, bias, biasOff, res, resOff, ldr,
                                ref, cOff, ldc, act);
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                assertThat(c[cOff + i * ldc + j]).as("%s %s k=%d m=%d act=%s [%d, %d]", type, kern.name(), k, m, act, i, j)
                                        .isCloseTo(ref[cOff + i * ldc + j], org.assertj.core.data.Offset.offset(2e-3f));
                            }
                            if (i + 1 < m) assertThat(c[cOff + i * ldc + n]).as("gap between rows untouched").isEqualTo(9f);
                        }
                    }
                }
            }
        }
    }

    /**
     * The SIMD quantized product with W's panels dequantized as the GEMM packs them is the SIMD
     * F32 GEMM on the dequantized W, bit for bit: n = 70 and 45 leave partial panels (columns
     * packed one by one), k = 512 puts the k-quants' 256-value blocks across the 384-deep packed
     * blocks, k = 1000 leaves a short last depth block, and 40 x 70 with n > m or 200 x 70 with
     * m > n take the per-thread and the shared packing.
     */
    @ParameterizedTest
    @EnumSource(QuantType.class)
    void packedQuantizedGemmIsTheFloatGemmOnDequantizedWeightsBitForBit(QuantType type) {
        SplittableRandom rng = new SplittableRandom(31 + type.ordinal());
        Kernels simd = new SimdKernels();
        for (int threads : new int[] {1, 2}) {
            Parallel.setThreads(threads);
            for (int[] nk : type.isK() ? new int[][] {{70, 512}, {45, 1024}} : new int[][] {{70, 96}, {45, 1000 / 32 * 32}, {70, 512}}) {
                int n = nk[0], k = nk[1];
                float[] w = new float[n * k];
                for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
                QuantizedMatrix q = Quants.quantize(type, w, 0, n, k);
                float[] deq = Quants.dequantize(q);
                float[] bias = new float[n];
                for (int i = 0; i < n; i++) bias[i] = (float) rng.nextGaussian();
                for (int m : new int[] {5, 40, 200}) {
                    int lda = k + 1, ldc = n + 3;
                    float[] a = new float[m * lda], res = new float[m * n];
                    for (int i = 0; i < a.length; i++) a[i] = (float) rng.nextGaussian();
                    for (int i = 0; i < res.length; i++) res[i] = (float) rng.nextGaussian();
                    float[] c = new float[m * ldc], ref = new float[m * ldc], c2 = new float[m * ldc], ref2 = new float[m * ldc];
                    // no activation: its exp may round differently once C2 compiles it between the two calls
                    simd.gemmQBiasResidual(m, a, 0, lda, q, bias, 0, res, 0, n, c, 0, ldc, null);
                    simd.gemmBiasResidual(false, true, m, n, k, a, 0, lda, deq, 0, k, bias, 0, res, 0, n, ref, 0, ldc, null);
                    simd.gemmQ(m, a, 0, lda, q, c2, 0, ldc);
                    simd.gemm(false, true, m, n, k, 1f, a, 0, lda, deq, 0, k, 0f, ref2, 0, ldc);
                    for (int i = 0; i < c.length; i++) {
                        assertThat(Float.floatToRawIntBits(c[i])).as("%s threads %d m=%d n=%d k=%d [%d]", type, threads, m, n, k, i)
                                .isEqualTo(Float.floatToRawIntBits(ref[i]));
                        assertThat(Float.floatToRawIntBits(c2[i])).as("gemmQ %s threads %d m=%d n=%d k=%d [%d]", type, threads, m, n, k, i)
                                .isEqualTo(Float.floatToRawIntBits(ref2[i]));
                    }
                }
            }
        }
    }

    @Test
    void badShapesAreClearErrors() {
        assertThatThrownBy(() -> Quants.quantize(QuantType.Q8_0, new float[40], 0, 1, 40))
                .hasMessageContaining("multiple of 32");
        QuantizedMatrix q = QuantizedMatrix.heap(QuantType.Q4_0, 2, 64);
        assertThatThrownBy(() -> new SimdKernels().matVecQ(q, new float[63], 0, new float[2], 0)).hasMessageContaining("x needs 64");
        assertThatThrownBy(() -> Kernels.scalar().matVecQ(q, new float[64], 0, new float[1], 0)).hasMessageContaining("y needs 2");
        assertThatThrownBy(() -> new QuantizedMatrix(QuantType.Q8_0, 2, 32, MemorySegment.ofArray(new byte[67])))
                .hasMessageContaining("needs 68 bytes");
    }
}
