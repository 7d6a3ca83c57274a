package dev.attn4j.models.decoder;

import dev.attn4j.autograd.Tensor;

import java.util.List;

/**
 * A causal LM forward's outputs, as transformers' {@code CausalLMOutputWithPast}.
 *
 * @param logits          [B, T, V] (T = 1 when only the last position was asked for)
 * @param lastHiddenState [B, T, C] after the final norm (all fed positions)
 * @param hiddenStates    when asked for: the embeddings, each layer's output but the last, and
 *                        the normed last one (L + 1 entries, each [B, T, C]); else null
 * @param attentions      when asked for: per layer the weights [B, H, T, past + T]; else null
 */
public record DecoderOutput(Tensor logits, Tensor lastHiddenState, List<Tensor> hiddenStates, List<Tensor> attentions) {
}
