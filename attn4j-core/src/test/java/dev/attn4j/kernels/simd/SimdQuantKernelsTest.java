package dev.attn4j.kernels.simd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.kernels.Quants;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both SIMD Q4_K, Q5_K and Q6_K mat-vec kernels, the widening ones and the masking ones (16-float
 * vectors only), against a float64 product of the dequantized weights; the masking kernels'
 * layouts of x; the Q8_0 kernel's rows in pairs.
 */
class SimdQuantKernelsTest {
    final int threadsBefore = Parallel.threads();

    @AfterEach
    void restore() {
        SimdQuant.Q4K_NIBBLE_MASKS = true;
        SimdQuant.Q6K_NIBBLE_MASKS = true;
        SimdQuant.Q5K_NIBBLE_MASKS = true;
        Parallel.setThreads(threadsBefore);
    }

    @ParameterizedTest
    @EnumSource(value = QuantType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void bothKernelsMatchFloat64OnHeapAndUnalignedNativeRows(QuantType type) {
        SplittableRandom rng = new SplittableRandom(11);
        for (boolean masks : new boolean[] {true, false}) {
            SimdQuant.Q4K_NIBBLE_MASKS = SimdQuant.Q5K_NIBBLE_MASKS = SimdQuant.Q6K_NIBBLE_MASKS = masks;
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                for (int rows : new int[] {1, 5, 67}) {
                    for (int cols : new int[] {256, 768, 2304}) {
                        float[] w = new float[rows * cols];
                        for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() * (1 + (i % 97) / 10.0));
                        QuantizedMatrix q = Quants.quantize(type, w, 0, rows, cols);
                        float[] deq = Quants.dequantize(q);
                        int xOff = 3;
                        float[] x = new float[xOff + cols];
                        for (int i = xOff; i < x.length; i++) x[i] = (float) rng.nextGaussian();
                        try (Arena arena = Arena.ofShared()) {
                            MemorySegment s = arena.allocate(q.data().byteSize() + 5).asSlice(5);
                            s.copyFrom(q.data());
                            for (QuantizedMatrix m : new QuantizedMatrix[] {q, new QuantizedMatrix(type, rows, cols, s)}) {
                                float[] y = new float[rows + 2];
                                y[rows + 1] = 9f;
                                SimdQuant.matVec(m, x, xOff, y, 1);
                                for (int r = 0; r < rows; r++) {
                                    double exact = 0, mag = 0;
                                    for (int c = 0; c < cols; c++) {
                                        exact += (double) deq[r * cols + c] * x[xOff + c];
                                        mag += Math.abs((double) deq[r * cols + c] * x[xOff + c]);
                                    }
                                    assertThat((double) y[1 + r]).as("%s masks %s, [%d, %d] row %d, %d threads", type, masks, rows, cols, r, threads)
                                            .isCloseTo(exact, offset(1e-5 * mag + 1e-6));
                                }
                                assertThat(y[0]).isZero();
                                assertThat(y[rows + 1]).isEqualTo(9f);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void maskedLayoutPutsEachValueWhereItsNibbleIsAndScalesItByThePlaceValue() {
        int blocks = 2, xOff = 7;
        float[] x = new float[xOff + 256 * blocks];
        for (int i = 0; i < 256 * blocks; i++) x[xOff + i] = i + 1;
        float[] xp = SimdQuant.q4KMaskedX(x, xOff, blocks);
        for (int b = 0; b < blocks; b++) {
            for (int h = 0; h < 2; h++) {
                for (int k = 0; k < 8; k++) {
                    for (int i = 0; i < 16; i++) {
                        int group = 2 * h + i / 8, byteInGroup = 4 * (i % 8) + k / 2;
                        int weight = 64 * group + 32 * (k % 2) + byteInGroup;    // Q4_K: byte l of group p holds weights 64p + l, 64p + 32 + l
                        double place = k == 7 ? 1 : Math.pow(16, k);
                        assertThat(xp[b * 256 + 128 * h + 16 * k + i] * place).as("b %d h %d k %d lane %d", b, h, k, i)
                                .isEqualTo(b * 256 + weight + 1.0);
                    }
                }
            }
        }
    }

    @Test
    void q6KMaskedLayoutPutsEachValueWhereItsNibbleIsAndScalesItByThePlaceValue() {
        int blocks = 2, xOff = 4;
        float[] x = new float[xOff + 256 * blocks];
        for (int i = 0; i < 256 * blocks; i++) x[xOff + i] = i + 1;
        float[] xp = SimdQuant.q6KMaskedX(x, xOff, blocks);
        for (int b = 0; b < blocks; b++) {
            for (int n = 0; n < 2; n++) {
                for (int k = 0; k < 8; k++) {
                    for (int i = 0; i < 16; i++) {
                        // ql byte 64 n + 32 (i / 8) + l, its low nibble the weight 128 n + l (+ 32 for the second 32 bytes),
                        // its high nibble 64 further (Q6_K: q1..q4 at l, l + 32, l + 64, l + 96)
                        int l = 4 * (i % 8) + k / 2, weight = 128 * n + 32 * (i / 8) + 64 * (k % 2) + l;
                        double place = Math.pow(256, k / 2);                           // the 6-bit value at the bottom of byte k / 2
                        assertThat(xp[b * 256 + 128 * n + 16 * k + i] * place).as("b %d n %d k %d lane %d", b, n, k, i)
                                .isEqualTo(b * 256 + weight + 1.0);
                    }
                }
            }
        }
    }

    /**
     * Q8_0 rows of 8192 columns and more go through the SIMD kernel two at a time: each row gets
     * the bits the one-row kernel gives it (a matrix of that row alone), with even and odd block
     * counts and a row left over, on one and two threads.
     */
    @Test
    void q8_0LongRowsInPairsGiveEachRowTheOneRowBits() {
        Kernels simd = new SimdKernels();
        SplittableRandom rng = new SplittableRandom(9);
        for (int threads = 1; threads <= 2; threads++) {
            Parallel.setThreads(threads);
            for (int cols : new int[] {8192, 8192 + 3 * 32}) {
                int rows = 5;
                float[] w = new float[rows * cols], x = new float[cols];
                for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
                for (int i = 0; i < cols; i++) x[i] = (float) rng.nextGaussian();
                QuantizedMatrix q = Quants.quantize(QuantType.Q8_0, w, 0, rows, cols);
                float[] y = new float[rows];
                simd.matVecQ(q, x, 0, y, 0);
                for (int r = 0; r < rows; r++) {
                    QuantizedMatrix row = Quants.quantize(QuantType.Q8_0, w, r * cols, 1, cols);
                    float[] one = new float[1];
                    simd.matVecQ(row, x, 0, one, 0);
                    assertThat(Float.floatToRawIntBits(y[r])).as("row %d of [%d, %d], %d threads: %s against %s", r, rows, cols,
                            threads, y[r], one[0]).isEqualTo(Float.floatToRawIntBits(one[0]));
                }
            }
        }
    }
}
