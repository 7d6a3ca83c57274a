package dev.attn4j.models.peft;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.io.AtomicFiles;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.nn.Lora;
import dev.attn4j.nn.LoraConfig;
import dev.attn4j.nn.LoraLinear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * A LoRA adapter directory as peft's {@code PeftModel.save_pretrained} writes it and
 * {@code PeftModel.from_pretrained(base, dir)} reads it:
 * <ul>
 * <li>{@code adapter_config.json}: the {@link LoraConfig} under peft's field names
 *     ({@code peft_type "LORA"}, {@code r}, {@code lora_alpha}, {@code target_modules}, ...),
 *     sorted keys, {@code inference_mode} true;</li>
 * <li>{@code adapter_model.safetensors} (F32, metadata {@code format: pt}): the keys of peft's
 *     {@code get_peft_model_state_dict} (utils/save_and_load.py): the adapter name removed, so
 *     {@code base_model.model.<module>.lora_A.weight} and {@code .lora_B.weight} for each wrapped
 *     Linear, and for each of modules_to_save its whole state dict as
 *     {@code base_model.model.<module>.<key>} (ModulesToSaveWrapper.adapter_state_dict drops the
 *     {@code modules_to_save.default} part).</li>
 * </ul>
 * Module names are attn4j's, which mirror transformers' (a BertForSequenceClassification has
 * {@code bert.encoder.layer.0.attention.self.query}), so the keys are the ones peft writes for
 * the same transformers model.
 */
public final class PeftAdapter {
    public static final String CONFIG = "adapter_config.json";
    public static final String WEIGHTS = "adapter_model.safetensors";
    /** What peft's PeftModel puts before the base model's own module names. */
    public static final String PREFIX = "base_model.model.";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private PeftAdapter() {
    }

    /** Whether {@code dir} holds a peft adapter (an adapter_config.json), rather than a full model. */
    public static boolean isAdapterDirectory(Path dir) {
        return Files.isRegularFile(dir.resolve(CONFIG));
    }

    /**
     * peft's default target_modules for a transformers {@code model_type}
     * (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING in peft's utils/constants.py: bert, roberta,
     * xlm-roberta, electra get {@code query, value}). attn4j adds camembert ({@code query, value},
     * RoBERTa's module names) and distilbert ({@code q_lin, v_lin}), for which peft has no default.
     */
    public static List<String> defaultTargetModules(String modelType) {
        return switch (modelType) {
            case "bert", "roberta", "xlm-roberta", "camembert", "electra" -> List.of("query", "value");
            case "distilbert" -> List.of("q_lin", "v_lin");
            default -> throw new IllegalArgumentException("no default LoRA target_modules for model_type '" + modelType
                    + "'; name the Linear layers to adapt (--lora-targets)");
        };
    }

    /**
     * The tensors peft's get_peft_model_state_dict gives for {@code model} (which must hold the
     * adapters {@link Lora#apply} injected), by saved key, in module order: the arrays themselves,
     * not copies.
     */
    public static Map<String, NDArray> adapterStateDict(Module model, LoraConfig config) {
        Map<String, LoraLinear> layers = Lora.layers(model);
        if (layers.isEmpty()) {
            throw new IllegalArgumentException(model.getClass().getSimpleName() + " holds no LoRA layers; apply an adapter (Lora.apply) first");
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        layers.forEach((name, l) -> {
            out.put(PREFIX + name + ".lora_A.weight", l.loraA.weight.data());          // [r, in]
            out.put(PREFIX + name + ".lora_B.weight", l.loraB.weight.data());          // [out, r]
        });
        Lora.modulesToSave(model, config).forEach((name, m) ->
                m.stateDict().forEach((k, v) -> out.put(PREFIX + name + "." + k, v)));
        return out;
    }

    /**
     * Writes {@code dir}/adapter_config.json and {@code dir}/adapter_model.safetensors (each
     * atomically; the directory is created when missing) for {@code model}'s adapters.
     */
    public static void save(Path dir, Module model, LoraConfig config) throws IOException {
        Map<String, NDArray> tensors = adapterStateDict(model, config);
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(WEIGHTS), tensors, Map.of("format", "pt"), SafetensorsDType.F32);
        writeConfig(dir, config);
    }

    /**
     * Loads the adapter in {@code dir} onto {@code model}: injects LoRA layers as its
     * adapter_config.json says (unless {@code model} already holds them, e.g. to continue
     * training), then copies every tensor of adapter_model.safetensors into place. Missing,
     * unexpected or mis-shaped keys are one error naming the file and the keys; nothing is copied
     * then. Returns the adapter's config. The adapter parameters stay trainable.
     */
    public static LoraConfig load(Path dir, Module model) throws IOException {
        LoraConfig config = readConfig(dir);
        Path file = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(file)) {
            String also = Files.isRegularFile(dir.resolve("adapter_model.bin"))
                    ? " (adapter_model.bin is there: attn4j reads safetensors only; re-save with safe_serialization=True)" : "";
            throw new IllegalArgumentException(file + ": adapter weights not found" + also);
        }
        if (Lora.layers(model).isEmpty()) {
            try {
                Lora.apply(model, config, new SplittableRandom(0));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(dir.resolve(CONFIG) + ": " + e.getMessage(), e);
            }
        }
        Map<String, NDArray> own = adapterStateDict(model, config);
        Map<String, NDArray> saved = StateDicts.read(file);
        List<String> problems = new ArrayList<>();
        own.forEach((key, dst) -> {
            NDArray src = saved.get(key);
            if (src == null) problems.add("missing key " + key + " " + dst.shape());
            else if (!src.shape().equals(dst.shape())) {
                problems.add(key + ": file has shape " + src.shape() + ", model expects " + dst.shape());
            }
        });
        TreeSet<String> unexpected = new TreeSet<>(saved.keySet());
        unexpected.removeAll(own.keySet());
        for (String key : unexpected) problems.add("unexpected key " + key + " (no such LoRA layer or module to save in the model)");
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(file + " does not fit " + model.getClass().getSimpleName() + ": "
                    + String.join("; ", problems));
        }
        own.forEach((key, dst) -> dst.copyFrom(saved.get(key)));
        return config;
    }

    /**
     * Folds the adapters of {@code model} into its base weights ({@link Lora#mergeAndUnload}: the
     * model itself is changed) and writes it as a plain Hugging Face directory {@code outDir}:
     * {@code model.safetensors} with the base model's keys (F32, {@code format: pt}) and the
     * top-level non-weight files of {@code baseDir} (config.json, tokenizer files) copied.
     * Each file is written atomically.
     */
    public static void saveMerged(Path outDir, Module model, Path baseDir) throws IOException {
        Lora.mergeAndUnload(model);
        Files.createDirectories(outDir);
        if (baseDir != null) {
            if (!Files.isRegularFile(baseDir.resolve("config.json"))) {
                throw new IllegalArgumentException(baseDir + ": no config.json to copy into the merged model directory");
            }
            List<Path> files;
            try (Stream<Path> s = Files.list(baseDir)) {
                files = s.filter(Files::isRegularFile).filter(f -> !isWeightFile(f.getFileName().toString())).sorted().toList();
            }
            for (Path f : files) {
                if (!f.toAbsolutePath().normalize().equals(outDir.resolve(f.getFileName()).toAbsolutePath().normalize())) {
                    AtomicFiles.write(outDir.resolve(f.getFileName()), Files.readAllBytes(f));
                }
            }
        }
        SafetensorsWriter.write(outDir.resolve("model.safetensors"), model.stateDict(), Map.of("format", "pt"),
                SafetensorsDType.F32);
    }

    private static boolean isWeightFile(String name) {
        return name.endsWith(".safetensors") || name.endsWith(".bin") || name.endsWith(".onnx") || name.endsWith(".h5")
                || name.endsWith(".msgpack") || name.endsWith(".pt") || name.endsWith(".index.json") || name.startsWith("adapter_")
                || name.startsWith(".");
    }

    // ================================================================ adapter_config.json

    /** Writes {@code dir}/adapter_config.json (atomically) as peft does: sorted keys, inference_mode true. */
    public static void writeConfig(Path dir, LoraConfig config) throws IOException {
        AtomicFiles.write(dir.resolve(CONFIG), JSON.writeValueAsBytes(toJson(config)));
    }

    /**
     * The adapter_config.json fields for {@code config}: peft's LoraConfig fields (the set that
     * peft 0.10 and every later release reads; newer peft fills the ones it added with defaults).
     */
    static Map<String, Object> toJson(LoraConfig c) {
        Map<String, Object> m = new TreeMap<>();
        m.put("alpha_pattern", Map.of());
        m.put("auto_mapping", null);
        m.put("base_model_name_or_path", c.baseModelNameOrPath());
        m.put("bias", c.bias());
        m.put("fan_in_fan_out", false);
        m.put("inference_mode", true);
        m.put("init_lora_weights", true);
        m.put("layer_replication", null);
        m.put("layers_pattern", null);
        m.put("layers_to_transform", null);
        m.put("loftq_config", Map.of());
        m.put("lora_alpha", number(c.loraAlpha()));
        m.put("lora_dropout", c.loraDropout());
        m.put("megatron_config", null);
        m.put("megatron_core", "megatron.core");
        m.put("modules_to_save", c.modulesToSave().isEmpty() ? null : c.modulesToSave());
        m.put("peft_type", "LORA");
        m.put("r", c.r());
        m.put("rank_pattern", Map.of());
        m.put("revision", null);
        m.put("target_modules", c.targetModulesRegex() != null ? c.targetModulesRegex() : c.targetModules());
        m.put("task_type", c.taskType());
        m.put("use_dora", false);
        m.put("use_rslora", c.useRslora());
        return m;
    }

    /** An integral value as an int (peft's lora_alpha is an int field), else the double. */
    private static Object number(double v) {
        return v == Math.rint(v) && Math.abs(v) < Integer.MAX_VALUE ? (Object) (int) v : (Object) v;
    }

    /**
     * Reads {@code dir}/adapter_config.json. Fields are peft's; absent ones take peft's defaults
     * (r 8, lora_alpha 8, lora_dropout 0). Settings attn4j does not implement (DoRA, rank or
     * alpha patterns, layers_to_transform, exclude_modules, bias other than "none", ...) are an
     * error naming the field rather than an adapter that computes something else.
     */
    public static LoraConfig readConfig(Path dir) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": not found (not a peft adapter directory)");
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(file + ": not a JSON object");
        try {
            return fromJson((ObjectNode) root);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    static LoraConfig fromJson(ObjectNode o) {
        String peftType = text(o, "peft_type");
        if (!"LORA".equals(peftType)) throw new IllegalArgumentException("peft_type is " + o.get("peft_type") + ", expected \"LORA\"");
        requireDefault(o, "use_dora", false);
        requireDefault(o, "lora_bias", false);
        requireDefault(o, "use_qalora", false);
        for (String f : List.of("rank_pattern", "alpha_pattern")) {
            JsonNode n = o.get(f);
            if (n != null && !n.isNull() && !(n.isObject() && n.isEmpty())) {
                throw new IllegalArgumentException(f + " " + n + " is not supported by attn4j (one r and lora_alpha for every layer)");
            }
        }
        for (String f : List.of("layers_to_transform", "exclude_modules", "layer_replication", "target_parameters",
                "trainable_token_indices")) {
            JsonNode n = o.get(f);
            if (n != null && !n.isNull() && !(n.isArray() && n.isEmpty())) {
                throw new IllegalArgumentException(f + " " + n + " is not supported by attn4j");
            }
        }
        int r = o.has("r") ? intField(o, "r") : 8;
        double alpha = o.has("lora_alpha") ? numberField(o, "lora_alpha") : 8;
        double dropout = o.has("lora_dropout") && !o.get("lora_dropout").isNull() ? numberField(o, "lora_dropout") : 0;
        JsonNode t = o.get("target_modules");
        List<String> targets = null;
        String regex = null;
        if (t == null || t.isNull()) {
            throw new IllegalArgumentException("target_modules is missing; attn4j needs the module names the adapter wraps");
        } else if (t.isTextual()) {
            regex = t.asText();
        } else if (t.isArray()) {
            targets = stringList(t, "target_modules");
        } else {
            throw new IllegalArgumentException("target_modules must be a list of names or a regular expression, got " + t);
        }
        JsonNode s = o.get("modules_to_save");
        List<String> toSave = s == null || s.isNull() ? List.of() : stringList(s, "modules_to_save");
        boolean rslora = o.has("use_rslora") && booleanField(o, "use_rslora");
        String bias = o.has("bias") && !o.get("bias").isNull() ? text(o, "bias") : "none";
        boolean inference = o.has("inference_mode") && booleanField(o, "inference_mode");
        return new LoraConfig(r, alpha, dropout, targets, regex, toSave, rslora, bias, text(o, "task_type"),
                text(o, "base_model_name_or_path"), inference);
    }

    private static void requireDefault(ObjectNode o, String field, boolean dflt) {
        JsonNode n = o.get(field);
        if (n != null && !n.isNull() && (!n.isBoolean() || n.booleanValue() != dflt)) {
            throw new IllegalArgumentException(field + " " + n + " is not supported by attn4j (only " + dflt + ")");
        }
    }

    private static String text(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw new IllegalArgumentException(field + " must be a string, got " + n);
        return n.asText();
    }

    private static int intField(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw new IllegalArgumentException(field + " must be an integer, got " + n);
        return n.intValue();
    }

    private static double numberField(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (!n.isNumber()) throw new IllegalArgumentException(field + " must be a number, got " + n);
        return n.doubleValue();
    }

    private static boolean booleanField(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (!n.isBoolean()) throw new IllegalArgumentException(field + " must be true or false, got " + n);
        return n.booleanValue();
    }

    private static List<String> stringList(JsonNode n, String field) {
        if (!n.isArray()) throw new IllegalArgumentException(field + " must be a list of strings, got " + n);
        List<String> out = new ArrayList<>();
        for (JsonNode e : (ArrayNode) n) {
            if (!e.isTextual()) throw new IllegalArgumentException(field + " must be a list of strings, got " + n);
            out.add(e.asText());
        }
        return out;
    }
}
