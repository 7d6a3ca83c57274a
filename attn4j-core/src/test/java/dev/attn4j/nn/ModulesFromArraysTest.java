package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Linear, Embedding and LayerNorm built around existing arrays (checkpoint tensors): no copy, same results. */
class ModulesFromArraysTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    @Test
    void linearWrapsItsArraysAndAcceptsATransposedLayout() {
        NDArray w = NDArray.normal(rng, Shape.of(7, 5), 0, 1), b = NDArray.normal(rng, Shape.of(7), 0, 1);
        Linear plain = new Linear(w, b);
        assertThat(plain.weight.data()).isSameAs(w);
        assertThat(plain.inFeatures).isEqualTo(5);
        assertThat(plain.outFeatures).isEqualTo(7);
        Linear transposedLayout = new Linear(w.transpose(0, 1).contiguous().transpose(0, 1), b);   // [7, 5] view of [5, 7]
        NDArray x = NDArray.normal(rng, Shape.of(3, 5), 0, 1);
        double[] y1 = plain.forward(Tensor.of(x)).data().toDoubleArray(), y2 = transposedLayout.forward(Tensor.of(x)).data().toDoubleArray();
        for (int i = 0; i < y1.length; i++) {
            double expected = b.getDouble(i % 7);
            for (int k = 0; k < 5; k++) expected += x.getDouble(i / 7, k) * w.getDouble(i % 7, k);
            assertThat(y1[i]).as("seed %d", seed).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
            assertThat(y2[i]).as("seed %d", seed).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
        }
        assertThat(plain.stateDict().keySet()).containsExactly("weight", "bias");
        assertThatThrownBy(() -> new Linear(w, NDArray.zeros(5))).hasMessageContaining("bias [5] should be [7]");
        assertThatThrownBy(() -> new Linear(NDArray.zeros(7), null)).hasMessageContaining("[out_features, in_features]");
    }

    @Test
    void embeddingAndLayerNormWrapTheirArrays() {
        NDArray table = NDArray.normal(rng, Shape.of(11, 4), 0, 1);
        Embedding e = new Embedding(table, -1);
        assertThat(e.weight.data()).isSameAs(table);
        assertThat(e.paddingIdx).isEqualTo(10);
        assertThat(e.forward(NDArray.of(new float[] {3}, 1)).data().getDouble(0, 2)).isEqualTo(table.getDouble(3, 2));
        assertThatThrownBy(() -> new Embedding(table, 11)).hasMessageContaining("padding_idx 11 out of range for 11 embeddings");
        NDArray g = NDArray.full(Shape.of(4), 2), b = NDArray.zeros(4);
        LayerNorm ln = new LayerNorm(g, b, 1e-5);
        assertThat(ln.normalizedShape).containsExactly(4);
        NDArray y = ln.forward(Tensor.of(NDArray.of(new float[] {1, 2, 3, 4}, 4))).data();
        assertThat(y.getDouble(0)).isCloseTo(2 * -1.5 / Math.sqrt(1.25 + 1e-5), org.assertj.core.data.Offset.offset(1e-5));
        assertThatThrownBy(() -> new LayerNorm(g, NDArray.zeros(3), 1e-5)).hasMessageContaining("differ in shape");
    }
}
