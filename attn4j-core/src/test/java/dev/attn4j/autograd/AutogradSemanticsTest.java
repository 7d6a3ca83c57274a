package dev.attn4j.autograd;

import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Graph semantics: accumulation, detach, no-grad, deep graphs, error reporting, dtypes. */
class AutogradSemanticsTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    private NDArray rnd(int... shape) {
        return NDArray.uniform(rng, Shape.of(shape), -1, 1);
    }

    @Test
    void gradientsAccumulateIntoLeavesAcrossBackwardCalls() {
        Tensor x = Tensor.param(rnd(3, 4));
        x.mul(2).sum().backward();
        NDArray first = x.grad();
        assertThat(first.toDoubleArray()).containsOnly(2.0);
        x.mul(x).sum().backward();
        assertThat(x.grad()).as("accumulated in place").isSameAs(first);
        double[] xv = x.data().toDoubleArray(), g = x.grad().toDoubleArray();
        for (int i = 0; i < g.length; i++) assertThat(g[i]).as("seed " + seed).isCloseTo(2 + 2 * xv[i], within(1e-5));
        x.zeroGrad();
        assertThat(x.grad()).isNull();
        assertThatThrownBy(() -> x.setGrad(NDArray.zeros(4, 3))).hasMessageContaining("[4, 3]").hasMessageContaining("[3, 4]");
    }

    @Test
    void leafGradIsACopyOfTheSeed() {
        Tensor x = Tensor.param(rnd(2, 2));
        NDArray seedGrad = NDArray.ones(2, 2);
        x.backward(seedGrad);
        seedGrad.fill(5);
        assertThat(x.grad().toDoubleArray()).containsOnly(1.0);
    }

    @Test
    void intermediateGradientsAreNotRetainedAndNodesAreFreed() {
        Tensor x = Tensor.param(rnd(3));
        Tensor h = x.mul(2);
        Tensor y = h.exp().sum();
        y.backward();
        assertThat(h.grad()).isNull();
        assertThat(h.isLeaf()).isFalse();
        assertThat(y.gradFn.released()).isTrue();
        assertThat(h.gradFn.released()).isTrue();
        assertThatThrownBy(y::backward).isInstanceOf(IllegalStateException.class).hasMessageContaining("second time");
    }

    @Test
    void detachStopsGradient() {
        Tensor x = Tensor.param(rnd(4));
        Tensor d = x.detach();
        assertThat(d.requiresGrad()).isFalse();
        assertThat(d.isLeaf()).isTrue();
        assertThat(d.data()).isSameAs(x.data());
        d.mul(3).add(x).sum().backward();
        assertThat(x.grad().toDoubleArray()).containsOnly(1.0);
    }

    @Test
    void noGradRecordsNoGraphAndScopesNest() throws Exception {
        Tensor x = Tensor.param(rnd(2, 3));
        assertThat(GradMode.isEnabled()).isTrue();
        try (var _ = GradMode.noGrad()) {
            Tensor y = x.mul(2).add(1).matmul(x.transpose(0, 1));
            assertThat(y.requiresGrad()).isFalse();
            assertThat(y.gradFnName()).isNull();
            assertThat(y.isLeaf()).isTrue();
            try (var _ = GradMode.enableGrad()) {
                assertThat(x.mul(2).gradFnName()).isEqualTo("mul_scalar");
            }
            assertThat(GradMode.isEnabled()).isFalse();
            AtomicReference<Boolean> other = new AtomicReference<>();
            Thread t = new Thread(() -> other.set(GradMode.isEnabled()));
            t.start();
            t.join();
            assertThat(other.get()).as("grad mode is per thread").isTrue();
            assertThatThrownBy(() -> y.sum().backward()).hasMessageContaining("does not require grad");
        }
        assertThat(GradMode.isEnabled()).isTrue();
        assertThat(x.mul(2).gradFnName()).isEqualTo("mul_scalar");
    }

    @Test
    void constantsDoNotRecord() {
        Tensor a = Tensor.of(rnd(3)), b = Tensor.ones(3);
        Tensor c = a.add(b).exp();
        assertThat(c.requiresGrad()).isFalse();
        assertThat(c.gradFnName()).isNull();
    }

    @Test
    void deepGraphBackwardNeedsNoRecursion() throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicReference<double[]> grad = new AtomicReference<>();
        // a small stack: any recursion over 20,000 nodes would overflow it
        Thread t = new Thread(null, () -> {
            try {
                Tensor x = Tensor.param(NDArray.of(new float[] {0.5f, -1f}, 2));
                Tensor y = x;
                for (int i = 0; i < 20_000; i++) y = y.add(x);
                y.sum().backward();
                grad.set(x.grad().toDoubleArray());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "deep-graph", 256 * 1024);
        t.start();
        t.join();
        assertThat(failure.get()).isNull();
        assertThat(grad.get()).containsExactly(20_001.0, 20_001.0);
    }

    @Test
    void errorsAreClear() {
        Tensor x = Tensor.param(rnd(2, 3));
        assertThatThrownBy(() -> x.mul(2).requiresGrad(false)).hasMessageContaining("non-leaf");
        assertThatThrownBy(() -> x.mul(2).backward()).hasMessageContaining("one-element").hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> x.backward(NDArray.zeros(3))).hasMessageContaining("[3]").hasMessageContaining("[2, 3]");
        Tensor d = Tensor.param(rnd(2, 3).to(DType.F64));
        assertThatThrownBy(() -> x.add(d)).hasMessageContaining("F32").hasMessageContaining("F64");
        assertThatThrownBy(() -> x.matmul(x)).hasMessageContaining("[2, 3]").hasMessageContaining("matmul");
        assertThatThrownBy(() -> F.linear(x, Tensor.param(rnd(4, 2)), null)).hasMessageContaining("linear").hasMessageContaining("[4, 2]");
        CustomOp wrongShape = new CustomOp() {
            @Override
            public NDArray forward(Context ctx, NDArray... in) {
                return in[0].copy();
            }

            @Override
            public NDArray[] backward(Context ctx, NDArray g) {
                return new NDArray[] {NDArray.zeros(5)};
            }
        };
        Tensor y = Tensor.apply("badShape", wrongShape, x).sum();
        assertThatThrownBy(y::backward).isInstanceOf(IllegalStateException.class).hasMessageContaining("badShape")
                .hasMessageContaining("[5]").hasMessageContaining("[2, 3]");
    }

    @Test
    void dtypeConversionIsDifferentiable() {
        Tensor x = Tensor.param(rnd(3).to(DType.F64));
        Tensor y = x.to(DType.F32).mul(2).sum();
        assertThat(y.dtype()).isEqualTo(DType.F32);
        y.backward();
        assertThat(x.grad().dtype()).isEqualTo(DType.F64);
        assertThat(x.grad().toDoubleArray()).containsOnly(2.0);
    }

    @Test
    void float32GradientsAgreeWithFloat64() {
        // an MLP-like graph in F32 (kernel fast paths) against the same graph in F64 (generic paths)
        NDArray xa = rnd(5, 7, 16), wa = rnd(33, 16), ba = rnd(33), w2 = rnd(16, 33), g = rnd(16);
        double[][] grads = new double[2][];
        double[][] outs = new double[2][];
        DType[] types = {DType.F32, DType.F64};
        for (int t = 0; t < 2; t++) {
            DType dt = types[t];
            Tensor x = Tensor.param(xa.to(dt)), w = Tensor.param(wa.to(dt)), b = Tensor.param(ba.to(dt));
            Tensor h = F.linear(x, w, b).gelu();
            Tensor y = F.layerNorm(F.linear(h, Tensor.of(w2.to(dt)), null), new int[] {16}, Tensor.param(g.to(dt)), null, 1e-5);
            Tensor loss = y.softmax(-1).mul(y).mean();
            loss.backward();
            outs[t] = new double[] {loss.item()};
            double[] gx = x.grad().toDoubleArray(), gw = w.grad().toDoubleArray(), gb = b.grad().toDoubleArray();
            grads[t] = concat(gx, gw, gb);
        }
        assertThat(outs[0][0]).as("seed " + seed).isCloseTo(outs[1][0], within(1e-5));
        double scale = Arrays.stream(grads[1]).map(Math::abs).max().orElse(1);
        for (int i = 0; i < grads[0].length; i++) {
            assertThat(grads[0][i]).as("grad " + i + " seed " + seed).isCloseTo(grads[1][i], within(1e-4 * scale));
        }
    }

    private static double[] concat(double[]... parts) {
        return Arrays.stream(parts).flatMapToDouble(Arrays::stream).toArray();
    }

    @Test
    void embeddingPaddingRowGetsNoGradient() {
        Tensor w = Tensor.param(rnd(5, 3));
        NDArray idx = NDArray.of(new float[] {0, 2, 2, 4, 0}, 5);
        F.embedding(w, idx, 2).sum().backward();
        NDArray g = w.grad();
        double[] rowCounts = {2, 0, 0, 0, 1};
        for (int r = 0; r < 5; r++) {
            for (int c = 0; c < 3; c++) assertThat(g.getDouble(r, c)).isEqualTo(rowCounts[r]);
        }
        assertThatThrownBy(() -> F.embedding(w, idx, 7)).hasMessageContaining("paddingIdx 7");
    }

    @Test
    void dropoutScalesKeptElementsAndIsIdentityWhenOff() {
        Tensor x = Tensor.of(NDArray.ones(100, 100));
        assertThat(F.dropout(x, 0.3, false, rng)).isSameAs(x);
        assertThat(F.dropout(x, 0.0, true, rng)).isSameAs(x);
        double[] y = F.dropout(x, 0.3, true, rng).data().toDoubleArray();
        long zeros = Arrays.stream(y).filter(v -> v == 0).count();
        assertThat(zeros).as("about 30% dropped, seed " + seed).isBetween(2500L, 3500L);
        assertThat(Arrays.stream(y).filter(v -> v != 0).distinct().toArray()).hasSize(1);
        assertThat(Arrays.stream(y).filter(v -> v != 0).findFirst().getAsDouble()).isCloseTo(1 / 0.7, within(1e-6));
        assertThat(F.dropout(x, 1, true, rng).data().toDoubleArray()).containsOnly(0.0);
        assertThatThrownBy(() -> F.dropout(x, 1.5, true, rng)).hasMessageContaining("1.5");
    }

    @Test
    void fullyMaskedSoftmaxRowGivesNaN() {
        // documented: like PyTorch, a row whose entries are all -inf has softmax NaN
        Tensor s = Tensor.param(rnd(2, 3));
        NDArray mask = NDArray.of(new float[] {1, 1, 1, 0, 1, 0}, 2, 3);
        Tensor p = s.maskedFill(mask, Double.NEGATIVE_INFINITY).softmax(-1);
        assertThat(p.data().getDouble(0, 1)).isNaN();
        assertThat(p.data().getDouble(1, 1)).isZero();
        assertThat(ArrayOps.sum(p.data().select(0, 1)).item()).isCloseTo(1.0, within(1e-6));
    }
}
