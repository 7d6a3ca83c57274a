package dev.attn4j.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Projecting the keys once ({@link AdditiveAttention#projectKeys}) gives the same attention and gradients. */
class AdditiveAttentionProjectedTest {
    @Test
    void forwardProjectedEqualsForward() {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        int b = 3, s = 7, dq = 5, dk = 9, h = 11;
        AdditiveAttention att = new AdditiveAttention(dq, dk, h, rng);
        NDArray pad = NDArray.zeros(b, s);
        pad.set(1, 2, 6);
        AttentionMask mask = AttentionMask.blocked(pad);
        Tensor q = Tensor.param(NDArray.normal(rng, Shape.of(b, dq), 0, 1));
        Tensor k = Tensor.param(NDArray.normal(rng, Shape.of(b, s, dk), 0, 1));
        AttentionResult direct = att.forward(q, k, k, mask);
        direct.output().sum().backward();
        NDArray gq = q.grad().copy(), gk = k.grad().copy(), gw = att.keyProj.weight.grad().copy();
        q.zeroGrad();
        k.zeroGrad();
        att.zeroGrad();
        AttentionResult projected = att.forwardProjected(q, att.projectKeys(k), k, mask);
        projected.output().sum().backward();
        close(projected.output().data(), direct.output().data(), seed);
        close(projected.weights().data(), direct.weights().data(), seed);
        close(q.grad(), gq, seed);
        close(k.grad(), gk, seed);
        close(att.keyProj.weight.grad(), gw, seed);
        assertThatThrownBy(() -> att.forwardProjected(q, k, k, mask)).hasMessageContaining("projected keys must be [B, S, 11]");
    }

    private static void close(NDArray a, NDArray b, long seed) {
        assertThat(a.shape()).isEqualTo(b.shape());
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        for (int i = 0; i < x.length; i++) assertThat(x[i]).as("element %d, seed %d", i, seed).isCloseTo(y[i], org.assertj.core.data.Offset.offset(1e-5));
    }
}
