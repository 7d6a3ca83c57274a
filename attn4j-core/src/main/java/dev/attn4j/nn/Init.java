package dev.attn4j.nn;

import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;

/**
 * Weight initialisers with torch.nn.init's definitions. Fan-in and fan-out follow PyTorch:
 * for a weight [out, in, ...], fan_in = in * receptive field, fan_out = out * receptive field.
 */
public final class Init {
    private Init() {
    }

    public static int fanIn(Shape s) {
        if (s.rank() < 2) throw new IllegalArgumentException("fan in/out needs at least 2 dimensions, got " + s);
        return s.dim(1) * s.numel(2, s.rank());
    }

    public static int fanOut(Shape s) {
        if (s.rank() < 2) throw new IllegalArgumentException("fan in/out needs at least 2 dimensions, got " + s);
        return s.dim(0) * s.numel(2, s.rank());
    }

    /** U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). */
    public static NDArray xavierUniform(SplittableRandom rng, Shape s, double gain) {
        double a = gain * Math.sqrt(6.0 / (fanIn(s) + fanOut(s)));
        return NDArray.uniform(rng, s, -a, a);
    }

    /** N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
    public static NDArray xavierNormal(SplittableRandom rng, Shape s, double gain) {
        return NDArray.normal(rng, s, 0, gain * Math.sqrt(2.0 / (fanIn(s) + fanOut(s))));
    }

    /**
     * kaiming_uniform_ in fan_in mode with leaky_relu gain sqrt(2 / (1 + a^2)):
     * U(-b, b), b = gain * sqrt(3 / fan_in). torch.nn.Linear uses a = sqrt(5).
     */
    public static NDArray kaimingUniform(SplittableRandom rng, Shape s, double a) {
        double gain = Math.sqrt(2.0 / (1 + a * a));
        double bound = gain * Math.sqrt(3.0 / fanIn(s));
        return NDArray.uniform(rng, s, -bound, bound);
    }

    /** kaiming_normal_ in fan_in mode for ReLU: N(0, 2 / fan_in). */
    public static NDArray kaimingNormal(SplittableRandom rng, Shape s) {
        return NDArray.normal(rng, s, 0, Math.sqrt(2.0 / fanIn(s)));
    }

    public static NDArray normal(SplittableRandom rng, Shape s, double std) {
        return NDArray.normal(rng, s, 0, std);
    }

    public static NDArray uniform(SplittableRandom rng, Shape s, double bound) {
        return NDArray.uniform(rng, s, -bound, bound);
    }
}
