package dev.attn4j.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.MathF;
import dev.attn4j.nn.Activation;
import dev.attn4j.nn.DefaultDType;
import dev.attn4j.nn.ParamGradCheck;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

class FeedForwardTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** y = W x + b in float64; b may be null. */
    static double[] linear(NDArray w, NDArray b, double[] x) {
        double[] y = new double[w.dim(0)];
        for (int o = 0; o < y.length; o++) {
            double s = b == null ? 0 : b.getDouble(o);
            for (int i = 0; i < x.length; i++) s += w.getDouble(o, i) * x[i];
            y[o] = s;
        }
        return y;
    }

    static double gelu(double v) {
        return 0.5 * v * (1 + MathF.erf(v / Math.sqrt(2)));
    }

    @Test
    void feedForwardMatchesFloat64ReferenceForReluAndGelu() {
        for (String act : new String[] {"relu", "gelu"}) {
            int d = 1 + rng.nextInt(9), f = 1 + rng.nextInt(17);
            FeedForward ff = new FeedForward(d, f, 0.3, act, rng);
            ff.eval();
            assertThat(ff.stateDict().keySet()).containsExactly("linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias");
            NDArray x = NDArray.uniform(rng, Shape.of(3, 2, d), -2, 2);
            NDArray y = ff.forward(Tensor.of(x)).data();
            DoubleUnaryOperator g = act.equals("relu") ? v -> Math.max(v, 0) : FeedForwardTest::gelu;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 2; j++) {
                    double[] h = linear(ff.linear1.weight.data(), ff.linear1.bias.data(), x.select(0, i).select(0, j).toDoubleArray());
                    for (int k = 0; k < h.length; k++) h[k] = g.applyAsDouble(h[k]);
                    double[] want = linear(ff.linear2.weight.data(), ff.linear2.bias.data(), h);
                    for (int c = 0; c < d; c++) {
                        assertThat(y.getDouble(i, j, c)).as("%s seed %d", act, seed).isCloseTo(want[c], offset(1e-5));
                    }
                }
            }
        }
    }

    @Test
    void swiGluMatchesFloat64Reference() {
        int d = 1 + rng.nextInt(9), hdim = 1 + rng.nextInt(17);
        SwiGLU m = new SwiGLU(d, hdim, rng);
        assertThat(m.stateDict().keySet()).containsExactly("gate_proj.weight", "up_proj.weight", "down_proj.weight");
        assertThat(new SwiGLU(d, hdim, true, rng).stateDict()).containsKeys("gate_proj.bias", "up_proj.bias", "down_proj.bias");
        NDArray x = NDArray.uniform(rng, Shape.of(4, d), -2, 2);
        NDArray y = m.forward(Tensor.of(x)).data();
        for (int i = 0; i < 4; i++) {
            double[] xi = x.select(0, i).toDoubleArray();
            double[] gate = linear(m.gateProj.weight.data(), null, xi), up = linear(m.upProj.weight.data(), null, xi);
            for (int k = 0; k < hdim; k++) gate[k] = gate[k] / (1 + Math.exp(-gate[k])) * up[k];
            double[] want = linear(m.downProj.weight.data(), null, gate);
            for (int c = 0; c < d; c++) assertThat(y.getDouble(i, c)).as("seed %d", seed).isCloseTo(want[c], offset(1e-5));
        }
    }

    @Test
    void gradientChecks() {
        try (var s = DefaultDType.use(DType.F64)) {
            FeedForward ff = new FeedForward(3, 5, 0.0, Activation.gelu(), true, rng);
            SwiGLU sw = new SwiGLU(3, 4, true, rng);
            Tensor x = Tensor.param(NDArray.uniform(rng, Shape.of(2, 3), -1, 1).to(DType.F64));
            ParamGradCheck.check("FeedForward seed " + seed, ff, List.of(x), () -> ff.forward(x));
            ParamGradCheck.check("SwiGLU seed " + seed, sw, List.of(x), () -> sw.forward(x));
        }
    }
}
