package dev.attn4j.transformer;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Layer;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import java.util.SplittableRandom;

/**
 * The gated feed-forward block of Llama (Shazeer, "GLU Variants Improve Transformer"):
 * down_proj(silu(gate_proj(x)) * up_proj(x)), with Hugging Face Llama's child names gate_proj
 * [hidden, dim], up_proj [hidden, dim], down_proj [dim, hidden] (the paper's and Meta's
 * w1, w3, w2 respectively), no biases by default (Llama's mlp_bias = false).
 */
public final class SwiGLU extends Module implements Layer {
    public final Linear gateProj;
    public final Linear upProj;
    public final Linear downProj;

    /** Without biases. */
    public SwiGLU(int dim, int hiddenDim, SplittableRandom rng) {
        this(dim, hiddenDim, false, rng);
    }

    public SwiGLU(int dim, int hiddenDim, boolean bias, SplittableRandom rng) {
        this.gateProj = child("gate_proj", new Linear(dim, hiddenDim, bias, rng));
        this.upProj = child("up_proj", new Linear(dim, hiddenDim, bias, rng));
        this.downProj = child("down_proj", new Linear(hiddenDim, dim, bias, rng));
    }

    /** x [..., dim] -> [..., dim]. */
    @Override
    public Tensor forward(Tensor x) {
        Tensor gated = gateProj.forward(x).silu().mul(upProj.forward(x)); // [..., hidden]
        return downProj.forward(gated);                                    // [..., dim]
    }
}
