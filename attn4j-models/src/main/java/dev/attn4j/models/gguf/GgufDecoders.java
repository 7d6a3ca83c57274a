package dev.attn4j.models.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.io.gguf.GgufException;
import dev.attn4j.io.gguf.GgufFile;
import dev.attn4j.io.gguf.GgufTensorInfo;
import dev.attn4j.io.gguf.GgufValue;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.decoder.RopeConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decoder-only LMs from GGUF files (llama.cpp's format): {@code general.architecture} llama,
 * mistral, qwen2, qwen3, gemma, phi3 or gpt2 becomes the {@link DecoderConfig} of the same
 * transformers {@code model_type} (from llama.cpp's metadata keys: {@code llama.context_length},
 * {@code llama.embedding_length}, {@code llama.rope.freq_base}, ...), built as the existing model
 * classes from the file's tensors ({@link GgufParams}: quantized weights stay quantized and run
 * through {@code Kernels.gemmQ}; llama.cpp's q / k row permutation, Gemma's 1 + w norms and
 * GPT-2's transposed Conv1D weights undone). A {@code rope_freqs.weight} tensor (llama.cpp's form
 * of Llama 3's rope scaling) divides the rotary frequencies. The file stays mapped until the
 * model is closed.
 */
public final class GgufDecoders {
    /** Architectures {@link #load} maps. */
    public static final List<String> ARCHITECTURES = List.of("llama", "mistral", "qwen2", "qwen3", "gemma", "phi3", "gpt2");

    private GgufDecoders() {
    }

    /** Whether {@code path} names a GGUF file (by its magic). */
    public static boolean isGguf(Path path) {
        if (!java.nio.file.Files.isRegularFile(path)) return false;
        try (var in = java.nio.file.Files.newInputStream(path)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'G' && m[1] == 'G' && m[2] == 'U' && m[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    /** Loads the model in GGUF file {@code path} in eval mode; every problem is one GgufException naming the file. */
    public static CausalDecoder load(Path path) throws IOException {
        GgufFile f = GgufFile.open(path);
        try {
            DecoderConfig config = config(f);
            GgufParams params = new GgufParams(f, config);
            CausalDecoder model;
            try {
                model = DecoderModels.create(config, params);
            } catch (IllegalArgumentException e) {
                throw new GgufException(path, e.getMessage());
            }
            Set<String> ignored = new HashSet<>(Set.of("rope_freqs.weight"));
            String problems = params.problems(ignored);
            if (problems != null) throw new GgufException(path, "tensors do not fit the " + config.modelType() + " model: " + problems);
            model.attachResource(f);
            model.eval();
            return model;
        } catch (IOException | RuntimeException | Error e) {
            f.close();
            throw e;
        }
    }

    /** The config of a GGUF file's metadata, as the transformers config.json the file was converted from. */
    public static DecoderConfig config(GgufFile f) throws GgufException {
        String arch = string(f, "general.architecture");
        if (!ARCHITECTURES.contains(arch)) {
            throw new GgufException(f.path(), "general.architecture '" + arch + "' is not supported; supported: " + ARCHITECTURES);
        }
        ObjectNode n = new ObjectMapper().createObjectNode();
        // llama.cpp writes Mistral as llama; its sliding window says which
        n.put("model_type", arch.equals("llama") && f.get("llama.attention.sliding_window") != null ? "mistral" : arch);
        GgufTensorInfo emb = f.tensors().get("token_embd.weight");
        if (emb == null) throw new GgufException(f.path(), "no token_embd.weight tensor");
        long vocab = emb.shape()[0];
        boolean tied = !f.tensors().containsKey("output.weight");
        String a = arch + ".";
        try {
            if (arch.equals("gpt2")) {
                n.put("vocab_size", vocab);
                n.put("n_embd", u(f, a + "embedding_length"));
                n.put("n_head", u(f, a + "attention.head_count"));
                n.put("n_layer", u(f, a + "block_count"));
                n.put("n_positions", u(f, a + "context_length"));
                n.put("n_inner", u(f, a + "feed_forward_length"));
                n.put("layer_norm_epsilon", d(f, a + "attention.layer_norm_epsilon", 1e-5));
                n.put("activation_function", "gelu_new");
                n.put("tie_word_embeddings", tied);
            } else {
                long c = u(f, a + "embedding_length"), h = u(f, a + "attention.head_count");
                n.put("vocab_size", vocab);
                n.put("hidden_size", c);
                n.put("intermediate_size", u(f, a + "feed_forward_length"));
                n.put("num_hidden_layers", u(f, a + "block_count"));
                n.put("num_attention_heads", h);
                n.put("num_key_value_heads", f.get(a + "attention.head_count_kv") != null ? u(f, a + "attention.head_count_kv") : h);
                long headDim = f.get(a + "attention.key_length") != null ? u(f, a + "attention.key_length") : c / h;
                n.put("head_dim", headDim);
                n.put("max_position_embeddings", u(f, a + "context_length"));
                n.put("rms_norm_eps", d(f, a + "attention.layer_norm_rms_epsilon", 1e-6));
                n.put("rope_theta", d(f, a + "rope.freq_base", 10000.0));
                if (f.get(a + "rope.dimension_count") != null) {
                    n.put("partial_rotary_factor", (double) u(f, a + "rope.dimension_count") / headDim);
                }
                GgufValue scaling = f.get(a + "rope.scaling.type");
                if (scaling != null && !scaling.asString().equals("none")) {
                    ObjectNode s = n.putObject("rope_scaling");
                    s.put("rope_type", scaling.asString());
                    s.put("factor", d(f, a + "rope.scaling.factor", 1.0));
                    if (f.get(a + "rope.scaling.original_context_length") != null) {
                        s.put("original_max_position_embeddings", u(f, a + "rope.scaling.original_context_length"));
                    }
                }
                if (f.get(a + "attention.sliding_window") != null) {
                    n.put("sliding_window", u(f, a + "attention.sliding_window"));
                    n.put("use_sliding_window", true);
                }
                n.put("attention_bias", f.tensors().containsKey("blk.0.attn_q.bias") || f.tensors().containsKey("blk.0.attn_output.bias"));
                n.put("mlp_bias", f.tensors().containsKey("blk.0.ffn_up.bias"));
                n.put("tie_word_embeddings", tied);
            }
            if (f.get("tokenizer.ggml.bos_token_id") != null) n.put("bos_token_id", u(f, "tokenizer.ggml.bos_token_id"));
            if (f.get("tokenizer.ggml.eos_token_id") != null) n.put("eos_token_id", u(f, "tokenizer.ggml.eos_token_id"));
            if (f.get("tokenizer.ggml.padding_token_id") != null) n.put("pad_token_id", u(f, "tokenizer.ggml.padding_token_id"));
            DecoderConfig config = DecoderConfig.fromJson(n);
            GgufTensorInfo freqs = f.tensors().get("rope_freqs.weight");
            if (freqs != null && config.rope() != null) config = withFrequencyDivisors(config, f, freqs);
            return config;
        } catch (IllegalArgumentException e) {
            throw new GgufException(f.path(), "metadata of a '" + arch + "' model: " + e.getMessage());
        }
    }

    /**
     * llama.cpp's rope_freqs: inv_freq[i] / factor[i]. A rope of type longrope with equal long and
     * short factors and attention factor 1 computes exactly that (no switch, no scaling).
     */
    private static DecoderConfig withFrequencyDivisors(DecoderConfig c, GgufFile f, GgufTensorInfo t) throws GgufException {
        RopeConfig r = c.rope();
        float[] fac = f.array(t.name()).to(dev.attn4j.tensor.DType.F32).toFloatArray();
        if (fac.length != r.dim() / 2) {
            throw new GgufException(f.path(), "rope_freqs.weight has " + fac.length + " factors, the rotary dimension " + r.dim() + " needs "
                    + r.dim() / 2);
        }
        double[] d = new double[fac.length];
        for (int i = 0; i < d.length; i++) d[i] = fac[i];
        RopeConfig rope = new RopeConfig("longrope", r.theta(), r.dim(), r.maxPositionEmbeddings(), 1, Integer.MAX_VALUE, 1, 4, 1.0,
                32, 1, null, null, true, d, d.clone());
        return new DecoderConfig(c.modelType(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.maxPositionEmbeddings(), c.normEps(), c.norm(), c.mlp(),
                c.hiddenAct(), c.qkvBias(), c.oBias(), c.mlpBias(), c.qkNorm(), c.fusedQkv(), rope, c.slidingWindows(), c.embedScale(),
                c.clipQkv(), c.attentionScale(), c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), c.padTokenId());
    }

    private static String string(GgufFile f, String key) throws GgufException {
        GgufValue v = f.get(key);
        if (v == null) throw new GgufException(f.path(), "missing metadata '" + key + "'");
        try {
            return v.asString();
        } catch (RuntimeException e) {
            throw new GgufException(f.path(), "metadata '" + key + "' is " + v.type() + ", not a string");
        }
    }

    private static long u(GgufFile f, String key) throws GgufException {
        GgufValue v = f.get(key);
        if (v == null) throw new GgufException(f.path(), "missing metadata '" + key + "'");
        try {
            long x = v.asLong();
            if (x < 0 || x > Integer.MAX_VALUE) throw new GgufException(f.path(), "metadata '" + key + "' = " + x + " is out of range");
            return x;
        } catch (RuntimeException e) {
            throw new GgufException(f.path(), "metadata '" + key + "' is " + v.type() + ", not an integer");
        }
    }

    private static double d(GgufFile f, String key, double dflt) throws GgufException {
        GgufValue v = f.get(key);
        if (v == null) return dflt;
        try {
            return v.asDouble();
        } catch (RuntimeException e) {
            throw new GgufException(f.path(), "metadata '" + key + "' is " + v.type() + ", not a number");
        }
    }

    /** Metadata for tests and tools: the file's key/values. */
    static Map<String, GgufValue> metadata(GgufFile f) {
        return f.metadata();
    }
}
