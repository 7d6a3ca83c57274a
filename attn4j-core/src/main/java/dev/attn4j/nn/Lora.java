package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Injects LoRA adapters into a model, as peft's {@code get_peft_model} / {@code inject_adapter}
 * does for a {@link LoraConfig}:
 * <ul>
 * <li>every {@link Linear} whose module name is a target ({@link LoraConfig#isTarget}) is
 *     replaced in the module tree by a {@link LoraLinear} around it, so its state-dict keys become
 *     {@code <path>.base_layer.weight}, {@code <path>.lora_A.default.weight}, ...;</li>
 * <li>every parameter is frozen (requiresGrad false) except the adapters' lora_A / lora_B and the
 *     parameters of modules_to_save (the task head), which stay trainable and in place.</li>
 * </ul>
 * Give an optimizer {@link #trainableParameters} only: the frozen base then gets neither
 * gradients nor optimizer state.
 */
public final class Lora {
    private Lora() {
    }

    /** {@link #apply(Module, LoraConfig, SplittableRandom)} with lora_A drawn from {@code new SplittableRandom(0)}. */
    public static Map<String, LoraLinear> apply(Module root, LoraConfig config) {
        return apply(root, config, new SplittableRandom(0));
    }

    /**
     * Wraps the target Linears of {@code root} and freezes the rest (see the class comment);
     * returns the new layers by module name. lora_A is initialised from {@code rng} (also the
     * adapters' dropout), lora_B at zero. An error names the problem when no module matches
     * target_modules, when a target is not a Linear, or when {@code root} already has adapters.
     */
    public static Map<String, LoraLinear> apply(Module root, LoraConfig config, SplittableRandom rng) {
        Map<String, Module> modules = root.namedModules();
        for (var e : modules.entrySet()) {
            if (e.getValue() instanceof LoraLinear) {
                throw new IllegalStateException("module '" + e.getKey() + "' already holds a LoRA adapter; attn4j supports one adapter per model");
            }
        }
        Map<String, Module> toSave = modulesToSave(root, config);
        List<String> targets = new ArrayList<>();
        for (var e : modules.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || !config.isTarget(name) || insideAny(name, toSave.keySet())) continue;
            if (!(e.getValue() instanceof Linear)) {
                throw new IllegalArgumentException("LoRA target module '" + name + "' is a " + e.getValue().getClass().getSimpleName()
                        + ", not a Linear; target_modules " + config.targetModulesText() + " must name Linear layers");
            }
            int dot = name.lastIndexOf('.');
            Module parent = dot < 0 ? root : modules.get(name.substring(0, dot));
            if (parent instanceof ReadsLinearWeights) {
                throw new IllegalArgumentException("LoRA target module '" + name + "' cannot be adapted: its parent "
                        + parent.getClass().getSimpleName() + " reads the Linear's weight directly, not through its forward");
            }
            targets.add(name);
        }
        if (targets.isEmpty()) {
            throw new IllegalArgumentException("LoRA target_modules " + config.targetModulesText() + " not found in the base model "
                    + root.getClass().getSimpleName() + " (no Linear's module name matches)");
        }
        for (Tensor p : root.parameters()) p.requiresGrad(false);
        Map<String, LoraLinear> out = new LinkedHashMap<>();
        for (String name : targets) {
            Linear base = (Linear) modules.get(name);
            if (base.lora() != null) throw new IllegalStateException("Linear '" + name + "' is already wrapped by another LoRA layer");
            LoraLinear wrapped = new LoraLinear(base, config.r(), config.loraAlpha(), config.loraDropout(), config.useRslora(), rng);
            int dot = name.lastIndexOf('.');
            Module parent = dot < 0 ? root : modules.get(name.substring(0, dot));
            parent.replaceChild(name.substring(dot + 1), wrapped);
            wrapped.train(base.isTraining());
            out.put(name, wrapped);
        }
        for (Module m : toSave.values()) {
            for (Tensor p : m.parameters()) p.requiresGrad(true);
        }
        return out;
    }

    /**
     * The modules of {@code root} that {@code config}'s modules_to_save selects, by name: those whose
     * name ends with an entry (peft's {@code _set_trainable} test, so "classifier" also selects
     * DistilBERT's "pre_classifier"), outermost only.
     */
    public static Map<String, Module> modulesToSave(Module root, LoraConfig config) {
        Map<String, Module> out = new LinkedHashMap<>();
        root.namedModules().forEach((name, m) -> {
            if (!name.isEmpty() && config.isModuleToSave(name) && !insideAny(name, out.keySet())) out.put(name, m);
        });
        return out;
    }

    /** Whether {@code name} is one of {@code modules} or lies under one. */
    private static boolean insideAny(String name, Iterable<String> modules) {
        for (String m : modules) {
            if (name.equals(m) || name.startsWith(m + ".")) return true;
        }
        return false;
    }

    /** The LoRA layers of {@code root} by module name. */
    public static Map<String, LoraLinear> layers(Module root) {
        Map<String, LoraLinear> out = new LinkedHashMap<>();
        root.namedModules().forEach((name, m) -> {
            if (m instanceof LoraLinear l) out.put(name, l);
        });
        return out;
    }

    /** The parameters that require grad, by name: what an optimizer should be given after {@link #apply}. */
    public static Map<String, Tensor> trainableParameters(Module root) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        root.namedParameters().forEach((name, p) -> {
            if (p.requiresGrad()) out.put(name, p);
        });
        return out;
    }

    /** {@link LoraLinear#merge} on every adapter: base weights changed in place. */
    public static void merge(Module root) {
        for (LoraLinear l : layers(root).values()) l.merge();
    }

    /** {@link LoraLinear#unmerge} on every merged adapter: base weights changed back in place. */
    public static void unmerge(Module root) {
        for (LoraLinear l : layers(root).values()) l.unmerge();
    }

    /**
     * peft's merge_and_unload: folds every adapter into its base weight (in place) and puts the base
     * Linear back in the tree, so the state dict has the base model's keys again (modules_to_save
     * keep their trained values). Parameters keep their requiresGrad. Returns {@code root}.
     */
    public static <M extends Module> M mergeAndUnload(M root) {
        Map<String, Module> modules = root.namedModules();
        for (var e : layers(root).entrySet()) {
            String name = e.getKey();
            LoraLinear l = e.getValue();
            l.merge();
            int dot = name.lastIndexOf('.');
            Module parent = dot < 0 ? root : modules.get(name.substring(0, dot));
            parent.replaceChild(name.substring(dot + 1), l.baseLayer);
            l.baseLayer.setLora(null);
        }
        return root;
    }
}
