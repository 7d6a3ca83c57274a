package dev.attn4j.transformer;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Layer;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;
import java.util.SplittableRandom;

/**
 * The fixed sinusoidal positional encoding of "Attention Is All You Need", added to its input:
 * PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)), sine and cosine
 * interleaved along the feature dimension (for odd d the last column is a sine). The table is
 * the buffer {@code pe} [max_len, d_model] (in the state dict, not a parameter; computed in
 * float64, stored in the module dtype), followed by dropout as in the PyTorch tutorial module.
 *
 * <p>Input layout: [B, T, D] when batch-first, [T, B, D] otherwise, or unbatched [T, D]. The
 * {@code offset} of {@link #forward(Tensor, int)} is the position of the first step (incremental
 * decoding feeds one step at a time with offset = number of steps already seen).
 */
public final class SinusoidalPositionalEncoding extends Module implements Layer {
    public final int dModel;
    public final int maxLen;
    public final boolean batchFirst;
    /** The buffer {@code pe} [max_len, d_model]. */
    public final NDArray pe;
    public final Dropout dropout;

    /** Batch-first, no dropout. */
    public SinusoidalPositionalEncoding(int dModel, int maxLen) {
        this(dModel, maxLen, 0, true, new SplittableRandom(0));
    }

    public SinusoidalPositionalEncoding(int dModel, int maxLen, double dropout, boolean batchFirst, SplittableRandom rng) {
        if (dModel <= 0 || maxLen <= 0) {
            throw new IllegalArgumentException("SinusoidalPositionalEncoding(d_model " + dModel + ", max_len " + maxLen
                    + "): sizes must be positive");
        }
        this.dModel = dModel;
        this.maxLen = maxLen;
        this.batchFirst = batchFirst;
        this.dropout = child("dropout", new Dropout(dropout, rng));
        this.pe = buffer("pe", table(maxLen, dModel));
    }

    /** The encoding table [maxLen, d] in float64. */
    public static NDArray table(int maxLen, int d) {
        double[] t = new double[maxLen * d];
        for (int c = 0; c < d; c++) {
            double freq = Math.pow(10000, -(double) (c - c % 2) / d); // 1 / 10000^(2i/d), 2i = c rounded down to even
            for (int pos = 0; pos < maxLen; pos++) {
                double angle = pos * freq;
                t[pos * d + c] = c % 2 == 0 ? Math.sin(angle) : Math.cos(angle);
            }
        }
        return NDArray.of(t, maxLen, d);
    }

    /** {@code x + PE[0 .. T)} then dropout. */
    @Override
    public Tensor forward(Tensor x) {
        return forward(x, 0);
    }

    /** {@code x + PE[offset .. offset + T)} then dropout. */
    public Tensor forward(Tensor x, int offset) {
        int seqDim = PositionLayout.seqDim(x, batchFirst, dModel, "SinusoidalPositionalEncoding");
        int steps = x.dim(seqDim);
        PositionLayout.checkRange(offset, steps, maxLen, "SinusoidalPositionalEncoding");
        NDArray slice = pe.narrow(0, offset, steps);                        // [T, D]
        if (slice.dtype() != x.dtype()) slice = slice.to(x.dtype());
        if (x.rank() == 3 && seqDim == 0) slice = slice.unsqueeze(1);        // [T, 1, D]
        return dropout.forward(x.add(Tensor.of(slice)));                    // x's shape
    }
}
