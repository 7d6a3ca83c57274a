package dev.attn4j.autograd;

import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Differentiable functions on {@link Tensor}s, like torch / torch.nn.functional. */
public final class F {
    private F() {
    }

    /** {@code cond != 0 ? a : b} elementwise with broadcasting; cond is a constant of any dtype. */
    public static Tensor where(NDArray cond, Tensor a, Tensor b) {
        return Ops.where(cond, a, b);
    }

    /**
     * Layer normalization over the trailing dimensions {@code normalizedShape} (biased variance),
     * then {@code * weight + bias}; weight and bias (of shape normalizedShape) may be null.
     */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        return Ops.layerNorm(x, normalizedShape, weight, bias, eps);
    }

    /** RMS normalization {@code x / sqrt(mean(x^2) + eps) * weight} over {@code normalizedShape}; weight may be null. */
    public static Tensor rmsNorm(Tensor x, int[] normalizedShape, Tensor weight, double eps) {
        return Ops.rmsNorm(x, normalizedShape, weight, eps);
    }

    /**
     * Rows of {@code weight} [numEmbeddings, dim] at {@code indices} (integer values of any dtype):
     * [*indices, dim]. Rows at {@code paddingIdx} (nullable) get no gradient.
     */
    public static Tensor embedding(Tensor weight, NDArray indices, Integer paddingIdx) {
        if (paddingIdx != null && (paddingIdx < 0 || weight.rank() != 2 || paddingIdx >= weight.dim(0))) {
            throw new IllegalArgumentException("embedding: paddingIdx " + paddingIdx + " out of range for weight " + weight.shape());
        }
        return Ops.embedding(weight, indices, paddingIdx);
    }

    /** Joins tensors along {@code dim}. */
    public static Tensor concat(List<Tensor> ts, int dim) {
        return Ops.concat(ts, dim);
    }

    /** Consecutive pieces of {@code splitSize} along {@code dim}, the last possibly shorter (torch.split). */
    public static List<Tensor> split(Tensor t, int splitSize, int dim) {
        List<NDArray> parts = ArrayOps.split(t.data(), splitSize, dim); // checks arguments
        List<Tensor> out = new ArrayList<>(parts.size());
        int d = t.shape().axis(dim), start = 0;
        for (NDArray p : parts) {
            out.add(t.narrow(d, start, p.dim(d)));
            start += p.dim(d);
        }
        return out;
    }

    /** torch.chunk: pieces of ceil(size / chunks) along {@code dim}. */
    public static List<Tensor> chunk(Tensor t, int chunks, int dim) {
        if (chunks <= 0) throw new IllegalArgumentException("chunk: number of chunks must be positive, got " + chunks);
        int n = t.dim(dim);
        return split(t, Math.max(1, (n + chunks - 1) / chunks), dim);
    }

    /**
     * Inverted dropout: zeroes each element with probability {@code p} and scales the rest by
     * 1/(1-p); the identity when not training or p == 0.
     */
    public static Tensor dropout(Tensor x, double p, boolean training, SplittableRandom rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropout: probability must be in [0, 1], got " + p);
        if (!training || p == 0) return x;
        if (p == 1) return x.mul(0.0);
        double scale = 1 / (1 - p);
        if (x.data().isDenseHeapF32()) return Ops.dropoutF32(x, p, (float) scale, rng);
        NDArray mask = NDArray.zeros(x.dtype(), x.shape());
        if (mask.isDenseHeapF32()) {                                           // the same draws, written directly
            float[] a = mask.floatArray();
            float s = (float) scale;
            for (int i = 0, n = mask.numel(); i < n; i++) if (rng.nextDouble() >= p) a[i] = s;
        } else {
            for (int i = 0, n = mask.numel(); i < n; i++) {
                if (rng.nextDouble() >= p) mask.storage().setDouble(i, scale);
            }
        }
        return x.mul(Tensor.of(mask));
    }

    /** {@code x @ weight^T + bias} with weight [out, in] read transposed in place; bias [out] may be null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        if (weight.rank() != 2 || x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("linear: input " + x.shape() + " does not fit weight " + weight.shape()
                    + " (expected [..., " + (weight.rank() == 2 ? weight.dim(1) : "in") + "] and [out, in])");
        }
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0))) {
            throw new IllegalArgumentException("linear: bias " + bias.shape() + " should be [" + weight.dim(0) + "]");
        }
        Tensor fused = Ops.linear(x, weight, bias);                // F32 dense weight: one op, gradients in place
        if (fused != null) return fused;
        Tensor wt = weight.transpose(0, 1);                        // [in, out], a strided view
        Tensor y;
        if (x.rank() <= 2) {
            y = x.matmul(wt);                                      // [N, out] or [out]
        } else {
            int[] lead = x.shape().toArray();
            lead[lead.length - 1] = weight.dim(0);
            y = x.reshape(-1, x.dim(-1)).matmul(wt).reshape(lead); // [*, in] -> [N, in] -> [N, out] -> [*, out]
        }
        return bias == null ? y : y.add(bias);
    }
}
