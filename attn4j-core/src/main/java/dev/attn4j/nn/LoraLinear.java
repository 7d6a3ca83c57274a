package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A {@link Linear} with a low-rank update, as peft's {@code lora.Linear} (tuners/lora/layer.py):
 * <pre>
 *   y = base_layer(x) + scaling * lora_B(lora_A(lora_dropout(x)))
 * </pre>
 * lora_A [r, in] starts as torch.nn.Linear's default (kaiming_uniform with a = sqrt(5)) and
 * lora_B [out, r] at zero, so the wrapped layer first computes what the base did. scaling is
 * lora_alpha / r (lora_alpha / sqrt(r) with use_rslora). The state dict has peft's live names:
 * {@code base_layer.weight}, {@code base_layer.bias}, {@code lora_A.default.weight},
 * {@code lora_B.default.weight} (one adapter, named "default").
 *
 * <p>The constructor hooks the base layer ({@link Linear#lora()}), so code holding the base
 * {@link Linear} (the parent's own field) runs this forward; {@link Lora#apply} also puts this
 * module in the base layer's place in the module tree.
 */
public final class LoraLinear extends Module implements Layer {
    /** peft's name for the single adapter. */
    public static final String ADAPTER_NAME = "default";

    public final Linear baseLayer;
    /** lora_A.default: in -> r, no bias. */
    public final Linear loraA;
    /** lora_B.default: r -> out, no bias. */
    public final Linear loraB;
    public final Dropout loraDropout;
    public final int r;
    public final double loraAlpha;
    public final double scaling;
    private boolean merged;

    /**
     * Wraps {@code base} with a fresh adapter (A from {@code rng}, B zero) and hooks it: from now on
     * {@code base.forward} runs this layer's forward.
     */
    public LoraLinear(Linear base, int r, double loraAlpha, double loraDropout, boolean useRslora, SplittableRandom rng) {
        if (r <= 0) throw new IllegalArgumentException("LoRA r must be positive, got " + r);
        if (base.lora() != null) throw new IllegalStateException("this Linear is already wrapped by a LoRA layer");
        this.baseLayer = child("base_layer", base);
        this.r = r;
        this.loraAlpha = loraAlpha;
        this.scaling = useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
        this.loraDropout = new Dropout(loraDropout, rng);
        child("lora_dropout", new ModuleDict<>(Map.of(ADAPTER_NAME, this.loraDropout)));
        this.loraA = new Linear(Init.kaimingUniform(rng, Shape.of(r, base.inFeatures), Math.sqrt(5)), null); // [r, in]
        this.loraB = new Linear(NDArray.zeros(base.outFeatures, r), null);                                    // [out, r]
        child("lora_A", new ModuleDict<>(Map.of(ADAPTER_NAME, loraA)));
        child("lora_B", new ModuleDict<>(Map.of(ADAPTER_NAME, loraB)));
        base.setLora(this);
    }

    /** x [..., in] -> [..., out]: the base output plus the scaled update (the base output alone once merged). */
    @Override
    public Tensor forward(Tensor x) {
        Tensor result = baseLayer.forwardBase(x);                                   // [..., out]
        if (merged) return result;
        Tensor h = loraA.forwardBase(loraDropout.forward(x));                        // [..., r]
        return result.add(loraB.forwardBase(h).mul(scaling));                      // [..., out]
    }

    /** Whether the update is folded into the base weight ({@link #merge}). */
    public boolean merged() {
        return merged;
    }

    /**
     * Adds scaling * B A to the base weight in place (changing {@code baseLayer.weight}'s values,
     * and those of any array that shares them), so forward then runs the base layer alone, as
     * peft's merge(). Returns false, changing nothing, when already merged.
     */
    public boolean merge() {
        if (merged) return false;
        addDelta(1);
        merged = true;
        return true;
    }

    /** Subtracts scaling * B A from the base weight in place (peft's unmerge()); false when not merged. */
    public boolean unmerge() {
        if (!merged) return false;
        addDelta(-1);
        merged = false;
        return true;
    }

    /** The update scaling * B A [out, in] (peft's get_delta_weight), accumulated in double, as a new F64 array. */
    public NDArray deltaWeight() {
        NDArray a = loraA.weight.data(), b = loraB.weight.data();                    // [r, in], [out, r]
        int out = baseLayer.outFeatures, in = baseLayer.inFeatures;
        double[] d = new double[out * in];
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < r; k++) {
                double bk = b.getDouble(o, k) * scaling;
                for (int i = 0; i < in; i++) d[o * in + i] += bk * a.getDouble(k, i);
            }
        }
        return NDArray.of(d, out, in);                                                // [out, in]
    }

    private void addDelta(int sign) {
        NDArray w = baseLayer.weight.data();                                          // [out, in], possibly a strided view
        NDArray d = deltaWeight();
        for (int o = 0; o < baseLayer.outFeatures; o++) {
            for (int i = 0; i < baseLayer.inFeatures; i++) {
                w.set(w.getDouble(o, i) + sign * d.getDouble(o, i), o, i);
            }
        }
    }
}
