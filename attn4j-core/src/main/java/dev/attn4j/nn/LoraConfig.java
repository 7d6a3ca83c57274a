package dev.attn4j.nn;

import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A LoRA adapter's settings with peft's {@code LoraConfig} names and meaning (the fields of its
 * {@code adapter_config.json}; attn4j-models' {@code PeftAdapter} reads and writes that file).
 *
 * @param r                   rank of the update (peft {@code r}, default 8)
 * @param loraAlpha           {@code lora_alpha}: the update is scaled by lora_alpha / r (default 8)
 * @param loraDropout         {@code lora_dropout}: dropout on the adapter's input in training (default 0)
 * @param targetModules       {@code target_modules} as a list: a Linear is wrapped when its module
 *                            name equals an entry or ends with "." + entry; null when
 *                            {@code targetModulesRegex} is used
 * @param targetModulesRegex  {@code target_modules} as a string: a regular expression the whole
 *                            module name must match (Python's re.fullmatch); null when a list is used
 * @param modulesToSave       {@code modules_to_save}: modules (a task head) trained and saved whole;
 *                            a module is one when its name ends with an entry (peft's plain suffix test)
 * @param useRslora           {@code use_rslora}: scale by lora_alpha / sqrt(r) instead
 * @param bias                {@code bias}: only "none" is supported (no base bias is trained)
 * @param taskType            {@code task_type}, e.g. "SEQ_CLS", "TOKEN_CLS", "FEATURE_EXTRACTION"; may be null
 * @param baseModelNameOrPath {@code base_model_name_or_path}: the base model's directory or Hub id; may be null
 * @param inferenceMode       {@code inference_mode} (peft writes true when saving)
 */
public record LoraConfig(int r, double loraAlpha, double loraDropout, List<String> targetModules, String targetModulesRegex,
                         List<String> modulesToSave, boolean useRslora, String bias, String taskType,
                         String baseModelNameOrPath, boolean inferenceMode) {
    public LoraConfig {
        if (r <= 0) throw new IllegalArgumentException("LoRA r must be a positive integer, got " + r);
        if (!Double.isFinite(loraAlpha)) throw new IllegalArgumentException("LoRA lora_alpha must be finite, got " + loraAlpha);
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("LoRA lora_dropout must be in [0, 1), got " + loraDropout);
        }
        if ((targetModules == null) == (targetModulesRegex == null)) {
            throw new IllegalArgumentException("LoRA target_modules: give either a list of names or a regular expression");
        }
        if (targetModules != null) {
            targetModules = List.copyOf(targetModules);
            if (targetModules.isEmpty()) throw new IllegalArgumentException("LoRA target_modules is empty");
            for (String t : targetModules) {
                if (t.isBlank()) throw new IllegalArgumentException("LoRA target_modules has an empty name: " + targetModules);
            }
        } else {
            try {
                Pattern.compile(targetModulesRegex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("LoRA target_modules \"" + targetModulesRegex + "\" is not a valid regular expression: "
                        + e.getDescription(), e);
            }
        }
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        for (String m : modulesToSave) {
            if (m.isBlank()) throw new IllegalArgumentException("LoRA modules_to_save has an empty name: " + modulesToSave);
        }
        if (bias == null) bias = "none";
        if (!bias.equals("none")) {
            throw new IllegalArgumentException("LoRA bias \"" + bias + "\" is not supported; attn4j trains no base bias (bias \"none\")");
        }
    }

    /**
     * peft's defaults for rank {@code r} and {@code lora_alpha} on {@code targetModules}: no dropout,
     * no modules_to_save, no task type.
     */
    public static LoraConfig of(int r, double loraAlpha, List<String> targetModules) {
        return new LoraConfig(r, loraAlpha, 0.0, targetModules, null, List.of(), false, "none", null, null, false);
    }

    public LoraConfig withDropout(double p) {
        return new LoraConfig(r, loraAlpha, p, targetModules, targetModulesRegex, modulesToSave, useRslora, bias, taskType,
                baseModelNameOrPath, inferenceMode);
    }

    public LoraConfig withTargetModules(List<String> names) {
        return new LoraConfig(r, loraAlpha, loraDropout, names, null, modulesToSave, useRslora, bias, taskType,
                baseModelNameOrPath, inferenceMode);
    }

    /** target_modules as one regular expression matched against whole module names. */
    public LoraConfig withTargetModulesRegex(String regex) {
        return new LoraConfig(r, loraAlpha, loraDropout, null, regex, modulesToSave, useRslora, bias, taskType,
                baseModelNameOrPath, inferenceMode);
    }

    public LoraConfig withModulesToSave(List<String> names) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, targetModulesRegex, names, useRslora, bias, taskType,
                baseModelNameOrPath, inferenceMode);
    }

    public LoraConfig withRslora(boolean on) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, targetModulesRegex, modulesToSave, on, bias, taskType,
                baseModelNameOrPath, inferenceMode);
    }

    public LoraConfig withTaskType(String type) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, targetModulesRegex, modulesToSave, useRslora, bias, type,
                baseModelNameOrPath, inferenceMode);
    }

    public LoraConfig withBaseModelNameOrPath(String base) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, targetModulesRegex, modulesToSave, useRslora, bias, taskType,
                base, inferenceMode);
    }

    public LoraConfig withInferenceMode(boolean on) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, targetModulesRegex, modulesToSave, useRslora, bias, taskType,
                baseModelNameOrPath, on);
    }

    /** The factor on B A x: lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora (peft's LoraLayer.update_layer). */
    public double scaling() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    /** Whether module {@code name} is a target (peft's check_target_module_exists, without exclusions). */
    public boolean isTarget(String name) {
        if (targetModulesRegex != null) return Pattern.compile(targetModulesRegex).matcher(name).matches();
        for (String t : targetModules) {
            if (name.equals(t) || name.endsWith("." + t)) return true;
        }
        return false;
    }

    /** Whether module {@code name} is one of modules_to_save (peft's _set_trainable: {@code key.endswith(target_key)}). */
    public boolean isModuleToSave(String name) {
        for (String m : modulesToSave) {
            if (name.endsWith(m)) return true;
        }
        return false;
    }

    /** target_modules as written in adapter_config.json: the list, or the regular expression. */
    public String targetModulesText() {
        return targetModulesRegex != null ? "\"" + targetModulesRegex + "\"" : targetModules.toString();
    }
}
