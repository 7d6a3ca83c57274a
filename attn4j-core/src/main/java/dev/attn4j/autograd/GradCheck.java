package dev.attn4j.autograd;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Checks analytic gradients against central finite differences in float64. The inputs are
 * copied to F64 leaves, {@code f} is evaluated, its output is reduced to a scalar with fixed
 * random weights, and for every input element the backward gradient is compared with
 * {@code (L(x + eps) - L(x - eps)) / (2 eps)}.
 */
public final class GradCheck {
    private GradCheck() {
    }

    /** With eps 1e-6, atol 1e-6, rtol 1e-4. */
    public static void check(Function<List<Tensor>, Tensor> f, NDArray... inputs) {
        check(f, List.of(inputs), 1e-6, 1e-6, 1e-4);
    }

    /**
     * Throws an AssertionError naming the input index, element, analytic and numeric values at
     * the first element where {@code |analytic - numeric| > atol + rtol * |numeric|}.
     */
    public static void check(Function<List<Tensor>, Tensor> f, List<NDArray> inputs, double eps, double atol, double rtol) {
        List<Tensor> params = new ArrayList<>();
        for (NDArray in : inputs) params.add(Tensor.param(in.to(DType.F64)));
        Tensor out;
        try (var _ = GradMode.enableGrad()) {
            out = f.apply(params);
        }
        if (out.dtype() != DType.F64) {
            throw new AssertionError("GradCheck: f returned " + out.dtype() + "; it must keep float64 for a meaningful check");
        }
        NDArray weights = NDArray.uniform(new SplittableRandom(0x6A09E667L + out.numel()), out.shape(), -1, 1).to(DType.F64);
        if (out.requiresGrad()) out.backward(weights);
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            double[] x = p.data().doubleArray();
            NDArray grad = p.grad();
            double[] analytic = grad == null ? new double[x.length] : grad.toDoubleArray();
            for (int j = 0; j < x.length; j++) {
                double orig = x[j];
                x[j] = orig + eps;
                double lp = loss(f, params, weights);
                x[j] = orig - eps;
                double lm = loss(f, params, weights);
                x[j] = orig;
                double numeric = (lp - lm) / (2 * eps);
                double a = analytic[j];
                if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
                    throw new AssertionError("GradCheck: input " + i + " " + p.shape() + " element " + j + " "
                            + Arrays.toString(unravel(j, p.data().shape().toArray())) + ": analytic " + a + ", numeric "
                            + numeric + " (|diff| " + Math.abs(a - numeric) + " > atol " + atol + " + rtol " + rtol
                            + " * |numeric|)" + (grad == null ? "; no gradient reached this input" : ""));
                }
            }
        }
    }

    private static double loss(Function<List<Tensor>, Tensor> f, List<Tensor> params, NDArray weights) {
        try (var _ = GradMode.noGrad()) {
            double[] y = f.apply(params).data().toDoubleArray();
            double[] w = weights.toDoubleArray();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += y[i] * w[i];
            return s;
        }
    }

    private static int[] unravel(int flat, int[] dims) {
        int[] idx = new int[dims.length];
        for (int i = dims.length - 1; i >= 0; i--) {
            idx[i] = flat % dims[i];
            flat /= dims[i];
        }
        return idx;
    }
}
