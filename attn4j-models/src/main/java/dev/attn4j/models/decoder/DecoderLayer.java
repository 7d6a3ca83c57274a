package dev.attn4j.models.decoder;

import dev.attn4j.attention.AttentionResult;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Module;

/**
 * One pre-norm decoder layer of the Llama-style families ({@code model.layers.N}):
 * x + self_attn(input_layernorm(x)), then + mlp(post_attention_layernorm(.)).
 */
public final class DecoderLayer extends Module implements CausalDecoder.Block {
    public final Module inputLayernorm;
    public final DecoderAttention selfAttn;
    public final Module postAttentionLayernorm;
    public final GatedMlp mlp;

    public DecoderLayer(DecoderConfig c, Params p, int layerIdx) {
        // registration order = transformers' state_dict order
        this.selfAttn = child("self_attn", new DecoderAttention(c, p.at("self_attn"), layerIdx));
        this.mlp = child("mlp", new GatedMlp(c, p.at("mlp")));
        this.inputLayernorm = child("input_layernorm", Layers.norm(p, "input_layernorm", c, c.hiddenSize()));
        this.postAttentionLayernorm = child("post_attention_layernorm", Layers.norm(p, "post_attention_layernorm", c, c.hiddenSize()));
    }

    /** x [B, T, C] -> [B, T, C] and, when asked for, the attention weights. */
    @Override
    public AttentionResult forward(Tensor x, DecoderStep step, boolean needWeights) {
        AttentionResult a = selfAttn.forward(Layers.apply(inputLayernorm, x), step, needWeights);
        Tensor h = x.add(a.output());                                               // [B, T, C]
        Tensor out = h.add(mlp.forward(Layers.apply(postAttentionLayernorm, h)));   // [B, T, C]
        return new AttentionResult(out, a.weights());
    }
}
