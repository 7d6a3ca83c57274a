package dev.attn4j.nn;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

/**
 * Root-mean-square normalisation, as torch.nn.RMSNorm: x / sqrt(mean(x^2) + eps) * weight. With
 * eps null, PyTorch uses the dtype's machine epsilon; so do we (float32: 2^-23).
 */
public final class RMSNorm extends Module implements Layer {
    public final int[] normalizedShape;
    public final double eps;
    /** Null without elementwise affine. */
    public final Tensor weight;

    public RMSNorm(int dim) {
        this(new int[] {dim}, null, true);
    }

    public RMSNorm(int dim, double eps) {
        this(new int[] {dim}, eps, true);
    }

    public RMSNorm(int[] normalizedShape, Double eps, boolean elementwiseAffine) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps != null ? eps : Math.ulp(1.0f);
        this.weight = elementwiseAffine ? parameter("weight", NDArray.full(Shape.of(normalizedShape), 1)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        return F.rmsNorm(x, normalizedShape, weight, eps);
    }
}
