package dev.attn4j.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.attn4j.autograd.GradCheck;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.DefaultDType;
import dev.attn4j.nn.ParamGradCheck;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PositionalEncodingTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)). */
    private static double pe(int pos, int col, int d) {
        int twoI = col - col % 2;
        double angle = pos / Math.pow(10000, (double) twoI / d);
        return col % 2 == 0 ? Math.sin(angle) : Math.cos(angle);
    }

    @Test
    void sinusoidalTableMatchesThePaperForEvenAndOddWidths() {
        for (int d : new int[] {1, 2, 7, 16, 33}) {
            int maxLen = 50;
            var m = new SinusoidalPositionalEncoding(d, maxLen);
            assertThat(m.stateDict().keySet()).containsExactly("pe");
            assertThat(m.namedParameters()).isEmpty();
            assertThat(m.pe.shape()).isEqualTo(Shape.of(maxLen, d));
            assertThat(m.pe.dtype()).isEqualTo(DType.F32);
            for (int pos = 0; pos < maxLen; pos++) {
                for (int c = 0; c < d; c++) {
                    assertThat(m.pe.getDouble(pos, c)).as("d %d pos %d col %d", d, pos, c).isCloseTo(pe(pos, c, d), offset(1e-6));
                }
            }
        }
        // sin in even columns, cos in odd ones: position 0 is [0, 1, 0, 1, ...]
        assertThat(SinusoidalPositionalEncoding.table(1, 5).toDoubleArray()).containsExactly(0, 1, 0, 1, 0);
    }

    @Test
    void sinusoidalForwardAddsPositionsWithOffsetInEveryLayout() {
        int d = 6, t = 4, b = 3, off = 1 + rng.nextInt(10);
        NDArray x = NDArray.uniform(rng, Shape.of(b, t, d), -1, 1); // [B, T, D]
        var bf = new SinusoidalPositionalEncoding(d, 32);
        var sf = new SinusoidalPositionalEncoding(d, 32, 0, false, rng);
        NDArray yb = bf.forward(Tensor.of(x), off).data();                                // [B, T, D]
        NDArray ys = sf.forward(Tensor.of(x.transpose(0, 1)), off).data();                 // [T, B, D]
        NDArray yu = bf.forward(Tensor.of(x.select(0, 2)), off).data();                    // [T, D]
        for (int i = 0; i < b; i++) {
            for (int p = 0; p < t; p++) {
                for (int c = 0; c < d; c++) {
                    double want = x.getDouble(i, p, c) + pe(p + off, c, d);
                    assertThat(yb.getDouble(i, p, c)).as("batch-first, seed %d", seed).isCloseTo(want, offset(1e-6));
                    assertThat(ys.getDouble(p, i, c)).as("seq-first, seed %d", seed).isCloseTo(want, offset(1e-6));
                    if (i == 2) assertThat(yu.getDouble(p, c)).as("unbatched, seed %d", seed).isCloseTo(want, offset(1e-6));
                }
            }
        }
        // incremental decoding: one step at a time with the offset equals the whole sequence
        for (int p = 0; p < t; p++) {
            NDArray step = bf.forward(Tensor.of(x.narrow(1, p, 1)), off + p).data();
            assertThat(step.toFloatArray()).isEqualTo(yb.narrow(1, p, 1).toFloatArray());
        }
        assertThatThrownBy(() -> bf.forward(Tensor.of(x), 29)).hasMessageContaining("positions [29, 33)")
                .hasMessageContaining("32 positions");
        assertThatThrownBy(() -> bf.forward(Tensor.zeros(2, 3, 5))).hasMessageContaining("[batch, seq, 6]");
    }

    @Test
    void sinusoidalDropoutOnlyInTraining() {
        var m = new SinusoidalPositionalEncoding(8, 16, 0.5, true, rng);
        Tensor x = Tensor.of(NDArray.uniform(rng, Shape.of(2, 5, 8), -1, 1));
        float[] train = m.forward(x).data().toFloatArray();
        int zeros = 0;
        for (float v : train) if (v == 0) zeros++;
        assertThat(zeros).as("seed %d", seed).isBetween(1, 79);
        m.eval();
        assertThat(m.forward(x).data().toFloatArray()).doesNotContain(0f);
    }

    @Test
    void learnedEmbeddingAddsRowsAndGetsGradients() {
        int d = 5;
        var m = new LearnedPositionalEmbedding(12, d, false, rng);
        assertThat(m.stateDict().keySet()).containsExactly("weight");
        NDArray x = NDArray.uniform(rng, Shape.of(3, 2, d), -1, 1); // [T, B, D]
        NDArray y = m.forward(Tensor.of(x), 4).data();
        for (int p = 0; p < 3; p++) {
            for (int i = 0; i < 2; i++) {
                for (int c = 0; c < d; c++) {
                    assertThat(y.getDouble(p, i, c)).isCloseTo(x.getDouble(p, i, c) + m.weight.data().getDouble(p + 4, c), offset(1e-6));
                }
            }
        }
        assertThat(m.embeddings(NDArray.of(new float[] {5, 6}, 2)).data().toFloatArray())
                .isEqualTo(m.embeddings(5, 2).data().toFloatArray());
        assertThatThrownBy(() -> m.forward(Tensor.of(x), 10)).hasMessageContaining("outside the table of 12 positions");
        try (var s = DefaultDType.use(DType.F64)) {
            var m64 = new LearnedPositionalEmbedding(6, 3, true, rng);
            Tensor in = Tensor.param(NDArray.uniform(rng, Shape.of(2, 4, 3), -1, 1).to(DType.F64));
            ParamGradCheck.check("learned positions, seed " + seed, m64, List.of(in), () -> m64.forward(in, 1).square());
            var s64 = new SinusoidalPositionalEncoding(3, 8);
            assertThat(s64.pe.dtype()).isEqualTo(DType.F64);
            GradCheck.check(t -> s64.forward(t.get(0), 2).square(), NDArray.uniform(rng, Shape.of(2, 3, 3), -1, 1));
        }
    }
}
