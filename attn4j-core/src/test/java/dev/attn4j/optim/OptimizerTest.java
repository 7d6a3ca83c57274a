package dev.attn4j.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Each optimizer against a float64 transcription of PyTorch's documented update rule. */
class OptimizerTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);
    private static final int N = 37;
    private static final int STEPS = 6;

    /** Runs {@code opt} for STEPS steps with the given gradients; returns the final weights. */
    private static float[] run(Function<List<Tensor>, Optimizer> make, double[] w0, double[][] grads) {
        Tensor p = Tensor.param(NDArray.of(toFloat(w0), w0.length));
        Optimizer opt = make.apply(List.of(p));
        for (double[] g : grads) {
            p.setGrad(NDArray.of(toFloat(g), g.length));
            opt.step();
        }
        return p.data().toFloatArray();
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    private double[] random(int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = (float) (rng.nextDouble() * 2 - 1);
        return d;
    }

    private double[][] grads() {
        double[][] g = new double[STEPS][];
        for (int s = 0; s < STEPS; s++) g[s] = random(N);
        return g;
    }

    private void assertClose(float[] actual, double[] expected) {
        for (int i = 0; i < expected.length; i++) {
            assertThat((double) actual[i]).as("seed %d element %d", seed, i).isCloseTo(expected[i], within(1e-5));
        }
    }

    @Test
    void sgdWithMomentumNesterovAndWeightDecay() {
        for (boolean nesterov : new boolean[] {false, true}) {
            double lr = 0.1, mom = 0.9, wd = 0.01, damp = 0;
            double[] w = random(N);
            double[][] g = grads();
            float[] actual = run(ps -> new SGD(ps, lr, mom, damp, wd, nesterov), w, g);
            double[] ref = w.clone(), buf = new double[N];
            for (int s = 0; s < STEPS; s++) {
                for (int i = 0; i < N; i++) {
                    double d = g[s][i] + wd * ref[i];
                    buf[i] = s == 0 ? d : mom * buf[i] + (1 - damp) * d;
                    d = nesterov ? d + mom * buf[i] : buf[i];
                    ref[i] -= lr * d;
                }
            }
            assertClose(actual, ref);
        }
    }

    @Test
    void adamAndAdamW() {
        for (boolean decoupled : new boolean[] {false, true}) {
            double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
            double[] w = random(N);
            double[][] g = grads();
            float[] actual = run(ps -> decoupled ? new AdamW(ps, lr, b1, b2, eps, wd) : Adam.adam(ps, lr, b1, b2, eps, wd), w, g);
            double[] ref = w.clone(), m = new double[N], v = new double[N];
            for (int s = 0; s < STEPS; s++) {
                int t = s + 1;
                for (int i = 0; i < N; i++) {
                    double gi = g[s][i];
                    if (decoupled) ref[i] *= 1 - lr * wd;
                    else gi += wd * ref[i];
                    m[i] = b1 * m[i] + (1 - b1) * gi;
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                    double mhat = m[i] / (1 - Math.pow(b1, t)), vhat = v[i] / (1 - Math.pow(b2, t));
                    ref[i] -= lr * mhat / (Math.sqrt(vhat) + eps);
                }
            }
            assertClose(actual, ref);
        }
    }

    @Test
    void stateDictResumesExactly() {
        double[] w = random(N);
        double[][] g = grads();
        Function<List<Tensor>, Optimizer> make = ps -> new AdamW(ps, 0.02);
        float[] straight = run(make, w, g);

        Tensor p = Tensor.param(NDArray.of(toFloat(w), N));
        Optimizer first = make.apply(List.of(p));
        for (int s = 0; s < 3; s++) {
            p.setGrad(NDArray.of(toFloat(g[s]), N));
            first.step();
        }
        Map<String, NDArray> saved = first.stateDict();
        Optimizer second = make.apply(List.of(p));
        second.loadStateDict(saved);
        assertThat(second.steps()).isEqualTo(3);
        for (int s = 3; s < STEPS; s++) {
            p.setGrad(NDArray.of(toFloat(g[s]), N));
            second.step();
        }
        assertThat(p.data().toFloatArray()).isEqualTo(straight);

        Tensor other = Tensor.param(NDArray.zeros(N + 1));
        assertThatThrownBy(() -> make.apply(List.of(other)).loadStateDict(saved)).hasMessageContaining("state.0.exp_avg");
    }

    @Test
    void clipGradNormScalesAllGradientsTogether() {
        Tensor a = Tensor.param(NDArray.zeros(2));
        Tensor b = Tensor.param(NDArray.zeros(1));
        a.setGrad(NDArray.of(new float[] {3, 0}, 2));
        b.setGrad(NDArray.of(new float[] {4}, 1));
        double norm = GradClip.clipGradNorm(List.of(a, b), 1.0);
        assertThat(norm).isCloseTo(5.0, within(1e-9));
        assertThat((double) a.grad().getFloat(0)).isCloseTo(0.6, within(1e-6));
        assertThat((double) b.grad().getFloat(0)).isCloseTo(0.8, within(1e-6));
        assertThat(GradClip.clipGradNorm(List.of(a, b), 10.0)).isCloseTo(1.0, within(1e-5));
        assertThat((double) b.grad().getFloat(0)).isCloseTo(0.8, within(1e-6));
    }

    @Test
    void schedules() {
        var lin = LrSchedules.linearWarmupLinearDecay(1.0, 10, 110);
        assertThat(lin.lr(5)).isCloseTo(0.5, within(1e-12));
        assertThat(lin.lr(10)).isCloseTo(1.0, within(1e-12));
        assertThat(lin.lr(60)).isCloseTo(0.5, within(1e-12));
        assertThat(lin.lr(110)).isCloseTo(0.0, within(1e-12));
        var cos = LrSchedules.linearWarmupCosineDecay(1.0, 10, 110, 0.1);
        assertThat(cos.lr(60)).isCloseTo(0.55, within(1e-12));
        assertThat(cos.lr(110)).isCloseTo(0.1, within(1e-12));
        var noam = LrSchedules.noam(512, 4000, 1.0);
        double peak = Math.pow(512, -0.5) * Math.pow(4000, -0.5);
        assertThat(noam.lr(4000)).isCloseTo(peak, within(1e-12));
        assertThat(noam.lr(2000)).isCloseTo(peak / 2, within(1e-12));
        assertThat(noam.lr(16000)).isCloseTo(peak / 2, within(1e-12));
        assertThatThrownBy(() -> LrSchedules.linearWarmupLinearDecay(1, 20, 10)).hasMessageContaining("warmup");
    }

    @Test
    void rejectsParametersThatCannotBeTrained() {
        Tensor constant = Tensor.of(NDArray.zeros(Shape.of(3)));
        assertThatThrownBy(() -> new SGD(List.of(constant), 0.1)).hasMessageContaining("does not require grad");
    }
}
