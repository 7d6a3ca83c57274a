package dev.attn4j.autograd;

import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.kernels.BinaryOp;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.MathF;
import dev.attn4j.kernels.UnaryOp;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.util.Arrays;
import java.util.List;

/**
 * Every primitive differentiable operation with its backward rule, in one place. Each method
 * computes the forward result with {@link ArrayOps} and, when recording, attaches a
 * {@link Node} whose rule maps the output gradient to input gradients. Composite operations
 * (mean, rsqrt, linear, dropout, split, ...) are built from these in {@link Tensor} and {@link F}
 * and need no rule of their own.
 */
final class Ops {
    private Ops() {
    }

    /** Wraps a forward result: with a node when grad mode is on and some input requires grad. */
    static Tensor record(String op, NDArray out, Tensor[] inputs, Node.Rule rule) {
        if (!GradMode.isEnabled()) return Tensor.of(out);
        for (Tensor t : inputs) {
            if (t.requiresGrad()) return new Tensor(out, new Node(op, inputs, rule));
        }
        return Tensor.of(out);
    }

    private static NDArray sumTo(NDArray g, Tensor t) {
        return ArrayOps.sumTo(g, t.shape());
    }

    // ---------------------------------------------------------------- elementwise

    static Tensor unary(UnaryOp op, Tensor x) {
        NDArray xd = x.data();
        NDArray y = ArrayOps.unary(op, xd);
        return record(op.name().toLowerCase(), y, new Tensor[] {x}, g -> new NDArray[] {unaryGrad(op, xd, y, g)});
    }

    /** g * op'(x), given x and y = op(x). */
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

    /** The erf GELU's backward ({@link Kernels#geluErfGrad}) on the kernel threads; the element-wise reference for other layouts. */
    private static NDArray geluErfGrad(NDArray g, NDArray x, NDArray y) {
        if (g.isDenseHeapF32() && x.isDenseHeapF32() && y.isDenseHeapF32() && g.shape().equals(x.shape()) && y.shape().equals(x.shape())) {
            NDArray out = NDArray.zeros(DType.F32, x.shape());
            float[] ga = g.floatArray(), xa = x.floatArray(), ya = y.floatArray(), oa = out.floatArray();
            int go = g.offset(), xo = x.offset(), yo = y.offset();
            dev.attn4j.kernels.Parallel.forRange(x.numel(), 1 << 15,
                    (from, to) -> Kernels.get().geluErfGrad(ga, go + from, xa, xo + from, ya, yo + from, oa, from, to - from));
            return out;
        }
        return ArrayOps.zip3(g, x, y, (gg, v, yy) -> gg * ((v != 0 ? yy / v : 0.5) + v * Math.exp(-0.5 * v * v) * INV_SQRT_2PI));
    }

    static NDArray unaryGrad(UnaryOp op, NDArray x, NDArray y, NDArray g) {
        return switch (op) {
            case NEG -> ArrayOps.neg(g);
            case EXP -> ArrayOps.mul(g, y);
            case LOG -> ArrayOps.div(g, x);
            case TANH -> ArrayOps.zip(g, y, (gg, t) -> gg * (1 - t * t));
            case SQRT -> ArrayOps.zip(g, y, (gg, s) -> gg * 0.5 / s);
            case RELU -> ArrayOps.zip(g, x, (gg, v) -> v > 0 ? gg : 0);
            // Phi(x) = gelu(x) / x from the forward's output (relative error of y kept), 1/2 at 0:
            // no second erf evaluation (the series in MathF.erf took a third of a BERT training step).
            case GELU_ERF -> geluErfGrad(g, x, y);
            case GELU_TANH -> ArrayOps.zip(g, x, (gg, v) -> {
                double c = MathF.SQRT_2_OVER_PI;
                double t = Math.tanh(c * (v + 0.044715 * v * v * v));
                return gg * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * c * (1 + 3 * 0.044715 * v * v));
            });
            case SILU -> ArrayOps.zip(g, x, (gg, v) -> {
                double s = 1 / (1 + Math.exp(-v));
                return gg * s * (1 + v * (1 - s));
            });
            case SIGMOID -> ArrayOps.zip(g, y, (gg, s) -> gg * s * (1 - s));
            case ABS -> ArrayOps.zip(g, x, (gg, v) -> v > 0 ? gg : v < 0 ? -gg : 0);
            case SQUARE -> ArrayOps.zip(g, x, (gg, v) -> 2 * gg * v);
            case RECIPROCAL -> ArrayOps.zip(g, y, (gg, r) -> -gg * r * r);
        };
    }

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        NDArray ad = a.data(), bd = b.data();
        NDArray y = ArrayOps.binary(op, ad, bd);
        return record(op.name().toLowerCase(), y, new Tensor[] {a, b}, g -> {
            NDArray ga = null, gb = null;
            boolean na = a.requiresGrad(), nb = b.requiresGrad();
            switch (op) {
                case ADD -> {
                    ga = na ? g : null;
                    gb = nb ? g : null;
                }
                case SUB -> {
                    ga = na ? g : null;
                    gb = nb ? ArrayOps.neg(g) : null;
                }
                case MUL -> {
                    ga = na ? ArrayOps.mul(g, bd) : null;
                    gb = nb ? ArrayOps.mul(g, ad) : null;
                }
                case DIV -> {
                    ga = na ? ArrayOps.div(g, bd) : null;
                    gb = nb ? ArrayOps.zip3(g, y, bd, (gg, yy, bb) -> -gg * yy / bb) : null;
                }
                case POW -> {
                    ga = na ? ArrayOps.zip3(g, ad, bd, (gg, x, e) -> e == 0 ? 0 : gg * e * Math.pow(x, e - 1)) : null;
                    gb = nb ? ArrayOps.zip3(g, y, ad, (gg, yy, x) -> x == 0 ? 0 : gg * yy * Math.log(x)) : null;
                }
                case MAX, MIN -> {
                    double sign = op == BinaryOp.MAX ? 1 : -1;
                    ga = na ? ArrayOps.zip3(g, ad, bd, (gg, x, z) -> pick(sign * x, sign * z, gg)) : null;
                    gb = nb ? ArrayOps.zip3(g, bd, ad, (gg, z, x) -> pick(sign * z, sign * x, gg)) : null;
                }
            }
            return new NDArray[] {ga == null ? null : sumTo(ga, a), gb == null ? null : sumTo(gb, b)};
        });
    }

    /** Gradient share of the winner of max(x, z): all of it, half on a tie, none otherwise. */
    private static double pick(double x, double z, double g) {
        return x > z ? g : x == z ? 0.5 * g : 0;
    }

    /** {@code a op s} for a constant s. */
    static Tensor scalarRight(BinaryOp op, Tensor a, double s) {
        NDArray ad = a.data();
        NDArray y = ArrayOps.binaryScalar(op, ad, s);
        return record(op.name().toLowerCase() + "_scalar", y, new Tensor[] {a}, g -> new NDArray[] {switch (op) {
            case ADD, SUB -> g;
            case MUL -> ArrayOps.mulScalar(g, s);
            case DIV -> ArrayOps.binaryScalar(BinaryOp.DIV, g, s);
            case POW -> s == 0 ? ArrayOps.mulScalar(g, 0) : ArrayOps.zip(g, ad, (gg, x) -> gg * s * Math.pow(x, s - 1));
            case MAX -> ArrayOps.zip(g, ad, (gg, x) -> pick(x, s, gg));
            case MIN -> ArrayOps.zip(g, ad, (gg, x) -> pick(-x, -s, gg));
        }});
    }

    /** {@code s op a} for a constant s. */
    static Tensor scalarLeft(BinaryOp op, double s, Tensor a) {
        NDArray ad = a.data();
        NDArray y = ArrayOps.scalarBinary(op, s, ad);
        return record("scalar_" + op.name().toLowerCase(), y, new Tensor[] {a}, g -> new NDArray[] {switch (op) {
            case ADD -> g;
            case SUB -> ArrayOps.neg(g);
            case MUL -> ArrayOps.mulScalar(g, s);
            case DIV -> ArrayOps.zip3(g, y, ad, (gg, yy, x) -> -gg * yy / x);
            case POW -> ArrayOps.zip(g, y, (gg, yy) -> gg * yy * Math.log(s));
            case MAX -> ArrayOps.zip(g, ad, (gg, x) -> pick(x, s, gg));
            case MIN -> ArrayOps.zip(g, ad, (gg, x) -> pick(-x, -s, gg));
        }});
    }

    static Tensor maskedFill(Tensor x, NDArray mask, double value) {
        NDArray y = ArrayOps.maskedFill(x.data(), mask, value);
        return record("maskedFill", y, new Tensor[] {x}, g -> new NDArray[] {ArrayOps.maskedFill(g, mask, 0)});
    }

    static Tensor where(NDArray cond, Tensor a, Tensor b) {
        NDArray y = ArrayOps.where(cond, a.data(), b.data());
        return record("where", y, new Tensor[] {a, b}, g -> {
            NDArray zero = NDArray.zeros(g.dtype(), Shape.scalar());
            return new NDArray[] {
                    a.requiresGrad() ? sumTo(ArrayOps.where(cond, g, zero), a) : null,
                    b.requiresGrad() ? sumTo(ArrayOps.where(cond, zero, g), b) : null};
        });
    }

    // ---------------------------------------------------------------- reductions

    static Tensor sum(Tensor x, int[] dims, boolean keepdim) {
        NDArray y = ArrayOps.sum(x.data(), dims, keepdim);
        Shape in = x.shape();
        int[] axes = new int[dims.length];
        for (int i = 0; i < dims.length; i++) axes[i] = in.axis(dims[i]);
        Arrays.sort(axes);
        return record("sum", y, new Tensor[] {x}, g -> {
            NDArray gk = g;
            if (!keepdim) for (int a : axes) gk = gk.unsqueeze(a); // [.., 1, ..]
            return new NDArray[] {gk.expand(in.toArray())};        // in shape, stride 0 on summed dims
        });
    }

    static Tensor max(Tensor x, int dim, boolean keepdim) {
        NDArray xd = x.data();
        int d = x.shape().axis(dim);
        NDArray values = ArrayOps.max(xd, d, keepdim);
        return record("max", values, new Tensor[] {x}, g -> {
            NDArray idx = ArrayOps.argmax(xd, d, true); // [..., 1, ...]
            NDArray gk = keepdim ? g : g.unsqueeze(d);
            return new NDArray[] {ArrayOps.scatterAlong(x.shape(), d, idx, gk)};
        });
    }

    // ---------------------------------------------------------------- linear algebra

    /** Matrix product of operands of rank >= 2 (batch dims broadcast); 1-D cases are composites in Tensor. */
    static Tensor matmul(Tensor a, Tensor b) {
        NDArray ad = a.data(), bd = b.data();
        if (ad.rank() < 2 || bd.rank() < 2) throw new IllegalStateException("Ops.matmul needs rank >= 2");
        NDArray y = ArrayOps.matmul(ad, bd); // [*batch, m, n]
        return record("matmul", y, new Tensor[] {a, b}, g -> new NDArray[] {
                a.requiresGrad() ? sumTo(ArrayOps.matmul(g, bd.transpose(-1, -2)), a) : null,  // [*batch, m, k]
                b.requiresGrad() ? matmulGradB(ad, bd, g) : null});                          // [*batch, k, n]
    }

    /**
     * The gradient of b in a @ b. For one matrix b [k, n] under a batched a [..., m, k] it is one
     * GEMM over all rows, a^T [k, M] g [M, n] (a linear layer's weight gradient, M = B T), instead
     * of a batch of small-k products summed afterwards.
     */
    private static NDArray matmulGradB(NDArray ad, NDArray bd, NDArray g) {
        if (bd.rank() == 2 && ad.rank() > 2 && ad.dtype() == DType.F32 && g.dtype() == DType.F32) {
            return ArrayOps.matmul(ad.reshape(-1, ad.dim(-1)).transpose(0, 1), g.reshape(-1, g.dim(-1)));   // [k, n]
        }
        return ArrayOps.sumTo(ArrayOps.matmul(ad.transpose(-1, -2), g), bd.shape());
    }

    /**
     * {@code x [..., in] @ w^T + b} as one op for F32 arrays with w [out, in] and b [out] dense on
     * the heap: the forward is one GEMM with the bias added as C is written; the backward computes
     * dx = g w (one GEMM), dw = g^T x straight into w's layout (one GEMM, accumulating with beta 1
     * into a leaf's existing gradient, else into a fresh array the leaf keeps without a copy) and db
     * as column sums of g. The composite (matmul of the transposed view, then add) computed dw^T
     * into a fresh array, transposed it into the leaf with a strided copy and reduced the bias
     * through a broadcast sum. Returns null where these conditions do not hold (the caller then
     * builds the composite).
     */
    static Tensor linear(Tensor x, Tensor w, Tensor b) {
        NDArray wd = w.data(), bd = b == null ? null : b.data();
        if (x.dtype() != DType.F32 || !wd.isDenseHeapF32() || (bd != null && !bd.isDenseHeapF32()) || x.rank() < 2) return null;
        int in = wd.dim(1), outF = wd.dim(0);
        NDArray x2 = x.data().reshape(-1, in);                                   // [N, in], a view when x's layout allows
        if (!x2.isDenseHeapF32()) x2 = x2.contiguous();
        int rows = x2.dim(0);
        if (rows == 0 || in == 0) return null;
        int[] outDims = x.shape().toArray();
        outDims[outDims.length - 1] = outF;
        NDArray y = NDArray.zeros(DType.F32, Shape.of(outDims));                // [..., out]
        float[] xa = x2.floatArray(), wa = wd.floatArray(), ya = y.floatArray();
        int xo = x2.offset(), wo = wd.offset();
        Kernels.get().gemmBiasResidual(false, true, rows, outF, in, xa, xo, in, wa, wo, in,
                bd == null ? null : bd.floatArray(), bd == null ? 0 : bd.offset(), null, 0, 0, ya, 0, outF, null);
        Tensor[] inputs = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        Shape xShape = x.shape();
        return record("linear", y, inputs, g -> {
            long t0 = Backward.PROFILE ? System.nanoTime() : 0;
            NDArray g2 = g.reshape(-1, outF);                                    // [N, out]
            if (!g2.isDenseHeapF32()) g2 = g2.contiguous();
            if (Backward.PROFILE) Backward.record("linear: g copy", t0);
            float[] ga = g2.floatArray();
            int go = g2.offset();
            Kernels kern = Kernels.get();
            NDArray[] res = new NDArray[inputs.length];
            if (x.requiresGrad()) {
                long t1 = Backward.PROFILE ? System.nanoTime() : 0;
                NDArray dx = NDArray.zeros(DType.F32, Shape.of(rows, in));      // [N, in] = g [N, out] w [out, in]
                kern.gemm(false, false, rows, in, outF, 1f, ga, go, outF, wa, wo, in, 0f, dx.floatArray(), 0, in);
                res[0] = Backward.fresh(dx.reshape(xShape.toArray()));
                if (Backward.PROFILE) Backward.record("linear: dx", t1);
            }
            if (w.requiresGrad()) {                                              // [out, in] = g^T [out, N] x [N, in]
                long t1 = Backward.PROFILE ? System.nanoTime() : 0;
                NDArray acc = w.isLeaf() ? w.denseGradF32() : null;
                NDArray dw = acc != null ? acc : NDArray.zeros(DType.F32, Shape.of(outF, in));
                kern.gemm(true, false, outF, in, rows, 1f, ga, go, outF, xa, xo, in, acc != null ? 1f : 0f,
                        dw.floatArray(), dw.offset(), in);
                if (!w.isLeaf()) res[1] = dw;
                else {
                    if (acc == null) w.accumulateOwnedGrad(dw);
                    res[1] = Backward.ACCUMULATED;
                }
                if (Backward.PROFILE) Backward.record("linear: dw", t1);
            }
            if (b != null && b.requiresGrad()) {                                 // [out]: column sums of g
                long t1 = Backward.PROFILE ? System.nanoTime() : 0;
                NDArray acc = b.isLeaf() ? b.denseGradF32() : null;
                NDArray db = acc != null ? acc : NDArray.zeros(DType.F32, Shape.of(outF));
                columnSumsInto(ga, go, rows, outF, db.floatArray(), db.offset());
                if (!b.isLeaf()) res[2] = db;
                else {
                    if (acc == null) b.accumulateOwnedGrad(db);
                    res[2] = Backward.ACCUMULATED;
                }
                if (Backward.PROFILE) Backward.record("linear: db", t1);
            }
            return res;
        });
    }

    /**
     * dst[j] += sum over rows of a[off + r * cols + j]: blocks of 32 rows summed in float with the
     * SIMD add, each block's sums added in double; the columns split over the kernel threads.
     */
    private static void columnSumsInto(float[] a, int off, int rows, int cols, float[] dst, int dstOff) {
        Kernels kern = Kernels.get();
        int grain = Math.max(16, (1 << 16) / Math.max(1, rows));
        dev.attn4j.kernels.Parallel.forRange(cols, grain, (c0, c1) -> {
            int len = c1 - c0;
            float[] part = new float[len];
            double[] total = new double[len];
            for (int r0 = 0; r0 < rows; r0 += 32) {
                java.util.Arrays.fill(part, 0f);
                for (int r = r0, r1 = Math.min(rows, r0 + 32); r < r1; r++) {
                    kern.binary(BinaryOp.ADD, part, 0, a, off + r * cols + c0, part, 0, len);
                }
                for (int j = 0; j < len; j++) total[j] += part[j];
            }
            for (int j = 0; j < len; j++) dst[dstOff + c0 + j] = (float) (dst[dstOff + c0 + j] + total[j]);
        });
    }

    /**
     * Inverted dropout of a dense F32 x as one op: the same draws as {@code F.dropout}'s mask
     * ({@code rng.nextDouble() >= p} keeps an element, in row-major order) written straight into
     * the output, and kept as bits for the backward instead of a float mask and a product node.
     */
    static Tensor dropoutF32(Tensor x, double p, float scale, java.util.SplittableRandom rng) {
        NDArray xd = x.data();
        int n = xd.numel(), xo = xd.offset();
        float[] xa = xd.floatArray();
        NDArray y = NDArray.zeros(DType.F32, xd.shape());
        float[] ya = y.floatArray();
        long[] keep = new long[(n + 63) >>> 6];
        for (int i = 0; i < n; i++) {
            if (rng.nextDouble() >= p) {
                keep[i >>> 6] |= 1L << i;
                ya[i] = xa[xo + i] * scale;
            }
        }
        Shape shape = xd.shape();
        return record("dropout", y, new Tensor[] {x}, g -> {
            NDArray gd = g.isDenseHeapF32() ? g : g.contiguous();
            float[] ga = gd.floatArray();
            int go = gd.offset();
            NDArray gx = NDArray.zeros(DType.F32, shape);
            float[] gxa = gx.floatArray();
            Kernels kern = Kernels.get();
            dev.attn4j.kernels.Parallel.forRange(keep.length, 512, (w0, w1) -> {           // whole 64-bit words per chunk
                int from = w0 << 6, to = Math.min(n, w1 << 6);
                kern.maskedScale(keep, from, ga, go + from, scale, gxa, from, to - from);
            });
            return new NDArray[] {gx};
        });
    }

    // ---------------------------------------------------------------- views and shape

    static Tensor reshape(Tensor x, NDArray y, String op) {
        Shape in = x.shape();
        return record(op, y, new Tensor[] {x}, g -> new NDArray[] {g.reshape(in.toArray())});
    }

    static Tensor permute(Tensor x, int[] order) {
        NDArray y = x.data().permute(order);
        int[] inverse = new int[order.length];
        for (int i = 0; i < order.length; i++) inverse[x.shape().axis(order[i])] = i;
        return record("permute", y, new Tensor[] {x}, g -> new NDArray[] {g.permute(inverse)});
    }

    static Tensor narrow(Tensor x, int dim, int start, int length) {
        NDArray y = x.data().narrow(dim, start, length);
        return record("narrow", y, new Tensor[] {x}, g -> {
            NDArray gx = NDArray.zeros(g.dtype(), x.shape());
            gx.narrow(dim, start, length).copyFrom(g);
            return new NDArray[] {gx};
        });
    }

    static Tensor select(Tensor x, int dim, int index) {
        NDArray y = x.data().select(dim, index);
        return record("select", y, new Tensor[] {x}, g -> {
            NDArray gx = NDArray.zeros(g.dtype(), x.shape());
            gx.select(dim, index).copyFrom(g);
            return new NDArray[] {gx};
        });
    }

    static Tensor expand(Tensor x, int[] shape) {
        NDArray y = x.data().expand(shape);
        return record("expand", y, new Tensor[] {x}, g -> new NDArray[] {sumTo(g, x)});
    }

    static Tensor contiguous(Tensor x) {
        NDArray y = x.data().contiguous();
        return record("contiguous", y, new Tensor[] {x}, g -> new NDArray[] {g});
    }

    static Tensor to(Tensor x, DType t) {
        DType from = x.dtype();
        NDArray y = x.data().to(t);
        return record("to", y, new Tensor[] {x}, g -> new NDArray[] {g.to(from)});
    }

    // ---------------------------------------------------------------- softmax

    static Tensor softmax(Tensor x, int dim) {
        NDArray y = ArrayOps.softmax(x.data(), dim);
        return record("softmax", y, new Tensor[] {x}, g -> {
            NDArray gy = ArrayOps.mul(g, y);                       // [..., n, ...]
            NDArray s = ArrayOps.sum(gy, new int[] {dim}, true);  // [..., 1, ...]
            return new NDArray[] {ArrayOps.sub(gy, ArrayOps.mul(y, s))};
        });
    }

    static Tensor logSoftmax(Tensor x, int dim) {
        NDArray y = ArrayOps.logSoftmax(x.data(), dim);
        return record("logSoftmax", y, new Tensor[] {x}, g -> {
            NDArray s = ArrayOps.sum(g, new int[] {dim}, true);   // [..., 1, ...]
            return new NDArray[] {ArrayOps.sub(g, ArrayOps.mul(ArrayOps.exp(y), s))};
        });
    }

    // ---------------------------------------------------------------- functions

    static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        NDArray xd = x.data(), wd = weight == null ? null : weight.data();
        ArrayOps.NormResult r = ArrayOps.layerNorm(xd, normalizedShape, wd, bias == null ? null : bias.data(), eps);
        Tensor[] inputs = inputsOf(x, weight, bias);
        return record("layerNorm", r.out(), inputs, g -> {
            ArrayOps.NormGrads ng = ArrayOps.layerNormBackward(xd, g, r.mean(), r.rstd(), wd, normalizedShape,
                    bias != null && bias.requiresGrad());
            NDArray[] out = new NDArray[inputs.length];
            out[0] = ng.dx();
            int i = 1;
            if (weight != null) out[i++] = ng.dweight();
            if (bias != null) out[i] = ng.dbias();
            return out;
        });
    }

    static Tensor rmsNorm(Tensor x, int[] normalizedShape, Tensor weight, double eps) {
        NDArray xd = x.data(), wd = weight == null ? null : weight.data();
        ArrayOps.NormResult r = ArrayOps.rmsNorm(xd, normalizedShape, wd, eps);
        Tensor[] inputs = inputsOf(x, weight, null);
        return record("rmsNorm", r.out(), inputs, g -> {
            ArrayOps.NormGrads ng = ArrayOps.rmsNormBackward(xd, g, r.rstd(), wd, normalizedShape);
            return weight == null ? new NDArray[] {ng.dx()} : new NDArray[] {ng.dx(), ng.dweight()};
        });
    }

    private static Tensor[] inputsOf(Tensor x, Tensor w, Tensor b) {
        if (w != null && b != null) return new Tensor[] {x, w, b};
        if (w != null) return new Tensor[] {x, w};
        if (b != null) return new Tensor[] {x, b};
        return new Tensor[] {x};
    }

    static Tensor embedding(Tensor weight, NDArray indices, Integer paddingIdx) {
        NDArray y = ArrayOps.embedding(weight.data(), indices); // [*indices, D]
        int v = weight.dim(0);
        return record("embedding", y, new Tensor[] {weight}, g -> {
            if (!weight.isLeaf()) return new NDArray[] {ArrayOps.embeddingBackward(g, indices, v, paddingIdx)};
            // [V, D]: rows added into the leaf's gradient in place (a vocabulary-sized array per step neither made nor copied)
            NDArray acc = weight.denseGradF32();
            if (acc != null && g.dtype() == DType.F32) ArrayOps.embeddingBackwardInto(acc, g, indices, paddingIdx);
            else weight.accumulateOwnedGrad(ArrayOps.embeddingBackward(g, indices, v, paddingIdx));
            return new NDArray[] {Backward.ACCUMULATED};
        });
    }

    static Tensor concat(List<Tensor> ts, int dim) {
        if (ts.isEmpty()) throw new IllegalArgumentException("concat: no tensors given");
        NDArray y = ArrayOps.concat(ts.stream().map(Tensor::data).toList(), dim);
        int d = y.shape().axis(dim);
        Tensor[] inputs = ts.toArray(new Tensor[0]);
        return record("concat", y, inputs, g -> {
            NDArray[] out = new NDArray[inputs.length];
            int off = 0;
            for (int i = 0; i < inputs.length; i++) {
                int len = inputs[i].dim(d);
                out[i] = inputs[i].requiresGrad() ? g.narrow(d, off, len) : null;
                off += len;
            }
            return out;
        });
    }

    static Tensor custom(String name, CustomOp op, Tensor[] inputs) {
        boolean[] needs = new boolean[inputs.length];
        for (int i = 0; i < inputs.length; i++) needs[i] = GradMode.isEnabled() && inputs[i].requiresGrad();
        CustomOp.Context ctx = new CustomOp.Context(needs);
        NDArray[] in = new NDArray[inputs.length];
        for (int i = 0; i < in.length; i++) in[i] = inputs[i].data();
        NDArray y;
        try (var _ = GradMode.noGrad()) {
            y = op.forward(ctx, in);
        }
        if (y == null) throw new IllegalStateException("custom op '" + name + "' forward returned null");
        return record(name, y, inputs, g -> {
            try (var _ = GradMode.noGrad()) {
                return op.backward(ctx, g);
            }
        });
    }
}
