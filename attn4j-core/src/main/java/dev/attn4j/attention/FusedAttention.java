package dev.attn4j.attention;

import dev.attn4j.autograd.CustomOp;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import dev.attn4j.tensor.Storage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Memory-efficient attention (FlashAttention-style) as a differentiable op: for each block of
 * queries the keys are visited tile by tile with an online softmax (running max and sum per row),
 * so the L x S score matrix never exists; memory is O(L * Ev) for the output plus per-thread
 * tiles and one log-sum-exp per query row. The backward recomputes score tiles from the saved
 * log-sum-exp: one pass over key blocks for dK and dV, one over query blocks for dQ (race-free,
 * no atomics). Work is split over (batch*heads, query block) and (batch*kv-heads, key block).
 *
 * <p>Inputs are already expanded to their batch shapes: q [batch..., L, E], k [kvBatch..., S, E],
 * v [kvBatch..., S, Ev] where kvBatch equals batch except the last dimension (heads), which may
 * divide it (grouped-query attention: query head h reads kv head h / (Hq / Hkv)). Dense masks are
 * additive arrays broadcastable to [batch..., L, S], read in place through their strides.
 */
final class FusedAttention implements CustomOp {
    static final int DEFAULT_BLOCK_Q = 64;
    static final int DEFAULT_BLOCK_K = 128;

    private final double scale;
    private final boolean causal;
    private final boolean causalBottomRight;
    private final List<NDArray> biases;
    private final int blockQ;
    private final int blockK;

    FusedAttention(double scale, boolean causal, boolean causalBottomRight, List<NDArray> biases, int blockQ, int blockK) {
        if (blockQ < 1 || blockK < 1) throw new IllegalArgumentException("block sizes must be positive: " + blockQ + ", " + blockK);
        this.scale = scale;
        this.causal = causal;
        this.causalBottomRight = causalBottomRight;
        this.biases = List.copyOf(biases);
        this.blockQ = blockQ;
        this.blockK = blockK;
    }

    // ================================================================ layout

    /** One operand: its heap array, element offset of each batch entry's matrix, and row stride (last stride 1). */
    private record Operand(Object data, int[] offs, int rowStride) {
    }

    /** One additive mask: array, per-query-batch offsets, row and column strides (0 when broadcast). */
    private record Bias(Object data, int[] offs, int rowStride, int colStride) {
    }

    private static Object heapArray(NDArray x) {
        return x.storage() instanceof Storage.Floats f ? f.array() : ((Storage.Doubles) x.storage()).array();
    }

    /** Element offsets of each matrix of x (batch dims = all but the last two), in row-major batch order. */
    private static int[] batchOffsets(NDArray x) {
        int br = x.rank() - 2;
        int n = x.shape().numel(0, br);
        int[] offs = new int[n];
        int[] dims = x.shape().toArray(), strides = x.strides();
        for (int b = 0; b < n; b++) {
            int rem = b, off = x.offset();
            for (int d = br - 1; d >= 0; d--) {
                off += (rem % dims[d]) * strides[d];
                rem /= dims[d];
            }
            offs[b] = off;
        }
        return offs;
    }

    /** A heap view with unit last stride and row stride >= columns, copying only when needed. */
    static NDArray kernelLayout(NDArray x) {
        int rows = x.dim(-2), cols = x.dim(-1);
        boolean heap = x.storage() instanceof Storage.Floats || x.storage() instanceof Storage.Doubles;
        boolean lastOk = cols <= 1 || x.stride(-1) == 1;
        boolean rowsOk = rows <= 1 || x.stride(-2) >= cols;
        return heap && lastOk && rowsOk ? x : x.contiguous();
    }

    private static Operand operand(NDArray x) {
        NDArray y = kernelLayout(x);
        int rowStride = y.dim(-2) <= 1 ? Math.max(1, y.dim(-1)) : y.stride(-2);
        return new Operand(heapArray(y), batchOffsets(y), rowStride);
    }

    /** Everything the loops need, derived from the (expanded) inputs. */
    private final class Plan {
        final TileOps ops;
        final Operand q, k, v;
        final List<Bias> bias = new ArrayList<>();
        final int nq, hq, hkv, group, L, S, E, Ev, causalOffset;

        Plan(NDArray qa, NDArray ka, NDArray va) {
            DType dt = qa.dtype();
            if (ka.dtype() != dt || va.dtype() != dt) {
                throw new IllegalArgumentException("fused attention: dtypes differ: q " + dt + ", k " + ka.dtype() + ", v " + va.dtype());
            }
            int r = qa.rank();
            if (r < 2 || ka.rank() != r || va.rank() != r) {
                throw new IllegalArgumentException("fused attention: q, k, v must have the same rank >= 2, got " + qa.shape()
                        + ", " + ka.shape() + ", " + va.shape());
            }
            L = qa.dim(-2);
            E = qa.dim(-1);
            S = ka.dim(-2);
            Ev = va.dim(-1);
            hq = r > 2 ? qa.dim(-3) : 1;
            hkv = r > 2 ? ka.dim(-3) : 1;
            for (int d = 0; d < r - 3; d++) {
                if (qa.dim(d) != ka.dim(d) || qa.dim(d) != va.dim(d)) {
                    throw new IllegalArgumentException("fused attention: batch dimensions differ: " + qa.shape() + ", " + ka.shape()
                            + ", " + va.shape());
                }
            }
            if (ka.dim(-1) != E || va.dim(-2) != S || (r > 2 && va.dim(-3) != hkv) || hkv == 0 || hq % hkv != 0) {
                throw new IllegalArgumentException("fused attention: shapes do not fit: q " + qa.shape() + ", k " + ka.shape()
                        + ", v " + va.shape());
            }
            group = hq / hkv;
            ops = TileOps.of(dt);
            q = operand(qa);
            k = operand(ka);
            v = operand(va);
            nq = q.offs.length;
            causalOffset = causalBottomRight ? S - L : 0;
            int[] scoreDims = qa.shape().toArray();
            scoreDims[r - 1] = S;
            Shape scores = Shape.of(scoreDims);
            for (NDArray b : biases) {
                if (!b.shape().broadcastableTo(scores)) {
                    throw new IllegalArgumentException("attention mask of shape " + b.shape() + " cannot be broadcast to the scores "
                            + scores);
                }
                NDArray e = b.dtype() == dt && !(b.storage() instanceof Storage.Segment) ? b : b.to(dt);
                e = e.expand(scoreDims);                                       // [batch..., L, S] view, strides 0 where broadcast
                bias.add(new Bias(heapArray(e), batchOffsets(e), e.stride(-2), e.stride(-1)));
            }
        }

        int kvIndex(int n) {
            return (n / hq) * hkv + (n % hq) / group;
        }

        /** Index one past the last key that row i may see. */
        int keyEnd(int i) {
            return causal ? Math.max(0, Math.min(S, i + causalOffset + 1)) : S;
        }

        /** s[r * bk + c] = scale * q[i0 + r] . k[kb + c] + masks, for bq x bk. */
        void scores(int n, int i0, int bq, int kb, int bk, Object s) {
            int nkv = kvIndex(n);
            ops.gemm(false, true, bq, bk, E, scale, q.data, q.offs[n] + i0 * q.rowStride, q.rowStride,
                    k.data, k.offs[nkv] + kb * k.rowStride, k.rowStride, 0, s, 0, bk);             // [bq, bk]
            for (Bias b : bias) {
                for (int rr = 0; rr < bq; rr++) {
                    ops.addStrided(s, rr * bk, bk, b.data, b.offs[n] + (i0 + rr) * b.rowStride + kb * b.colStride, b.colStride);
                }
            }
            if (causal) {
                for (int rr = 0; rr < bq; rr++) {
                    int firstBlocked = Math.max(0, keyEnd(i0 + rr) - kb);
                    if (firstBlocked < bk) ops.fill(s, rr * bk + firstBlocked, bk - firstBlocked, Double.NEGATIVE_INFINITY);
                }
            }
        }

        /** p = exp(s - lse) per row; rows with lse = -inf (nothing visible) become 0. */
        void probabilities(Object s, int bq, int bk, double[] lse, int lseOff) {
            for (int rr = 0; rr < bq; rr++) {
                double l = lse[lseOff + rr];
                if (l == Double.NEGATIVE_INFINITY) ops.fill(s, rr * bk, bk, 0);
                else ops.expShiftSum(s, rr * bk, bk, l);
            }
        }
    }

    /** Runs body(task, scratch) for tasks 0..n-1 over the threads, each task writing only its own outputs. */
    private interface TaskBody {
        void run(int task, Object[] scratch);
    }

    private static void forTasks(int tasks, TileOps ops, int[] scratchSizes, TaskBody body) {
        if (tasks == 0) return;
        int workers = Math.min(Parallel.threads(), tasks);
        // Tasks handed out one at a time as workers ask: a worker slowed by other processes on its
        // core takes fewer, instead of holding up the call with a fixed share.
        var next = new java.util.concurrent.atomic.AtomicInteger();
        Parallel.forRange(workers, 1, (from, to) -> {
            Object[] scratch = new Object[scratchSizes.length];
            for (int i = 0; i < scratch.length; i++) scratch[i] = ops.alloc(scratchSizes[i]);
            for (int t; (t = next.getAndIncrement()) < tasks; ) body.run(t, scratch);
        });
    }

    // ================================================================ forward

    /** Output [batch..., L, Ev] and the log-sum-exp per query row [batch..., L] (F64; -inf where nothing is visible). */
    record Result(NDArray out, NDArray lse) {
    }

    Result run(NDArray qa, NDArray ka, NDArray va) {
        Plan p = new Plan(qa, ka, va);
        int[] outDims = qa.shape().toArray();
        outDims[outDims.length - 1] = p.Ev;
        NDArray out = NDArray.zeros(qa.dtype(), Shape.of(outDims));
        double[] lse = new double[p.nq * p.L];
        compute(p, operand(out), lse);
        int[] lseDims = Arrays.copyOf(outDims, outDims.length - 1);
        return new Result(out, NDArray.of(lse, lseDims));
    }

    /** Inference only: the output [batch..., L, Ev] in a new array, no log-sum-exp kept. */
    NDArray infer(NDArray qa, NDArray ka, NDArray va) {
        Plan p = new Plan(qa, ka, va);
        int[] outDims = qa.shape().toArray();
        outDims[outDims.length - 1] = p.Ev;
        NDArray out = NDArray.zeros(qa.dtype(), Shape.of(outDims));
        compute(p, operand(out), null);
        return out;
    }

    /**
     * Inference only: writes the output into {@code out} [batch..., L, Ev], a heap view with unit
     * last stride and rows at least Ev apart (for instance heads interleaved in a [B, L, H * Ev]
     * buffer), and keeps no log-sum-exp.
     */
    void runInto(NDArray qa, NDArray ka, NDArray va, NDArray out) {
        Plan p = new Plan(qa, ka, va);
        int[] outDims = qa.shape().toArray();
        outDims[outDims.length - 1] = p.Ev;
        if (!out.shape().equals(Shape.of(outDims)) || out.dtype() != qa.dtype()) {
            throw new IllegalArgumentException("fused attention: output " + out.shape() + " " + out.dtype() + " should be "
                    + Shape.of(outDims) + " " + qa.dtype());
        }
        if (kernelLayout(out) != out) {
            throw new IllegalArgumentException("fused attention: output view needs heap storage, unit last stride and rows"
                    + " at least " + p.Ev + " apart, got strides " + Arrays.toString(out.strides()));
        }
        compute(p, operand(out), null);
    }

    /**
     * Longest key sequence that inference attends to in one piece ({@link Kernels#attentionHead}:
     * a whole row of scores per query) rather than tile by tile with an online softmax. Up to here
     * a row of scores fits in L1 and the tiles' bookkeeping (a pass per row for the max, the
     * rescaling of the output, copies of K) would cost more than the products themselves: on
     * BERT's short sequences (L = S = 40, E = 32) it was 20% of the whole model's time.
     */
    static final int WHOLE_ROW_KEYS = 1024;

    /** Whether {@link #computeWholeRows} applies: F32, no causal mask, at most one mask with unit key stride. */
    private boolean wholeRows(Plan p) {
        return p.ops instanceof TileOps.F32 && !causal && p.S <= WHOLE_ROW_KEYS && p.bias.size() <= 1
                && (p.bias.isEmpty() || (p.bias.get(0).colStride() == 1 && p.bias.get(0).rowStride() >= 0))
                && ld(p.L, p.q.rowStride, p.E) > 0 && ld(p.S, p.k.rowStride, p.E) > 0 && ld(p.S, p.v.rowStride, p.Ev) > 0;
    }

    /**
     * The leading dimension to hand {@link Kernels#attentionHead} for {@code rows} rows of width
     * {@code w} that are {@code stride} apart: the stride, or any valid one for a single row (a
     * broadcast row has stride 0); -1 when the rows overlap (broadcast), which the kernel cannot take.
     */
    private static int ld(int rows, int stride, int w) {
        if (rows <= 1) return Math.max(stride, Math.max(w, 1));
        return stride >= Math.max(w, 1) ? stride : -1;
    }

    /** Inference forward, one batch entry (head) per task, each with its whole key row (see {@link #WHOLE_ROW_KEYS}). */
    private void computeWholeRows(Plan p, Operand out) {
        Kernels kern = Kernels.get();
        float[] q = (float[]) p.q.data, k = (float[]) p.k.data, v = (float[]) p.v.data, o = (float[]) out.data;
        Bias b = p.bias.isEmpty() ? null : p.bias.get(0);
        float[] bias = b == null ? null : (float[]) b.data();
        float fScale = (float) scale;
        forTasks(p.nq, p.ops, new int[] {Kernels.attentionScratchSize(p.S, p.E)}, (n, scratch) -> {
            int nkv = p.kvIndex(n);
            kern.attentionHead(p.L, p.S, p.E, p.Ev, fScale, q, p.q.offs[n], ld(p.L, p.q.rowStride, p.E), k, p.k.offs[nkv],
                    ld(p.S, p.k.rowStride, p.E), v, p.v.offs[nkv], ld(p.S, p.v.rowStride, p.Ev), bias, b == null ? 0 : b.offs()[n], b == null ? 0 : b.rowStride(),
                    o, out.offs[n], ld(p.L, out.rowStride, p.Ev), (float[]) scratch[0]);   // [L, Ev] of head n
        });
    }

    /**
     * Inference self-attention over packed sequences ({@link Attention#scaledDotProductPackedInto},
     * which checks the arguments): sequence b is rows cu[b] .. cu[b + 1] - 1 of q, k, v [N, H, E|Ev]
     * and out [N, H, Ev], F32 heap views with unit last stride. One task per (sequence, head),
     * longest sequences first so that the last tasks handed out are short ones; a sequence longer
     * than {@link #WHOLE_ROW_KEYS} takes the tiled path on its own.
     */
    static void packedInto(NDArray q, NDArray k, NDArray v, int[] cu, double scale, NDArray out) {
        int heads = q.dim(1), e = q.dim(2), ev = v.dim(2), batch = cu.length - 1;
        Integer[] bySize = new Integer[batch];
        for (int b = 0; b < batch; b++) bySize[b] = b;
        Arrays.sort(bySize, (x, y) -> Integer.compare(cu[y + 1] - cu[y], cu[x + 1] - cu[x]));   // longest first
        int whole = 0, longest = 0;
        for (int b : bySize) {
            int len = cu[b + 1] - cu[b];
            if (len == 0) continue;
            if (len > WHOLE_ROW_KEYS) {                                        // its own tiled call, [1, H, len, E] views
                Attention.scaledDotProductInto(sequence(q, cu[b], len), sequence(k, cu[b], len), sequence(v, cu[b], len),
                        AttentionMask.none(), scale, sequence(out, cu[b], len));
                continue;
            }
            bySize[whole++] = b;
            longest = Math.max(longest, len);
        }
        if (whole == 0) return;
        Kernels kern = Kernels.get();
        float[] qa = (float[]) heapArray(q), ka = (float[]) heapArray(k), va = (float[]) heapArray(v), oa = (float[]) heapArray(out);
        float fScale = (float) scale;
        int nSeq = whole;
        forTasks(nSeq * heads, TileOps.of(DType.F32), new int[] {Kernels.attentionScratchSize(longest, e)}, (task, scratch) -> {
            int b = bySize[task / heads], h = task % heads, row = cu[b], len = cu[b + 1] - row;
            kern.attentionHead(len, len, e, ev, fScale, qa, q.offset() + row * q.stride(0) + h * q.stride(1), q.stride(0),
                    ka, k.offset() + row * k.stride(0) + h * k.stride(1), k.stride(0),
                    va, v.offset() + row * v.stride(0) + h * v.stride(1), v.stride(0), null, 0, 0,
                    oa, out.offset() + row * out.stride(0) + h * out.stride(1), out.stride(0), (float[]) scratch[0]);
        });
    }

    /** Rows [row, row + len) of x [N, H, D] as [1, H, len, D] (a view). */
    private static NDArray sequence(NDArray x, int row, int len) {
        return NDArray.of(x.storage(), x.offset() + row * x.stride(0), Shape.of(1, x.dim(1), len, x.dim(2)),
                new int[] {0, x.stride(1), x.stride(0), x.stride(2)});
    }

    /**
     * Longest key prefix that a single query row (a decode step) attends to in one piece through
     * {@link #computeOneQuery}; its scratch is about keys x (E + 9) floats per thread.
     */
    static final int ONE_QUERY_KEYS = 8192;

    /**
     * Whether {@link #computeOneQuery} applies: inference in F32, one query row per head (a decode
     * step, causal or not) that sees at least one key, at most one mask with unit key stride.
     */
    private boolean oneQuery(Plan p) {
        int keys = p.keyEnd(0);
        return p.ops instanceof TileOps.F32 && p.L == 1 && keys > 0 && keys <= ONE_QUERY_KEYS && p.bias.size() <= 1
                && (p.bias.isEmpty() || p.bias.get(0).colStride() == 1)
                && ld(keys, p.k.rowStride, p.E) > 0 && ld(keys, p.v.rowStride, p.Ev) > 0;
    }

    /**
     * Inference with one query row per head ({@link #oneQuery}): the query heads that share a
     * key/value head (grouped-query attention) go through {@link Kernels#attentionHead} together as
     * rows of one block, so each key/value head is read and transposed once per step, not once per
     * query head; the keys are the visible prefix. (Per query head, the tiled path copied K element
     * by element, 6% of a Q8_0 Llama-3.2-1B decode step, and whole rows transposed it, 6% too; grouped,
     * the decode step ran 1.03-1.05x faster, steps alternating between the two in one process.)
     */
    private void computeOneQuery(Plan p, Operand out) {
        Kernels kern = Kernels.get();
        int keys = p.keyEnd(0), g = p.group;
        float[] q = (float[]) p.q.data, k = (float[]) p.k.data, v = (float[]) p.v.data, o = (float[]) out.data;
        Bias b = p.bias.isEmpty() ? null : p.bias.get(0);
        float[] bias = b == null ? null : (float[]) b.data();
        float fScale = (float) scale;
        int ldk = ld(keys, p.k.rowStride, p.E), ldv = ld(keys, p.v.rowStride, p.Ev);
        forTasks(p.nq / g, p.ops, new int[] {Kernels.attentionScratchSize(keys, p.E)}, (t, scratch) -> {
            int n0 = t * g, nkv = p.kvIndex(n0);
            int dq = ld(g, spacing(p.q.offs, n0, g), p.E), dout = ld(g, spacing(out.offs, n0, g), p.Ev);
            int dBias = b == null ? 0 : spacing(b.offs(), n0, g);
            if (dq < 0 || dout < 0 || dBias < 0) {                             // heads not evenly spaced: one at a time
                for (int n = n0; n < n0 + g; n++) {
                    kern.attentionHead(1, keys, p.E, p.Ev, fScale, q, p.q.offs[n], Math.max(1, p.E), k, p.k.offs[nkv], ldk,
                            v, p.v.offs[nkv], ldv, bias, b == null ? 0 : b.offs()[n], 0, o, out.offs[n], Math.max(1, p.Ev),
                            (float[]) scratch[0]);
                }
                return;
            }
            kern.attentionHead(g, keys, p.E, p.Ev, fScale, q, p.q.offs[n0], dq, k, p.k.offs[nkv], ldk,
                    v, p.v.offs[nkv], ldv, bias, b == null ? 0 : b.offs()[n0], dBias, o, out.offs[n0], dout,
                    (float[]) scratch[0]);                                     // [g, Ev]: the g query heads of kv head nkv
        });
    }

    /** d when offs[n0 + i] == offs[n0] + i * d for i < g (d >= 0; 0 when g == 1), else -1. */
    private static int spacing(int[] offs, int n0, int g) {
        int d = g > 1 ? offs[n0 + 1] - offs[n0] : 0;
        if (d < 0) return -1;
        for (int i = 2; i < g; i++) if (offs[n0 + i] != offs[n0] + i * d) return -1;
        return d;
    }

    /** The forward loops: output rows through {@code out}'s offsets and row stride; lse may be null. */
    private void compute(Plan p, Operand out, double[] lse) {
        if (lse == null && oneQuery(p)) {
            computeOneQuery(p, out);
            return;
        }
        if (lse == null && wholeRows(p)) {
            computeWholeRows(p, out);
            return;
        }
        Object o = out.data;
        int qBlocks = (p.L + blockQ - 1) / blockQ;
        TileOps ops = p.ops;
        int bqMax = Math.min(blockQ, Math.max(p.L, 1)), bkMax = Math.min(blockK, Math.max(p.S, 1));
        forTasks(p.nq * qBlocks, ops, new int[] {bqMax * bkMax, bqMax * p.Ev}, (task, scratch) -> {
            Object s = scratch[0], acc = scratch[1];
            int n = task / qBlocks, i0 = (task % qBlocks) * blockQ, bq = Math.min(blockQ, p.L - i0);
            int nkv = p.kvIndex(n);
            double[] m = new double[bq], l = new double[bq];
            Arrays.fill(m, Double.NEGATIVE_INFINITY);
            ops.fill(acc, 0, bq * p.Ev, 0);
            int keyEnd = p.keyEnd(i0 + bq - 1);
            for (int kb = 0; kb < keyEnd; kb += blockK) {
                int bk = Math.min(blockK, keyEnd - kb);
                p.scores(n, i0, bq, kb, bk, s);                                   // [bq, bk]
                for (int rr = 0; rr < bq; rr++) {
                    double mNew = Math.max(m[rr], ops.max(s, rr * bk, bk));
                    if (mNew == Double.NEGATIVE_INFINITY) {                        // nothing visible yet in this row
                        ops.fill(s, rr * bk, bk, 0);
                        continue;
                    }
                    double corr = Math.exp(m[rr] - mNew);                          // 0 when m was -inf
                    double rowSum = ops.expShiftSum(s, rr * bk, bk, mNew);         // p = exp(s - mNew)
                    l[rr] = l[rr] * corr + rowSum;
                    if (corr != 1) ops.scale(acc, rr * p.Ev, p.Ev, corr);
                    m[rr] = mNew;
                }
                ops.gemm(false, false, bq, p.Ev, bk, 1, s, 0, bk, p.v.data, p.v.offs[nkv] + kb * p.v.rowStride,
                        p.v.rowStride, 1, acc, 0, p.Ev);                             // acc [bq, Ev] += P V
            }
            int outOff = out.offs[n] + i0 * out.rowStride;
            for (int rr = 0; rr < bq; rr++) {
                if (m[rr] == Double.NEGATIVE_INFINITY) {                           // every key masked: output 0
                    ops.fill(o, outOff + rr * out.rowStride, p.Ev, 0);
                    if (lse != null) lse[n * p.L + i0 + rr] = Double.NEGATIVE_INFINITY;
                } else {
                    ops.scaleInto(acc, rr * p.Ev, o, outOff + rr * out.rowStride, p.Ev, 1 / l[rr]);
                    if (lse != null) lse[n * p.L + i0 + rr] = m[rr] + Math.log(l[rr]);
                }
            }
        });
    }

    @Override
    public NDArray forward(Context ctx, NDArray... in) {
        if (!ctx.needsInputGrad(0) && !ctx.needsInputGrad(1) && !ctx.needsInputGrad(2)) {
            return infer(in[0], in[1], in[2]);                                  // no backward: no log-sum-exp to keep
        }
        Result r = run(in[0], in[1], in[2]);
        ctx.save(in[0], in[1], in[2], r.out, r.lse);
        return r.out;
    }

    // ================================================================ backward

    @Override
    public NDArray[] backward(Context ctx, NDArray gradOutput) {
        NDArray qa = ctx.saved(0), ka = ctx.saved(1), va = ctx.saved(2), out = ctx.saved(3);
        double[] lse = ctx.saved(4).doubleArray();
        Plan p = new Plan(qa, ka, va);
        TileOps ops = p.ops;
        NDArray g = gradOutput.dtype() == qa.dtype() ? gradOutput.contiguous() : gradOutput.to(qa.dtype());
        Object dO = heapArray(g), o = heapArray(out);
        int dOBase = g.offset();
        // D_i = dO_i . O_i (the softmax backward's row term)
        double[] dRow = new double[p.nq * p.L];
        for (int i = 0; i < dRow.length; i++) dRow[i] = ops.dot(dO, dOBase + i * p.Ev, o, i * p.Ev, p.Ev);

        boolean needQ = ctx.needsInputGrad(0), needK = ctx.needsInputGrad(1), needV = ctx.needsInputGrad(2);
        NDArray dq = needQ ? NDArray.zeros(qa.dtype(), qa.shape()) : null;
        NDArray dk = needK || needV ? NDArray.zeros(ka.dtype(), ka.shape()) : null;
        NDArray dv = needK || needV ? NDArray.zeros(va.dtype(), va.shape()) : null;
        int bqMax = Math.min(blockQ, Math.max(p.L, 1)), bkMax = Math.min(blockK, Math.max(p.S, 1));
        int[] scratch = {bqMax * bkMax, bqMax * bkMax};

        if (dk != null) {
            // pass A: per (kv batch entry, key block) accumulate dK and dV over the group's query heads and query blocks
            Object dkA = heapArray(dk), dvA = heapArray(dv);
            int kBlocks = (p.S + blockK - 1) / blockK;
            int nkvTotal = p.k.offs.length;
            forTasks(nkvTotal * kBlocks, ops, scratch, (task, sc) -> {
                Object s = sc[0], dp = sc[1];
                int nkv = task / kBlocks, kb = (task % kBlocks) * blockK, bk = Math.min(blockK, p.S - kb);
                int dkOff = (nkv * p.S + kb) * p.E, dvOff = (nkv * p.S + kb) * p.Ev;
                int firstQuery = causal ? Math.max(0, kb - p.causalOffset) : 0;   // rows before it see none of these keys
                for (int gi = 0; gi < p.group; gi++) {
                    int n = (nkv / p.hkv) * p.hq + (nkv % p.hkv) * p.group + gi;
                    for (int i0 = (firstQuery / blockQ) * blockQ; i0 < p.L; i0 += blockQ) {
                        int bq = Math.min(blockQ, p.L - i0);
                        p.scores(n, i0, bq, kb, bk, s);                                    // [bq, bk]
                        p.probabilities(s, bq, bk, lse, n * p.L + i0);                     // P [bq, bk]
                        int dORow = dOBase + (n * p.L + i0) * p.Ev;
                        ops.gemm(true, false, bk, p.Ev, bq, 1, s, 0, bk, dO, dORow, p.Ev, 1, dvA, dvOff, p.Ev); // dV += P^T dO
                        ops.gemm(false, true, bq, bk, p.Ev, 1, dO, dORow, p.Ev, p.v.data, p.v.offs[nkv] + kb * p.v.rowStride,
                                p.v.rowStride, 0, dp, 0, bk);                              // dP = dO V^T [bq, bk]
                        for (int rr = 0; rr < bq; rr++) ops.softmaxGradRow(s, dp, rr * bk, bk, dRow[n * p.L + i0 + rr]);
                        ops.gemm(true, false, bk, p.E, bq, scale, dp, 0, bk, p.q.data, p.q.offs[n] + i0 * p.q.rowStride,
                                p.q.rowStride, 1, dkA, dkOff, p.E);                        // dK += scale dS^T Q
                    }
                }
            });
        }
        if (dq != null) {
            // pass B: per (query batch entry, query block) accumulate dQ over the visible key blocks
            Object dqA = heapArray(dq);
            int qBlocks = (p.L + blockQ - 1) / blockQ;
            forTasks(p.nq * qBlocks, ops, scratch, (task, sc) -> {
                Object s = sc[0], dp = sc[1];
                int n = task / qBlocks, i0 = (task % qBlocks) * blockQ, bq = Math.min(blockQ, p.L - i0);
                int nkv = p.kvIndex(n);
                int dORow = dOBase + (n * p.L + i0) * p.Ev;
                int keyEnd = p.keyEnd(i0 + bq - 1);
                for (int kb = 0; kb < keyEnd; kb += blockK) {
                    int bk = Math.min(blockK, keyEnd - kb);
                    p.scores(n, i0, bq, kb, bk, s);
                    p.probabilities(s, bq, bk, lse, n * p.L + i0);                         // P [bq, bk]
                    ops.gemm(false, true, bq, bk, p.Ev, 1, dO, dORow, p.Ev, p.v.data, p.v.offs[nkv] + kb * p.v.rowStride,
                            p.v.rowStride, 0, dp, 0, bk);                                  // dP = dO V^T
                    for (int rr = 0; rr < bq; rr++) ops.softmaxGradRow(s, dp, rr * bk, bk, dRow[n * p.L + i0 + rr]);
                    ops.gemm(false, false, bq, p.E, bk, scale, dp, 0, bk, p.k.data, p.k.offs[nkv] + kb * p.k.rowStride,
                            p.k.rowStride, 1, dqA, (n * p.L + i0) * p.E, p.E);             // dQ += scale dS K
                }
            });
        }
        return new NDArray[] {dq, needK ? dk : null, needV ? dv : null};
    }
}
