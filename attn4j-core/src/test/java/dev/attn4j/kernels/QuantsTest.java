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
    @EnumSource(QuantType.class)
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

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void dequantizeMatchesGgufPyBitForBit(QuantType type) throws IOException {
        QuantizedMatrix q = new QuantizedMatrix(type, ROWS, COLS, MemorySegment.ofArray(resource(type + ".bin")));
        float[] expected = floats(resource(type + ".deq.f32"));
        float[] got = Quants.dequantize(q);
        for (int i = 0; i < got.length; i++) {
            assertThat(Float.floatToIntBits(got[i])).as("%s element %d: %s vs %s", type, i, got[i], expected[i])
                    .isEqualTo(Float.floatToIntBits(expected[i]));
        }
    }

    @ParameterizedTest
    @EnumSource(QuantType.class)
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
                for (int cols : new int[] {32, 96, 160, 416, 2080}) {
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
