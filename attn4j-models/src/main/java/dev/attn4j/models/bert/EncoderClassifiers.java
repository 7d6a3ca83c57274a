package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.CheckpointParams;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Linear;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Loads {@link EncoderClassifier}s from Hugging Face model directories, as
 * {@code AutoModelForSequenceClassification.from_pretrained} / {@code ...ForTokenClassification}
 * do: the encoder's keys with or without the base-model prefix ({@code bert.}, {@code roberta.},
 * {@code distilbert.}); a head (and BERT's pooler) absent from the checkpoint is initialised as
 * transformers does (weights N(0, initializer_range), biases zero) and named in one log line; a
 * head present in the checkpoint is used as it is. A missing encoder key, a wrong shape or an
 * unknown key is an error naming them all.
 */
public final class EncoderClassifiers {
    private EncoderClassifiers() {
    }

    /** Which head to build. */
    public enum Task {
        SEQUENCE_CLASSIFICATION("ForSequenceClassification"),
        TOKEN_CLASSIFICATION("ForTokenClassification");

        public final String suffix;

        Task(String suffix) {
            this.suffix = suffix;
        }
    }

    /**
     * How to load.
     *
     * @param task      the head, or null: from the config's {@code architectures} (sequence classification when it names neither)
     * @param head      the head's labels and problem type, or null: from {@code config.json}
     * @param trainable weights copied to the heap as plain arrays (what the optimizer updates);
     *                  otherwise the inference layout (memory-mapped embeddings, fused q/k/v)
     * @param seed      seeds the new head's initialisation and the dropout masks
     * @param log       receives the line naming newly initialised keys (may be null)
     * @param quantize  the encoder's linear weights quantized on load to this type ({@link BertModels#quantize}),
     *                  or null: as stored; not with {@code trainable} (quantized weights are frozen)
     */
    public record Options(Task task, ClassifierConfig head, boolean trainable, long seed, Consumer<String> log,
                          dev.attn4j.tensor.QuantType quantize) {
        public Options {
            if (quantize != null && trainable) {
                throw new IllegalArgumentException("quantized weights (" + quantize.name().toLowerCase(java.util.Locale.ROOT)
                        + ") are frozen; load for inference (trainable false) to quantize");
            }
        }

        /** Options without quantization. */
        public Options(Task task, ClassifierConfig head, boolean trainable, long seed, Consumer<String> log) {
            this(task, head, trainable, seed, log, null);
        }

        public static Options inference() {
            return new Options(null, null, false, 42, null);
        }

        /** These options with the encoder's linear weights quantized on load to {@code type} (null: not). */
        public Options withQuantize(dev.attn4j.tensor.QuantType type) {
            return new Options(task, head, trainable, seed, log, type);
        }
    }

    /** Loads for inference: task and labels from {@code config.json}. */
    public static EncoderClassifier load(Path dir) throws IOException {
        return load(dir, Options.inference());
    }

    public static EncoderClassifier load(Path dir, Options o) throws IOException {
        ModelDirectory md = ModelDirectory.of(dir);
        Path configFile = md.requireFile(ModelDirectory.CONFIG);
        JsonNode root = md.config();
        BertConfig config = BertConfig.fromJson(root, configFile);
        boolean distil = config.family() == BertConfig.Family.DISTILBERT;
        Task task = o.task() != null ? o.task() : taskOf(root);
        ClassifierConfig head = o.head();
        if (head == null) {
            head = ClassifierConfig.fromJson(root, configFile,
                    distil ? (task == Task.SEQUENCE_CLASSIFICATION ? "seq_classif_dropout" : "__none__") : "classifier_dropout");
            if (head == null) {
                throw new ModelDirectoryException(configFile, "no 'id2label' or 'num_labels': a bare encoder; give the labels "
                        + "(fine-tune it first)");
            }
        } else if (head.classifierDropout() == null) {
            JsonNode cd = root.get(distil ? "seq_classif_dropout" : "classifier_dropout");
            if (cd != null && cd.isNumber()) head = head.withClassifierDropout(cd.asDouble());
        }
        List<Path> files = md.weightFiles();
        Path weights = files.size() == 1 && !md.has(ModelDirectory.WEIGHTS_INDEX) ? files.get(0)
                : md.file(ModelDirectory.WEIGHTS).orElse(md.requireFile(ModelDirectory.WEIGHTS_INDEX));
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(weights);
        try {
            EncoderClassifier model = build(config, head, task, (ObjectNode) root, ckpt, weights, o);
            model.eval();
            if (o.quantize() != null) BertModels.quantize(model.encoder(), o.quantize());
            return model;
        } catch (IOException | RuntimeException | Error e) {
            ckpt.close();
            throw e;
        }
    }

    /** The task an {@code architectures} entry names, sequence classification by default. */
    static Task taskOf(JsonNode root) {
        JsonNode arch = root.get("architectures");
        if (arch != null && arch.isArray()) {
            for (JsonNode a : arch) if (a.asText().endsWith(Task.TOKEN_CLASSIFICATION.suffix)) return Task.TOKEN_CLASSIFICATION;
        }
        return Task.SEQUENCE_CLASSIFICATION;
    }

    /** The model's base-module name: bert, roberta or distilbert. */
    static String baseName(BertConfig config) {
        return switch (config.family()) {
            case BERT -> "bert";
            case ROBERTA -> "roberta";
            case DISTILBERT -> "distilbert";
        };
    }

    private static EncoderClassifier build(BertConfig config, ClassifierConfig head, Task task, ObjectNode source,
                                           SafetensorsCheckpoint ckpt, Path where, Options o) throws ModelDirectoryException {
        String prefix = BertModels.findPrefix(ckpt, where);
        String base = baseName(config);
        List<String> fresh = new ArrayList<>();
        SplittableRandom init = new SplittableRandom(o.seed() * 0x9E3779B97F4A7C15L + 17);
        CheckpointParams encCkpt = new CheckpointParams(ckpt, prefix);
        CheckpointParams headCkpt = new CheckpointParams(ckpt, "");
        // Only the pooler may be missing from the encoder; everything of the head may be.
        LoadParams enc = new LoadParams(encCkpt, base + ".", key -> key.startsWith("pooler."), o.trainable(), init,
                config.initializerRange(), fresh);
        LoadParams hp = new LoadParams(headCkpt, "", key -> true, o.trainable(), init, config.initializerRange(), fresh);
        SplittableRandom rng = new SplittableRandom(o.seed());
        EncoderClassifier model;
        try {
            model = switch (config.family()) {
                case BERT -> task == Task.SEQUENCE_CLASSIFICATION
                        ? new BertForSequenceClassification(config, head, source, enc, hp, rng)
                        : new BertForTokenClassification(config, head, source, enc, hp, rng);
                case ROBERTA -> task == Task.SEQUENCE_CLASSIFICATION
                        ? new RobertaForSequenceClassification(config, head, source, enc, hp, rng)
                        : new RobertaForTokenClassification(config, head, source, enc, hp, rng);
                case DISTILBERT -> task == Task.SEQUENCE_CLASSIFICATION
                        ? new DistilBertForSequenceClassification(config, head, source, enc, hp, rng)
                        : new DistilBertForTokenClassification(config, head, source, enc, hp, rng);
            };
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(where, e.getMessage(), e);
        }
        Set<String> used = new LinkedHashSet<>(encCkpt.usedKeys());
        used.addAll(headCkpt.usedKeys());
        List<String> problems = new ArrayList<>();
        List<String> missing = new ArrayList<>(encCkpt.missingKeys());
        missing.addAll(headCkpt.missingKeys());
        if (!missing.isEmpty()) problems.add("missing keys " + missing);
        List<String> mismatched = new ArrayList<>(encCkpt.mismatchedKeys());
        mismatched.addAll(headCkpt.mismatchedKeys());
        if (!mismatched.isEmpty()) problems.add("size mismatch: " + String.join("; ", mismatched));
        TreeSet<String> unexpected = new TreeSet<>();
        for (String name : ckpt.names()) {
            if (used.contains(name)) continue;
            String inner = name.startsWith(prefix) ? name.substring(prefix.length()) : null;
            if (inner != null && (BertModels.UNUSED_BUFFERS.contains(inner) || inner.startsWith("pooler."))) continue;
            int dot = name.indexOf('.');
            if (BertModels.HEAD_PREFIXES.contains(dot < 0 ? name : name.substring(0, dot))) continue;   // another task's head
            unexpected.add(name);
        }
        if (!unexpected.isEmpty()) problems.add("unexpected keys " + unexpected);
        if (!problems.isEmpty()) {
            throw new ModelDirectoryException(where, "weights do not fit " + model.architecture()
                    + (prefix.isEmpty() ? "" : " (key prefix '" + prefix + "')") + ": " + String.join("; ", problems));
        }
        model.attach(ckpt, fresh);
        if (!fresh.isEmpty() && o.log() != null) {
            o.log().accept("Some weights of " + model.architecture() + " were not initialized from the model checkpoint at "
                    + where.getParent() + " and are newly initialized: " + fresh);
        }
        return model;
    }

    /**
     * Checkpoint params that initialise allowed missing keys afresh (N(0, std) weights, zero
     * biases, unit LayerNorm weights) and record them under the model's key names; with
     * {@code trainable}, every tensor is a heap copy and each linear layer owns a plain [out, in]
     * weight (no fused q/k/v views), which the optimizer updates in place.
     */
    private static final class LoadParams extends Params {
        private final Params delegate;
        private final String modelPrefix;
        private final Predicate<String> mayInit;
        private final boolean trainable;
        private final SplittableRandom rng;
        private final double std;
        private final List<String> fresh;

        LoadParams(Params delegate, String modelPrefix, Predicate<String> mayInit, boolean trainable, SplittableRandom rng,
                   double std, List<String> fresh) {
            super(delegate.prefix());
            this.delegate = delegate;
            this.modelPrefix = modelPrefix;
            this.mayInit = mayInit;
            this.trainable = trainable;
            this.rng = rng;
            this.std = std;
            this.fresh = fresh;
        }

        @Override
        public Params at(String name) {
            return new LoadParams(delegate.at(name), modelPrefix, mayInit, trainable, rng, std, fresh);
        }

        @Override
        public boolean has(String name) {
            return delegate.has(name);
        }

        @Override
        public NDArray get(String name, Init init, boolean mapped, int... shape) {
            if (!delegate.has(name) && mayInit.test(key(name))) {
                fresh.add(modelPrefix + key(name));
                Shape s = Shape.of(shape);
                return switch (init) {
                    case NORMAL -> NDArray.normal(rng, s, 0, std);
                    case ZEROS -> NDArray.zeros(s);
                    case ONES -> NDArray.full(s, 1);
                };
            }
            return delegate.get(name, init, mapped && !trainable, shape);
        }

        @Override
        public List<Linear> fusedLinears(int in, int out, String... names) {
            if (!trainable) return super.fusedLinears(in, out, names);
            List<Linear> result = new ArrayList<>();
            for (String name : names) {
                Params p = at(name);
                result.add(new Linear(p.get("weight", Init.NORMAL, false, out, in), p.get("bias", Init.ZEROS, false, out)));
            }
            return result;
        }
    }
}
