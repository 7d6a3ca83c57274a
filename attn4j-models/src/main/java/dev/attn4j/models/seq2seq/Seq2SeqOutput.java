package dev.attn4j.models.seq2seq;

import dev.attn4j.autograd.Tensor;

import java.util.List;

/**
 * What an {@link EncoderDecoderModel}'s teacher-forced forward returns (transformers'
 * {@code Seq2SeqLMOutput}).
 *
 * @param logits                 [B, T, V]
 * @param encoderLastHiddenState [B, S, C]
 * @param decoderLastHiddenState [B, T, C] (after the decoder's final norm)
 * @param encoderAttentions      per encoder layer [B, H, S, S], or null when not asked for
 * @param decoderAttentions      per decoder layer [B, H, T, T], or null
 * @param crossAttentions        per decoder layer [B, H, T, S], or null
 */
public record Seq2SeqOutput(Tensor logits, Tensor encoderLastHiddenState, Tensor decoderLastHiddenState,
                            List<Tensor> encoderAttentions, List<Tensor> decoderAttentions, List<Tensor> crossAttentions) {
}
