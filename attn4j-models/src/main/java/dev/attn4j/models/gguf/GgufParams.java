package dev.attn4j.models.gguf;

import dev.attn4j.io.gguf.GgmlType;
import dev.attn4j.io.gguf.GgufException;
import dev.attn4j.io.gguf.GgufFile;
import dev.attn4j.io.gguf.GgufTensorInfo;
import dev.attn4j.models.Params;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import dev.attn4j.tensor.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A decoder's parameters read from a GGUF file by their Hugging Face keys ({@link GgufNames} maps
 * them to llama.cpp's names). Quantized linear weights and embedding tables stay quantized
 * (zero-copy views of the mapping), F16 / BF16 ones stay 16-bit, everything else (norms, biases,
 * GPT-2's Conv1D weights) is read as F32. Undoes what llama.cpp's converter did: Gemma's norm
 * weights stored as 1 + w, GPT-2's Conv1D transposition; the q / k rows of the llama family stay
 * in llama.cpp's rotary-pair order ({@link #rowsInRopePairs}), which the attention undoes on its
 * outputs, so that those weights too stay views of the mapping (a heap copy beside mapped weights
 * also made every quantized product slower: the kernels' segment loads are compiled for one
 * segment class). Missing, misshapen and unread tensors are collected for {@link #problems}.
 */
final class GgufParams extends Params {
    private static final class State {
        final GgufFile file;
        final DecoderConfig config;
        final Set<String> used = new LinkedHashSet<>();
        final List<String> missing = new ArrayList<>();
        final List<String> mismatched = new ArrayList<>();

        State(GgufFile file, DecoderConfig config) {
            this.file = file;
            this.config = config;
        }
    }

    private final State state;

    GgufParams(GgufFile file, DecoderConfig config) {
        this(new State(file, config), "");
    }

    private GgufParams(State state, String prefix) {
        super(prefix);
        this.state = state;
    }

    @Override
    public Params at(String name) {
        return new GgufParams(state, key(name) + ".");
    }

    private String gguf(String name) {
        return GgufNames.toGguf(state.config.modelType(), key(name));
    }

    @Override
    public boolean has(String name) {
        String g = gguf(name);
        return g != null && state.file.tensors().containsKey(g);
    }

    /** The info of {@code name}'s tensor when it has {@code shape} (PyTorch order) and passes {@code typeOk}; else null. */
    private GgufTensorInfo info(String name, int[] shape) {
        String g = gguf(name);
        if (g == null || !state.file.tensors().containsKey(g)) return null;
        GgufTensorInfo t = state.file.tensors().get(g);
        return Arrays.equals(t.shape(), Arrays.stream(shape).asLongStream().toArray()) ? t : null;
    }

    @Override
    public boolean rowsInRopePairs(String name) {
        return GgufNames.isPermuted(state.config.modelType(), key(name) + ".weight");
    }

    @Override
    protected NDArray getQuantized(String name, int... shape) {
        GgufTensorInfo t = shape.length == 2 ? info(name, shape) : null;
        if (t == null) return null;
        QuantType q = t.type().quantType();
        if (q == null) return null;
        try {
            QuantizedMatrix m = state.file.quantized(t.name());
            state.used.add(t.name());
            return NDArray.of(m);
        } catch (GgufException | IllegalArgumentException e) {
            state.mismatched.add(t.name() + ": " + e.getMessage());
            return null;
        }
    }

    @Override
    protected NDArray get16(String name, int... shape) {
        GgufTensorInfo t = info(name, shape);
        if (t == null || (t.type() != GgmlType.F16 && t.type() != GgmlType.BF16)) return null;
        try {
            NDArray w = state.file.array(t.name());
            state.used.add(t.name());
            return w;
        } catch (GgufException e) {
            state.mismatched.add(t.name() + ": " + e.getMessage());
            return null;
        }
    }

    @Override
    public NDArray get(String name, Init init, boolean mapped, int... shape) {
        String hf = key(name), g = gguf(name);
        if (g == null || !state.file.tensors().containsKey(g)) {
            state.missing.add(g == null ? hf : g + " (" + hf + ")");
            return NDArray.zeros(shape);
        }
        GgufTensorInfo t = state.file.tensors().get(g);
        state.used.add(g);
        boolean conv = GgufNames.isConv1D(state.config.modelType(), hf);
        long[] want = Arrays.stream(shape).asLongStream().toArray();
        long[] stored = conv && want.length == 2 ? new long[] {want[1], want[0]} : want;
        if (!Arrays.equals(t.shape(), stored)) {
            state.mismatched.add(g + ": file has " + Arrays.toString(t.shape()) + " (" + t.type() + "), " + hf + " expects "
                    + Arrays.toString(stored));
            return NDArray.zeros(shape);
        }
        try {
            NDArray v;
            if (t.type().quantType() != null) {
                v = NDArray.of(state.file.quantized(g)).to(DType.F32).reshape(Arrays.stream(stored).mapToInt(x -> (int) x).toArray());
            } else if (t.type() == GgmlType.F32 || t.type() == GgmlType.F16 || t.type() == GgmlType.BF16) {
                v = state.file.array(g).to(DType.F32);
            } else {
                state.mismatched.add(g + ": tensor type " + t.type() + " is not supported (F32, F16, BF16, "
                        + Arrays.stream(QuantType.values()).map(Enum::name).toList() + ")");
                return NDArray.zeros(shape);
            }
            if (conv) v = v.transpose(0, 1).contiguous();                                  // [out, in] -> [in, out]
            if (state.config.modelType().equals("gemma") && hf.endsWith("norm.weight")) {
                float[] a = v.toFloatArray();                                              // GGUF stores 1 + w
                for (int i = 0; i < a.length; i++) a[i] -= 1f;
                v = NDArray.of(a, shape);
            }
            return v;
        } catch (GgufException e) {
            state.mismatched.add(g + ": " + e.getMessage());
            return NDArray.zeros(shape);
        }
    }

    /** One message naming every missing, misshapen and unread tensor (besides {@code ignored}), or null. */
    String problems(Set<String> ignored) {
        List<String> parts = new ArrayList<>();
        if (!state.missing.isEmpty()) parts.add("missing tensors " + state.missing);
        if (!state.mismatched.isEmpty()) parts.add(String.join("; ", state.mismatched));
        TreeSet<String> unread = new TreeSet<>(state.file.tensors().keySet());
        unread.removeAll(state.used);
        unread.removeAll(ignored);
        if (!unread.isEmpty()) parts.add("tensors the " + state.config.modelType() + " model does not use " + unread);
        return parts.isEmpty() ? null : String.join("; ", parts);
    }

    static Shape shapeOf(GgufTensorInfo t) {
        return Shape.of(Arrays.stream(t.shape()).mapToInt(x -> (int) x).toArray());
    }
}
