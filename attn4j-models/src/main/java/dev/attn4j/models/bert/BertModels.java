package dev.attn4j.models.bert;

import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.CheckpointParams;

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
