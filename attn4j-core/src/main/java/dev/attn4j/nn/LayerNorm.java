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

    /**
     * Wraps existing arrays as weight and bias (not copied unless their dtype differs from
     * {@link DefaultDType#get()}); both have the normalized shape, bias may be null.
     */
    public LayerNorm(NDArray weight, NDArray bias, double eps) {
        if (weight == null || weight.rank() == 0) {
            throw new IllegalArgumentException("LayerNorm: weight must have at least one dimension, got "
                    + (weight == null ? "null" : weight.shape()));
        }
        if (bias != null && !bias.shape().equals(weight.shape())) {
            throw new IllegalArgumentException("LayerNorm: bias " + bias.shape() + " and weight " + weight.shape() + " differ in shape");
        }
        this.normalizedShape = weight.shape().toArray();
        this.eps = eps;
        this.weight = parameter("weight", weight);
        this.bias = bias == null ? null : parameter("bias", bias);
    }

    @Override
    public Tensor forward(Tensor x) {
        return F.layerNorm(x, normalizedShape, weight, bias, eps);
    }
}
