package dev.attn4j.models.marian;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.models.bart.BartConfig;
import dev.attn4j.tensor.NDArray;

/**
 * transformers' {@code MarianMTModel} (OPUS-MT and the other Marian NMT conversions) as a
 * {@link dev.attn4j.models.bart.BartModel}: post-norm layers, no embedding layer norm, token
 * embeddings times sqrt(d_model) when {@code scale_embedding}, fixed sinusoidal positions
 * ({@link #sinusoids}), {@code final_logits_bias}, and either one table {@code model.shared} or,
 * with {@code share_encoder_decoder_embeddings} false, one per stack (the decoder's of
 * {@code decoder_vocab_size} rows). The legacy fields of converted configs
 * ({@code normalize_before}, {@code normalize_embedding}, {@code static_position_embeddings},
 * {@code add_final_layer_norm}) are ignored, as transformers ignores them: its Marian is always the
 * post-norm model above (a checkpoint with extra norms fails on its unexpected keys).
 */
public final class Marian {
    private Marian() {
    }

    /** Reads a config.json of model_type marian (transformers' MarianConfig defaults). */
    public static BartConfig config(JsonNode n) {
        String type = n.path("model_type").asText("");
        if (!type.equals("marian")) throw new IllegalArgumentException("expected model_type 'marian', got '" + type + "'");
        int vocab = BartConfig.integer(n, "vocab_size", 58101);
        int decoderVocab = BartConfig.integer(n, "decoder_vocab_size", vocab);
        boolean share = n.path("share_encoder_decoder_embeddings").asBoolean(true);
        return new BartConfig("marian", vocab, share ? vocab : decoderVocab, BartConfig.integer(n, "d_model", 1024),
                BartConfig.integer(n, "encoder_layers", 12), BartConfig.integer(n, "decoder_layers", 12),
                BartConfig.integer(n, "encoder_attention_heads", 16), BartConfig.integer(n, "decoder_attention_heads", 16),
                BartConfig.integer(n, "encoder_ffn_dim", 4096), BartConfig.integer(n, "decoder_ffn_dim", 4096),
                BartConfig.integer(n, "max_position_embeddings", 1024), n.path("activation_function").asText("gelu"),
                n.path("scale_embedding").asBoolean(false), BartConfig.Positions.SINUSOIDAL, false, false, false, share,
                n.path("tie_word_embeddings").asBoolean(true), BartConfig.integer(n, "pad_token_id", 58100), 1e-5);
    }

    /**
     * {@code MarianSinusoidalPositionalEmbedding}'s table [n, dim]: row p, column j &lt; ceil(dim / 2)
     * is sin(p / 10000^(2j / dim)), column ceil(dim / 2) + j is cos(p / 10000^(2j / dim)); computed
     * in double and rounded to float, as its numpy initialisation.
     */
    public static NDArray sinusoids(int n, int dim) {
        int sentinel = dim % 2 == 0 ? dim / 2 : dim / 2 + 1;
        float[] out = new float[n * dim];
        for (int p = 0; p < n; p++) {
            for (int j = 0; j < sentinel; j++) out[p * dim + j] = (float) Math.sin(p / Math.pow(10000, 2.0 * j / dim));
            for (int j = 0; j < dim / 2; j++) out[p * dim + sentinel + j] = (float) Math.cos(p / Math.pow(10000, 2.0 * j / dim));
        }
        return NDArray.of(out, n, dim);
    }
}
