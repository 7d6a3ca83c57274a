package dev.attn4j.models.decoder;

import dev.attn4j.generate.CausalLM;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

/**
 * A key/value cache preallocated per sequence: per layer keys and values [B, Hkv, slots, D]. A
 * full-attention layer has one slot per position ({@code capacity}), filled in order; a
 * sliding-window layer (window w &lt; capacity) has w slots used as a ring: position p lives in
 * slot p mod w, so a long generation keeps only the last w keys (what transformers'
 * sliding-window cache keeps). Rows stay aligned (left padding), so one length serves the batch.
 */
public final class DecoderCache implements CausalLM.KvCache {
    final NDArray[] keys;
    final NDArray[] values;
    /** The token ids fed so far, per row (for the recomputation longrope models need, see {@link CausalDecoder}). */
    final int[][] tokens;
    private final int batch;
    private final int capacity;
    private int length;

    DecoderCache(int[] slidingWindows, int batch, int kvHeads, int capacity, int headDim) {
        int layers = slidingWindows.length;
        if (batch <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("KV cache: batch (" + batch + ") and capacity (" + capacity + ") must be positive");
        }
        this.batch = batch;
        this.capacity = capacity;
        this.tokens = new int[batch][capacity];
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            int w = slidingWindows[l], slots = w > 0 && w < capacity ? w : capacity;
            keys[l] = NDArray.zeros(Shape.of(batch, kvHeads, slots, headDim));        // [B, Hkv, slots, D]
            values[l] = NDArray.zeros(Shape.of(batch, kvHeads, slots, headDim));      // [B, Hkv, slots, D]
        }
    }

    /**
     * A cache of {@code layers} full-attention layers ({@code heads} key/value heads of
     * {@code headDim}) for {@code batch} rows of up to {@code capacity} positions: what an
     * encoder-decoder's decoder self-attention keeps ({@link #append}).
     */
    public static DecoderCache of(int layers, int batch, int heads, int capacity, int headDim) {
        if (layers <= 0 || heads <= 0 || headDim <= 0) {
            throw new IllegalArgumentException("KV cache: layers (" + layers + "), heads (" + heads + ") and head dim (" + headDim
                    + ") must be positive");
        }
        return new DecoderCache(new int[layers], batch, heads, capacity, headDim);
    }

    /**
     * Stores the keys and values {@code k}, {@code v} [B, H, T, D] of positions {@code length() ..
     * length() + T - 1} of layer {@code layer} (a full-attention layer) and returns the keys and
     * values of positions 0 .. length() + T - 1 ({[B, H, length() + T, D] views}). The length
     * advances once every layer has been fed ({@link #advance}).
     */
    public NDArray[] append(int layer, NDArray k, NDArray v) {
        int t = k.dim(2), end = length + t;
        if (end > capacity) throw new IllegalArgumentException("KV cache: " + end + " positions exceed the capacity " + capacity);
        if (slots(layer) < capacity) throw new IllegalArgumentException("KV cache: layer " + layer + " has a sliding window");
        keys[layer].narrow(2, length, t).copyFrom(k);
        values[layer].narrow(2, length, t).copyFrom(v);
        return new NDArray[] {keys[layer].narrow(2, 0, end), values[layer].narrow(2, 0, end)};
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

    /** Counts {@code steps} more positions as held (after every layer got their keys and values). */
    public void advance(int steps) {
        length += steps;
    }

    /** Empties the cache (the arrays are reused). */
    void reset() {
        length = 0;
    }

    /** Slots of layer {@code layer}: the capacity, or the window of a sliding-window layer. */
    public int slots(int layer) {
        return keys[layer].dim(2);
    }

    /** Keys [B, Hkv, min(length, slots), D] of layer {@code layer} (a view; ring order for sliding layers). */
    public NDArray keys(int layer) {
        return keys[layer].narrow(2, 0, Math.min(length, slots(layer)));
    }

    /** Values [B, Hkv, min(length, slots), D] of layer {@code layer} (a view; ring order for sliding layers). */
    public NDArray values(int layer) {
        return values[layer].narrow(2, 0, Math.min(length, slots(layer)));
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
            int held = Math.min(length, src.dim(2));
            out.select(0, i).narrow(1, 0, held).copyFrom(src.select(0, rows[i]).narrow(1, 0, held));
        }
        return out;
    }
}
