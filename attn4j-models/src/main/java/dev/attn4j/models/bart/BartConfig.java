package dev.attn4j.models.bart;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.nn.Activation;

import java.util.List;

/**
 * The configuration of the BART-style encoder-decoders ({@code config.json} of
 * {@code BartForConditionalGeneration}, {@code MBartForConditionalGeneration} and, built by
 * {@code models.marian.MarianConfigs}, {@code MarianMTModel}), with transformers' field names and
 * defaults. The families differ in a few switches:
 *
 * <table>
 * <caption>What each model_type sets</caption>
 * <tr><th></th><th>positions</th><th>layers</th><th>layernorm_embedding</th><th>final layer_norm</th></tr>
 * <tr><td>bart</td><td>learned, offset 2</td><td>post-norm</td><td>yes</td><td>no</td></tr>
 * <tr><td>mbart</td><td>learned, offset 2</td><td>pre-norm ({@code normalize_before})</td><td>yes</td><td>yes</td></tr>
 * <tr><td>marian</td><td>sinusoidal (sin half, cos half)</td><td>post-norm</td><td>no</td><td>no</td></tr>
 * </table>
 *
 * @param shareEncoderDecoderEmbeddings one table {@code model.shared} for both stacks (Marian may have two)
 * @param decoderVocabSize              logits per position: {@code lm_head} rows (Marian's {@code decoder_vocab_size}; the
 *                                      decoder's own table has {@code vocab_size} rows, a copy of the shared one in transformers)
 * @param tieWordEmbeddings             {@code lm_head} is the decoder's embedding table
 * @param layerNormEps                  every LayerNorm's epsilon (torch's default 1e-5)
 */
public record BartConfig(String modelType, int vocabSize, int decoderVocabSize, int dModel, int encoderLayers, int decoderLayers,
                         int encoderAttentionHeads, int decoderAttentionHeads, int encoderFfnDim, int decoderFfnDim,
                         int maxPositionEmbeddings, String activationFunction, boolean scaleEmbedding, Positions positions,
                         boolean normalizeBefore, boolean layernormEmbedding, boolean finalLayerNorm,
                         boolean shareEncoderDecoderEmbeddings, boolean tieWordEmbeddings, int padTokenId, double layerNormEps) {
    /** How positions enter the embeddings. */
    public enum Positions {
        /** A learned table of max_position_embeddings + 2 rows read at position + 2 ({@code BartLearnedPositionalEmbedding}). */
        LEARNED_OFFSET_2,
        /** Fixed sinusoids, sines in the first half of each row, cosines in the second ({@code MarianSinusoidalPositionalEmbedding}). */
        SINUSOIDAL
    }

    /** The model types {@link #fromJson} reads. */
    public static final List<String> SUPPORTED_TYPES = List.of("bart", "mbart");

    public BartConfig {
        positive("vocab_size", vocabSize);
        positive("decoder_vocab_size", decoderVocabSize);
        positive("d_model", dModel);
        positive("encoder_layers", encoderLayers);
        positive("decoder_layers", decoderLayers);
        positive("encoder_attention_heads", encoderAttentionHeads);
        positive("decoder_attention_heads", decoderAttentionHeads);
        positive("encoder_ffn_dim", encoderFfnDim);
        positive("decoder_ffn_dim", decoderFfnDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (dModel % encoderAttentionHeads != 0 || dModel % decoderAttentionHeads != 0) {
            throw new IllegalArgumentException("d_model " + dModel + " must be divisible by encoder_attention_heads " + encoderAttentionHeads
                    + " and decoder_attention_heads " + decoderAttentionHeads);
        }
        if (shareEncoderDecoderEmbeddings && decoderVocabSize != vocabSize) {
            throw new IllegalArgumentException("decoder_vocab_size " + decoderVocabSize + " differs from vocab_size " + vocabSize
                    + " while share_encoder_decoder_embeddings is true");
        }
        if (tieWordEmbeddings && decoderVocabSize != vocabSize) {
            // transformers' decoder table has vocab_size rows (a copy of the shared one): a tied head must match it
            throw new IllegalArgumentException("decoder_vocab_size " + decoderVocabSize + " differs from vocab_size " + vocabSize
                    + ", which a tied lm_head (tie_word_embeddings) cannot have");
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        Activation.byName(activationFunction);                     // unknown names fail with the list of known ones
    }

    static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be positive, got " + v);
    }

    /** Reads a config.json of model_type bart or mbart (transformers' BartConfig / MBartConfig defaults). */
    public static BartConfig fromJson(JsonNode n) {
        String type = n.path("model_type").asText("");
        if (!SUPPORTED_TYPES.contains(type)) {
            throw new IllegalArgumentException("unsupported model_type '" + type + "' for BART; expected one of " + SUPPORTED_TYPES);
        }
        boolean mbart = type.equals("mbart");
        int vocab = integer(n, "vocab_size", 50265);
        return new BartConfig(type, vocab, vocab, integer(n, "d_model", 1024), integer(n, "encoder_layers", 12),
                integer(n, "decoder_layers", 12), integer(n, "encoder_attention_heads", 16), integer(n, "decoder_attention_heads", 16),
                integer(n, "encoder_ffn_dim", 4096), integer(n, "decoder_ffn_dim", 4096), integer(n, "max_position_embeddings", 1024),
                n.path("activation_function").asText("gelu"), n.path("scale_embedding").asBoolean(false), Positions.LEARNED_OFFSET_2,
                mbart, true, mbart, true, n.path("tie_word_embeddings").asBoolean(true), integer(n, "pad_token_id", 1), 1e-5);
    }

    /** An integer field, {@code fallback} when absent or null; any other type is an error naming the key. */
    public static int integer(JsonNode n, String key, int fallback) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) return fallback;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("config.json: '" + key + "' must be an integer, got " + v);
        }
        return v.intValue();
    }

    /** Decoder attention head size. */
    public int decoderHeadDim() {
        return dModel / decoderAttentionHeads;
    }

    /** The factor token embeddings are multiplied by: sqrt(d_model) with scale_embedding, else 1. */
    public double embedScale() {
        return scaleEmbedding ? Math.sqrt(dModel) : 1.0;
    }
}
