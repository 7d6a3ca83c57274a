package dev.attn4j.nn;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

/**
 * Layer normalisation over the trailing {@code normalized_shape} dimensions, as
 * torch.nn.LayerNorm: (x - mean) / sqrt(var + eps) * weight + bias, biased variance.
 */
public final class LayerNorm extends Module implements Layer {
    public final int[] normalizedShape;
    public final double eps;
    /** Null without elementwise affine. */
    public final Tensor weight;
    /** Null without elementwise affine or with bias = false. */
    public final Tensor bias;

    public LayerNorm(int dim) {
        this(new int[] {dim}, 1e-5, true, true);
    }

    public LayerNorm(int dim, double eps) {
        this(new int[] {dim}, eps, true, true);
    }

    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine, boolean bias) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        Shape s = Shape.of(normalizedShape);
        this.weight = elementwiseAffine ? parameter("weight", NDArray.full(s, 1)) : null;
        this.bias = elementwiseAffine && bias ? parameter("bias", NDArray.zeros(s)) : null;
    }

    @Override
    public Tensor forward(Tensor x) {
        return F.layerNorm(x, normalizedShape, weight, bias, eps);
    }
}
