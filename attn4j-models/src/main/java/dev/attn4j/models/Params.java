package dev.attn4j.models;

import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Linear;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.util.SplittableRandom;

/**
 * Where a model's modules get their parameter arrays while they are built: a checkpoint (looked up
 * by dotted key) or a fresh initialisation. Modules walk the key tree with {@link #at(String)}
 * ({@code params.at("encoder").at("layer").at("0")}) and ask for each tensor under its own
 * name, so no module concatenates full key names and the same constructor builds a model for
 * training (random) or inference (pretrained).
 */
public abstract class Params {
    /** How a freshly initialised tensor is filled (ignored when reading a checkpoint). */
    public enum Init {
        /** N(0, std) with the source's standard deviation (transformers' {@code initializer_range}). */
        NORMAL,
        ZEROS,
        ONES
    }

    private final String prefix;

    protected Params(String prefix) {
        this.prefix = prefix;
    }

    /** The dotted prefix of this view ("" at the root, else ending with '.'). */
    public final String prefix() {
        return prefix;
    }

    /** The full key of {@code name} under this view. */
    public final String key(String name) {
        return prefix + name;
    }

    /** A view one level down: keys under {@code name.}. */
    public abstract Params at(String name);

    /** A view several levels down: {@code atPath("model.encoder")} is {@code at("model").at("encoder")}; "" is this view. */
    public final Params atPath(String dotted) {
        Params p = this;
        if (dotted.isEmpty()) return p;
        for (String part : dotted.split("\\.")) p = p.at(part);
        return p;
    }

    /**
     * The tensor {@code name} of the given shape. {@code mapped} asks for a zero-copy view of the
     * checkpoint when its layout allows (large lookup tables); otherwise the array is a heap copy
     * (what the matrix kernels want).
     */
    public abstract NDArray get(String name, Init init, boolean mapped, int... shape);

    /** Whether the source has {@code name} (a fresh initialisation has everything). */
    public abstract boolean has(String name);

    /**
     * The linear weight {@code name} [out, in] kept in 16 bits (BF16 or F16), or null to read it in
     * F32 with {@link #get}. The default is null; {@link CheckpointParams#keep16} returns the
     * checkpoint's BF16 / F16 tensors here (a heap copy or a zero-copy view of the mapped file).
     */
    protected NDArray get16(String name, int... shape) {
        return null;
    }

    /**
     * The linear weight or embedding table {@code name} [rows, cols] as block-quantized weights (a
     * QUANTIZED array, see {@code NDArray.of(QuantizedMatrix)}), or null to read it with
     * {@link #get16} / {@link #get}. The default is null; a GGUF file's Q8_0 / Q4_K / ... tensors
     * come back here.
     */
    protected NDArray getQuantized(String name, int... shape) {
        return null;
    }

    /**
     * Whether the rows of linear {@code name} (weight and bias) come per head in llama.cpp's rotary
     * order, pairs (j, j + D/2) of the Hugging Face order side by side, as a GGUF file of the llama
     * family stores q and k: the model then reorders that projection's output (see
     * {@code DecoderAttention}) instead of the weights, which stay zero-copy views. False by default.
     */
    public boolean rowsInRopePairs(String name) {
        return false;
    }

    /**
     * A {@link Linear} from {@code name.weight} [out, in] and {@code name.bias} [out]. The weight
     * keeps its [out, in] shape (and state-dict name) but is stored in memory as [in, out], a
     * transposed view: {@code x W^T} then reads W^T row by row, the layout every GEMM streams
     * best (the scalar kernels' transposed-B path strides across rows, ~10x slower).
     */
    public Linear linear(String name, int in, int out) {
        return fusedLinears(in, out, name).get(0);
    }

    /**
     * {@link Linear}s {@code names[i]} from [in] to [out] that read the same input (a query, key
     * and value projection), each as {@link #linear} gives it, but with all weights in one [in,
     * n out] array (linear i's weight W_i^T in columns [i out, (i + 1) out)) and all biases in one
     * [n out] array. Every weight and bias is still its own parameter under its own name (a view),
     * so state dicts, loading and in-place edits see n separate tensors; inference can run the n
     * projections as one GEMM of width n out (see {@link #sideBySide}). With one name this is
     * {@link #linear}.
     */
    public java.util.List<Linear> fusedLinears(int in, int out, String... names) {
        return fusedLinears(in, out, true, names);
    }

    /** {@link #fusedLinears(int, int, String...)}; without {@code bias} no {@code name.bias} is read and the linears have none. */
    public java.util.List<Linear> fusedLinears(int in, int out, boolean bias, String... names) {
        int n = names.length, width = Math.multiplyExact(n, out);
        java.util.List<NDArray> quantized = new java.util.ArrayList<>();
        for (String name : names) quantized.add(at(name).getQuantized("weight", out, in));
        if (quantized.stream().anyMatch(java.util.Objects::nonNull)) {                  // each its own [out, in] blocks
            java.util.List<Linear> result = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                NDArray b = at(names[i]).get("bias", Init.ZEROS, false, out);
                NDArray w = quantized.get(i) != null ? quantized.get(i) : at(names[i]).get("weight", Init.NORMAL, false, out, in);
                result.add(new Linear(w, b));
            }
            return result;
        }
        java.util.List<NDArray> w16 = new java.util.ArrayList<>();
        for (String name : names) {
            NDArray w = at(name).get16("weight", out, in);                              // [out, in] BF16 / F16, or null
            if (w == null || (!w16.isEmpty() && (w.dtype() != w16.get(0).dtype()
                    || heap16(w) != heap16(w16.get(0))))) {
                w16 = null;
                break;
            }
            w16.add(w);
        }
        if (w16 != null) return linears16(in, out, bias, names, w16);
        java.util.List<NDArray> weights = new java.util.ArrayList<>(), biases = new java.util.ArrayList<>();
        for (String name : names) {
            weights.add(at(name).get("weight", Init.NORMAL, false, out, in));          // [out, in]
            if (bias) biases.add(at(name).get("bias", Init.ZEROS, false, out));        // [out]
        }
        NDArray wAll = NDArray.zeros(weights.get(0).dtype(), Shape.of(in, width));     // [in, n out] storage
        NDArray bAll = bias ? NDArray.zeros(biases.get(0).dtype(), Shape.of(width)) : null; // [n out]
        java.util.List<Linear> result = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            NDArray wt = wAll.narrow(1, i * out, out);                                  // [in, out] view, row stride n out
            wt.copyFrom(weights.get(i).transpose(0, 1));
            NDArray b = null;
            if (bias) {
                b = bAll.narrow(0, i * out, out);
                b.copyFrom(biases.get(i));
            }
            result.add(new Linear(wt.transpose(0, 1), b));                              // [out, in] view
        }
        return result;
    }

    /**
     * {@link #linear} with an optional bias: without one, no {@code name.bias} is read (a missing
     * key is no problem). A 16-bit weight ({@link #get16}) is kept as {@link #fusedLinears} keeps it.
     */
    public Linear linear(String name, int in, int out, boolean bias) {
        if (bias) return linear(name, in, out);
        NDArray wq = at(name).getQuantized("weight", out, in);                          // [out, in] blocks, or null
        if (wq != null) return new Linear(wq, null);
        NDArray w16 = at(name).get16("weight", out, in);                                // [out, in] BF16 / F16, or null
        if (w16 != null) {
            if (!heap16(w16)) return new Linear(w16, null);                             // mapped [out, in]
            NDArray t = NDArray.zeros(w16.dtype(), Shape.of(in, out));                  // [in, out] storage
            t.copyFrom(w16.transpose(0, 1));
            return new Linear(t.transpose(0, 1), null);
        }
        NDArray w = at(name).get("weight", Init.NORMAL, false, out, in);               // [out, in]
        NDArray t = NDArray.zeros(w.dtype(), Shape.of(in, out));                        // [in, out] storage
        t.copyFrom(w.transpose(0, 1));
        return new Linear(t.transpose(0, 1), null);
    }

    /**
     * {@link #linear} with an optional bias, but a 16-bit weight (heap or mapped) is kept [out, in]
     * as the checkpoint stores it, not transposed: a decode step (one row of input) then runs one
     * dot product per output over a contiguous row of W, a single sequential stream per thread.
     * On the Llama-3.2-1B shape in BF16 (2 threads, three interleaved pairs of runs) decode ran at
     * 7.8-8.2 tokens/s this way against 5.5-6.3 with the transposed copy, whose row-of-W^T axpys
     * interleave four streams and reload the output row for every four inputs; prefill, which packs
     * W through the GEMM's transposing pack, ran about 10% slower. F32 weights are as
     * {@link #linear} gives them.
     */
    public Linear linearAsStored(String name, int in, int out, boolean bias) {
        NDArray w16 = at(name).get16("weight", out, in);                                // [out, in] BF16 / F16, or null
        if (w16 == null) return linear(name, in, out, bias);
        NDArray b = bias ? at(name).get("bias", Init.ZEROS, false, out) : null;         // [out]
        return new Linear(w16, b);
    }

    /**
     * {@link #embedding}, keeping the table in 16 bits when {@link #get16} gives it ([count, dim],
     * row-major: a lookup widens the rows it reads; a tied output projection runs through the 16-bit
     * GEMM). Otherwise the F32 table of {@link #embedding}.
     */
    public Embedding embedding16(String name, int count, int dim, Integer paddingIdx) {
        NDArray wq = at(name).getQuantized("weight", count, dim);                       // [count, dim] blocks, or null
        if (wq != null) return new Embedding(wq, paddingIdx);
        NDArray w16 = at(name).get16("weight", count, dim);                             // [count, dim] or null
        return w16 != null ? new Embedding(w16, paddingIdx) : embedding(name, count, dim, paddingIdx);
    }

    private static boolean heap16(NDArray w) {
        return ((dev.attn4j.tensor.Storage.Halfs) w.storage()).isHeap();
    }

    /**
     * {@link #fusedLinears} over 16-bit weights: mapped ones are used as they are ([out, in] views
     * of the file, read by the GEMM as a transposed B); heap ones are laid out as the F32 weights
     * are, W_i^T side by side in one 16-bit [in, n out] array. Biases F32 side by side.
     */
    private java.util.List<Linear> linears16(int in, int out, boolean bias, String[] names, java.util.List<NDArray> w16) {
        int n = names.length, width = Math.multiplyExact(n, out);
        java.util.List<NDArray> biases = new java.util.ArrayList<>();
        if (bias) for (String name : names) biases.add(at(name).get("bias", Init.ZEROS, false, out));   // [out]
        NDArray bAll = bias ? NDArray.zeros(Shape.of(width)) : null;                         // [n out] F32
        boolean heap = heap16(w16.get(0));
        NDArray wAll = heap ? NDArray.zeros(w16.get(0).dtype(), Shape.of(in, width)) : null; // [in, n out] 16-bit
        java.util.List<Linear> result = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            NDArray b = null;
            if (bias) {
                b = bAll.narrow(0, i * out, out);
                b.copyFrom(biases.get(i));
            }
            NDArray w = w16.get(i);                                                           // [out, in]
            if (heap) {
                NDArray wt = wAll.narrow(1, i * out, out);                                    // [in, out] view, row stride n out
                wt.copyFrom(w.transpose(0, 1));
                w = wt.transpose(0, 1);                                                       // [out, in] view
            }
            result.add(new Linear(w, b));
        }
        return result;
    }

    /**
     * Rounds the weight of every {@link Linear} in {@code model} that is not 16-bit already to
     * {@code dtype} (BF16 or F16) in place (round to nearest even, as torch's {@code .to}), keeping
     * its layout, and freezes it ({@code requiresGrad} false: a base model under LoRA, transformers'
     * {@code torch_dtype=torch.bfloat16} for the linear layers). Embeddings, norms and biases stay
     * F32. Returns the number of weights converted. The F32 arrays are released when nothing else
     * holds them (QKV weights side by side share one array until all three are converted).
     */
    public static int linearsTo16(dev.attn4j.nn.Module model, dev.attn4j.tensor.DType dtype) {
        if (dtype == null || !dtype.is16Bit()) throw new IllegalArgumentException("linearsTo16: dtype must be BF16 or F16, got " + dtype);
        int converted = 0;
        for (dev.attn4j.nn.Module m : model.namedModules().values()) {
            if (!(m instanceof Linear lin) || lin.weight.dtype().is16Bit()) continue;
            NDArray w = lin.weight.data();                                                    // [out, in]
            boolean transposedView = w.stride(0) == 1 && w.stride(1) >= w.dim(0) && w.dim(0) > 1;
            NDArray w16 = transposedView ? w.transpose(0, 1).to(dtype).transpose(0, 1) : w.to(dtype);
            lin.weight.requiresGrad(false);
            lin.weight.setData(w16);
            converted++;
        }
        return converted;
    }

    /**
     * Whether {@code lins} are still laid out as {@link #fusedLinears} made them: weights W_i^T side
     * by side in one float storage ([in, n out], row stride n out) and biases side by side in one.
     */
    public static boolean sideBySide(java.util.List<Linear> lins) {
        return sideBySide(lins, true);
    }

    /**
     * As {@link #sideBySide(java.util.List)}; with {@code withBias} false the linears have no biases
     * (all of them), and only the weights are checked.
     */
    public static boolean sideBySide(java.util.List<Linear> lins, boolean withBias) {
        Linear first = lins.get(0);
        NDArray w0 = first.weight.data(), b0 = first.bias == null ? null : first.bias.data();
        int out = first.outFeatures, width = out * lins.size();
        if ((b0 == null) == withBias || !(w0.storage() instanceof dev.attn4j.tensor.Storage.Floats)) return false;
        for (int i = 0; i < lins.size(); i++) {
            Linear l = lins.get(i);
            if ((l.bias == null) == withBias || l.outFeatures != out || l.inFeatures != first.inFeatures) return false;
            NDArray w = l.weight.data();
            if (w.storage() != w0.storage() || w.stride(0) != 1 || w.stride(1) != width || w.offset() != w0.offset() + i * out) {
                return false;
            }
            if (!withBias) continue;
            NDArray b = l.bias.data();
            if (b.storage() != b0.storage() || !(b.storage() instanceof dev.attn4j.tensor.Storage.Floats) || b.stride(0) != 1
                    || b.offset() != b0.offset() + i * out) {
                return false;
            }
        }
        return true;
    }

    /**
     * The weights (and biases) of linears {@code from .. to - 1} of {@code lins} laid out
     * {@link #sideBySide} as one projection: weight [(to - from) out, in] and bias [(to - from) out]
     * (null without biases), views of the shared arrays; null when they are not side by side. A
     * product with it gives the linears' outputs one after another along the last dimension.
     */
    public static NDArray[] joined(java.util.List<Linear> lins, int from, int to) {
        boolean withBias = lins.get(0).bias != null;
        if (!sideBySide(lins, withBias) || from < 0 || to > lins.size() || from >= to) return null;
        Linear first = lins.get(from);
        int out = first.outFeatures, in = first.inFeatures, width = out * lins.size(), n = to - from;
        NDArray w = first.weight.data();                                                      // [out, in], strides (1, width)
        NDArray joined = NDArray.of(w.storage(), w.offset(), Shape.of(n * out, in), new int[] {1, width});
        NDArray b = null;
        if (withBias) {
            NDArray b0 = first.bias.data();
            b = NDArray.of(b0.storage(), b0.offset(), Shape.of(n * out), new int[] {1});
        }
        return new NDArray[] {joined, b};
    }

    /** A {@link LayerNorm} over the last dimension from {@code name.weight} and {@code name.bias}. */
    public LayerNorm layerNorm(String name, int dim, double eps) {
        Params p = at(name);
        return new LayerNorm(p.get("weight", Init.ONES, false, dim), p.get("bias", Init.ZEROS, false, dim), eps);
    }

    /** An {@link Embedding} from {@code name.weight} [count, dim], read zero-copy when possible. */
    public Embedding embedding(String name, int count, int dim, Integer paddingIdx) {
        NDArray w = at(name).get("weight", Init.NORMAL, true, count, dim);
        return new Embedding(w, paddingIdx);
    }

    /**
     * A fresh initialisation as transformers' BERT {@code _init_weights}: weights N(0, std), biases
     * zero, LayerNorm weights one; an embedding's padding row is not zeroed here (see
     * {@link #embedding}).
     */
    public static Params random(SplittableRandom rng, double std) {
        return new Random("", rng, std);
    }

    private static final class Random extends Params {
        private final SplittableRandom rng;
        private final double std;

        Random(String prefix, SplittableRandom rng, double std) {
            super(prefix);
            this.rng = rng;
            this.std = std;
        }

        @Override
        public Params at(String name) {
            return new Random(key(name) + ".", rng, std);
        }

        @Override
        public NDArray get(String name, Init init, boolean mapped, int... shape) {
            Shape s = Shape.of(shape);
            return switch (init) {
                case NORMAL -> NDArray.normal(rng, s, 0, std);
                case ZEROS -> NDArray.zeros(s);
                case ONES -> NDArray.full(s, 1);
            };
        }

        @Override
        public boolean has(String name) {
            return true;
        }

        @Override
        public Embedding embedding(String name, int count, int dim, Integer paddingIdx) {
            Embedding e = super.embedding(name, count, dim, paddingIdx);
            if (e.paddingIdx != null) e.weight.data().select(0, e.paddingIdx).fill(0);
            return e;
        }
    }
}
