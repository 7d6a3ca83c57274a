package dev.attn4j.nn;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Finite-difference check of a whole module: every parameter of a float64 module (built inside
 * {@code DefaultDType.use(F64)}) and every extra float64 leaf, against the backward pass. Unlike
 * {@link dev.attn4j.autograd.GradCheck} it perturbs the module's own parameter arrays in place.
 */
public final class ParamGradCheck {
    private ParamGradCheck() {
    }

    /** With eps 1e-6, atol 1e-6, rtol 1e-4. */
    public static void check(String what, Module module, List<Tensor> extraLeaves, Supplier<Tensor> f) {
        check(what, module, extraLeaves, f, 1e-6, 1e-6, 1e-4);
    }

    public static void check(String what, Module module, List<Tensor> extraLeaves, Supplier<Tensor> f,
                             double eps, double atol, double rtol) {
        Map<String, Tensor> leaves = new LinkedHashMap<>(module == null ? Map.of() : module.namedParameters());
        for (int i = 0; i < extraLeaves.size(); i++) leaves.put("input " + i, extraLeaves.get(i));
        for (var e : leaves.entrySet()) {
            Tensor t = e.getValue();
            if (t.dtype() != DType.F64 || !t.isLeaf() || !t.requiresGrad() || !t.data().isContiguous()) {
                throw new AssertionError(what + ": " + e.getKey() + " must be a contiguous F64 leaf requiring grad");
            }
            t.zeroGrad();
        }
        Tensor out;
        try (var g = GradMode.enableGrad()) {
            out = f.get();
        }
        if (out.dtype() != DType.F64) throw new AssertionError(what + ": output is " + out.dtype() + ", not F64");
        NDArray w = NDArray.uniform(new SplittableRandom(12345 + out.numel()), out.shape(), -1, 1).to(DType.F64);
        out.backward(w);
        double[] wd = w.toDoubleArray();
        List<String> failures = new ArrayList<>();
        for (var e : leaves.entrySet()) {
            Tensor t = e.getValue();
            double[] x = t.data().doubleArray();
            int off = t.data().offset();
            double[] analytic = t.grad() == null ? new double[t.numel()] : t.grad().toDoubleArray();
            for (int j = 0; j < t.numel() && failures.size() < 5; j++) {
                double orig = x[off + j];
                x[off + j] = orig + eps;
                double lp = loss(f, wd);
                x[off + j] = orig - eps;
                double lm = loss(f, wd);
                x[off + j] = orig;
                double numeric = (lp - lm) / (2 * eps);
                if (!(Math.abs(analytic[j] - numeric) <= atol + rtol * Math.abs(numeric))) {
                    failures.add(e.getKey() + " " + t.shape() + " element " + j + ": analytic " + analytic[j]
                            + ", numeric " + numeric + (t.grad() == null ? " (no gradient reached it)" : ""));
                }
            }
        }
        if (!failures.isEmpty()) throw new AssertionError(what + ": gradient check failed: " + String.join("; ", failures));
    }

    private static double loss(Supplier<Tensor> f, double[] w) {
        try (var g = GradMode.noGrad()) {
            double[] y = f.get().data().toDoubleArray();
            double s = 0;
            for (int i = 0; i < y.length; i++) s += y[i] * w[i];
            return s;
        }
    }
}
