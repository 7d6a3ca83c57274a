package dev.attn4j.models.bert;

import dev.attn4j.autograd.CustomOp;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.BinaryOp;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Storage;

import java.util.SplittableRandom;

/**
 * Attention with dropout on the weights, for training, as one autograd op:
 * {@code Dropout(softmax(Q K^T scale + mask)) V}. The unfused path keeps five [B, H, T, S]
 * arrays per layer alive until backward (scores, scaled, masked, softmax, dropout mask and its
 * output); this op keeps the softmax only, the dropout mask as bits, and recomputes the dropped
 * weights in backward. The mask draws {@code rng.nextDouble() >= p} per weight in row-major
 * order, as {@code F.dropout} does. The products run one GEMM per (batch, head) through the
 * operands' strides, and the output and the gradients of q, k and v are views of arrays laid out
 * [B, T, H, D] (heads last), so the head split and merge around the op copy nothing either way.
 */
final class TrainingAttention implements CustomOp {
    private final double scale;
    private final NDArray bias;
    private final double p;
    private final SplittableRandom rng;
    private long[] keep;

    private TrainingAttention(double scale, NDArray bias, double p, SplittableRandom rng) {
        this.scale = scale;
        this.bias = bias;
        this.p = p;
        this.rng = rng;
    }

    /**
     * q [B, H, T, D], k and v [B, H, S, D] (any strides) -> [B, H, T, D], a view of a dense
     * [B, T, H, D] array; {@code additiveMask} [B, S] (0 or a
     * large negative value per key) or null.
     */
    static Tensor apply(Tensor q, Tensor k, Tensor v, NDArray additiveMask, double p, SplittableRandom rng) {
        NDArray bias = additiveMask == null ? null : additiveMask.reshape(additiveMask.dim(0), 1, 1, additiveMask.dim(1)); // [B, 1, 1, S]
        return Tensor.apply("trainingAttention", new TrainingAttention(1 / Math.sqrt(q.dim(-1)), bias, p, rng), q, k, v);
    }

    @Override
    public NDArray forward(Context ctx, NDArray... in) {
        NDArray q = in[0], k = in[1], v = in[2];
        NDArray y = NDArray.zeros(q.dim(0), q.dim(1), q.dim(2), k.dim(2));                   // [B, H, T, S], fresh and dense
        bmm(q, k, true, y);                                                                      // q k^T
        int n = y.numel(), cols = y.dim(3), rows = n / Math.max(1, cols), perBatch = y.dim(1) * y.dim(2);
        keep = new long[(n + 63) >>> 6];
        for (int i = 0; i < n; i++) if (rng.nextDouble() >= p) keep[i >>> 6] |= 1L << i;      // drawn in row-major order
        NDArray b = bias == null ? null : bias.isDenseHeapF32() ? bias : bias.contiguous();   // [B, 1, 1, S]
        float[] ya = y.floatArray(), ba = b == null ? null : b.floatArray();
        int bo = b == null ? 0 : b.offset();
        float sc = (float) scale;
        Kernels kern = Kernels.get();
        // scale, mask and softmax in place, one row at a time while it is in cache (the rows on the kernel threads)
        Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, cols)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int off = r * cols;
                kern.binaryScalar(BinaryOp.MUL, ya, off, sc, ya, off, cols);
                if (ba != null) kern.binary(BinaryOp.ADD, ya, off, ba, bo + (r / perBatch) * cols, ya, off, cols);
                kern.softmax(ya, off, ya, off, cols);
            }
        });
        ctx.save(y, q, k, v);
        return headsLast(dropped(y), v, false);                                                 // [B, H, T, D] view of [B, T, H, D]
    }

    /** x itself when it is heap F32 with unit last stride (what {@link #bmm} reads), else a dense copy. */
    private static NDArray unitLast(NDArray x) {
        return x.dtype() == DType.F32 && x.storage() instanceof Storage.Floats && x.stride(3) == 1 ? x : x.contiguous();
    }

    /**
     * out[b, h] = a[b, h] b[b, h] (b[b, h]^T when {@code transB}) for rank-4 F32 arrays, each matrix
     * one GEMM read and written in place through the strides (heads of a [B, T, C] projection
     * need no copy), the B x H matrices on the kernel threads. out: heap F32 with unit last stride.
     */
    private static void bmm(NDArray a, NDArray b, boolean transB, NDArray out) {
        NDArray ac = unitLast(a), bc = unitLast(b);
        int heads = ac.dim(1), m = ac.dim(2), k = ac.dim(3), n = out.dim(3), count = ac.dim(0) * heads;
        float[] aa = ac.floatArray(), ba = bc.floatArray(), ca = out.floatArray();
        int a0 = ac.stride(0), a1 = ac.stride(1), lda = ac.stride(2), b0 = bc.stride(0), b1 = bc.stride(1), ldb = bc.stride(2);
        int c0 = out.stride(0), c1 = out.stride(1), ldc = out.stride(2), ao = ac.offset(), bo = bc.offset(), co = out.offset();
        Kernels kern = Kernels.get();
        Parallel.forRange(count, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int bi = i / heads, hi = i % heads;
                kern.gemm(false, transB, m, n, k, 1f, aa, ao + bi * a0 + hi * a1, lda, ba, bo + bi * b0 + hi * b1, ldb,
                        0f, ca, co + bi * c0 + hi * c1, ldc);
            }
        });
    }

    /**
     * a [B, H, M, K] times b [B, H, K, N] (b [B, H, N, K] read transposed when {@code transB}) into a
     * fresh [B, M, H, N] array, returned as its [B, H, M, N] view: permuted back and reshaped to
     * [B, M, H * N] it is dense, so neither the caller's reshape nor that reshape's backward copies.
     */
    private static NDArray headsLast(NDArray a, NDArray b, boolean transB) {
        NDArray out = NDArray.zeros(a.dim(0), a.dim(2), a.dim(1), transB ? b.dim(2) : b.dim(3));   // [B, M, H, N]
        NDArray view = out.permute(0, 2, 1, 3);                                                  // [B, H, M, N]
        bmm(a, b, transB, view);
        return view;
    }

    /** y (dense) with dropped weights zeroed and kept ones scaled by 1 / (1 - p); rows on the kernel threads. */
    private NDArray dropped(NDArray y) {
        NDArray d = NDArray.zeros(y.shape().toArray());
        float[] src = y.floatArray(), dst = d.floatArray();
        int off = y.offset();
        float kept = (float) (1 / (1 - p));
        long[] bits = keep;
        // whole 64-bit words per chunk
        Kernels kern = Kernels.get();
        int n = y.numel();
        Parallel.forRange(bits.length, 256, (w0, w1) -> {
            int from = w0 << 6, to = Math.min(n, w1 << 6);
            kern.maskedScale(bits, from, src, off + from, kept, dst, from, to - from);
        });
        return d;
    }

    /**
     * The dropped weights transposed, [B, H, S, T] dense, so the gradient of v is a plain product
     * ({@code dropped^T g}) rather than one reading its left operand transposed (packing a
     * transposed 64 x 64 operand made those small products about 2.5x slower).
     */
    private NDArray droppedTransposed(NDArray y) {
        int t = y.dim(2), cols = y.dim(3), blocks = y.numel() / Math.max(1, t * cols);
        NDArray d = NDArray.zeros(y.dim(0), y.dim(1), cols, t);
        float[] src = y.floatArray(), dst = d.floatArray();
        int off = y.offset();
        float kept = (float) (1 / (1 - p));
        long[] bits = keep;
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                int base = b * t * cols;
                for (int r = 0; r < t; r++) {
                    for (int j = 0; j < cols; j++) {
                        int i = base + r * cols + j;
                        if ((bits[i >>> 6] & (1L << i)) != 0) dst[base + j * t + r] = src[off + i] * kept;
                    }
                }
            }
        });
        return d;
    }

    @Override
    public NDArray[] backward(Context ctx, NDArray g) {
        NDArray y = ctx.saved(0), q = ctx.saved(1), k = ctx.saved(2), v = ctx.saved(3);
        NDArray gv = headsLast(droppedTransposed(y), g, false);                                  // [B, H, S, D] view of [B, S, H, D]
        NDArray gs = NDArray.zeros(y.dim(0), y.dim(1), y.dim(2), y.dim(3));                    // [B, H, T, S], d loss / d dropped
        bmm(g, v, true, gs);                                                                     // g v^T
        int t = y.dim(2), cols = y.dim(3), rows = y.numel() / cols;
        NDArray gsT = NDArray.zeros(y.dim(0), y.dim(1), cols, t);                              // [B, H, S, T], d loss / d scores transposed
        float[] ga = gs.floatArray(), ya = y.floatArray(), gta = gsT.floatArray();
        int go = gs.offset(), yo = y.offset();
        float kept = (float) (1 / (1 - p));
        long[] bits = keep;
        float sc = (float) scale;
        Kernels kern = Kernels.get();
        Parallel.forRange(rows, Math.max(1, (1 << 14) / Math.max(1, cols)), (r0, r1) -> {       // rows on the kernel threads
            for (int r = r0; r < r1; r++) {
                int base = r * cols, tBase = (r / t) * t * cols + r % t;                       // row r's column 0 in gsT
                int gb = go + base, yb = yo + base;
                kern.maskedScale(bits, base, ga, gb, kept, ga, gb, cols);                       // through the dropout
                float dot = kern.dot(ga, gb, ya, yb, cols);
                kern.binaryScalar(BinaryOp.SUB, ga, gb, dot, ga, gb, cols);                      // through softmax: y (gy - dot)
                kern.binary(BinaryOp.MUL, ga, gb, ya, yb, ga, gb, cols);
                kern.binaryScalar(BinaryOp.MUL, ga, gb, sc, ga, gb, cols);                      // and the scale
                for (int j = 0; j < cols; j++) gta[tBase + j * t] = ga[gb + j];
            }
        });
        NDArray gq = headsLast(gs, k, false);                                                    // [B, H, T, D] view of [B, T, H, D]
        NDArray gk = headsLast(gsT, q, false);                                                   // [B, H, S, D] view of [B, S, H, D]
        return new NDArray[] {gq, gk, gv};
    }
}
