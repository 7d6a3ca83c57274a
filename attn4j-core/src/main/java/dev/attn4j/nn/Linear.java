package dev.attn4j.nn;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;

/**
 * y = x W^T + b, as torch.nn.Linear: weight [out_features, in_features], bias [out_features],
 * both initialised U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)).
 *
 * <p>The weight may be BF16 or F16 (a frozen weight, e.g. a base model under LoRA): it stays in 16
 * bits in memory and the GEMM widens it while packing ({@code Kernels.gemm16}), so y is the F32
 * result on the widened weight; the gradient still flows to x (dX = dY W, W widened the same way)
 * and the weight gets none (its {@code requiresGrad} is false and cannot be set).
 */
public final class Linear extends Module implements Layer {
    public final int inFeatures;
    public final int outFeatures;
    public final Tensor weight;
    /** Null when constructed without bias. */
    public final Tensor bias;

    public Linear(int inFeatures, int outFeatures, SplittableRandom rng) {
        this(inFeatures, outFeatures, true, rng);
    }

    public Linear(int inFeatures, int outFeatures, boolean bias, SplittableRandom rng) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear(" + inFeatures + ", " + outFeatures + "): sizes must be positive");
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = parameter("weight", Init.kaimingUniform(rng, Shape.of(outFeatures, inFeatures), Math.sqrt(5)));
        double bound = 1 / Math.sqrt(inFeatures);
        this.bias = bias ? parameter("bias", Init.uniform(rng, Shape.of(outFeatures), bound)) : null;
    }

    /**
     * Wraps existing arrays as the parameters (not copied unless their dtype differs from
     * {@link DefaultDType#get()}): weight [out_features, in_features], bias [out_features] or
     * null. Used to build a module from checkpoint tensors without a random initialisation. A BF16
     * or F16 weight is kept as it is, frozen; a 16-bit bias is widened (it is added in F32).
     */
    public Linear(NDArray weight, NDArray bias) {
        if (weight == null || weight.rank() != 2 || weight.dim(0) <= 0 || weight.dim(1) <= 0) {
            throw new IllegalArgumentException("Linear: weight must be a non-empty [out_features, in_features] array, got "
                    + (weight == null ? "null" : weight.shape()));
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0))) {
            throw new IllegalArgumentException("Linear: bias " + bias.shape() + " should be [" + weight.dim(0) + "] for weight "
                    + weight.shape());
        }
        this.inFeatures = weight.dim(1);
        this.outFeatures = weight.dim(0);
        this.weight = parameter("weight", weight);
        this.bias = bias == null ? null : parameter("bias", bias.dtype().is16Bit() ? bias.to(DType.F32) : bias);
    }

    /** The LoRA layer wrapping this one ({@link Lora#apply}), or null. */
    private LoraLinear lora;

    /**
     * The LoRA layer that wraps this one since {@link Lora#apply}, or null. While it is set (and
     * not merged), {@link #forward} adds the adapter's term: code that reads {@link #weight}
     * directly instead of calling forward must check this.
     */
    public LoraLinear lora() {
        return lora;
    }

    void setLora(LoraLinear lora) {
        this.lora = lora;
    }

    /**
     * x [..., in] -> [..., out]; when a {@link LoraLinear} wraps this layer, its forward
     * (this layer's output plus the adapter's term).
     */
    @Override
    public Tensor forward(Tensor x) {
        if (lora != null) return lora.forward(x);
        return forwardBase(x);
    }

    /** x W^T + b alone, whatever wraps this layer. */
    Tensor forwardBase(Tensor x) {
        if (x.rank() == 0 || x.dim(-1) != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + " -> " + outFeatures + ") got input of shape "
                    + x.shape() + "; its last dimension must be " + inFeatures);
        }
        return F.linear(x, weight, bias); // [..., out]
    }
}
