package dev.attn4j.models.bert;

import dev.attn4j.autograd.Tensor;

import java.util.List;

/**
 * What an encoder returns (transformers' {@code BaseModelOutputWithPooling}).
 *
 * @param lastHiddenState [B, T, C] output of the last layer (rows at padding positions are
 *                        computed but meaningless)
 * @param poolerOutput    [B, C] tanh(dense(first token)), or null when the model has no pooler
 * @param hiddenStates    the embeddings and every layer's output, L + 1 tensors [B, T, C], or
 *                        null unless asked for
 * @param attentions      every layer's attention weights [B, H, T, T], or null unless asked for
 */
public record EncoderOutput(Tensor lastHiddenState, Tensor poolerOutput, List<Tensor> hiddenStates, List<Tensor> attentions) {
    public EncoderOutput {
        if (lastHiddenState == null) throw new IllegalArgumentException("lastHiddenState is null");
        hiddenStates = hiddenStates == null ? null : List.copyOf(hiddenStates);
        attentions = attentions == null ? null : List.copyOf(attentions);
    }
}
