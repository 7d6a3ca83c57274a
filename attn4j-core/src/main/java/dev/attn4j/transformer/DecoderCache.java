package dev.attn4j.transformer;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.MultiHeadAttention.ProjectedKeyValue;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tensor.NDArray;

/**
 * The key/value cache of a {@link TransformerDecoder} for incremental decoding: per layer the
 * projected self-attention keys and values of every position fed so far ([N, H, t, head_dim])
 * and the projected memory ([N, H, S, head_dim], computed once). Made by
 * {@link TransformerDecoder#startCache}, advanced by {@link TransformerDecoder#forwardStep}.
 * Meant for inference (no-grad); {@link #select} reorders rows for beam search.
 */
public final class DecoderCache {
    final ProjectedKeyValue[] self;
    final ProjectedKeyValue[] cross;
    final Tensor[] crossWeights;
    /** [N, S], nonzero = padded memory position; null when nothing is padded. */
    final NDArray memoryPadding;
    final AttentionMask memoryPaddingMask;
    final int batch;
    int length;
    boolean recordCrossWeights;

    DecoderCache(ProjectedKeyValue[] self, ProjectedKeyValue[] cross, NDArray memoryPadding, int batch, int length) {
        this.self = self;
        this.cross = cross;
        this.crossWeights = new Tensor[cross.length];
        this.memoryPadding = memoryPadding;
        this.memoryPaddingMask = memoryPadding == null ? AttentionMask.none() : AttentionMask.blocked(memoryPadding);
        this.batch = batch;
        this.length = length;
    }

    /** Number of target positions fed so far. */
    public int length() {
        return length;
    }

    /** Number of rows N. */
    public int batchSize() {
        return batch;
    }

    /** Number of decoder layers. */
    public int layers() {
        return cross.length;
    }

    /** Whether the next steps keep each layer's cross-attention weights ({@link #crossWeights}). */
    public DecoderCache recordCrossWeights(boolean record) {
        this.recordCrossWeights = record;
        return this;
    }

    /** The cross-attention weights of {@code layer} at the last step, [N, H, 1, S]; null unless recorded. */
    public Tensor crossWeights(int layer) {
        return crossWeights[layer];
    }

    /** A cache whose row i is row {@code rows[i]} of this one (rows may repeat): for beam search. */
    public DecoderCache select(int[] rows) {
        for (int r : rows) {
            if (r < 0 || r >= batch) throw new IllegalArgumentException("DecoderCache.select: row " + r + " out of range for " + batch + " rows");
        }
        NDArray idx = NDArray.zeros(rows.length);
        for (int i = 0; i < rows.length; i++) idx.set(rows[i], i);
        ProjectedKeyValue[] s = new ProjectedKeyValue[self.length];
        ProjectedKeyValue[] c = new ProjectedKeyValue[cross.length];
        for (int l = 0; l < self.length; l++) {
            s[l] = self[l] == null ? null : new ProjectedKeyValue(rowsOf(self[l].keys(), idx), rowsOf(self[l].values(), idx));
            c[l] = new ProjectedKeyValue(rowsOf(cross[l].keys(), idx), rowsOf(cross[l].values(), idx));
        }
        NDArray pad = memoryPadding == null ? null : ArrayOps.embedding(memoryPadding, idx); // [k, S]
        DecoderCache out = new DecoderCache(s, c, pad, rows.length, length);
        out.recordCrossWeights = recordCrossWeights;
        return out;
    }

    /** Rows {@code idx} of t [N, ...] as a constant [k, ...]. */
    static Tensor rowsOf(Tensor t, NDArray idx) {
        int[] shape = t.shape().toArray();
        NDArray flat = t.data().reshape(shape[0], -1);                       // [N, rest]
        shape[0] = idx.numel();
        return Tensor.of(ArrayOps.embedding(flat, idx).reshape(shape));      // [k, ...]
    }
}
