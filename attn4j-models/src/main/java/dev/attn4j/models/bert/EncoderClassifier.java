package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.nn.Losses;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.Reduction;
import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A BERT-family encoder with a task head, as transformers' {@code *ForSequenceClassification}
 * and {@code *ForTokenClassification}: the encoder under its base-model prefix ({@code bert},
 * {@code roberta}, {@code distilbert}) and the head's modules under transformers' names, so the
 * state dict has exactly the keys of the Python model's. Load with {@link EncoderClassifiers#load};
 * {@link #savePretrained} writes a directory that {@code AutoModelFor...from_pretrained} reads.
 */
public abstract class EncoderClassifier extends Module implements AutoCloseable {
    /** Tokenizer files {@link #savePretrained} copies when present. */
    public static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model", "spiece.model",
            "added_tokens.json");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    protected final BertConfig config;
    protected final ClassifierConfig head;
    private final ObjectNode sourceConfig;
    private volatile AutoCloseable resources;
    private List<String> newlyInitialized = List.of();

    protected EncoderClassifier(BertConfig config, ClassifierConfig head, ObjectNode sourceConfig) {
        this.config = config;
        this.head = head;
        this.sourceConfig = sourceConfig == null ? config.toJson() : sourceConfig.deepCopy();
    }

    /** transformers' class name, e.g. {@code BertForSequenceClassification} (written to {@code architectures}). */
    public abstract String architecture();

    /** Whether the head labels every token ({@code *ForTokenClassification}) rather than the sequence. */
    public abstract boolean tokenLevel();

    /** The encoder (the module under {@code bert}, {@code roberta} or {@code distilbert}). */
    public abstract EncoderModel encoder();

    /** Logits: [B, num_labels] for a sequence head, [B, T, num_labels] for a token head. */
    public abstract Tensor forward(EncoderInput in);

    /**
     * Label probabilities (softmax of the logits) of a sequence head for each encoded text, in
     * input order: the encodings sorted by length, padded per batch of {@code batchSize}, run
     * without recording gradients. One {@code float[num_labels]} per encoding.
     */
    public final List<float[]> probabilities(List<dev.attn4j.tokenizers.Encoding> enc, int batchSize) {
        if (tokenLevel()) throw new IllegalArgumentException(architecture() + " labels every token, not the sequence");
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        float[][] probs = new float[enc.size()][];
        Integer[] order = new Integer[enc.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, Comparator.comparingInt(i -> enc.get(i).length()));
        int l = numLabels();
        try (var g = dev.attn4j.autograd.GradMode.noGrad()) {
            for (int from = 0; from < order.length; from += batchSize) {
                int to = Math.min(order.length, from + batchSize);
                List<int[]> ids = new java.util.ArrayList<>(), types = new java.util.ArrayList<>();
                for (int i = from; i < to; i++) {
                    ids.add(enc.get(order[i]).ids());
                    types.add(enc.get(order[i]).typeIds());
                }
                EncoderInput in = EncoderInput.padded(ids, config.typeVocabSize() > 0 ? types : null, config.padTokenId());
                float[] a = forward(in).softmax(1).data().contiguous().toFloatArray();       // [B, L]
                for (int i = from; i < to; i++) probs[order[i]] = java.util.Arrays.copyOfRange(a, (i - from) * l, (i - from + 1) * l);
            }
        }
        return java.util.Arrays.asList(probs);
    }

    /** The config key of the classifier dropout ({@code classifier_dropout}, DistilBERT's {@code seq_classif_dropout}), or null. */
    protected String dropoutKey() {
        return "classifier_dropout";
    }

    public final BertConfig config() {
        return config;
    }

    public final ClassifierConfig head() {
        return head;
    }

    public final int numLabels() {
        return head.numLabels();
    }

    /** The dropout before the classifier: {@code classifier_dropout}, else {@code hidden_dropout_prob}. */
    protected final double classifierDropout() {
        return head.classifierDropout() != null ? head.classifierDropout() : config.hiddenDropoutProb();
    }

    /** State-dict keys the loader initialised afresh (not in the checkpoint). */
    public final List<String> newlyInitializedKeys() {
        return newlyInitialized;
    }

    final void attach(AutoCloseable checkpoint, List<String> newKeys) {
        this.resources = checkpoint;
        this.newlyInitialized = List.copyOf(newKeys);
    }

    /**
     * The loss transformers computes for these labels. Token heads: cross-entropy over every
     * token, labels [B, T] of class ids with -100 ignored. Sequence heads, by the effective
     * problem type ({@link ClassifierConfig#effectiveProblemType}; labels [B] of class ids count as
     * integer labels, [B, num_labels] as multi-hot): cross-entropy, BCE-with-logits (mean), or MSE
     * (one label: over the squeezed logits).
     */
    public Tensor loss(Tensor logits, NDArray labels) {
        int n = numLabels();
        if (tokenLevel()) {
            if (labels.rank() != 2 || labels.dim(0) != logits.dim(0) || labels.dim(1) != logits.dim(1)) {
                throw new IllegalArgumentException("token labels must be [B, T] = [" + logits.dim(0) + ", " + logits.dim(1)
                        + "], got " + labels.shape());
            }
            return Losses.crossEntropy(logits.reshape(-1, n), labels.reshape(-1), Losses.IGNORE_INDEX, 0, Reduction.MEAN);
        }
        int b = logits.dim(0);
        String problem = head.effectiveProblemType(labels.rank() == 1);
        switch (problem) {
            case ClassifierConfig.REGRESSION -> {
                if (n == 1) {
                    if (labels.numel() != b) throw new IllegalArgumentException("regression labels must be [" + b + "], got " + labels.shape());
                    return Losses.mse(logits.reshape(b), Tensor.of(labels.reshape(b)));
                }
                if (labels.rank() != 2 || labels.dim(0) != b || labels.dim(1) != n) {
                    throw new IllegalArgumentException("regression labels must be [" + b + ", " + n + "], got " + labels.shape());
                }
                return Losses.mse(logits, Tensor.of(labels));
            }
            case ClassifierConfig.SINGLE_LABEL -> {
                if (labels.numel() != b) throw new IllegalArgumentException("class labels must be [" + b + "], got " + labels.shape());
                return Losses.crossEntropy(logits.reshape(-1, n), labels.reshape(-1), Losses.IGNORE_INDEX, 0, Reduction.MEAN);
            }
            default -> {
                if (labels.rank() != 2 || labels.dim(0) != b || labels.dim(1) != n) {
                    throw new IllegalArgumentException("multi-label targets must be [" + b + ", " + n + "], got " + labels.shape());
                }
                return bceWithLogits(logits, labels);
            }
        }
    }

    /** torch.nn.BCEWithLogitsLoss (mean): max(x, 0) - x y + log(1 + exp(-|x|)). */
    static Tensor bceWithLogits(Tensor x, NDArray y) {
        Tensor t = Tensor.of(y);
        return x.relu().sub(x.mul(t)).add(x.abs().neg().exp().add(1).log()).mean();
    }

    /** The config.json transformers writes for this model: the source config with the head's fields. */
    public ObjectNode configJson() {
        ObjectNode o = sourceConfig.deepCopy();
        o.putArray("architectures").add(architecture());
        head.writeInto(o, dropoutKey());
        return o;
    }

    /**
     * Writes a transformers {@code save_pretrained} directory: {@code config.json},
     * {@code model.safetensors} (F32, the state dict's keys, metadata {@code format: pt}) and the
     * tokenizer files of {@code tokenizerDir} (when not null). The files are written to a
     * temporary sibling directory that is then renamed to {@code dir}, replacing it.
     */
    public void savePretrained(Path dir, Path tokenizerDir) throws IOException {
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
        try {
            Files.write(tmp.resolve("config.json"), JSON.writeValueAsBytes(configJson()));
            Map<String, NDArray> sd = stateDict();
            SafetensorsWriter.write(tmp.resolve("model.safetensors"), sd, Map.of("format", "pt"), SafetensorsDType.F32);
            if (tokenizerDir != null) {
                for (String f : TOKENIZER_FILES) {
                    Path src = tokenizerDir.resolve(f);
                    if (Files.isRegularFile(src)) Files.copy(src, tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            replaceDirectory(tmp, target);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** Renames {@code src} to {@code target}; an existing {@code target} is moved aside first and deleted after. */
    static void replaceDirectory(Path src, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + target.getFileName() + ".old-" + System.nanoTime());
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        try {
            Files.move(src, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            if (old != null) Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            throw e;
        }
        if (old != null) deleteTree(old);
        dev.attn4j.io.AtomicFiles.syncDirectory(target.getParent());
    }

    static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + p + ": " + e.getMessage(), e);
        }
    }

    /** Unmaps the checkpoint the model was loaded from; the model must not be used afterwards. */
    @Override
    public void close() {
        AutoCloseable r = resources;
        resources = null;
        if (r != null) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the checkpoint of " + architecture() + ": " + e.getMessage(), e);
            }
        }
    }
}
