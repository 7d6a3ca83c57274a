package dev.attn4j.models.bert;

import dev.attn4j.attention.Attention;
import dev.attn4j.attention.AttentionMask;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.kernels.UnaryOp;
import dev.attn4j.models.Params;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Linear;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import dev.attn4j.tensor.Storage;

import java.util.List;

/**
 * The encoder layers of a BERT-type model for inference (no gradient recording, eval mode) on
 * buffers reused from layer to layer and from call to call. Per layer:
 * <pre>
 *   qkv[N, 3C]  = x [Wq^T | Wk^T | Wv^T] + [bq | bk | bv]    one GEMM (weights side by side, Params.fusedLinears)
 *   ctx[N, C]   = attention(heads of qkv read in place)      fused kernel, heads written interleaved
 *   h[N, C]     = LayerNorm(x + ctx Wo^T + bo)               the GEMM starts C's blocks from bias and residual
 *   inter[N, I] = act(h W1^T + b1)                           activation on each block of C as the GEMM finishes it
 *   x[N, C]     = LayerNorm(h + inter W2^T + b2)
 * </pre>
 * with N = B T rows (padded batches, {@link #encode}) or the total of the lengths (sequences packed
 * without padding, {@link #encodePacked}). The arithmetic is {@link BertLayer#forward}'s (same products and sums; the
 * LayerNorm statistics in float instead of double); what goes away is one fresh array per op (a
 * 32 x 256 batch allocated ~70 MB per layer there, each page of it zeroed and faulted in), the
 * head split and merge copies, and a pass over memory per bias, residual and activation.
 */
final class BertInference {
    private BertInference() {
    }

    /** Buffers of one forward, grown on demand. One caller at a time (see {@link BertModel}). */
    static final class Workspace {
        float[] x = new float[0], qkv = new float[0], ctx = new float[0], h = new float[0], inter = new float[0];
        /** The model's packed weights when it is frozen ({@link BertModel#freeze}), else null. */
        java.util.Map<WeightKey, dev.attn4j.kernels.PackedB> packs;

        void ensure(int rows, int hidden, int intermediate) {
            int nc = Math.multiplyExact(rows, hidden);
            if (x.length < nc) {
                x = new float[nc];
                ctx = new float[nc];
                h = new float[nc];
                qkv = new float[Math.multiplyExact(nc, 3)];
            }
            int ni = Math.multiplyExact(rows, intermediate);
            if (inter.length < ni) inter = new float[ni];
        }
    }

    /**
     * Whether the fast path computes what {@link BertLayer#forward} would: no gradients recorded,
     * eval mode, F32 weights (linear weights may be BF16 / F16 or block-quantized), an activation the kernels have, and
     * no LoRA adapter that is not merged into its weight (the fast path reads the weights directly,
     * not the layers' forward).
     */
    static boolean applies(BertModel model) {
        if (GradMode.isEnabled() || model.isTraining()) return false;
        if (activation(model.config().hiddenAct()) == null) return false;
        for (BertLayer layer : model.encoder.layer) {
            BertSelfAttention sa = layer.attention.self;
            for (Linear lin : List.of(sa.query, sa.key, sa.value, layer.attention.output.dense, layer.intermediate.dense,
                    layer.output.dense)) {
                DType wt = lin.weight.dtype();
                if (!(wt == DType.F32 || wt.is16Bit() || wt == DType.QUANTIZED) || (lin.bias != null && !isF32(lin.bias))) return false;
                if (lin.weight.dtype() == DType.QUANTIZED && quantized(lin) == null) return false;   // not a whole [out, in] matrix
                if (lin.lora() != null && !lin.lora().merged()) return false;    // the update is not in the weight: module path
            }
            for (LayerNorm ln : List.of(layer.attention.output.layerNorm, layer.output.layerNorm)) {
                if (ln.normalizedShape.length != 1 || (ln.weight != null && !isF32(ln.weight))
                        || (ln.bias != null && !isF32(ln.bias))) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean isF32(Tensor t) {
        return t.dtype() == DType.F32;
    }

    /** The kernels' op for a {@code hidden_act}, or null when there is none (the module path handles it). */
    static UnaryOp activation(String hiddenAct) {
        return switch (hiddenAct) {
            case "gelu" -> UnaryOp.GELU_ERF;
            case "gelu_new", "gelu_pytorch_tanh", "gelu_tanh" -> UnaryOp.GELU_TANH;
            case "relu" -> UnaryOp.RELU;
            case "silu", "swish" -> UnaryOp.SILU;
            default -> null;
        };
    }

    /**
     * Runs {@code layers} on {@code ws.x} [B * T, C] in place (the result is left in ws.x). When
     * {@code hidden} is not null, a copy of each layer's output [B, T, C] is added to it.
     */
    static void encode(BertConfig config, Iterable<BertLayer> layers, int b, int t, AttentionMask keyPadding, Workspace ws,
                       List<Tensor> hidden) {
        int c = config.hiddenSize();
        run(config, layers, b * t, ws, (qkv, ctx, heads, d, scale) -> {
            Storage qkvStore = new Storage.Floats(qkv);
            Shape headShape = Shape.of(b, heads, t, d);
            int[] strides = {t * 3 * c, d, 3 * c, 1};
            NDArray q = NDArray.of(qkvStore, 0, headShape, strides);                          // [B, H, T, D] in [B, T, 3C]
            NDArray k = NDArray.of(qkvStore, c, headShape, strides);
            NDArray v = NDArray.of(qkvStore, 2 * c, headShape, strides);
            NDArray out = NDArray.of(new Storage.Floats(ctx), 0, headShape, new int[] {t * c, d, c, 1});   // [B, H, T, D] in [B, T, C]
            Attention.scaledDotProductInto(q, k, v, keyPadding, scale, out);
        }, hidden == null ? null : x -> hidden.add(Tensor.of(NDArray.of(java.util.Arrays.copyOf(x, b * t * c), b, t, c))));
    }

    /**
     * Runs {@code layers} on sequences packed without padding: sequence i is rows cuSeqlens[i] to
     * cuSeqlens[i + 1] - 1 of {@code ws.x} [N, C], and attends to its own rows only
     * ({@link Attention#scaledDotProductPackedInto}). Every other step works row by row, so a row
     * gets what {@link #encode} gives it in a padded batch, and no work goes to padding.
     */
    static void encodePacked(BertConfig config, Iterable<BertLayer> layers, int[] cuSeqlens, Workspace ws) {
        int n = cuSeqlens[cuSeqlens.length - 1], c = config.hiddenSize();
        run(config, layers, n, ws, (qkv, ctx, heads, d, scale) -> {
            Storage qkvStore = new Storage.Floats(qkv);
            Shape headShape = Shape.of(n, heads, d);
            int[] strides = {3 * c, d, 1};
            NDArray q = NDArray.of(qkvStore, 0, headShape, strides);                          // [N, H, D] in [N, 3C]
            NDArray k = NDArray.of(qkvStore, c, headShape, strides);
            NDArray v = NDArray.of(qkvStore, 2 * c, headShape, strides);
            NDArray out = NDArray.of(new Storage.Floats(ctx), 0, headShape, new int[] {c, d, 1});   // [N, H, D] in [N, C]
            Attention.scaledDotProductPackedInto(q, k, v, cuSeqlens, scale, out);
        }, null);
    }

    /** A layer's attention: ctx [N, C] from the heads of qkv [N, 3C] (the layout decides which rows attend to which). */
    private interface AttentionStep {
        void attend(float[] qkv, float[] ctx, int heads, int headDim, double scale);
    }

    /** The layers on {@code ws.x} [n, C] in place; {@code layerOutput} (may be null) sees ws.x after each layer. */
    private static void run(BertConfig config, Iterable<BertLayer> layers, int n, Workspace ws, AttentionStep attention,
                            java.util.function.Consumer<float[]> layerOutput) {
        int c = config.hiddenSize(), inter = config.intermediateSize();
        int heads = config.numAttentionHeads(), d = c / heads;
        UnaryOp act = activation(config.hiddenAct());
        ws.ensure(n, c, inter);
        double scale = 1 / Math.sqrt(d);
        for (BertLayer layer : layers) {
            BertSelfAttention sa = layer.attention.self;
            List<Linear> qkvLinears = List.of(sa.query, sa.key, sa.value);
            dev.attn4j.tensor.QuantizedMatrix qkvQ = jointQuantized(qkvLinears);
            if (qkvQ != null) {                                                                   // [N, 3C] in one GEMM
                Vec bias = sa.query.bias == null ? null : Vec.of(sa.query.bias.data());           // [3C], side by side
                Kernels.get().gemmQBiasResidual(n, ws.x, 0, c, qkvQ, bias == null ? null : bias.a, bias == null ? 0 : bias.off,
                        null, 0, 0, ws.qkv, 0, 3 * c, null);
            } else if (Params.sideBySide(qkvLinears)) {                                          // [N, 3C] in one GEMM
                NDArray w = sa.query.weight.data(), bias = sa.query.bias.data();                 // W_q^T | W_k^T | W_v^T: [C, 3C]
                linearInto(ws.x, n, c, 3 * c, new Vec(bias.floatArray(), bias.offset()), w.floatArray(), w.offset(), 3 * c,
                        false, ws.qkv, 0, 3 * c, null, null, ws.packs);
            } else {
                project(ws.x, n, sa.query, ws.qkv, 0, 3 * c, null, null, ws.packs);                        // [N, 3C]
                project(ws.x, n, sa.key, ws.qkv, c, 3 * c, null, null, ws.packs);
                project(ws.x, n, sa.value, ws.qkv, 2 * c, 3 * c, null, null, ws.packs);
            }
            attention.attend(ws.qkv, ws.ctx, heads, d, scale);                                   // [N, C]
            project(ws.ctx, n, layer.attention.output.dense, ws.h, 0, c, ws.x, null, ws.packs);             // x + ctx Wo^T + bo
            layerNorm(ws.h, n, layer.attention.output.layerNorm);                                 // h [N, C]
            project(ws.h, n, layer.intermediate.dense, ws.inter, 0, inter, null, act, ws.packs);            // act(h W1^T + b1) [N, I]
            project(ws.inter, n, layer.output.dense, ws.x, 0, c, ws.h, null, ws.packs);                     // h + inter W2^T + b2
            layerNorm(ws.x, n, layer.output.layerNorm);                                           // x [N, C]
            if (layerOutput != null) layerOutput.accept(ws.x);
        }
    }

    /** A weight operand as the GEMM reads it: array (by identity), offset, leading dimension, orientation, shape. */
    record WeightKey(float[] w, int off, int ld, boolean trans, int k, int n) {
    }

    /** Row grain for the elementwise passes: about 16K elements per task. */
    private static int grain(int rowLength) {
        return Math.max(1, (1 << 14) / Math.max(1, rowLength));
    }

    /**
     * out[r, outOff : outOff + F] = in[r, :] W^T + bias (+ residual[r, :]) for r < rows, where
     * {@code lin} maps K -> F, in is [rows, K] and out has row stride ldo; then act (may be null).
     * See {@link #linearInto}.
     */
    static void project(float[] in, int rows, Linear lin, float[] out, int outOff, int ldo, float[] residual, UnaryOp act,
                        java.util.Map<WeightKey, dev.attn4j.kernels.PackedB> packs) {
        NDArray w = lin.weight.data();                                                      // [F, K]
        int f = lin.outFeatures, kIn = lin.inFeatures;
        if (w.dtype() == DType.QUANTIZED) {                                                 // W [F, K] in blocks
            Vec bias = lin.bias == null ? null : Vec.of(lin.bias.data());
            Kernels.get().gemmQBiasResidual(rows, in, 0, kIn, quantized(lin), bias == null ? null : bias.a,
                    bias == null ? 0 : bias.off, residual, 0, f, out, outOff, ldo, act);
            return;
        }
        if (w.dtype().is16Bit()) {
            project16(in, rows, lin, w, out, outOff, ldo, residual, act);
            return;
        }
        boolean wIsTransposedView = w.stride(0) == 1 && w.stride(1) >= f;                   // [K, F] row-major underneath
        if (!(w.storage() instanceof Storage.Floats) || !(wIsTransposedView || (w.stride(1) == 1 && w.stride(0) >= kIn))) {
            w = w.contiguous();
            wIsTransposedView = false;
        }
        linearInto(in, rows, kIn, f, lin.bias == null ? null : Vec.of(lin.bias.data()), w.floatArray(), w.offset(),
                wIsTransposedView ? w.stride(1) : w.stride(0), !wIsTransposedView, out, outOff, ldo, residual, act,
                w == lin.weight.data() ? packs : null);                              // (a contiguous copy is not the weight)
    }

    /**
     * {@link #project} with a BF16 / F16 weight (kept in 16 bits, {@code CheckpointParams.keep16}):
     * {@link Kernels#gemm16BiasResidual} widens it inside the GEMM. W^T [K, F] underneath (heap
     * copies) is read as B, W [F, K] (mapped files) as a transposed B; other layouts are copied.
     */
    private static void project16(float[] in, int rows, Linear lin, NDArray w, float[] out, int outOff, int ldo,
                                  float[] residual, UnaryOp act) {
        int f = lin.outFeatures, kIn = lin.inFeatures;
        boolean transW;
        int ldw;
        if (w.stride(0) == 1 && w.stride(1) >= f) {                                        // [K, F] row-major underneath
            transW = false;
            ldw = w.stride(1);
        } else if (w.stride(1) == 1 && w.stride(0) >= kIn) {                               // [F, K] row-major
            transW = true;
            ldw = w.stride(0);
        } else {
            w = w.copy();
            transW = true;
            ldw = kIn;
        }
        Storage.Halfs h = (Storage.Halfs) w.storage();
        Vec bias = lin.bias == null ? null : Vec.of(lin.bias.data());
        Kernels kern = Kernels.get();
        if (bias == null && residual == null && act == null) {
            kern.gemm16(false, transW, rows, f, kIn, 1f, in, 0, kIn, h.segment(), h.dtype(), w.offset(), ldw, 0f, out, outOff, ldo);
        } else {
            kern.gemm16BiasResidual(false, transW, rows, f, kIn, in, 0, kIn, h.segment(), h.dtype(), w.offset(), ldw,
                    bias == null ? null : bias.a, bias == null ? 0 : bias.off, residual, 0, f, out, outOff, ldo, act);
        }
    }

    /**
     * out[r, outOff : outOff + f] = in[r, :] W^T + bias (+ residual[r, :]) for r &lt; rows, in [rows, kIn],
     * with W^T [kIn, f] at w[wOff] (row stride ldw), or W itself [f, kIn] there when {@code transW}.
     * The GEMM starts each block of out from bias + residual just before its products and applies
     * act (may be null) right after them ({@link Kernels#gemmBiasResidual}), instead of passes over
     * all of out before and after.
     */
    private static void linearInto(float[] in, int rows, int kIn, int f, Vec bias, float[] w, int wOff, int ldw, boolean transW,
                                   float[] out, int outOff, int ldo, float[] residual, UnaryOp act,
                                   java.util.Map<WeightKey, dev.attn4j.kernels.PackedB> packs) {
        Kernels kern = Kernels.get();
        dev.attn4j.kernels.PackedB packed = packs == null ? null : packs.computeIfAbsent(
                new WeightKey(w, wOff, ldw, transW, kIn, f), key -> kern.packB(transW, kIn, f, w, wOff, ldw));
        if (packed != null) {                                                           // frozen: B packed once
            kern.gemmBiasResidual(false, transW, rows, f, kIn, in, 0, kIn, w, wOff, ldw, packed, bias == null ? null : bias.a,
                    bias == null ? 0 : bias.off, residual, 0, f, out, outOff, ldo, act);
        } else if (bias == null && residual == null && act == null) {
            kern.gemm(false, transW, rows, f, kIn, 1f, in, 0, kIn, w, wOff, ldw, 0f, out, outOff, ldo);
        } else {
            kern.gemmBiasResidual(false, transW, rows, f, kIn, in, 0, kIn, w, wOff, ldw, bias == null ? null : bias.a,
                    bias == null ? 0 : bias.off, residual, 0, f, out, outOff, ldo, act);
        }
    }

    /** The block-quantized weight of {@code lin} when it is a whole [out, in] matrix (what quantizing on load makes), else null. */
    static dev.attn4j.tensor.QuantizedMatrix quantized(Linear lin) {
        NDArray w = lin.weight.data();
        if (!(w.storage() instanceof Storage.Quantized q)) return null;
        dev.attn4j.tensor.QuantizedMatrix m = q.matrix();
        boolean whole = w.offset() == 0 && m.rows() == lin.outFeatures && m.cols() == lin.inFeatures
                && (lin.outFeatures <= 1 || w.stride(0) == lin.inFeatures) && (lin.inFeatures <= 1 || w.stride(1) == 1);
        return whole ? m : null;
    }

    /**
     * The quantized weights of {@code lins} (q, k, v) as one matrix [n out, in] when they are
     * consecutive slices of one heap array, as {@link BertModels#quantize} lays them out, and
     * their biases are side by side (or all absent); else null.
     */
    static dev.attn4j.tensor.QuantizedMatrix jointQuantized(List<Linear> lins) {
        dev.attn4j.tensor.QuantizedMatrix first = quantized(lins.get(0));
        if (first == null || first.data().heapBase().isEmpty()) return null;
        Object base = first.data().heapBase().get();
        long next = first.data().address();
        int rows = 0;
        for (Linear l : lins) {
            dev.attn4j.tensor.QuantizedMatrix m = quantized(l);
            if (m == null || m.type() != first.type() || m.cols() != first.cols() || m.data().heapBase().isEmpty()
                    || m.data().heapBase().get() != base || m.data().address() != next) {
                return null;
            }
            next += m.data().byteSize();
            rows += m.rows();
        }
        boolean withBias = lins.get(0).bias != null;
        for (int i = 0; i < lins.size(); i++) {
            Linear l = lins.get(i);
            if ((l.bias != null) != withBias) return null;
            if (!withBias) continue;
            NDArray b0 = lins.get(0).bias.data(), b = l.bias.data();
            if (b.storage() != b0.storage() || !(b.storage() instanceof Storage.Floats) || b.stride(0) != 1
                    || b.offset() != b0.offset() + i * l.outFeatures || i > 0 && l.outFeatures != lins.get(0).outFeatures) {
                return null;
            }
        }
        java.lang.foreign.MemorySegment all = java.lang.foreign.MemorySegment.ofArray((byte[]) base)
                .asSlice(first.data().address(), next - first.data().address());
        return new dev.attn4j.tensor.QuantizedMatrix(first.type(), rows, first.cols(), all);
    }

    /** Row-wise LayerNorm of x [rows, C] in place, statistics in float (biased variance, as torch). */
    static void layerNorm(float[] x, int rows, LayerNorm ln) {
        int len = ln.normalizedShape[0];
        Vec gamma = ln.weight == null ? null : Vec.of(ln.weight.data());
        Vec beta = ln.bias == null ? null : Vec.of(ln.bias.data());
        float eps = (float) ln.eps;
        Kernels kern = Kernels.get();
        Parallel.forRange(rows, grain(len), (from, to) -> {
            for (int r = from; r < to; r++) {
                kern.layerNormRow(x, r * len, len, gamma == null ? null : gamma.a, gamma == null ? 0 : gamma.off,
                        beta == null ? null : beta.a, beta == null ? 0 : beta.off, eps);
            }
        });
    }

    /** A contiguous F32 vector on the heap: the parameter's own array when it is one, else a copy. */
    private record Vec(float[] a, int off) {
        static Vec of(NDArray p) {
            NDArray c = p.storage() instanceof Storage.Floats && (p.dim(0) <= 1 || p.stride(0) == 1) ? p : p.to(DType.F32).contiguous();
            return new Vec(c.floatArray(), c.offset());
        }
    }
}
