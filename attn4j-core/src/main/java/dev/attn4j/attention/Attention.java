package dev.attn4j.attention;

import dev.attn4j.autograd.CustomOp;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import dev.attn4j.tensor.Storage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Attention functions, differentiable, with the semantics of PyTorch's
 * {@code torch.nn.functional.scaled_dot_product_attention}.
 */
public final class Attention {
    private Attention() {
    }

    /** {@link #scaledDotProduct(Tensor, Tensor, Tensor, SdpaOptions)} with {@link SdpaOptions#defaults()}. */
    public static AttentionResult scaledDotProduct(Tensor q, Tensor k, Tensor v) {
        return scaledDotProduct(q, k, v, SdpaOptions.defaults());
    }

    /**
     * {@code softmax(Q K^T * scale + mask) V} with q [..., L, E], k [..., S, E], v [..., S, Ev]
     * (leading dimensions broadcast; with {@link SdpaOptions#enableGqa} dim -3 holds the heads)
     * giving output [..., L, Ev] and, when {@link SdpaOptions#needWeights}, the weights
     * [..., L, S]. Masks: see {@link AttentionMask}; a query row with every key masked gets
     * output 0 and weights 0. The fused path runs when no weights are requested and dropout is
     * inactive (or when forced); both paths are differentiable in q, k and v.
     */
    public static AttentionResult scaledDotProduct(Tensor q, Tensor k, Tensor v, SdpaOptions o) {
        if (q == null || k == null || v == null || o == null) {
            throw new IllegalArgumentException("scaledDotProduct: query, key, value and options must not be null");
        }
        if (q.rank() < 2 || k.rank() < 2 || v.rank() < 2) {
            throw new IllegalArgumentException("scaledDotProduct: query " + q.shape() + ", key " + k.shape() + " and value "
                    + v.shape() + " need at least 2 dimensions ([..., L, E], [..., S, E], [..., S, Ev])");
        }
        DType dt = q.dtype();
        if (k.dtype() != dt || v.dtype() != dt) {
            throw new IllegalArgumentException("scaledDotProduct: dtypes differ: query " + dt + ", key " + k.dtype() + ", value "
                    + v.dtype());
        }
        int L = q.dim(-2), E = q.dim(-1), S = k.dim(-2), Ev = v.dim(-1);
        if (k.dim(-1) != E) {
            throw new IllegalArgumentException("scaledDotProduct: query " + q.shape() + " and key " + k.shape()
                    + " differ in the embedding dimension E (last): " + E + " vs " + k.dim(-1));
        }
        if (v.dim(-2) != S) {
            throw new IllegalArgumentException("scaledDotProduct: key " + k.shape() + " and value " + v.shape()
                    + " differ in the number of keys S (dimension -2): " + S + " vs " + v.dim(-2));
        }
        if (E == 0 && o.scale() == null) {
            throw new IllegalArgumentException("scaledDotProduct: query " + q.shape() + " has E = 0; the default scale 1/sqrt(E) is undefined");
        }
        // ---- batch shapes (with GQA, k/v heads count as the query's for broadcasting)
        Shape qb = lead(q), kb = lead(k), vb = lead(v);
        int group = 1;
        if (o.enableGqa()) {
            if (q.rank() < 3 || k.rank() < 3 || v.rank() < 3) {
                throw new IllegalArgumentException("scaledDotProduct: enableGqa needs a head dimension (-3) in query " + q.shape()
                        + ", key " + k.shape() + " and value " + v.shape());
            }
            int hq = q.dim(-3), hk = k.dim(-3), hv = v.dim(-3);
            if (hk == 0 || hv == 0 || hq % hk != 0 || hq % hv != 0) {
                throw new IllegalArgumentException("scaledDotProduct: grouped-query attention needs the query heads (" + hq
                        + ") to be a multiple of the key heads (" + hk + ") and value heads (" + hv + "); shapes " + q.shape()
                        + ", " + k.shape() + ", " + v.shape());
            }
            group = hq / hk;
            kb = kb.with(-1, hq);
            vb = vb.with(-1, hq);
        }
        Shape batch;
        try {
            batch = Shape.broadcast(Shape.broadcast(qb, kb), vb);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("scaledDotProduct: batch dimensions of query " + q.shape() + ", key " + k.shape()
                    + " and value " + v.shape() + " cannot be broadcast together"
                    + (o.enableGqa() ? "" : " (different head counts need enableGqa)"), e);
        }
        Shape scores = concat(batch, L, S);
        // ---- masks
        o.mask().checkFits("attention mask", scores);
        AttentionMask mask = o.mask();
        if (o.causal()) mask = mask.and(AttentionMask.causal());
        if (!o.keyPadding().isEmpty()) {
            AttentionMask kp = o.keyPadding().asKeyPadding(scores.rank());         // [B, S] -> [B, 1, ..., 1, S]
            kp.checkFits("key padding mask [B, S]", scores);
            mask = mask.and(kp);
        }
        double scale = o.scale() != null ? o.scale() : 1 / Math.sqrt(E);
        if (o.dropoutActive() && o.rng() == null) {
            throw new IllegalArgumentException("scaledDotProduct: dropout " + o.dropoutP() + " needs a SplittableRandom: "
                    + "use SdpaOptions.dropout(p, rng)");
        }
        // ---- path
        String noFused = o.needWeights() ? "attention weights were requested"
                : o.dropoutActive() ? "dropout is active"
                : o.enableGqa() && k.dim(-3) != v.dim(-3) ? "key and value have different head counts" : null;
        SdpaOptions.Path path = o.path();
        if (path == SdpaOptions.Path.AUTO) path = noFused == null ? SdpaOptions.Path.FUSED : SdpaOptions.Path.REFERENCE;
        if (path == SdpaOptions.Path.FUSED && noFused != null) {
            throw new IllegalArgumentException("scaledDotProduct: the fused path cannot run because " + noFused
                    + "; use Path.REFERENCE or AUTO");
        }
        if (path == SdpaOptions.Path.FUSED) {
            return new AttentionResult(fused(q, k, v, batch, group, mask, scale, L, S, dt,
                    FusedAttention.DEFAULT_BLOCK_Q, FusedAttention.DEFAULT_BLOCK_K), null);
        }
        return reference(q, k, v, group, mask, scale, o, L, S, dt);
    }

    private static Shape lead(Tensor t) {
        return Shape.of(Arrays.copyOf(t.shape().toArray(), t.rank() - 2));
    }

    private static Shape concat(Shape batch, int a, int b) {
        int[] d = Arrays.copyOf(batch.toArray(), batch.rank() + 2);
        d[batch.rank()] = a;
        d[batch.rank() + 1] = b;
        return Shape.of(d);
    }

    private static Tensor expandTo(Tensor t, Shape target) {
        return t.shape().equals(target) ? t : t.expand(target.toArray());
    }

    /** The fused kernel on q, k, v expanded to their batch shapes; block sizes are parameters for tests. */
    static Tensor fused(Tensor q, Tensor k, Tensor v, Shape batch, int group, AttentionMask mask, double scale,
                        int L, int S, DType dt, int blockQ, int blockK) {
        Shape kvBatch = batch.rank() > 0 && group > 1 ? batch.with(-1, batch.dim(-1) / group) : batch;
        Tensor qE = expandTo(q, concat(batch, L, q.dim(-1)));                          // [batch..., L, E]
        Tensor kE = expandTo(k, concat(kvBatch, S, k.dim(-1)));                        // [kvBatch..., S, E]
        Tensor vE = expandTo(v, concat(kvBatch, S, v.dim(-1)));                        // [kvBatch..., S, Ev]
        FusedAttention op = fusedOp(mask, scale, L, S, dt, blockQ, blockK);
        return Tensor.apply("scaledDotProductAttention[fused]", op, qE, kE, vE);       // [batch..., L, Ev]
    }

    /** The fused kernel for {@code mask}'s parts: dense masks become additive biases, causal parts flags. */
    private static FusedAttention fusedOp(AttentionMask mask, double scale, int L, int S, DType dt, int blockQ, int blockK) {
        boolean topLeft = false, bottomRight = false;
        List<NDArray> biases = new ArrayList<>();
        for (AttentionMask.Part part : mask.parts()) {
            switch (part) {
                case AttentionMask.Dense d -> biases.add(d.bias().to(dt));
                case AttentionMask.Causal c -> {
                    if (c.bottomRight()) bottomRight = true;
                    else topLeft = true;
                }
            }
        }
        if (topLeft && bottomRight) {                                                  // both: the stricter one wins
            if (S - L < 0) topLeft = false;
            else bottomRight = false;
        }
        FusedAttention op = new FusedAttention(scale, topLeft || bottomRight, bottomRight, biases, blockQ, blockK);
        return op;
    }

    /**
     * Inference-only scaled dot-product attention, {@code softmax(Q K^T * scale + mask) V}, written
     * into {@code out} with no autograd record and no [L, S] score matrix (the fused kernel).
     * q [B, H, L, E], k [B, H, S, E], v [B, H, S, Ev] and out [B, H, L, Ev] may be any views over
     * heap arrays with unit last stride, such as heads interleaved in [B, L, H * E] projections
     * ({@code x.view(B, L, H, E).permute(0, 2, 1, 3)}), so no head split or merge is copied.
     * {@code keyPadding}: a [B, S] mask as for {@link SdpaOptions#keyPaddingMask}, or
     * {@link AttentionMask#none()}. A query row whose keys are all masked gets output 0.
     */
    public static void scaledDotProductInto(NDArray q, NDArray k, NDArray v, AttentionMask keyPadding, double scale,
                                            NDArray out) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || out.rank() != 4) {
            throw new IllegalArgumentException("scaledDotProductInto: q, k, v and out must be [B, H, L|S, E], got " + q.shape()
                    + ", " + k.shape() + ", " + v.shape() + ", " + out.shape());
        }
        if (k.dim(0) != q.dim(0) || k.dim(1) != q.dim(1) || !k.shape().equals(Shape.of(k.dim(0), k.dim(1), v.dim(2), q.dim(3)))
                || v.dim(0) != q.dim(0) || v.dim(1) != q.dim(1)) {
            throw new IllegalArgumentException("scaledDotProductInto: shapes do not fit: q " + q.shape() + ", k " + k.shape()
                    + ", v " + v.shape());
        }
        int L = q.dim(2), S = k.dim(2);
        AttentionMask mask = keyPadding.isEmpty() ? keyPadding : keyPadding.asKeyPadding(4);
        Shape scores = Shape.of(q.dim(0), q.dim(1), L, S);
        mask.checkFits("key padding mask [B, S]", scores);
        checkOutputApart("scaledDotProductInto", out, 2, q, k, v);
        fusedOp(mask, scale, L, S, q.dtype(), FusedAttention.DEFAULT_BLOCK_Q, FusedAttention.DEFAULT_BLOCK_K)
                .runInto(q, k, v, out);
    }

    /**
     * Inference-only self-attention over sequences packed one after another with no padding (the
     * layout of flash-attn's {@code varlen} functions): sequence b is rows {@code cuSeqlens[b]} to
     * {@code cuSeqlens[b + 1] - 1} of q [N, H, E], k [N, H, E], v [N, H, Ev] and out [N, H, Ev], and
     * attends to its own rows only, so no key is padding and no work goes to padding rows. Each
     * output row is what {@link #scaledDotProductInto} gives for that sequence alone (or padded,
     * with a key-padding mask). {@code cuSeqlens} has B + 1 entries: 0, then running totals of the
     * lengths, ending at N. The arrays are F32 views over heap arrays with unit last stride, such as
     * the heads interleaved in a [N, 3 H E] projection.
     */
    public static void scaledDotProductPackedInto(NDArray q, NDArray k, NDArray v, int[] cuSeqlens, double scale, NDArray out) {
        String op = "scaledDotProductPackedInto";
        if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3 || out.rank() != 3) {
            throw new IllegalArgumentException(op + ": q, k, v and out must be [N, H, E|Ev], got " + q.shape() + ", " + k.shape()
                    + ", " + v.shape() + ", " + out.shape());
        }
        int n = q.dim(0), heads = q.dim(1);
        if (!k.shape().equals(q.shape()) || v.dim(0) != n || v.dim(1) != heads
                || !out.shape().equals(Shape.of(n, heads, v.dim(2)))) {
            throw new IllegalArgumentException(op + ": shapes do not fit: q " + q.shape() + ", k " + k.shape() + ", v "
                    + v.shape() + ", out " + out.shape() + " (k must equal q, out must be [N, H, Ev] of v)");
        }
        for (var named : List.of(Map.entry("q", q), Map.entry("k", k), Map.entry("v", v), Map.entry("out", out))) {
            NDArray x = named.getValue();
            if (x.dtype() != DType.F32 || !(x.storage() instanceof Storage.Floats) || (x.dim(2) > 1 && x.stride(2) != 1)) {
                throw new IllegalArgumentException(op + ": " + named.getKey() + " must be an F32 heap view with unit last stride, got "
                        + x.dtype() + " " + x.storage().getClass().getSimpleName() + " strides " + Arrays.toString(x.strides()));
            }
        }
        if (cuSeqlens == null || cuSeqlens.length < 1 || cuSeqlens[0] != 0 || cuSeqlens[cuSeqlens.length - 1] != n) {
            throw new IllegalArgumentException(op + ": cuSeqlens must run from 0 to N = " + n + ", got "
                    + (cuSeqlens == null ? "null" : Arrays.toString(cuSeqlens)));
        }
        for (int b = 0; b + 1 < cuSeqlens.length; b++) {
            if (cuSeqlens[b + 1] < cuSeqlens[b]) {
                throw new IllegalArgumentException(op + ": cuSeqlens decreases at " + (b + 1) + ": " + Arrays.toString(cuSeqlens));
            }
        }
        checkOutputApart(op, out, 0, q, k, v);
        FusedAttention.packedInto(q, k, v, cuSeqlens, scale, out);
    }

    /**
     * Rejects an output that may share elements with q, k or v: the kernel writes rows of out while
     * other tasks still read the inputs, so an overlap would give a silently wrong result. Views of
     * one buffer are apart when their spans do not meet, or when both lie within the same rows
     * (equal stride on {@code rowDim}, every other stride either a multiple of it or inside one row)
     * in column ranges that do not meet, as heads interleaved in a [T, 4 H E] buffer do.
     */
    private static void checkOutputApart(String op, NDArray out, int rowDim, NDArray q, NDArray k, NDArray v) {
        String[] names = {"q", "k", "v"};
        NDArray[] inputs = {q, k, v};
        for (int i = 0; i < 3; i++) {
            if (mayOverlap(out, inputs[i], rowDim)) {
                throw new IllegalArgumentException(op + ": out overlaps " + names[i] + " (the same storage, offsets " + out.offset()
                        + " and " + inputs[i].offset() + ", strides " + Arrays.toString(out.strides()) + " and "
                        + Arrays.toString(inputs[i].strides()) + "); write the output into a separate buffer");
            }
        }
    }

    private static boolean mayOverlap(NDArray a, NDArray b, int rowDim) {
        if (a.storage() != b.storage() || a.shape().numel() == 0 || b.shape().numel() == 0) return false;
        long[] sa = span(a), sb = span(b);
        if (sa[1] < sb[0] || sb[1] < sa[0]) return false;
        int rs = a.stride(rowDim);
        if (rs <= 0 || b.stride(rowDim) != rs) return true;
        long ca = columns(a, rowDim, rs), cb = columns(b, rowDim, rs);
        if (ca < 0 || cb < 0) return true;
        long a0 = Math.floorMod(a.offset(), rs), b0 = Math.floorMod(b.offset(), rs);
        return a0 < b0 + cb && b0 < a0 + ca;
    }

    /** [lowest, highest] element index of a non-empty view. */
    private static long[] span(NDArray x) {
        long lo = x.offset(), hi = x.offset();
        for (int d = 0; d < x.rank(); d++) {
            long reach = (long) (x.dim(d) - 1) * x.stride(d);
            if (reach < 0) lo += reach;
            else hi += reach;
        }
        return new long[] {lo, hi};
    }

    /**
     * How many columns of a row of stride rs the view covers from its offset's column on, when every
     * dimension but rowDim either moves whole rows (a stride that is a multiple of rs) or stays inside
     * the row without wrapping; -1 otherwise.
     */
    private static long columns(NDArray x, int rowDim, int rs) {
        long extent = 1;
        for (int d = 0; d < x.rank(); d++) {
            if (d == rowDim || x.dim(d) == 1) continue;
            int st = x.stride(d);
            if (st < 0) return -1;
            if (st % rs != 0) extent += (long) (x.dim(d) - 1) * st;
        }
        return Math.floorMod(x.offset(), rs) + extent <= rs ? extent : -1;
    }

    private static AttentionResult reference(Tensor q, Tensor k, Tensor v, int group, AttentionMask mask, double scale,
                                             SdpaOptions o, int L, int S, DType dt) {
        Tensor kr = repeatHeads(k, group);                                             // [..., Hq, S, E]
        Tensor vr = repeatHeads(v, v.rank() >= 3 && o.enableGqa() ? q.dim(-3) / v.dim(-3) : 1); // [..., Hq, S, Ev]
        Tensor s = q.matmul(kr.transpose(-2, -1)).mul(scale);                          // [..., L, S]
        NDArray bias = mask.toAdditive(dt, L, S);                                      // broadcastable to [..., L, S]
        if (bias != null) s = s.add(Tensor.of(bias));
        Tensor w = maskedSoftmax(s);                                                   // [..., L, S]
        if (o.dropoutActive()) w = F.dropout(w, o.dropoutP(), true, o.rng());
        Tensor out = w.matmul(vr);                                                     // [..., L, Ev]
        return new AttentionResult(out, o.needWeights() ? w : null);
    }

    /** k [..., H, S, E] -> [..., H * g, S, E], each head repeated g times in place (repeat_interleave on dim -3). */
    static Tensor repeatHeads(Tensor k, int g) {
        if (g == 1) return k;
        int[] d = k.shape().toArray();
        int r = d.length;
        int[] expanded = new int[r + 1];
        System.arraycopy(d, 0, expanded, 0, r - 2);
        expanded[r - 2] = g;
        expanded[r - 1] = d[r - 2];
        expanded[r] = d[r - 1];
        int[] merged = d.clone();
        merged[r - 3] = d[r - 3] * g;
        return k.unsqueeze(-3).expand(expanded).reshape(merged);                      // [..., H, 1, S, E] -> [..., H, g, S, E] -> [..., H*g, S, E]
    }

    /**
     * Softmax over the last dimension in which a row whose entries are all -infinity (every key
     * masked) gives zeros instead of NaN; its gradient is then zero too.
     */
    public static Tensor maskedSoftmax(Tensor scores) {
        if (scores.rank() == 0) throw new IllegalArgumentException("maskedSoftmax needs at least one dimension");
        return Tensor.apply("maskedSoftmax", MASKED_SOFTMAX, scores);
    }

    private static final CustomOp MASKED_SOFTMAX = new CustomOp() {
        @Override
        public NDArray forward(Context ctx, NDArray... in) {
            NDArray x = in[0];
            if (x.dim(-1) == 0) {
                NDArray y = NDArray.zeros(x.dtype(), x.shape());
                ctx.save(y);
                return y;
            }
            NDArray y = ArrayOps.softmax(x, -1);                                      // [..., S]
            NDArray rowMax = ArrayOps.max(x, -1, true);                               // [..., 1]
            NDArray dead = ArrayOps.map(rowMax, m -> m == Double.NEGATIVE_INFINITY ? 1 : 0);
            if (ArrayOps.maxAll(dead) > 0) y = ArrayOps.maskedFill(y, dead, 0);
            ctx.save(y);
            return y;
        }

        @Override
        public NDArray[] backward(Context ctx, NDArray g) {
            NDArray y = ctx.saved(0);
            NDArray gy = ArrayOps.mul(g, y);                                           // [..., S]
            NDArray s = ArrayOps.sum(gy, new int[] {-1}, true);                        // [..., 1]
            return new NDArray[] {ArrayOps.sub(gy, ArrayOps.mul(y, s))};
        }
    };
}
