package dev.attn4j.models.bert;

import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.kernels.Quants;
import dev.attn4j.models.CheckpointParams;
import dev.attn4j.nn.Linear;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Loads BERT-family encoders from model directories in Hugging Face layout ({@code config.json}
 * plus {@code model.safetensors} or a sharded {@code model.safetensors.index.json}), like
 * {@code AutoModel.from_pretrained} for the types in {@link BertConfig#SUPPORTED_TYPES}.
 *
 * <p>Keys may carry the prefix of a task model ({@code bert.}, {@code roberta.},
 * {@code distilbert.}, ...: whatever precedes {@code embeddings.word_embeddings.weight}). Known
 * unused keys are skipped and listed in {@link EncoderModel#loadReport()}: task heads
 * ({@code cls.*}, {@code lm_head.*}, {@code classifier.*}, ...), {@code embeddings.position_ids}.
 * A checkpoint without {@code pooler.*} gives a model without pooler. Any other missing or
 * unexpected key, or a wrong shape, is an error naming every such key. Weights are memory-mapped:
 * F32 embedding tables are read in place, the matrices are copied to the heap once (what the
 * GEMM kernels read); F16 and BF16 are converted to F32.
 */
public final class BertModels {
    private BertModels() {
    }

    private static final String WORD_EMBEDDINGS = "embeddings.word_embeddings.weight";
    /** First key components of task heads that an encoder does not use. */
    static final Set<String> HEAD_PREFIXES = Set.of("cls", "lm_head", "classifier", "pre_classifier", "qa_outputs",
            "vocab_transform", "vocab_layer_norm", "vocab_projector", "dropout", "score", "discriminator_predictions");
    /** Keys under the encoder prefix that hold buffers transformers recomputes. */
    static final Set<String> UNUSED_BUFFERS = Set.of("embeddings.position_ids", "embeddings.token_type_ids");

    /** Loads the model in {@code dir} in eval mode. */
    public static EncoderModel load(Path dir) throws IOException {
        return load(ModelDirectory.of(dir));
    }

    /** Loads the model in {@code dir} in eval mode. */
    public static EncoderModel load(ModelDirectory dir) throws IOException {
        Path configFile = dir.requireFile(ModelDirectory.CONFIG);
        BertConfig config = BertConfig.fromJson(dir.config(), configFile);
        List<Path> files = dir.weightFiles();
        Path weights = files.size() == 1 && !dir.has(ModelDirectory.WEIGHTS_INDEX) ? files.get(0)
                : dir.file(ModelDirectory.WEIGHTS).orElse(dir.requireFile(ModelDirectory.WEIGHTS_INDEX));
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(weights);
        try {
            EncoderModel model = build(config, ckpt, weights);
            model.eval();
            return model;
        } catch (IOException | RuntimeException | Error e) {
            ckpt.close();
            throw e;
        }
    }

    /**
     * Loads the model in {@code dir} in eval mode; with {@code quantize} non-null its encoder's
     * linear weights are quantized on load ({@link #quantize}).
     */
    public static EncoderModel load(ModelDirectory dir, QuantType quantize) throws IOException {
        EncoderModel model = load(dir);
        if (quantize == null) return model;
        try {
            quantize(model, quantize);
            return model;
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    /**
     * Quantizes the linear weights of {@code model}'s encoder layers (attention query / key / value
     * and output, intermediate and output dense; DistilBERT's q_lin ... lin2) to {@code type} in
     * place and freezes them, as {@code --quantize} does on load. Each becomes a QUANTIZED array
     * (W [out, in] in blocks, ggml's layout) that inference reads through {@code Kernels.gemmQBiasResidual};
     * the F32 weights are dropped (nothing else holds them). A BERT layer's query, key and value
     * weights are quantized into one array, one after another, so inference still projects them
     * in one product. Embeddings, LayerNorms, biases and the pooler stay F32, as do weights whose
     * {@code in_features} is not a multiple of the type's block size (32; 256 for the k-quants).
     * Returns the number of weights quantized.
     */
    public static int quantize(EncoderModel model, QuantType type) {
        if (type == null) throw new IllegalArgumentException("quantize: type is null");
        int n = 0;
        for (var e : model.namedModules().entrySet()) {
            if (e.getValue() instanceof BertSelfAttention sa) n += quantizeJointly(List.of(sa.query, sa.key, sa.value), type);
        }
        for (var e : model.namedModules().entrySet()) {
            if (!(e.getValue() instanceof Linear lin) || e.getKey().startsWith("pooler.")) continue;
            n += quantizeJointly(List.of(lin), type);
        }
        return n;
    }

    /** Quantizes {@code lins} (same [out, in]) into consecutive slices of one array; 0 when any is quantized already or does not fit. */
    private static int quantizeJointly(List<Linear> lins, QuantType type) {
        Linear first = lins.get(0);
        int in = first.inFeatures, out = first.outFeatures;
        for (Linear l : lins) {
            if (l.weight.dtype() == DType.QUANTIZED || l.inFeatures != in || l.outFeatures != out || in % type.blockSize() != 0) return 0;
            if (l.lora() != null && !l.lora().merged()) {
                throw new IllegalArgumentException("quantize: a LoRA adapter is attached and not merged; merge it first");
            }
        }
        int rows = Math.multiplyExact(out, lins.size());
        float[] w = new float[Math.multiplyExact(rows, in)];                              // [n out, in] row-major
        for (int i = 0; i < lins.size(); i++) {
            NDArray wi = lins.get(i).weight.data().to(DType.F32).contiguous();              // [out, in]
            System.arraycopy(wi.floatArray(), wi.offset(), w, i * out * in, out * in);
        }
        QuantizedMatrix all = Quants.quantize(type, w, 0, rows, in);                      // one heap byte[]
        long bytes = type.rowBytes(in) * (long) out;
        for (int i = 0; i < lins.size(); i++) {
            QuantizedMatrix qi = new QuantizedMatrix(type, out, in, all.data().asSlice(i * bytes, bytes));
            Linear l = lins.get(i);
            l.weight.requiresGrad(false);
            l.weight.setData(NDArray.of(qi));                                              // [out, in] blocks
        }
        return lins.size();
    }

    /** Builds a model of {@code config} over an open checkpoint; the model takes ownership of it. */
    static EncoderModel build(BertConfig config, SafetensorsCheckpoint ckpt, Path where) throws ModelDirectoryException {
        String prefix = findPrefix(ckpt, where);
        List<String> ignored = new ArrayList<>();
        for (String name : ckpt.names()) {
            String inner = name.startsWith(prefix) ? name.substring(prefix.length()) : null;
            if (inner != null && UNUSED_BUFFERS.contains(inner)) ignored.add(name);
            else if (inner == null || HEAD_PREFIXES.contains(firstComponent(inner))) {
                if (HEAD_PREFIXES.contains(firstComponent(name))) ignored.add(name);
            }
        }
        CheckpointParams params = new CheckpointParams(ckpt, prefix);
        SplittableRandom rng = new SplittableRandom();
        EncoderModel model;
        try {
            model = config.family() == BertConfig.Family.DISTILBERT ? new DistilBertModel(config, params, rng)
                    : new BertModel(config, params, params.at("pooler").at("dense").has("weight"), rng);
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(where, e.getMessage(), e);
        }
        String problems = params.problems(Set.copyOf(ignored));
        if (problems != null) {
            throw new ModelDirectoryException(where, "weights do not fit the " + config.modelType() + " config"
                    + (prefix.isEmpty() ? "" : " (key prefix '" + prefix + "')") + ": " + problems);
        }
        TreeSet<String> dtypes = new TreeSet<>();
        for (String k : params.usedKeys()) {
            try {
                dtypes.add(ckpt.info(k).dtype().name());
            } catch (IOException e) {
                throw new ModelDirectoryException(where, e.getMessage(), e);
            }
        }
        var report = new EncoderModel.LoadReport(where.toString(), prefix, List.copyOf(ignored), List.copyOf(dtypes));
        if (params.holdsViews()) {
            model.attach(ckpt, report);
        } else {
            // Heap copies only: unmap the file now (its pages would count in the process's RSS).
            try {
                ckpt.close();
            } catch (RuntimeException e) {
                throw new ModelDirectoryException(where, "closing the checkpoint: " + e.getMessage(), e);
            }
            model.attach(null, report);
        }
        return model;
    }

    private static String firstComponent(String key) {
        int dot = key.indexOf('.');
        return dot < 0 ? key : key.substring(0, dot);
    }

    /** What precedes {@code embeddings.word_embeddings.weight}: "" or e.g. "bert.". */
    static String findPrefix(SafetensorsCheckpoint ckpt, Path where) throws ModelDirectoryException {
        List<String> prefixes = new ArrayList<>();
        for (String name : ckpt.names()) {
            if (name.equals(WORD_EMBEDDINGS)) prefixes.add("");
            else if (name.endsWith("." + WORD_EMBEDDINGS)) prefixes.add(name.substring(0, name.length() - WORD_EMBEDDINGS.length()));
        }
        if (prefixes.isEmpty()) {
            throw new ModelDirectoryException(where, "no tensor '" + WORD_EMBEDDINGS + "' (with or without a prefix such as 'bert.'); "
                    + "not a BERT-family checkpoint? first keys: " + ckpt.names().subList(0, Math.min(5, ckpt.names().size())));
        }
        if (prefixes.size() > 1) {
            if (prefixes.contains("")) return "";
            throw new ModelDirectoryException(where, "several encoders in one checkpoint, key prefixes " + prefixes);
        }
        return prefixes.get(0);
    }
}
