package dev.attn4j.models.gguf;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.gguf.GgmlType;
import dev.attn4j.io.gguf.GgufValue;
import dev.attn4j.io.gguf.GgufWriter;
import dev.attn4j.kernels.Quants;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderAttention;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.decoder.RopeConfig;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import dev.attn4j.tensor.Storage;
import dev.attn4j.tokenizers.GgufVocab;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Writes a decoder as a GGUF file llama.cpp loads (the inverse of {@link GgufDecoders}): its
 * metadata keys, tensor names, the q / k row permutation of the llama family, Gemma's 1 + w norms,
 * GPT-2's Conv1D transposition, Llama 3 rope scaling as {@code rope_freqs.weight}, and the
 * tokenizer of the model directory ({@link GgufVocab#write}). Linear weights are quantized to
 * {@code type} (rows not a multiple of its block size stay F16); the output projection gets Q6_K
 * for the 4-bit types (as llama.cpp's k-quant mixes do) and is written even for tied models (a
 * quantized {@code output.weight}, the embedding table staying F16); embeddings are F16, norms and
 * biases F32. With {@code type} null every weight keeps a float type (F16 / BF16 as stored, F32).
 * The file is written atomically.
 */
public final class GgufExport {
    private GgufExport() {
    }

    /** The architecture name llama.cpp knows the model type by. */
    static String architecture(DecoderConfig c) {
        return switch (c.modelType()) {
            case "mistral" -> "llama";
            case "llama", "qwen2", "qwen3", "gemma", "phi3", "gpt2" -> c.modelType();
            default -> throw new IllegalArgumentException("model_type '" + c.modelType() + "' has no GGUF architecture (supported: "
                    + GgufDecoders.ARCHITECTURES + ")");
        };
    }

    /** Writes {@code model} (tokenizer from {@code tokenizerDir}, may be null) to {@code out}. */
    public static void write(CausalDecoder model, QuantType type, Path tokenizerDir, Path out) throws IOException {
        write(model, type, tokenizerDir, false, out);
    }

    /**
     * As {@link #write(CausalDecoder, QuantType, Path, Path)}; without a tokenizer directory and
     * with {@code placeholderVocab}, the file gets {@link GgufVocab#writePlaceholder}'s vocabulary
     * of the model's size instead (a random-weight model that llama.cpp is to load).
     */
    public static void write(CausalDecoder model, QuantType type, Path tokenizerDir, boolean placeholderVocab, Path out) throws IOException {
        DecoderConfig c = model.config();
        String arch = architecture(c), a = arch + ".";
        for (double scale : c.attentionScale()) {
            if (Math.abs(scale - 1 / Math.sqrt(c.headDim())) > 1e-12) {
                throw new IllegalArgumentException("the model scales attention by " + scale + " in some layer, not 1/sqrt(head_dim) (GPT-2's "
                        + "scale_attn_by_inverse_layer_idx or scale_attn_weights=false): GGUF has no key for that");
            }
        }
        if (c.clipQkv() != null || c.norm() == DecoderConfig.Norm.LAYER_NORM_NO_AFFINE) {
            throw new IllegalArgumentException("model_type '" + c.modelType() + "' has no GGUF architecture attn4j writes");
        }
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", arch);
        w.putString("general.name", out.getFileName().toString().replaceFirst("\\.gguf$", ""));
        if (c.mlp() == DecoderConfig.Mlp.GPT2) {
            w.putU32(a + "context_length", c.maxPositionEmbeddings());
            w.putU32(a + "embedding_length", c.hiddenSize());
            w.putU32(a + "block_count", c.numHiddenLayers());
            w.putU32(a + "feed_forward_length", c.intermediateSize());
            w.putU32(a + "attention.head_count", c.numAttentionHeads());
            w.putF32(a + "attention.layer_norm_epsilon", (float) c.normEps());
        } else {
            w.putU32(a + "context_length", c.maxPositionEmbeddings());
            w.putU32(a + "embedding_length", c.hiddenSize());
            w.putU32(a + "block_count", c.numHiddenLayers());
            w.putU32(a + "feed_forward_length", c.intermediateSize());
            w.putU32(a + "attention.head_count", c.numAttentionHeads());
            w.putU32(a + "attention.head_count_kv", c.numKeyValueHeads());
            w.putU32(a + "attention.key_length", c.headDim());
            w.putU32(a + "attention.value_length", c.headDim());
            w.putF32(a + "attention.layer_norm_rms_epsilon", (float) c.normEps());
            RopeConfig r = c.rope();
            w.putF32(a + "rope.freq_base", (float) r.theta());
            w.putU32(a + "rope.dimension_count", r.dim());
            int window = c.slidingWindows().length > 0 ? c.slidingWindows()[0] : 0;
            if (window > 0) w.putU32(a + "attention.sliding_window", window);
            switch (r.type()) {
                case "default" -> { }
                case "linear", "yarn" -> {
                    w.putString(a + "rope.scaling.type", r.type());
                    w.putF32(a + "rope.scaling.factor", (float) r.factor());
                    w.putU32(a + "rope.scaling.original_context_length", r.originalMaxPositionEmbeddings());
                }
                case "llama3" -> {
                    double[] inv = r.invFreq(1);
                    float[] factors = new float[inv.length];
                    for (int i = 0; i < inv.length; i++) factors[i] = (float) (Math.pow(r.theta(), -2.0 * i / r.dim()) / inv[i]);
                    w.addF32("rope_freqs.weight", factors, factors.length);
                }
                case "longrope" -> {
                    if (r.originalMaxPositionEmbeddings() != Integer.MAX_VALUE || !java.util.Arrays.equals(r.longFactor(), r.shortFactor())) {
                        throw new IllegalArgumentException("longrope scaling cannot be written to GGUF by attn4j");
                    }
                    float[] factors = new float[r.longFactor().length];                    // read from a GGUF's rope_freqs
                    for (int i = 0; i < factors.length; i++) factors[i] = (float) r.longFactor()[i];
                    w.addF32("rope_freqs.weight", factors, factors.length);
                }
                default -> throw new IllegalArgumentException("rope type '" + r.type() + "' cannot be written to GGUF by attn4j");
            }
        }
        if (tokenizerDir == null && placeholderVocab) {
            GgufVocab.writePlaceholder(w, c.vocabSize());
        } else if (tokenizerDir == null || !GgufVocab.write(tokenizerDir, w, c.bosTokenId(), c.eosTokenIds())) {
            if (c.bosTokenId() != null) w.putU32("tokenizer.ggml.bos_token_id", c.bosTokenId());
            if (c.eosTokenIds().length > 0) w.putU32("tokenizer.ggml.eos_token_id", c.eosTokenIds()[0]);
        }
        Map<Tensor, String> linearWeights = new IdentityHashMap<>();
        Set<Tensor> embeddings = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            if (e.getValue() instanceof Linear l) linearWeights.put(l.weight, e.getKey());
            if (e.getValue() instanceof Embedding em) embeddings.add(em.weight);
        }
        String mt = c.modelType();
        Set<Tensor> inRopePairs = java.util.Collections.newSetFromMap(new IdentityHashMap<>());   // read from a GGUF: already in its order
        for (Module mod : model.namedModules().values()) {
            if (mod instanceof DecoderAttention att) {
                if (att.qInRopePairs) addWeightAndBias(inRopePairs, att.qProj);
                if (att.kInRopePairs) addWeightAndBias(inRopePairs, att.kProj);
            }
        }
        for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
            String hf = e.getKey();
            if (hf.equals("lm_head.weight") && c.tieWordEmbeddings()) continue;             // the embedding table, written below
            String name = GgufNames.toGguf(mt, hf);
            if (name == null) throw new IllegalArgumentException("parameter '" + hf + "' has no GGUF name");
            NDArray v = e.getValue().data();
            boolean conv = GgufNames.isConv1D(mt, hf);
            boolean linear = linearWeights.containsKey(e.getValue()) || conv;
            boolean embedding = embeddings.contains(e.getValue());
            if (linear || embedding) {
                NDArray wt = conv ? v.to(DType.F32).transpose(0, 1).contiguous() : v;                 // [out, in]
                if (GgufNames.isPermuted(mt, hf) && !inRopePairs.contains(e.getValue())) wt = unpermute(wt, GgufNames.isKey(hf) ? c.numKeyValueHeads() : c.numAttentionHeads());
                QuantType qt = embedding ? null : name.equals("output.weight") && type != null && type != QuantType.Q8_0 ? QuantType.Q6_K : type;
                addMatrix(w, name, wt, qt);
                if (name.equals("token_embd.weight") && c.tieWordEmbeddings() && type != null) {
                    addMatrix(w, "output.weight", wt, type == QuantType.Q8_0 ? QuantType.Q8_0 : QuantType.Q6_K);
                }
            } else {
                float[] f = v.to(DType.F32).contiguous().toFloatArray();
                if (GgufNames.isPermuted(mt, hf) && !inRopePairs.contains(e.getValue())) {
                    f = unpermute(NDArray.of(f, v.shape().toArray()), GgufNames.isKey(hf) ? c.numKeyValueHeads() : c.numAttentionHeads())
                            .toFloatArray();
                }
                if (mt.equals("gemma") && hf.endsWith("norm.weight")) for (int i = 0; i < f.length; i++) f[i] += 1f;
                w.addF32(name, f, java.util.Arrays.stream(v.shape().toArray()).asLongStream().toArray());
            }
        }
        w.write(out);
    }

    private static void addWeightAndBias(Set<Tensor> set, Linear l) {
        set.add(l.weight);
        if (l.bias != null) set.add(l.bias);
    }

    /** HF rows to GGUF rows: GGUF row permutedRow(r) holds HF row r. */
    private static NDArray unpermute(NDArray w, int heads) {
        if (w.storage() instanceof Storage.Quantized q && w.offset() == 0 && w.isContiguous()) {   // whole rows of blocks move
            QuantizedMatrix m = q.matrix(), out = QuantizedMatrix.heap(m.type(), m.rows(), m.cols());
            long rb = m.rowBytes();
            for (int r = 0; r < m.rows(); r++) {
                MemorySegment.copy(m.data(), r * rb, out.data(), GgufNames.permutedRow(r, m.rows(), heads) * rb, rb);
            }
            return NDArray.of(out);
        }
        NDArray src = w.dtype() == DType.QUANTIZED ? w.to(DType.F32) : w;
        NDArray out = NDArray.zeros(src.dtype(), src.shape());
        int rows = src.dim(0);
        for (int r = 0; r < rows; r++) out.narrow(0, GgufNames.permutedRow(r, rows, heads), 1).copyFrom(src.narrow(0, r, 1));
        return out;
    }

    private static void addMatrix(GgufWriter w, String name, NDArray wt, QuantType qt) {
        int rows = wt.dim(0), cols = wt.dim(1);
        long[] shape = {rows, cols};
        if (wt.storage() instanceof Storage.Quantized q && wt.offset() == 0 && (qt == null || q.matrix().type() == qt)) {
            w.addQuantized(name, q.matrix());                                              // already in the blocks wanted
            return;
        }
        if (qt != null && cols % qt.blockSize() == 0) {
            // in slabs of rows, so that a large matrix (a 128K-token output layer) never exists whole in F32
            QuantizedMatrix m = QuantizedMatrix.heap(qt, rows, cols);
            int slab = Math.max(1, (1 << 22) / cols);
            for (int r0 = 0; r0 < rows; r0 += slab) {
                int n = Math.min(slab, rows - r0);
                float[] f = wt.narrow(0, r0, n).to(DType.F32).contiguous().toFloatArray();
                MemorySegment.copy(Quants.quantize(qt, f, 0, n, cols).data(), 0, m.data(), r0 * m.rowBytes(), n * m.rowBytes());
            }
            w.addQuantized(name, m);
            return;
        }
        if (wt.dtype() == DType.BF16 && qt == null) {
            w.addTensor(name, GgmlType.BF16, shape, bits(wt.contiguous()));
            return;
        }
        NDArray h = wt.to(DType.F16);
        w.addTensor(name, GgmlType.F16, shape, bits(h));
    }

    private static MemorySegment bits(NDArray h) {
        Storage.Halfs s = (Storage.Halfs) h.storage();
        int n = h.numel();
        MemorySegment out = MemorySegment.ofArray(new byte[n * 2]);
        var le = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) out.setAtIndex(le, i, s.getBits(h.offset() + i));
        return out;
    }

    /** Used by tests: a GGUF value for the writer's u32. */
    static GgufValue u32(long v) {
        return GgufValue.ofU32(v);
    }
}
