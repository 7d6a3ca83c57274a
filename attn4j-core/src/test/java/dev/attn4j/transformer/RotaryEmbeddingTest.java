package dev.attn4j.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.attn4j.autograd.GradCheck;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RotaryEmbeddingTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** HF Llama in float64: out[i] = x[i] cos - x[i + D/2] sin, out[i + D/2] = x[i + D/2] cos + x[i] sin. */
    private static double[] rope(double[] x, long pos, double base) {
        int d = x.length, half = d / 2;
        double[] out = new double[d];
        for (int i = 0; i < half; i++) {
            double a = pos / Math.pow(base, 2.0 * i / d);
            out[i] = x[i] * Math.cos(a) - x[i + half] * Math.sin(a);
            out[i + half] = x[i + half] * Math.cos(a) + x[i] * Math.sin(a);
        }
        return out;
    }

    @Test
    void matchesTheHalfRotationFormulaWithOffsets() {
        int b = 2, h = 3, t = 5, d = 2 * (1 + rng.nextInt(9));
        double base = rng.nextBoolean() ? 10000 : 500000;
        int off = rng.nextInt(3000);
        var rope = new RotaryEmbedding(d, base, 16); // the cache must grow to reach the offset
        assertThat(rope.stateDict()).isEmpty();
        NDArray q = NDArray.uniform(rng, Shape.of(b, h, t, d), -1, 1);
        NDArray k = NDArray.uniform(rng, Shape.of(b, 1, t, d), -1, 1); // fewer key heads (GQA)
        RotaryEmbedding.Rotated r = rope.apply(Tensor.of(q), Tensor.of(k), off);
        assertThat(r.q().shape()).isEqualTo(q.shape());
        assertThat(r.q().dtype()).isEqualTo(DType.F32);
        for (int i = 0; i < b; i++) {
            for (int p = 0; p < t; p++) {
                for (int j = 0; j < h; j++) {
                    double[] want = rope(q.select(0, i).select(0, j).select(0, p).toDoubleArray(), off + p, base);
                    double[] got = r.q().data().select(0, i).select(0, j).select(0, p).toDoubleArray();
                    for (int c = 0; c < d; c++) {
                        assertThat(got[c]).as("q[%d,%d,%d,%d] d %d offset %d seed %d", i, j, p, c, d, off, seed).isCloseTo(want[c], offset(2e-6));
                    }
                }
                double[] want = rope(k.select(0, i).select(0, 0).select(0, p).toDoubleArray(), off + p, base);
                double[] got = r.k().data().select(0, i).select(0, 0).select(0, p).toDoubleArray();
                for (int c = 0; c < d; c++) assertThat(got[c]).as("k seed %d", seed).isCloseTo(want[c], offset(2e-6));
            }
        }
        // explicit position ids per batch row agree with offsets
        float[] ids = new float[b * t];
        for (int i = 0; i < b; i++) for (int p = 0; p < t; p++) ids[i * t + p] = off + p;
        assertThat(rope.apply(Tensor.of(q), NDArray.of(ids, b, t)).data().toFloatArray()).isEqualTo(r.q().data().toFloatArray());
        // inv_freq = 1 / base^(2i/d)
        int last = d / 2 - 1;
        assertThat(rope.invFreq().getDouble(last)).isCloseTo(1 / Math.pow(base, 2.0 * last / d), offset(1e-15));
    }

    @Test
    void scoresDependOnlyOnRelativePosition() {
        int d = 2 * (1 + rng.nextInt(16));
        var rope = new RotaryEmbedding(d);
        NDArray q = NDArray.uniform(rng, Shape.of(1, d), -1, 1).to(DType.F64); // [T=1, D]
        NDArray k = NDArray.uniform(rng, Shape.of(1, d), -1, 1).to(DType.F64);
        for (int trial = 0; trial < 20; trial++) {
            int m = rng.nextInt(500), n = rng.nextInt(500), shift = rng.nextInt(1000);
            double a = dot(rope.apply(Tensor.of(q), m).data(), rope.apply(Tensor.of(k), n).data());
            double c = dot(rope.apply(Tensor.of(q), m + shift).data(), rope.apply(Tensor.of(k), n + shift).data());
            assertThat(c).as("<q@%d, k@%d> vs shifted by %d, d %d, seed %d", m, n, shift, d, seed).isCloseTo(a, offset(1e-9));
        }
        // and it is not position-independent: the score changes with m - n
        double s0 = dot(rope.apply(Tensor.of(q), 0).data(), rope.apply(Tensor.of(k), 0).data());
        double s1 = dot(rope.apply(Tensor.of(q), 3).data(), rope.apply(Tensor.of(k), 0).data());
        assertThat(s1).as("seed %d", seed).isNotCloseTo(s0, offset(1e-6));
        // rotation preserves the norm
        double nq = dot(q, q), nr = dot(rope.apply(Tensor.of(q), 77).data(), rope.apply(Tensor.of(q), 77).data());
        assertThat(nr).isCloseTo(nq, offset(1e-12));
    }

    private static double dot(NDArray a, NDArray b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    @Test
    void gradientAndErrors() {
        var rope = new RotaryEmbedding(6);
        GradCheck.check(t -> rope.apply(t.get(0), 5), NDArray.uniform(rng, Shape.of(2, 2, 3, 6), -1, 1));
        GradCheck.check(t -> rope.apply(t.get(0), NDArray.of(new float[] {0, 4, 9, 1, 2, 3}, 2, 3)),
                NDArray.uniform(rng, Shape.of(2, 1, 3, 6), -1, 1));
        assertThatThrownBy(() -> new RotaryEmbedding(7)).hasMessageContaining("even");
        assertThatThrownBy(() -> rope.apply(Tensor.zeros(1, 2, 3, 4), 0)).hasMessageContaining("[..., T, 6]");
        assertThatThrownBy(() -> rope.apply(Tensor.zeros(1, 2, 3, 6), -1)).hasMessageContaining("offset -1");
        assertThatThrownBy(() -> rope.apply(Tensor.zeros(1, 2, 3, 6), NDArray.zeros(2, 3))).hasMessageContaining("position ids [2, 3]");
        assertThatThrownBy(() -> rope.apply(Tensor.zeros(1, 2, 3, 6), NDArray.of(new float[] {0, -1, 2}, 3)))
                .hasMessageContaining("index value -1.0");
    }
}
