package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.nn.Activation;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The {@code config.json} of a BERT-family encoder, with the names of transformers'
 * {@code BertConfig} (DistilBERT's own names, {@code dim}, {@code n_layers}, ... are mapped on
 * read). One record covers the three layouts this package runs:
 * <ul>
 *   <li>{@link Family#BERT}: {@code bert} (and anything with BERT's key names);</li>
 *   <li>{@link Family#ROBERTA}: {@code roberta}, {@code xlm-roberta}, {@code camembert}: BERT's
 *       layout, position ids counted from {@code pad_token_id + 1};</li>
 *   <li>{@link Family#DISTILBERT}: {@code distilbert}: own key names, no token types, no pooler.</li>
 * </ul>
 *
 * @param modelType                 {@code model_type} as written in the file
 * @param vocabSize                 rows of the word embedding table
 * @param hiddenSize                C, the width of every hidden state
 * @param numHiddenLayers           number of encoder layers
 * @param numAttentionHeads         H; C must be a multiple of it
 * @param intermediateSize          width of the feed-forward layer
 * @param hiddenAct                 activation of the feed-forward layer (gelu, gelu_new, relu, ...)
 * @param hiddenDropoutProb         dropout on embeddings and sub-layer outputs (training only)
 * @param attentionProbsDropoutProb dropout on attention weights (training only)
 * @param maxPositionEmbeddings     rows of the position table
 * @param typeVocabSize             rows of the token-type table (0: no token types, DistilBERT)
 * @param layerNormEps              epsilon of every LayerNorm
 * @param padTokenId                id of the padding token (RoBERTa's position padding index)
 * @param initializerRange          standard deviation of the normal initialisation of new weights
 */
public record BertConfig(String modelType, int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads,
                         int intermediateSize, String hiddenAct, double hiddenDropoutProb,
                         double attentionProbsDropoutProb, int maxPositionEmbeddings, int typeVocabSize,
                         double layerNormEps, int padTokenId, double initializerRange) {

    /** Which key layout and position scheme a model type uses. */
    public enum Family {
        /** BERT: positions 0..T-1, token types, pooler. */
        BERT,
        /** RoBERTa / XLM-R / CamemBERT: BERT's keys, positions from padding_idx + 1, pads at padding_idx. */
        ROBERTA,
        /** DistilBERT: own key names, positions 0..T-1, no token types, no pooler. */
        DISTILBERT
    }

    /** Model types this package can run. */
    public static final List<String> SUPPORTED_TYPES = List.of("bert", "roberta", "xlm-roberta", "camembert", "distilbert");

    public BertConfig {
        if (modelType == null || hiddenAct == null) throw new IllegalArgumentException("BertConfig: modelType and hiddenAct must not be null");
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("num_hidden_layers", numHiddenLayers);
        requirePositive("num_attention_heads", numAttentionHeads);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("max_position_embeddings", maxPositionEmbeddings);
        if (typeVocabSize < 0) throw new IllegalArgumentException("BertConfig: type_vocab_size must be >= 0, got " + typeVocabSize);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("BertConfig: hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numAttentionHeads);
        }
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("BertConfig: layer_norm_eps must be positive, got " + layerNormEps);
        checkProbability("hidden_dropout_prob", hiddenDropoutProb);
        checkProbability("attention_probs_dropout_prob", attentionProbsDropoutProb);
        Activation.byName(hiddenAct); // fails with the list of known names
        family(modelType);
    }

    private static void requirePositive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException("BertConfig: " + name + " must be positive, got " + v);
    }

    private static void checkProbability(String name, double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("BertConfig: " + name + " must be in [0, 1], got " + p);
    }

    /** A BERT config with transformers' defaults for everything but the sizes (gelu, dropout 0.1, eps 1e-12, pad 0). */
    public static BertConfig bert(int vocabSize, int hiddenSize, int layers, int heads, int intermediateSize,
                                  int maxPositions, int typeVocabSize) {
        return new BertConfig("bert", vocabSize, hiddenSize, layers, heads, intermediateSize, "gelu", 0.1, 0.1, maxPositions,
                typeVocabSize, 1e-12, 0, 0.02);
    }

    /** The same config with another model type (which decides the {@link Family}). */
    public BertConfig withModelType(String type) {
        return new BertConfig(type, vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, layerNormEps, padTokenId,
                initializerRange);
    }

    /** The same config with both dropout probabilities set to {@code p}. */
    public BertConfig withDropout(double p) {
        return new BertConfig(modelType, vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                p, p, maxPositionEmbeddings, typeVocabSize, layerNormEps, padTokenId, initializerRange);
    }

    /** The same config with another pad token id. */
    public BertConfig withPadTokenId(int id) {
        return new BertConfig(modelType, vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                hiddenDropoutProb, attentionProbsDropoutProb, maxPositionEmbeddings, typeVocabSize, layerNormEps, id,
                initializerRange);
    }

    /** The key layout and position scheme of this model type. */
    public Family family() {
        return family(modelType);
    }

    private static Family family(String type) {
        return switch (type.toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "bert" -> Family.BERT;
            case "roberta", "xlm-roberta", "camembert" -> Family.ROBERTA;
            case "distilbert" -> Family.DISTILBERT;
            default -> throw new IllegalArgumentException("unsupported model_type '" + type + "' (supported: "
                    + String.join(", ", SUPPORTED_TYPES) + ")");
        };
    }

    /**
     * Longest input in tokens, special tokens included, that the position table holds:
     * {@code max_position_embeddings}, less RoBERTa's {@code pad_token_id + 1} (its positions start after the padding id).
     */
    public int maxInputLength() {
        return maxPositionEmbeddings - (family() == Family.ROBERTA ? padTokenId + 1 : 0);
    }

    /** Head width D = C / H. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * Reads a parsed {@code config.json}. Missing sizes, wrong types, an unsupported
     * {@code model_type} or {@code position_embedding_type} are errors naming {@code file} and the key.
     */
    public static BertConfig fromJson(JsonNode root, Path file) throws ModelDirectoryException {
        if (root == null || !root.isObject()) throw new ModelDirectoryException(file, "expected a JSON object");
        String type = text(root, file, "model_type", null);
        if (type == null) {
            throw new ModelDirectoryException(file, "missing 'model_type' (supported: " + String.join(", ", SUPPORTED_TYPES) + ")");
        }
        Family family;
        try {
            family = family(type);
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(file, e.getMessage());
        }
        try {
            if (family == Family.DISTILBERT) {
                // sinusoidal_pos_embds: the table is stored in the checkpoint like a learned one
                return new BertConfig(type, integer(root, file, "vocab_size", null), integer(root, file, "dim", 768),
                        integer(root, file, "n_layers", 6), integer(root, file, "n_heads", 12),
                        integer(root, file, "hidden_dim", 3072), text(root, file, "activation", "gelu"),
                        number(root, file, "dropout", 0.1), number(root, file, "attention_dropout", 0.1),
                        integer(root, file, "max_position_embeddings", 512), 0, 1e-12,
                        integer(root, file, "pad_token_id", 0), number(root, file, "initializer_range", 0.02));
            }
            String pos = text(root, file, "position_embedding_type", "absolute");
            if (!pos.equals("absolute")) {
                throw new ModelDirectoryException(file, "unsupported position_embedding_type '" + pos + "' (only 'absolute')");
            }
            if (root.path("is_decoder").asBoolean(false) || root.path("add_cross_attention").asBoolean(false)) {
                throw new ModelDirectoryException(file, "decoder / cross-attention BERT configs are not supported");
            }
            return new BertConfig(type, integer(root, file, "vocab_size", null), integer(root, file, "hidden_size", 768),
                    integer(root, file, "num_hidden_layers", 12), integer(root, file, "num_attention_heads", 12),
                    integer(root, file, "intermediate_size", 3072), text(root, file, "hidden_act", "gelu"),
                    number(root, file, "hidden_dropout_prob", 0.1), number(root, file, "attention_probs_dropout_prob", 0.1),
                    integer(root, file, "max_position_embeddings", 512), integer(root, file, "type_vocab_size", 2),
                    number(root, file, "layer_norm_eps", 1e-12),
                    integer(root, file, "pad_token_id", family == Family.ROBERTA ? 1 : 0),
                    number(root, file, "initializer_range", 0.02));
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(file, e.getMessage());
        }
    }

    /** This config as a transformers-style {@code config.json} tree (DistilBERT's own names for DistilBERT). */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("model_type", modelType);
        o.put("vocab_size", vocabSize);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("pad_token_id", padTokenId);
        o.put("initializer_range", initializerRange);
        if (family() == Family.DISTILBERT) {
            o.put("dim", hiddenSize);
            o.put("n_layers", numHiddenLayers);
            o.put("n_heads", numAttentionHeads);
            o.put("hidden_dim", intermediateSize);
            o.put("activation", hiddenAct);
            o.put("dropout", hiddenDropoutProb);
            o.put("attention_dropout", attentionProbsDropoutProb);
            return o;
        }
        o.putArray("architectures").add(family() == Family.ROBERTA ? "RobertaModel" : "BertModel");
        o.put("hidden_size", hiddenSize);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("num_attention_heads", numAttentionHeads);
        o.put("intermediate_size", intermediateSize);
        o.put("hidden_act", hiddenAct);
        o.put("hidden_dropout_prob", hiddenDropoutProb);
        o.put("attention_probs_dropout_prob", attentionProbsDropoutProb);
        o.put("type_vocab_size", typeVocabSize);
        o.put("layer_norm_eps", layerNormEps);
        o.put("position_embedding_type", "absolute");
        return o;
    }

    private static int integer(JsonNode root, Path file, String key, Integer dflt) throws ModelDirectoryException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) {
            if (dflt == null) throw new ModelDirectoryException(file, "missing '" + key + "'");
            return dflt;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new ModelDirectoryException(file, "'" + key + "' must be an integer, found " + v);
        }
        return v.intValue();
    }

    private static double number(JsonNode root, Path file, String key, double dflt) throws ModelDirectoryException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new ModelDirectoryException(file, "'" + key + "' must be a number, found " + v);
        return v.doubleValue();
    }

    private static String text(JsonNode root, Path file, String key, String dflt) throws ModelDirectoryException {
        JsonNode v = root.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isTextual()) throw new ModelDirectoryException(file, "'" + key + "' must be a string, found " + v);
        return v.asText();
    }
}
