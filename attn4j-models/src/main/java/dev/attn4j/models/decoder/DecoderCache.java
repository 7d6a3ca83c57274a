package dev.attn4j.models.decoder;

import dev.attn4j.generate.CausalLM;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

/**
 * A key/value cache preallocated per sequence: per layer keys and values [B, Hkv, capacity, D],
 * of which the first {@link #length()} positions are filled. Rows stay aligned (left padding), so
 * one length serves the batch. Sliding-window layers keep every position too and mask the old
 * ones (no ring buffer yet).
 */
public final class DecoderCache implements CausalLM.KvCache {
    final NDArray[] keys;
    final NDArray[] values;
    /** The token ids fed so far, per row (for the recomputation longrope models need, see {@link CausalDecoder}). */
    final int[][] tokens;
    private final int batch;
    private final int capacity;
    private int length;

    DecoderCache(int layers, int batch, int kvHeads, int capacity, int headDim) {
        if (batch <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("KV cache: batch (" + batch + ") and capacity (" + capacity + ") must be positive");
        }
        this.batch = batch;
        this.capacity = capacity;
        this.tokens = new int[batch][capacity];
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            keys[l] = NDArray.zeros(Shape.of(batch, kvHeads, capacity, headDim));     // [B, Hkv, cap, D]
            values[l] = NDArray.zeros(Shape.of(batch, kvHeads, capacity, headDim));   // [B, Hkv, cap, D]
        }
    }

    private DecoderCache(NDArray[] keys, NDArray[] values, int[][] tokens, int batch, int capacity, int length) {
        this.tokens = tokens;
        this.keys = keys;
        this.values = values;
        this.batch = batch;
        this.capacity = capacity;
        this.length = length;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public int batchSize() {
        return batch;
    }

    /** Positions each row can hold. */
    public int capacity() {
        return capacity;
    }

    void advance(int steps) {
        length += steps;
    }

    /** Empties the cache (the arrays are reused). */
    void reset() {
        length = 0;
    }

    /** Keys [B, Hkv, length, D] of layer {@code layer} (a view). */
    public NDArray keys(int layer) {
        return keys[layer].narrow(2, 0, length);
    }

    /** Values [B, Hkv, length, D] of layer {@code layer} (a view). */
    public NDArray values(int layer) {
        return values[layer].narrow(2, 0, length);
    }

    @Override
    public DecoderCache select(int[] rows) {
        for (int r : rows) {
            if (r < 0 || r >= batch) throw new IllegalArgumentException("KV cache select: row " + r + " out of range [0, " + batch + ")");
        }
        NDArray[] k = new NDArray[keys.length], v = new NDArray[values.length];
        for (int l = 0; l < keys.length; l++) {
            k[l] = gather(keys[l], rows);
            v[l] = gather(values[l], rows);
        }
        int[][] t = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) t[i] = tokens[rows[i]].clone();
        return new DecoderCache(k, v, t, rows.length, capacity, length);
    }

    private NDArray gather(NDArray src, int[] rows) {
        int[] dims = src.shape().toArray();
        dims[0] = rows.length;
        NDArray out = NDArray.zeros(Shape.of(dims));
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= batch) {
                throw new IllegalArgumentException("KV cache select: row " + rows[i] + " out of range [0, " + batch + ")");
            }
            out.select(0, i).narrow(1, 0, length).copyFrom(src.select(0, rows[i]).narrow(1, 0, length));
        }
        return out;
    }
}
