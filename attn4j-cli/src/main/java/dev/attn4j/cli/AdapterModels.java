package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.bert.ClassifierConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.peft.PeftAdapter;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Loading a sequence classifier that may be a base model plus a peft LoRA adapter (classify, merge). */
final class AdapterModels {
    private AdapterModels() {
    }

    /**
     * A loaded classifier: {@code base} is the base model's directory, {@code adapter} the adapter
     * directory (null for a plain model), {@code tokenizerDir} where tokenizer.json is taken from.
     */
    record Loaded(EncoderClassifier model, Path base, Path adapter, Path tokenizerDir) {
    }

    /**
     * {@code modelArg} a plain model, or a peft adapter directory (its base is the
     * adapter_config.json's base_model_name_or_path), or with {@code adapterArg} the base of that adapter.
     */
    static Loaded load(String modelArg, Path adapterArg) throws IOException {
        return load(modelArg, adapterArg, null);
    }

    /**
     * {@link #load(String, Path)} with the encoder's linear weights quantized on load to
     * {@code quantize} (null: not); an adapter is merged into the weights first (peft's
     * merge_and_unload), then they are quantized.
     */
    static Loaded load(String modelArg, Path adapterArg, dev.attn4j.tensor.QuantType quantize) throws IOException {
        ModelSource source = ModelSource.of(HubSettings.fromEnvironment(), System.err);
        Path adapterDir = adapterArg;
        Path base;
        if (adapterDir != null) {
            if (!PeftAdapter.isAdapterDirectory(adapterDir)) {
                throw new IllegalArgumentException("--adapter " + adapterDir + ": no " + PeftAdapter.CONFIG + " (not a peft adapter directory)");
            }
            if (modelArg == null) modelArg = baseOf(adapterDir);
            base = source.resolve(modelArg).path();
            if (PeftAdapter.isAdapterDirectory(base)) {
                throw new IllegalArgumentException("--model " + modelArg + " is itself an adapter directory; with --adapter give the base model");
            }
        } else {
            if (modelArg == null) throw new IllegalArgumentException("give --model (a model or an adapter directory) or --adapter");
            Path local = localAdapter(modelArg);
            Path dir = local != null ? local : source.resolve(modelArg).path();
            if (PeftAdapter.isAdapterDirectory(dir)) {
                adapterDir = dir;
                base = source.resolve(baseOf(dir)).path();
            } else {
                base = dir;
            }
        }
        if (adapterDir == null) {
            EncoderClassifier m = EncoderClassifiers.load(base, new EncoderClassifiers.Options(EncoderClassifiers.Task.SEQUENCE_CLASSIFICATION,
                    null, false, 42, System.err::println, quantize));
            return new Loaded(m, base, null, base);
        }
        ClassifierConfig head = head(adapterDir);
        EncoderClassifier m = EncoderClassifiers.load(base, new EncoderClassifiers.Options(EncoderClassifiers.Task.SEQUENCE_CLASSIFICATION,
                head, false, 42, null));                                      // the head's weights come from the adapter
        try {
            PeftAdapter.load(adapterDir, m);
            if (quantize != null) {
                m = dev.attn4j.nn.Lora.mergeAndUnload(m);
                dev.attn4j.models.bert.BertModels.quantize(m.encoder(), quantize);
            }
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
        m.eval();
        Path tok = Files.isRegularFile(adapterDir.resolve("tokenizer.json")) ? adapterDir : base;
        return new Loaded(m, base, adapterDir, tok);
    }

    /** {@code arg} as a local adapter directory (which may lack config.json), or null. */
    private static Path localAdapter(String arg) {
        try {
            Path p = Path.of(arg);
            return Files.isDirectory(p) && PeftAdapter.isAdapterDirectory(p) ? p : null;
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    private static String baseOf(Path adapterDir) throws IOException {
        String base = PeftAdapter.readConfig(adapterDir).baseModelNameOrPath();
        if (base == null || base.isBlank()) {
            throw new IllegalArgumentException(adapterDir.resolve(PeftAdapter.CONFIG) + ": no base_model_name_or_path; give the base with --model");
        }
        return base;
    }

    /**
     * The classification head of an adapter: the labels of the config.json attn4j's finetune writes
     * beside it, else as many labels (LABEL_0, ...) as its saved classifier has rows, else null (the base's own).
     */
    static ClassifierConfig head(Path adapterDir) throws IOException {
        Path cfg = adapterDir.resolve("config.json");
        if (Files.isRegularFile(cfg)) {
            JsonNode root = new ObjectMapper().readTree(cfg.toFile());
            ClassifierConfig c = ClassifierConfig.fromJson(root, cfg, "classifier_dropout");
            if (c != null) return c;
        }
        Path w = adapterDir.resolve(PeftAdapter.WEIGHTS);
        if (!Files.isRegularFile(w)) return null;
        for (Map.Entry<String, NDArray> e : StateDicts.read(w).entrySet()) {
            String k = e.getKey();
            if (k.endsWith(".classifier.weight") || k.endsWith(".classifier.out_proj.weight") || k.endsWith(".score.weight")) {
                return ClassifierConfig.ofNumLabels(e.getValue().dim(0));   // [num_labels, hidden]
            }
        }
        return null;
    }
}
