package dev.attn4j.models.t5;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.models.bart.BartConfig;
import dev.attn4j.nn.Activation;

import java.util.List;

/**
 * The configuration of {@code T5ForConditionalGeneration} ({@code config.json} of model_type t5 or
 * mt5), with transformers' field names and defaults. {@code feed_forward_proj} is {@code ACT} (one
 * projection {@code wi}) or {@code gated-ACT} (T5 v1.1, mT5, Flan-T5: {@code wi_0}, {@code wi_1});
 * {@code gated-gelu} means the tanh GELU ({@code gelu_new}), as transformers maps it.
 *
 * @param dKv the size of each attention head (H d_kv need not be d_model)
 */
public record T5Config(String modelType, int vocabSize, int dModel, int dKv, int dFf, int numLayers, int numDecoderLayers,
                       int numHeads, int relativeAttentionNumBuckets, int relativeAttentionMaxDistance, double layerNormEpsilon,
                       boolean gatedAct, String denseActFn, boolean tieWordEmbeddings, int padTokenId) {
    /** The model types {@link #fromJson} reads. */
    public static final List<String> SUPPORTED_TYPES = List.of("t5", "mt5");

    public T5Config {
        for (var e : new Object[][] {{"vocab_size", vocabSize}, {"d_model", dModel}, {"d_kv", dKv}, {"d_ff", dFf}, {"num_layers", numLayers},
                {"num_decoder_layers", numDecoderLayers}, {"num_heads", numHeads},
                {"relative_attention_num_buckets", relativeAttentionNumBuckets},
                {"relative_attention_max_distance", relativeAttentionMaxDistance}}) {
            if ((int) e[1] <= 0) throw new IllegalArgumentException(e[0] + " must be positive, got " + e[1]);
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        Activation.byName(denseActFn);
    }

    /** Reads a config.json of model_type t5 or mt5. */
    public static T5Config fromJson(JsonNode n) {
        String type = n.path("model_type").asText("");
        if (!SUPPORTED_TYPES.contains(type)) {
            throw new IllegalArgumentException("unsupported model_type '" + type + "' for T5; expected one of " + SUPPORTED_TYPES);
        }
        boolean mt5 = type.equals("mt5");
        String proj = n.path("feed_forward_proj").asText(mt5 ? "gated-gelu" : "relu");
        String[] parts = proj.split("-");
        boolean gated = parts[0].equals("gated");
        if (parts.length > 1 && !gated || parts.length > 2) {
            throw new IllegalArgumentException("`feed_forward_proj`: " + proj + " is not a valid activation function of the dense layer: "
                    + "expected `gated-{ACT_FN}` or `{ACT_FN}`, e.g. 'gated-gelu' or 'relu'");
        }
        String act = proj.equals("gated-gelu") ? "gelu_new" : parts[parts.length - 1];
        int layers = BartConfig.integer(n, "num_layers", mt5 ? 8 : 6);
        return new T5Config(type, BartConfig.integer(n, "vocab_size", mt5 ? 250112 : 32128), BartConfig.integer(n, "d_model", 512),
                BartConfig.integer(n, "d_kv", 64), BartConfig.integer(n, "d_ff", mt5 ? 1024 : 2048), layers,
                BartConfig.integer(n, "num_decoder_layers", layers), BartConfig.integer(n, "num_heads", mt5 ? 6 : 8),
                BartConfig.integer(n, "relative_attention_num_buckets", 32), BartConfig.integer(n, "relative_attention_max_distance", 128),
                n.path("layer_norm_epsilon").asDouble(1e-6), gated, act, n.path("tie_word_embeddings").asBoolean(!mt5),
                BartConfig.integer(n, "pad_token_id", 0));
    }
}
