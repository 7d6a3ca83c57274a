package dev.attn4j.models.onnx;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code config.json} values of a BERT model as recovered from an ONNX export: sizes come from
 * the weight shapes, heads / epsilon / activation from the graph (or known defaults when the graph
 * does not show them).
 *
 * @param vocabSize             rows of the word embedding
 * @param hiddenSize            model width
 * @param numHiddenLayers       number of encoder layers
 * @param numAttentionHeads     attention heads per layer
 * @param intermediateSize      feed-forward width
 * @param maxPositionEmbeddings rows of the position embedding
 * @param typeVocabSize         rows of the token-type embedding
 * @param layerNormEps          LayerNorm epsilon
 * @param hiddenAct             activation name as transformers spells it ({@code gelu}, {@code gelu_new}, {@code relu})
 */
public record BertConfigValues(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
                               int intermediateSize, int maxPositionEmbeddings, int typeVocabSize,
                               double layerNormEps, String hiddenAct) {
    /** Checks sizes are positive and the heads divide the width. */
    public BertConfigValues {
        if (vocabSize <= 0 || hiddenSize <= 0 || numHiddenLayers <= 0 || numAttentionHeads <= 0 || intermediateSize <= 0
                || maxPositionEmbeddings <= 0 || typeVocabSize <= 0) {
            throw new IllegalArgumentException("BERT sizes must be positive: " + sizes());
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numAttentionHeads);
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("layer_norm_eps must be positive, found " + layerNormEps);
        }
    }

    private String sizes() {
        return "vocab " + vocabSize + ", hidden " + hiddenSize + ", layers " + numHiddenLayers + ", heads "
                + numAttentionHeads + ", intermediate " + intermediateSize + ", positions " + maxPositionEmbeddings
                + ", types " + typeVocabSize;
    }

    /** The contents of a transformers {@code config.json} for {@code BertModel}, in the usual key order. */
    public Map<String, Object> toConfigJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("BertModel"));
        m.put("attention_probs_dropout_prob", 0.1);
        m.put("hidden_act", hiddenAct);
        m.put("hidden_dropout_prob", 0.1);
        m.put("hidden_size", hiddenSize);
        m.put("initializer_range", 0.02);
        m.put("intermediate_size", intermediateSize);
        m.put("layer_norm_eps", layerNormEps);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("model_type", "bert");
        m.put("num_attention_heads", numAttentionHeads);
        m.put("num_hidden_layers", numHiddenLayers);
        m.put("pad_token_id", 0);
        m.put("position_embedding_type", "absolute");
        m.put("torch_dtype", "float32");
        m.put("type_vocab_size", typeVocabSize);
        m.put("vocab_size", vocabSize);
        return m;
    }
}
