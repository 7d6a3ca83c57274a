package dev.attn4j.optim;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import java.util.List;

/** Gradient clipping as torch.nn.utils.clip_grad_norm_. */
public final class GradClip {
    private GradClip() {
    }

    /**
     * Scales all gradients together so their global L2 norm is at most {@code maxNorm}
     * (coefficient maxNorm / (norm + 1e-6), applied only when below 1). Returns the norm before
     * clipping; parameters without a gradient are skipped.
     */
    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        if (!(maxNorm > 0)) throw new IllegalArgumentException("max_norm must be > 0, got " + maxNorm);
        double sq = 0;
        for (Tensor p : params) {
            NDArray g = p.grad();
            if (g == null) continue;
            for (double v : g.toDoubleArray()) sq += v * v;
        }
        double norm = Math.sqrt(sq);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            for (Tensor p : params) {
                NDArray g = p.grad();
                if (g == null) continue;
                NDArray scaled = g.copy();
                double[] v = g.toDoubleArray();
                for (int i = 0; i < v.length; i++) scaled.storage().setDouble(i, v[i] * coef);
                p.setGrad(scaled);
            }
        }
        return norm;
    }
}
