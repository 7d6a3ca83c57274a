package dev.attn4j.models;

import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.io.safetensors.SafetensorsException;
import dev.attn4j.io.safetensors.TensorInfo;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@link Params} read from a safetensors checkpoint under a root prefix (e.g. {@code "bert."}).
 * Nothing is thrown while a model is being built: missing keys and shape mismatches are recorded
 * (the module gets zeros of the expected shape) so that {@link #problems} can name them all at
 * once. Old TensorFlow-converted names {@code LayerNorm.gamma} / {@code LayerNorm.beta} are
 * accepted for {@code weight} / {@code bias}.
 */
public final class CheckpointParams extends Params {
    /** What happens to a checkpoint's BF16 / F16 linear weights ({@link #keep16}). */
    public enum Keep16 {
        /** Widened to F32 on load (the default). */
        NO,
        /**
         * Kept in 16 bits, copied to the heap ({@code short[]}) in the layout F32 weights get
         * ([in, out] underneath; QKV side by side): half the F32 heap, and the checkpoint may be
         * closed after loading.
         */
        HEAP,
        /**
         * Kept in 16 bits as zero-copy views of the memory-mapped file ([out, in], read by the GEMM
         * as a transposed B): no heap at all for them, pages shared with the OS cache; the
         * checkpoint must stay open while the model is used.
         */
        MAPPED
    }

    private final State state;

    private static final class State {
        final SafetensorsCheckpoint ckpt;
        final String root;
        final Set<String> used = new LinkedHashSet<>();
        final List<String> missing = new ArrayList<>();
        final List<String> mismatched = new ArrayList<>();
        Keep16 keep16 = Keep16.NO;
        /** Whether a zero-copy view of the mapped file was handed out (then the mapping must stay). */
        boolean views;

        State(SafetensorsCheckpoint ckpt, String root) {
            this.ckpt = ckpt;
            this.root = root;
        }
    }

    /** Reads tensors of {@code ckpt} whose names start with {@code root} ("" or ending with '.'). */
    public CheckpointParams(SafetensorsCheckpoint ckpt, String root) {
        this(new State(ckpt, root), "");
    }

    private CheckpointParams(State state, String prefix) {
        super(prefix);
        this.state = state;
    }

    /**
     * Keeps the checkpoint's BF16 / F16 linear weights in 16 bits ({@link Keep16#HEAP} or
     * {@link Keep16#MAPPED}) for the modules built from this object (and its {@link #at} views)
     * from now on; call it before building the model. Only weights read through {@link #linear} /
     * {@link #fusedLinears}: embeddings, norms and biases stay F32, and so do F32 weights (see
     * {@link Params#linearsTo16} to round those). Such weights are frozen (no gradient). Returns this.
     */
    public CheckpointParams keep16(Keep16 mode) {
        if (mode == null) throw new IllegalArgumentException("keep16: mode is null (Keep16.NO for none)");
        state.keep16 = mode;
        return this;
    }

    @Override
    protected NDArray get16(String name, int... shape) {
        if (state.keep16 == Keep16.NO) return null;
        String key = resolve(name);
        if (key == null) return null;                                      // get() records it as missing
        try {
            TensorInfo info = state.ckpt.info(key);
            boolean half = info.dtype() == dev.attn4j.io.safetensors.SafetensorsDType.BF16
                    || info.dtype() == dev.attn4j.io.safetensors.SafetensorsDType.F16;
            if (!half || !Arrays.equals(info.shape(), shape)) return null;   // F32 path (and its checks)
            if (state.keep16 == Keep16.MAPPED) state.views = true;
            NDArray w = state.keep16 == Keep16.MAPPED ? state.ckpt.get16(key) : state.ckpt.get16Copy(key);
            state.used.add(key);
            return w;
        } catch (SafetensorsException e) {
            return null;                                                     // get() records the problem
        }
    }

    @Override
    public Params at(String name) {
        return new CheckpointParams(state, key(name) + ".");
    }

    @Override
    public boolean has(String name) {
        return resolve(name) != null;
    }

    /** The checkpoint name holding {@code name}, or null. */
    private String resolve(String name) {
        String full = state.root + key(name);
        if (state.ckpt.contains(full)) return full;
        String p = state.root + prefix();
        if (p.endsWith("LayerNorm.") || p.endsWith("layer_norm.")) {
            String alias = name.equals("weight") ? "gamma" : name.equals("bias") ? "beta" : null;
            if (alias != null && state.ckpt.contains(p + alias)) return p + alias;
        }
        return null;
    }

    @Override
    public NDArray get(String name, Init init, boolean mapped, int... shape) {
        String key = resolve(name);
        if (key == null) {
            state.missing.add(state.root + key(name));
            return NDArray.zeros(shape);
        }
        state.used.add(key);
        try {
            TensorInfo info = state.ckpt.info(key);
            if (!Arrays.equals(info.shape(), shape)) {
                state.mismatched.add(key + ": checkpoint has " + Shape.of(info.shape()) + " (" + info.dtype() + "), model expects "
                        + Shape.of(shape));
                return NDArray.zeros(shape);
            }
            if (!info.dtype().convertibleToF32() || info.dtype().isInteger()) {
                state.mismatched.add(key + ": dtype " + info.dtype() + " is not a floating-point type (F32, F16, BF16 expected)");
                return NDArray.zeros(shape);
            }
            if (mapped) state.views = true;
            return mapped ? state.ckpt.get(key) : state.ckpt.getCopy(key);
        } catch (SafetensorsException e) {
            state.mismatched.add(key + ": " + e.getMessage());
            return NDArray.zeros(shape);
        }
    }

    /**
     * Whether any tensor handed out so far may be a view of the memory-mapped checkpoint (asked for
     * with {@code mapped}, or a 16-bit weight kept {@link Keep16#MAPPED}); when not, the model owns
     * heap copies only and the checkpoint can be closed once the model is built.
     */
    public boolean holdsViews() {
        return state.views;
    }

    /** Checkpoint names read so far. */
    public Set<String> usedKeys() {
        return Collections.unmodifiableSet(state.used);
    }

    /** Checkpoint names the model asked for that are not there. */
    public List<String> missingKeys() {
        return List.copyOf(state.missing);
    }

    /** Keys whose shape or dtype does not fit, each with both shapes. */
    public List<String> mismatchedKeys() {
        return List.copyOf(state.mismatched);
    }

    /** Checkpoint names not read and not in {@code ignored}, sorted. */
    public List<String> unexpectedKeys(Set<String> ignored) {
        TreeSet<String> out = new TreeSet<>(state.ckpt.names());
        out.removeAll(state.used);
        out.removeAll(ignored);
        return List.copyOf(out);
    }

    /**
     * One message listing every missing key, shape mismatch and unexpected key, or null when
     * the checkpoint fitted exactly.
     */
    public String problems(Set<String> ignored) {
        List<String> parts = new ArrayList<>();
        if (!state.missing.isEmpty()) parts.add("missing keys " + state.missing);
        if (!state.mismatched.isEmpty()) parts.add("size mismatch: " + String.join("; ", state.mismatched));
        List<String> unexpected = unexpectedKeys(ignored);
        if (!unexpected.isEmpty()) parts.add("unexpected keys " + unexpected);
        return parts.isEmpty() ? null : String.join("; ", parts);
    }
}
