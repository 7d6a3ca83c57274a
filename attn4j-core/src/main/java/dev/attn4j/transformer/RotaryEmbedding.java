package dev.attn4j.transformer;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;
import java.util.List;

/**
 * Rotary position embedding (RoPE, Su et al.) in Hugging Face Llama's half-rotation convention:
 * with head dimension D (even), inv_freq[i] = 1 / base^(2i / D) for i &lt; D/2, angle
 * a[p, j] = p * inv_freq[j mod D/2] for j &lt; D, and rotate_half(x) = concat(-x2, x1) where x1
 * is the first half of the last dimension and x2 the second,
 *
 * <pre>  rope(x)[p] = x[p] * cos(a[p]) + rotate_half(x[p]) * sin(a[p])</pre>
 *
 * applied to queries and keys [B, H, T, D] (any leading dimensions) before attention, so that
 * the score of a query at position m and a key at position n depends on m - n only.
 *
 * <p>There are no parameters and nothing in the state dict (HF registers inv_freq as a
 * non-persistent buffer). Angles, cos and sin are computed in float64 and cached per position
 * (the cache grows on demand), then converted to the input's dtype; HF computes them in float32,
 * so results may differ from HF by float32 rounding of the angle at large positions. RoPE
 * scaling variants (linear, dynamic NTK, llama3) and partial rotary dimensions are not provided.
 */
public final class RotaryEmbedding extends Module {
    public final int dim;
    public final double base;
    private final double[] invFreq;
    /** cos and sin of the angles for positions [0, cached), each [cached, dim] F64. */
    private volatile NDArray[] cache;

    /** base 10000, cache for 2048 positions to start with. */
    public RotaryEmbedding(int dim) {
        this(dim, 10000, 2048);
    }

    /** {@code dim}: the head dimension (even); {@code base}: HF's rope_theta. */
    public RotaryEmbedding(int dim, double base, int initialPositions) {
        if (dim <= 0 || dim % 2 != 0) throw new IllegalArgumentException("RotaryEmbedding: head dimension must be even and positive, got " + dim);
        if (!(base > 1) || Double.isInfinite(base)) throw new IllegalArgumentException("RotaryEmbedding: base (theta) must be > 1, got " + base);
        if (initialPositions < 0) throw new IllegalArgumentException("RotaryEmbedding: initialPositions must be >= 0, got " + initialPositions);
        this.dim = dim;
        this.base = base;
        this.invFreq = new double[dim / 2];
        for (int i = 0; i < dim / 2; i++) invFreq[i] = 1 / Math.pow(base, 2.0 * i / dim);
        this.cache = build(Math.max(1, initialPositions));
    }

    /** inv_freq [D/2] (float64). */
    public NDArray invFreq() {
        return NDArray.of(invFreq.clone(), invFreq.length);
    }

    private NDArray[] build(int positions) {
        double[] c = new double[positions * dim], s = new double[positions * dim];
        int half = dim / 2;
        for (int p = 0; p < positions; p++) {
            for (int j = 0; j < dim; j++) {
                double a = p * invFreq[j % half];
                c[p * dim + j] = Math.cos(a);
                s[p * dim + j] = Math.sin(a);
            }
        }
        return new NDArray[] {NDArray.of(c, positions, dim), NDArray.of(s, positions, dim)};
    }

    /** cos and sin tables covering at least positions [0, end). */
    private NDArray[] tables(long end) {
        NDArray[] t = cache;
        if (end <= t[0].dim(0)) return t;
        if (end > Integer.MAX_VALUE / dim) throw new IllegalArgumentException("RotaryEmbedding: position " + (end - 1) + " is too large");
        synchronized (this) {
            t = cache;
            if (end > t[0].dim(0)) cache = t = build((int) Math.max(end, Math.min(2L * t[0].dim(0), Integer.MAX_VALUE / dim)));
            return t;
        }
    }

    /** cos of the angles of positions offset .. offset + length - 1: [length, D] float64. */
    public NDArray cos(int offset, int length) {
        checkOffset(offset, length);
        return tables((long) offset + length)[0].narrow(0, offset, length);
    }

    /** sin of the angles of positions offset .. offset + length - 1: [length, D] float64. */
    public NDArray sin(int offset, int length) {
        checkOffset(offset, length);
        return tables((long) offset + length)[1].narrow(0, offset, length);
    }

    private static void checkOffset(int offset, int length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("RotaryEmbedding: offset " + offset + " and length " + length + " must be >= 0");
        }
    }

    /** Queries and keys after rotation. */
    public record Rotated(Tensor q, Tensor k) {
    }

    /** Rotates q [..., Hq, T, D] and k [..., Hk, T, D] whose first step is at position {@code offset}. */
    public Rotated apply(Tensor q, Tensor k, int offset) {
        return new Rotated(apply(q, offset), apply(k, offset));
    }

    /** Rotates x [..., T, D] (T = dimension -2) whose first step is at position {@code offset}. */
    public Tensor apply(Tensor x, int offset) {
        checkInput(x);
        int steps = x.dim(-2);
        return rotate(x, cos(offset, steps), sin(offset, steps)); // cos, sin [T, D] broadcast over leading dims
    }

    /**
     * Rotates x [B, H, T, D] at explicit positions {@code positionIds} [B, T] (or [T]) (integer
     * values), e.g. for left-padded batches; cos and sin are broadcast over the head dimension.
     */
    public Tensor apply(Tensor x, NDArray positionIds) {
        checkInput(x);
        boolean perBatch = positionIds.rank() == 2;
        if (!(positionIds.rank() == 1 && positionIds.dim(0) == x.dim(-2))
                && !(perBatch && x.rank() == 4 && positionIds.dim(0) == x.dim(0) && positionIds.dim(1) == x.dim(-2))) {
            throw new IllegalArgumentException("RotaryEmbedding: position ids " + positionIds.shape()
                    + " must be [T] or [B, T] for input " + x.shape() + " ([B, H, T, D])");
        }
        double maxPos = positionIds.numel() == 0 ? 0 : ArrayOps.maxAll(positionIds);
        if (maxPos >= Integer.MAX_VALUE / dim) throw new IllegalArgumentException("RotaryEmbedding: position " + maxPos + " is too large");
        NDArray[] t = tables((long) maxPos + 1);
        NDArray c = ArrayOps.embedding(t[0], positionIds);  // [B, T, D] or [T, D]; checks ids are integers >= 0
        NDArray s = ArrayOps.embedding(t[1], positionIds);
        if (perBatch) {
            c = c.unsqueeze(1);                                // [B, 1, T, D]
            s = s.unsqueeze(1);
        }
        return rotate(x, c, s);
    }

    private void checkInput(Tensor x) {
        if (x.rank() < 2 || x.dim(-1) != dim) {
            throw new IllegalArgumentException("RotaryEmbedding(dim " + dim + "): input must be [..., T, " + dim + "], got " + x.shape());
        }
    }

    /** x * cos + rotate_half(x) * sin with cos, sin converted to x's dtype. */
    private Tensor rotate(Tensor x, NDArray cos, NDArray sin) {
        Tensor rotated = rotateHalf(x);                                         // [..., T, D]
        Tensor c = Tensor.of(cos.dtype() == x.dtype() ? cos : cos.to(x.dtype()));
        Tensor s = Tensor.of(sin.dtype() == x.dtype() ? sin : sin.to(x.dtype()));
        return x.mul(c).add(rotated.mul(s));                                    // [..., T, D]
    }

    /** rotate_half(x) = concat(-x2, x1) over the last dimension (exposed for tests and custom kernels). */
    public static Tensor rotateHalf(Tensor x) {
        int d = x.dim(-1);
        if (d % 2 != 0) throw new IllegalArgumentException("rotateHalf: last dimension must be even, got " + x.shape());
        return F.concat(List.of(x.narrow(-1, d / 2, d / 2).neg(), x.narrow(-1, 0, d / 2)), -1);
    }
}
