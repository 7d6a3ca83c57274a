package dev.attn4j.models.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.nn.Activation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code config.json} of a decoder-only causal language model (transformers'
 * {@code *ForCausalLM}), read with transformers' field names and defaults per {@code model_type},
 * and reduced to the few switches in which the families differ. One record covers:
 * <ul>
 *   <li>{@code llama}: RMSNorm, rotary positions ({@code rope_theta}, {@code rope_scaling}),
 *       grouped-query attention, SwiGLU, {@code attention_bias}, {@code mlp_bias}, {@code head_dim};</li>
 *   <li>{@code mistral}: Llama plus {@code sliding_window} on every layer;</li>
 *   <li>{@code qwen2}: q/k/v biases (not o), sliding window on the layers {@code layer_types} names;</li>
 *   <li>{@code qwen3}: Llama plus RMSNorm over each head of q and k ({@code q_norm}, {@code k_norm});</li>
 *   <li>{@code phi3}: fused {@code qkv_proj} and {@code gate_up_proj}, {@code partial_rotary_factor};</li>
 *   <li>{@code gemma}: embeddings times sqrt(hidden_size), RMSNorm with (1 + weight), GeGLU;</li>
 *   <li>{@code olmo}: LayerNorm without parameters, {@code clip_qkv};</li>
 *   <li>{@code gpt2}: learned positions, LayerNorm, Conv1D weights, GELU MLP (see {@code models.gpt2}).</li>
 * </ul>
 *
 * @param modelType             {@code model_type}
 * @param vocabSize             rows of the embedding table and logits per position
 * @param hiddenSize            C
 * @param intermediateSize      width of the MLP
 * @param numHiddenLayers       number of decoder layers
 * @param numAttentionHeads     query heads H
 * @param numKeyValueHeads      key/value heads (H for multi-head, fewer for grouped-query attention)
 * @param headDim               D (config {@code head_dim}, default C / H)
 * @param maxPositionEmbeddings the model's context
 * @param normEps               epsilon of every norm
 * @param norm                  which norm the layers use
 * @param mlp                   which MLP the layers use
 * @param hiddenAct             the MLP's activation (transformers' ACT2FN name)
 * @param qkvBias               whether q, k and v projections have biases
 * @param oBias                 whether the output projection has a bias
 * @param mlpBias               whether the MLP projections have biases
 * @param qkNorm                RMSNorm over each head of q and k before the rotation (Qwen3)
 * @param fusedQkv              one {@code qkv_proj} instead of q/k/v (Phi-3)
 * @param rope                  rotary positions, or null (GPT-2: learned positions)
 * @param slidingWindows        per layer the sliding window (keys j with i - j &lt; window), 0 = full attention
 * @param embedScale            multiply embeddings by sqrt(hidden_size) (Gemma)
 * @param clipQkv               clamp q, k, v to [-clip, clip] (OLMo), or null
 * @param attentionScale        softmax scale per layer: 1/sqrt(D), with GPT-2's options applied
 * @param tieWordEmbeddings     lm_head shares the embedding matrix
 * @param bosTokenId            may be null
 * @param eosTokenIds           possibly empty
 * @param padTokenId            may be null
 */
public record DecoderConfig(String modelType, int vocabSize, int hiddenSize, int intermediateSize, int numHiddenLayers,
                            int numAttentionHeads, int numKeyValueHeads, int headDim, int maxPositionEmbeddings,
                            double normEps, Norm norm, Mlp mlp, String hiddenAct, boolean qkvBias, boolean oBias,
                            boolean mlpBias, boolean qkNorm, boolean fusedQkv, RopeConfig rope, int[] slidingWindows,
                            boolean embedScale, Double clipQkv, double[] attentionScale, boolean tieWordEmbeddings,
                            Integer bosTokenId, int[] eosTokenIds, Integer padTokenId) {

    /** Norms of the layers and the final norm. */
    public enum Norm {
        /** x / rms(x) * w (Llama). */
        RMS,
        /** x / rms(x) * (1 + w) (Gemma). */
        RMS_PLUS_ONE,
        /** LayerNorm with weight and bias (GPT-2). */
        LAYER_NORM,
        /** LayerNorm without parameters, eps 1e-5 (OLMo). */
        LAYER_NORM_NO_AFFINE
    }

    /** MLP kinds. */
    public enum Mlp {
        /** down_proj(act(gate_proj x) * up_proj x): SwiGLU, GeGLU. */
        GATED,
        /** down_proj(act(gate) * up) with [gate, up] = gate_up_proj x (Phi-3). */
        GATED_FUSED,
        /** c_proj(act(c_fc x)) (GPT-2). */
        GPT2
    }

    /** Model types {@code dev.attn4j.models.DecoderModels.load} runs. */
    public static final List<String> SUPPORTED_TYPES = List.of("llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "olmo", "gpt2");

    public DecoderConfig {
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads "
                    + numKeyValueHeads);
        }
        if (!(normEps > 0)) throw new IllegalArgumentException("norm epsilon must be positive, got " + normEps);
        if (slidingWindows.length != numHiddenLayers || attentionScale.length != numHiddenLayers) {
            throw new IllegalArgumentException("sliding windows / attention scales: one per layer (" + numHiddenLayers + ") expected");
        }
        for (int w : slidingWindows) if (w < 0) throw new IllegalArgumentException("sliding_window must be positive, got " + w);
        Activation.byName(hiddenAct); // unknown names fail with the list of known ones
        slidingWindows = slidingWindows.clone();
        attentionScale = attentionScale.clone();
        eosTokenIds = eosTokenIds.clone();
    }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + " must be positive, got " + v);
    }

    /** Whether any layer has a sliding window. */
    public boolean hasSlidingWindow() {
        return Arrays.stream(slidingWindows).anyMatch(w -> w > 0);
    }

    /** Reads a config.json node of one of the {@link #SUPPORTED_TYPES}. */
    public static DecoderConfig fromJson(JsonNode n) {
        String type = n.path("model_type").asText("");
        if (!SUPPORTED_TYPES.contains(type)) {
            throw new IllegalArgumentException("unsupported model_type '" + type + "'; supported decoder types: " + SUPPORTED_TYPES);
        }
        if (type.equals("gpt2")) return gpt2(n);
        int c = req(n, "hidden_size"), h = req(n, "num_attention_heads"), layers = req(n, "num_hidden_layers");
        int kv = n.hasNonNull("num_key_value_heads") ? n.get("num_key_value_heads").asInt() : h;
        int defaultHeadDim = type.equals("gemma") ? 256 : type.equals("qwen3") ? 128 : c / h;
        int headDim = n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : defaultHeadDim;
        if (!n.hasNonNull("head_dim") && !type.equals("gemma") && !type.equals("qwen3") && c % h != 0) {
            throw new IllegalArgumentException("hidden_size " + c + " is not a multiple of num_attention_heads " + h + " and no head_dim");
        }
        int maxPos = n.path("max_position_embeddings").asInt(type.equals("gemma") || type.equals("phi3") || type.equals("olmo") ? 2048
                : type.equals("qwen2") || type.equals("qwen3") ? 32768 : type.equals("mistral") ? 4096 * 32 : 2048);
        boolean attnBias = n.path("attention_bias").asBoolean(false);
        boolean qkvBias = switch (type) {
            case "qwen2" -> true;
            case "mistral", "phi3" -> false;
            default -> attnBias;
        };
        boolean oBias = switch (type) {
            case "qwen2", "mistral", "phi3" -> false;
            default -> attnBias;
        };
        Norm norm = switch (type) {
            case "gemma" -> Norm.RMS_PLUS_ONE;
            case "olmo" -> Norm.LAYER_NORM_NO_AFFINE;
            default -> Norm.RMS;
        };
        double eps = type.equals("olmo") ? 1e-5 : n.path("rms_norm_eps").asDouble(1e-6);
        if (type.equals("llama") && !n.has("rms_norm_eps")) eps = 1e-6;
        String act = n.hasNonNull("hidden_act") ? n.get("hidden_act").asText() : type.equals("gemma") ? "gelu_pytorch_tanh" : "silu";
        int[] windows = new int[layers];
        Integer sw = n.hasNonNull("sliding_window") ? n.get("sliding_window").asInt() : null;
        if (type.equals("mistral") || type.equals("phi3")) {
            if (sw != null) Arrays.fill(windows, sw);
        } else if (type.equals("qwen2") || type.equals("qwen3")) {
            boolean use = n.path("use_sliding_window").asBoolean(false);
            JsonNode lt = n.get("layer_types");
            int maxWindowLayers = n.path("max_window_layers").asInt(28);
            for (int i = 0; i < layers; i++) {
                boolean sliding = lt != null && lt.isArray() && lt.size() == layers
                        ? lt.get(i).asText().equals("sliding_attention")
                        : use && sw != null && i >= maxWindowLayers;
                if (sliding && use && sw != null) windows[i] = sw;
            }
        }
        double partial = n.path("partial_rotary_factor").asDouble(1.0);
        RopeConfig rope = RopeConfig.fromJson(n, headDim, partial, maxPos);
        double[] scale = new double[layers];
        Arrays.fill(scale, 1 / Math.sqrt(headDim));
        boolean tieDefault = type.equals("gemma");
        return new DecoderConfig(type, req(n, "vocab_size"), c, req(n, "intermediate_size"), layers, h, kv, headDim, maxPos, eps, norm,
                type.equals("phi3") ? Mlp.GATED_FUSED : Mlp.GATED, act, qkvBias, oBias, n.path("mlp_bias").asBoolean(false),
                type.equals("qwen3"), type.equals("phi3"), rope, windows, type.equals("gemma"),
                n.hasNonNull("clip_qkv") ? n.get("clip_qkv").asDouble() : null, scale,
                n.path("tie_word_embeddings").asBoolean(tieDefault), intOrNull(n, "bos_token_id"), ids(n.get("eos_token_id")),
                intOrNull(n, "pad_token_id"));
    }

    private static DecoderConfig gpt2(JsonNode n) {
        int c = n.path("n_embd").asInt(768), h = n.path("n_head").asInt(12), layers = n.path("n_layer").asInt(12);
        if (c % h != 0) throw new IllegalArgumentException("n_embd " + c + " is not a multiple of n_head " + h);
        int inner = n.hasNonNull("n_inner") ? n.get("n_inner").asInt() : 4 * c;
        boolean scaleWeights = n.path("scale_attn_weights").asBoolean(true);
        boolean byLayer = n.path("scale_attn_by_inverse_layer_idx").asBoolean(false);
        double[] scale = new double[layers];
        for (int i = 0; i < layers; i++) {
            double s = scaleWeights ? 1 / Math.sqrt(c / h) : 1;
            scale[i] = byLayer ? s / (i + 1) : s;
        }
        return new DecoderConfig("gpt2", n.path("vocab_size").asInt(50257), c, inner, layers, h, h, c / h,
                n.path("n_positions").asInt(1024), n.path("layer_norm_epsilon").asDouble(1e-5), Norm.LAYER_NORM, Mlp.GPT2,
                n.path("activation_function").asText("gelu_new"), true, true, true, false, false, null, new int[layers], false,
                null, scale, n.path("tie_word_embeddings").asBoolean(true), intOrNull(n, "bos_token_id"),
                ids(n.get("eos_token_id")), intOrNull(n, "pad_token_id"));
    }

    private static int req(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || !v.canConvertToInt()) throw new IllegalArgumentException("config.json: missing or non-integer '" + key + "'");
        return v.asInt();
    }

    private static Integer intOrNull(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || !v.canConvertToInt() ? null : v.asInt();
    }

    private static int[] ids(JsonNode v) {
        if (v == null || v.isNull()) return new int[0];
        if (v.isArray()) {
            List<Integer> out = new ArrayList<>();
            v.forEach(e -> out.add(e.asInt()));
            return out.stream().mapToInt(Integer::intValue).toArray();
        }
        return new int[] {v.asInt()};
    }
}
