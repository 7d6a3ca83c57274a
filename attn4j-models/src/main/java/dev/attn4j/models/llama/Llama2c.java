package dev.attn4j.models.llama;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.models.Params;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.decoder.DecoderModel;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a llama2.c checkpoint (karpathy/llama2.c's legacy "version 0" export, as its {@code run.c}
 * reads it) into a Llama {@link DecoderModel} with transformers' key names: a header of seven
 * little-endian int32 ({@code dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len};
 * a negative vocab_size means an unshared classifier stored last), then float32 tensors in
 * PyTorch [out, in] layout: token embeddings, attention RMSNorm weights, wq, wk, wv, wo, FFN RMSNorm
 * weights, w1 (gate), w2 (down), w3 (up), the final RMSNorm weight, two RoPE tables (skipped) and
 * the optional classifier. llama2.c rotates adjacent pairs of each head; the q and k rows are
 * permuted per head to transformers' half rotation, as its {@code convert_llama_weights_to_hf.py}
 * does. Fixed settings: RMSNorm eps 1e-5, rope theta 10000, no biases, BOS 1.
 */
public final class Llama2c {
    private Llama2c() {
    }

    /** The model in {@code bin}, in eval mode. */
    public static DecoderModel load(Path bin) throws IOException {
        long size = Files.size(bin);
        if (size < 28) throw new ModelDirectoryException(bin, "llama2.c checkpoint: " + size + " bytes, shorter than its 28-byte header");
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(bin)).order(ByteOrder.LITTLE_ENDIAN);
        int dim = bytes.getInt(), hidden = bytes.getInt(), layers = bytes.getInt(), heads = bytes.getInt(), kvHeads = bytes.getInt();
        int vocabField = bytes.getInt(), seqLen = bytes.getInt();
        boolean shared = vocabField > 0;
        int vocab = Math.abs(vocabField);
        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab == 0 || seqLen <= 0 || dim % heads != 0
                || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
            throw new ModelDirectoryException(bin, "llama2.c checkpoint: inconsistent header dim=" + dim + " hidden_dim=" + hidden
                    + " n_layers=" + layers + " n_heads=" + heads + " n_kv_heads=" + kvHeads + " vocab_size=" + vocabField + " seq_len=" + seqLen);
        }
        int hs = dim / heads, kvDim = kvHeads * hs;
        long floats = (long) vocab * dim + (long) layers * (2L * dim + (long) dim * dim * 2 + 2L * dim * kvDim + 3L * dim * hidden) + dim
                + (long) seqLen * hs + (shared ? 0 : (long) vocab * dim);
        long expected = 28 + 4 * floats;
        if (size != expected) {
            throw new ModelDirectoryException(bin, "llama2.c checkpoint: " + size + " bytes, but its header (dim " + dim + ", " + layers
                    + " layers, vocab " + vocabField + ", seq_len " + seqLen + ") gives " + expected);
        }
        FloatBuffer f = bytes.slice(28, (int) (size - 28)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        Map<String, NDArray> w = new HashMap<>();
        NDArray emb = take(f, vocab, dim);
        w.put("model.embed_tokens.weight", emb);
        NDArray rmsAtt = take(f, layers, dim), wq = take(f, layers, dim, dim), wk = take(f, layers, kvDim, dim),
                wv = take(f, layers, kvDim, dim), wo = take(f, layers, dim, dim), rmsFfn = take(f, layers, dim),
                w1 = take(f, layers, hidden, dim), w2 = take(f, layers, dim, hidden), w3 = take(f, layers, hidden, dim);
        w.put("model.norm.weight", take(f, dim));
        take(f, seqLen, hs / 2);                                                    // freq_cis_real (recomputed)
        take(f, seqLen, hs / 2);                                                    // freq_cis_imag
        if (!shared) w.put("lm_head.weight", take(f, vocab, dim));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", rmsAtt.select(0, l));
            w.put(p + "post_attention_layernorm.weight", rmsFfn.select(0, l));
            w.put(p + "self_attn.q_proj.weight", halfRotation(wq.select(0, l), heads));
            w.put(p + "self_attn.k_proj.weight", halfRotation(wk.select(0, l), kvHeads));
            w.put(p + "self_attn.v_proj.weight", wv.select(0, l));
            w.put(p + "self_attn.o_proj.weight", wo.select(0, l));
            w.put(p + "mlp.gate_proj.weight", w1.select(0, l));
            w.put(p + "mlp.down_proj.weight", w2.select(0, l));
            w.put(p + "mlp.up_proj.weight", w3.select(0, l));
        }
        ObjectNode c = new ObjectMapper().createObjectNode();
        c.put("model_type", "llama").put("vocab_size", vocab).put("hidden_size", dim).put("intermediate_size", hidden)
                .put("num_hidden_layers", layers).put("num_attention_heads", heads).put("num_key_value_heads", kvHeads)
                .put("max_position_embeddings", seqLen).put("rms_norm_eps", 1e-5).put("rope_theta", 10000.0)
                .put("tie_word_embeddings", shared).put("bos_token_id", 1);
        DecoderModel model = new DecoderModel(DecoderConfig.fromJson(c), new MapParams("", w));
        model.eval();
        return model;
    }

    private static NDArray take(FloatBuffer f, int... shape) {
        int n = Shape.of(shape).numel();
        float[] a = new float[n];
        f.get(a);
        return NDArray.of(a, shape);
    }

    /** Rows [h hs + 2i + e] -> [h hs + e hs/2 + i]: adjacent pairs to halves, per head. */
    static NDArray halfRotation(NDArray w, int heads) {
        int out = w.dim(0), in = w.dim(1), hs = out / heads;
        NDArray r = NDArray.zeros(Shape.of(out, in));
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hs / 2; i++) {
                for (int e = 0; e < 2; e++) r.select(0, h * hs + e * hs / 2 + i).copyFrom(w.select(0, h * hs + 2 * i + e));
            }
        }
        return r;
    }

    /** Params over an in-memory map of full key names; a missing or misshapen key is an error. */
    private static final class MapParams extends Params {
        private final Map<String, NDArray> map;

        MapParams(String prefix, Map<String, NDArray> map) {
            super(prefix);
            this.map = map;
        }

        @Override
        public Params at(String name) {
            return new MapParams(key(name) + ".", map);
        }

        @Override
        public NDArray get(String name, Init init, boolean mapped, int... shape) {
            NDArray a = map.get(key(name));
            if (a == null) throw new IllegalStateException("llama2.c: no tensor for " + key(name));
            if (!a.shape().equals(Shape.of(shape))) {
                throw new IllegalStateException("llama2.c: " + key(name) + " is " + a.shape() + ", expected " + Shape.of(shape));
            }
            return a.contiguous();
        }

        @Override
        public boolean has(String name) {
            return map.containsKey(key(name));
        }
    }
}
