package dev.attn4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attn4j.autograd.GradCheck;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LossesTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** PyTorch's definition, in float64, one position at a time. */
    private static double[] referenceCrossEntropy(NDArray logits, double[] target, int ignore, double eps) {
        int n = logits.dim(0), c = logits.dim(1);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            if ((int) target[i] == ignore) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) max = Math.max(max, logits.getDouble(i, j));
            double s = 0;
            for (int j = 0; j < c; j++) s += Math.exp(logits.getDouble(i, j) - max);
            double lse = max + Math.log(s);
            double nll = lse - logits.getDouble(i, (int) target[i]);
            double smooth = 0;
            for (int j = 0; j < c; j++) smooth += (lse - logits.getDouble(i, j)) / c;
            out[i] = (1 - eps) * nll + eps * smooth;
        }
        return out;
    }

    private NDArray randomTargets(int n, int classes, int ignore, double ignoreFraction) {
        float[] t = new float[n];
        for (int i = 0; i < n; i++) t[i] = rng.nextDouble() < ignoreFraction ? ignore : rng.nextInt(classes);
        return NDArray.of(t, n);
    }

    @Test
    void crossEntropyMatchesReferenceWithIgnoreIndexAndLabelSmoothing() {
        for (double eps : new double[] {0.0, 0.1, 0.3}) {
            int n = 1 + rng.nextInt(12), c = 2 + rng.nextInt(9);
            NDArray logits = NDArray.uniform(rng, Shape.of(n, c), -4, 4);
            NDArray target = randomTargets(n, c, 0, 0.3); // ignore class 0 here
            double[] ref = referenceCrossEntropy(logits, target.toDoubleArray(), 0, eps);
            Tensor none = Losses.crossEntropy(Tensor.of(logits), target, 0, eps, Reduction.NONE);
            double sum = 0;
            int counted = 0;
            for (int i = 0; i < n; i++) {
                assertThat(none.data().getDouble(i)).as("seed %d eps %s", seed, eps).isCloseTo(ref[i], within(1e-5));
                sum += ref[i];
                if ((int) target.getFloat(i) != 0) counted++;
            }
            assertThat(Losses.crossEntropy(Tensor.of(logits), target, 0, eps, Reduction.SUM).item()).isCloseTo(sum, within(1e-4));
            double mean = Losses.crossEntropy(Tensor.of(logits), target, 0, eps, Reduction.MEAN).item();
            if (counted == 0) assertThat(mean).isNaN();
            else assertThat(mean).isCloseTo(sum / counted, within(1e-5));
        }
    }

    @Test
    void crossEntropyGradientsCheckOut() {
        int n = 5, c = 4;
        NDArray target = NDArray.of(new float[] {1, -100, 3, 0, 2}, n);
        GradCheck.check(in -> Losses.crossEntropy(in.get(0), target, -100, 0.2, Reduction.MEAN),
                NDArray.uniform(rng, Shape.of(n, c), -2, 2));
        // class dimension 1 of a [N, C, T] input
        NDArray seqTarget = NDArray.of(new float[] {0, 2, -100, 1, 1, 2}, 2, 3);
        GradCheck.check(in -> Losses.crossEntropy(in.get(0), seqTarget, -100, 0.0, Reduction.SUM),
                NDArray.uniform(rng, Shape.of(2, 3, 3), -2, 2));
    }

    /** F32 logits take the fused one-pass kernel; its loss and gradient equal the F64 composite form's. */
    @Test
    void fusedF32CrossEntropyMatchesTheF64CompositeFormAndItsGradient() {
        for (double eps : new double[] {0.0, 0.1}) {
            int n = 3 + rng.nextInt(40), c = 2 + rng.nextInt(300);
            NDArray logits = NDArray.uniform(rng, Shape.of(n, c), -6, 6);
            NDArray target = randomTargets(n, c, -100, 0.2);
            Tensor x32 = Tensor.param(logits.copy()), x64 = Tensor.param(logits.to(dev.attn4j.tensor.DType.F64));
            Tensor l32 = Losses.crossEntropy(x32, target, -100, eps, Reduction.MEAN);
            Tensor l64 = Losses.crossEntropy(x64, target, -100, eps, Reduction.MEAN);
            if (Double.isNaN(l64.item())) continue;                                   // every target ignored
            assertThat(l32.item()).as("seed %d", seed).isCloseTo(l64.item(), within(1e-5));
            l32.backward();
            l64.backward();
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < c; j++) {
                    assertThat(x32.grad().getDouble(i, j)).as("seed %d grad[%d, %d]", seed, i, j)
                            .isCloseTo(x64.grad().getDouble(i, j), within(1e-6));
                }
            }
        }
    }

    @Test
    void crossEntropyOverAClassDimensionMatchesTheFlattenedForm() {
        NDArray logits = NDArray.uniform(rng, Shape.of(2, 5, 3), -2, 2); // [N, C, T]
        NDArray target = NDArray.of(new float[] {0, 4, 2, 1, 3, 3}, 2, 3); // [N, T]
        NDArray flat = logits.permute(0, 2, 1).reshape(6, 5); // [N*T, C]
        double a = Losses.crossEntropy(Tensor.of(logits), target).item();
        double b = Losses.crossEntropy(Tensor.of(flat), target.reshape(6)).item();
        assertThat(a).isCloseTo(b, within(1e-6));
    }

    @Test
    void crossEntropyRejectsBadTargets() {
        Tensor logits = Tensor.zeros(2, 3);
        assertThatThrownBy(() -> Losses.crossEntropy(logits, NDArray.of(new float[] {0, 3}, 2)))
                .hasMessageContaining("target 3 at position 1").hasMessageContaining("3 classes");
        assertThatThrownBy(() -> Losses.crossEntropy(logits, NDArray.of(new float[] {0, 1, 2}, 3)))
                .hasMessageContaining("[3]").hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> Losses.crossEntropy(logits, NDArray.of(new float[] {0, 1}, 2), -100, 1.5, Reduction.MEAN))
                .hasMessageContaining("label_smoothing");
    }

    @Test
    void mseMatchesReferenceAndGradChecks() {
        NDArray a = NDArray.uniform(rng, Shape.of(3, 7), -2, 2);
        NDArray b = NDArray.uniform(rng, Shape.of(3, 7), -2, 2);
        double ref = 0;
        for (int i = 0; i < 3; i++) for (int j = 0; j < 7; j++) ref += Math.pow(a.getDouble(i, j) - b.getDouble(i, j), 2) / 21;
        assertThat(Losses.mse(Tensor.of(a), Tensor.of(b)).item()).isCloseTo(ref, within(1e-5));
        GradCheck.check(in -> Losses.mse(in.get(0), in.get(1)), a, b);
        assertThatThrownBy(() -> Losses.mse(Tensor.zeros(3), Tensor.zeros(4))).hasMessageContaining("[3]");
    }
}
