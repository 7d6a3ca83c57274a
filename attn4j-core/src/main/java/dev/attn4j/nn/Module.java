package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A layer or model: a tree of named parameters, buffers and child modules, as torch.nn.Module.
 * Subclasses register what they own in their constructor ({@link #parameter}, {@link #buffer},
 * {@link #child}) under the names the checkpoint uses, and keep them in fields of the same names,
 * so a state dict is a walk over dotted names ({@code encoder.layers.0.linear1.weight}).
 *
 * <p>The same module serves training and inference: inside
 * {@code try (var g = GradMode.noGrad())} its forward records no graph.
 */
public abstract class Module {
    private final Map<String, Tensor> parameters = new LinkedHashMap<>();
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /**
     * Registers a trainable parameter initialised with {@code value} (converted to
     * {@link DefaultDType#get()} when its dtype differs); returns it. A BF16 or F16 {@code value}
     * is kept as it is (not copied or widened) as a frozen parameter: in the state dict, read by
     * the kernels in 16 bits, but with {@code requiresGrad} false (and no way to set it).
     */
    protected final Tensor parameter(String name, NDArray value) {
        checkName(name);
        Tensor p = value.dtype().isStorageType() ? Tensor.of(value) : Tensor.param(DefaultDType.convert(value));
        parameters.put(name, p);
        return p;
    }

    /**
     * Registers a non-trainable tensor that is part of the state dict (e.g. running statistics),
     * converted to {@link DefaultDType#get()} when its dtype differs; returns the stored array.
     */
    protected final NDArray buffer(String name, NDArray value) {
        checkName(name);
        NDArray stored = DefaultDType.convert(value);
        buffers.put(name, stored);
        return stored;
    }

    /** Registers a child module; its entries appear under {@code name.}. */
    protected final <M extends Module> M child(String name, M module) {
        checkName(name);
        children.put(name, module);
        return module;
    }

    /**
     * Puts {@code module} in place of the existing child {@code name}, keeping its position (used by
     * {@link Lora} to wrap a layer). Fields of the parent that hold the old child still point to it.
     */
    final void replaceChild(String name, Module module) {
        if (!children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is not a child of " + getClass().getSimpleName());
        }
        children.put(name, module);
    }

    private void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("invalid module entry name '" + name + "' in " + getClass().getSimpleName());
        }
        if (parameters.containsKey(name) || buffers.containsKey(name) || children.containsKey(name)) {
            throw new IllegalArgumentException("'" + name + "' is already registered in " + getClass().getSimpleName());
        }
    }

    /** Direct children, in registration order. */
    public final Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** This module ("" ) and every descendant, by dotted name, depth first. */
    public final Map<String, Module> namedModules() {
        Map<String, Module> out = new LinkedHashMap<>();
        collectModules("", this, out);
        return out;
    }

    private static void collectModules(String prefix, Module m, Map<String, Module> out) {
        out.put(prefix, m);
        m.children.forEach((name, c) -> collectModules(prefix.isEmpty() ? name : prefix + "." + name, c, out));
    }

    /** Every parameter by dotted name; a parameter shared by two modules is listed once. */
    public final Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Set<Tensor> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        namedModules().forEach((prefix, m) -> m.parameters.forEach((name, p) -> {
            if (seen.add(p)) out.put(prefix.isEmpty() ? name : prefix + "." + name, p);
        }));
        return out;
    }

    public final List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    /** Every buffer by dotted name. */
    public final Map<String, NDArray> namedBuffers() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        namedModules().forEach((prefix, m) ->
                m.buffers.forEach((name, b) -> out.put(prefix.isEmpty() ? name : prefix + "." + name, b)));
        return out;
    }

    /** Parameters' values and buffers by dotted name (the arrays themselves, not copies). */
    public final Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        namedParameters().forEach((k, v) -> out.put(k, v.data()));
        out.putAll(namedBuffers());
        return out;
    }

    /** Keys of a state dict that were not used, and keys the module needed but did not get. */
    public record LoadResult(List<String> missingKeys, List<String> unexpectedKeys) {
    }

    /**
     * Copies values from {@code state} into this module's parameters and buffers by name. A shape
     * mismatch is always an error naming the key and both shapes. With {@code strict}, missing or
     * unexpected keys are an error listing them; otherwise they are returned.
     */
    public final LoadResult loadStateDict(Map<String, NDArray> state, boolean strict) {
        Map<String, NDArray> own = stateDict();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        for (var e : own.entrySet()) {
            NDArray src = state.get(e.getKey());
            if (src == null) missing.add(e.getKey());
            else if (!src.shape().equals(e.getValue().shape())) {
                mismatched.add(e.getKey() + ": checkpoint has " + src.shape() + ", model expects " + e.getValue().shape());
            }
        }
        Set<String> unexpectedSet = new TreeSet<>(state.keySet());
        unexpectedSet.removeAll(own.keySet());
        List<String> unexpected = new ArrayList<>(unexpectedSet);
        if (!mismatched.isEmpty()) {
            throw new IllegalArgumentException("size mismatch loading state dict into " + getClass().getSimpleName()
                    + ": " + String.join("; ", mismatched));
        }
        if (strict && (!missing.isEmpty() || !unexpected.isEmpty())) {
            throw new IllegalArgumentException("error loading state dict into " + getClass().getSimpleName()
                    + (missing.isEmpty() ? "" : ": missing keys " + missing)
                    + (unexpected.isEmpty() ? "" : ": unexpected keys " + unexpected));
        }
        for (var e : own.entrySet()) {
            NDArray src = state.get(e.getKey());
            if (src != null) e.getValue().copyFrom(src);
        }
        return new LoadResult(List.copyOf(missing), List.copyOf(unexpected));
    }

    /** Training mode for this module and all descendants (dropout active). Returns this. */
    public Module train(boolean mode) {
        namedModules().values().forEach(m -> m.training = mode);
        return this;
    }

    public final Module train() {
        return train(true);
    }

    /** Evaluation mode: dropout is the identity. Returns this. */
    public final Module eval() {
        return train(false);
    }

    public final boolean isTraining() {
        return training;
    }

    /** Clears the gradient of every parameter. */
    public final void zeroGrad() {
        for (Tensor p : parameters()) p.zeroGrad();
    }

    /** Total number of parameter elements. */
    public final long parameterCount() {
        long n = 0;
        for (Tensor p : parameters()) n += p.numel();
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append('(');
        parameters.forEach((k, v) -> sb.append(k).append('=').append(v.shape()).append(", "));
        children.forEach((k, v) -> sb.append(k).append('=').append(v).append(", "));
        if (sb.charAt(sb.length() - 1) == ' ') sb.setLength(sb.length() - 2);
        return sb.append(')').toString();
    }
}
