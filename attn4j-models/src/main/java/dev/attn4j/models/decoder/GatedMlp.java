package dev.attn4j.models.decoder;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Activation;
import dev.attn4j.nn.Layer;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;

/**
 * The gated MLP ({@code mlp}): down_proj(act(gate) * up) with gate = gate_proj x and up = up_proj x
 * (SwiGLU with silu, GeGLU with gelu), or, for Phi-3, [gate, up] = gate_up_proj x split in halves.
 */
public final class GatedMlp extends Module implements Layer {
    /** Null when fused. */
    public final Linear gateProj;
    public final Linear upProj;
    /** Phi-3's [2 I, C] projection, or null. */
    public final Linear gateUpProj;
    public final Linear downProj;
    private final Activation act;
    private final int intermediate;

    public GatedMlp(DecoderConfig c, Params p) {
        int hidden = c.hiddenSize();
        this.intermediate = c.intermediateSize();
        if (c.mlp() == DecoderConfig.Mlp.GATED_FUSED) {
            gateUpProj = child("gate_up_proj", Layers.linear(p, "gate_up_proj", hidden, 2 * intermediate, c.mlpBias()));
            gateProj = upProj = null;
        } else {
            gateUpProj = null;
            gateProj = child("gate_proj", Layers.linear(p, "gate_proj", hidden, intermediate, c.mlpBias()));
            upProj = child("up_proj", Layers.linear(p, "up_proj", hidden, intermediate, c.mlpBias()));
        }
        downProj = child("down_proj", Layers.linear(p, "down_proj", intermediate, hidden, c.mlpBias()));
        act = Activation.byName(c.hiddenAct());
    }

    /** x [..., C] -> [..., C]. */
    @Override
    public Tensor forward(Tensor x) {
        Tensor gate, up;
        if (gateUpProj != null) {
            Tensor gu = gateUpProj.forward(x);                                      // [..., 2 I]
            gate = gu.narrow(-1, 0, intermediate);
            up = gu.narrow(-1, intermediate, intermediate);
        } else {
            gate = gateProj.forward(x);                                             // [..., I]
            up = upProj.forward(x);                                                 // [..., I]
        }
        return downProj.forward(act.forward(gate).mul(up));                         // [..., C]
    }
}
