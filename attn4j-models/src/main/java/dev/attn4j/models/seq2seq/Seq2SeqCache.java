package dev.attn4j.models.seq2seq;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.generate.CausalLM;
import dev.attn4j.models.decoder.DecoderCache;
import dev.attn4j.tensor.NDArray;

/**
 * The decoding state of an {@link EncoderDecoderModel} (transformers' {@code EncoderDecoderCache}):
 * the decoder self-attention keys and values of every position fed so far (a
 * {@link DecoderCache}, preallocated per row) and the encoder side, {@link Memory}: the encoder
 * output of each source, its padding, and per decoder layer the cross-attention keys and values
 * projected from it once.
 *
 * <p>Rows and sources: row r decodes source {@code rowSource[r]}. While the rows are grouped (m
 * rows per source, in source order: r / m, as beams and returned sequences are laid out), the
 * cross-attention runs once per source with the m rows as extra queries, so the encoder side is
 * never copied per row; {@link #select} (beam reordering) keeps the grouping when rows stay with
 * their source, and otherwise copies the encoder side out per row.
 */
public final class Seq2SeqCache implements CausalLM.KvCache {
    /** The encoder side, shared by the caches of one batch of sources (read-only once projected). */
    public static final class Memory {
        /** Encoder output [N, S, C]. */
        final Tensor hidden;
        /** [N, S], 1 = padding; null when no source is padded. */
        final NDArray padding;
        /** Per decoder layer the projected keys and values [N, H, S, D], filled on first use. */
        final Tensor[] keys;
        final Tensor[] values;

        Memory(Tensor hidden, NDArray padding, int layers) {
            this.hidden = hidden;
            this.padding = padding;
            this.keys = new Tensor[layers];
            this.values = new Tensor[layers];
        }

        /** Number of sources N. */
        public int sources() {
            return hidden.dim(0);
        }

        /** Source length S (padded). */
        public int length() {
            return hidden.dim(1);
        }

        /** The encoder output [N, S, C]. */
        public Tensor hidden() {
            return hidden;
        }

        /** A copy whose source i is source {@code rows[i]} of this one (projections included). */
        Memory rows(int[] rows) {
            Memory m = new Memory(Seq2SeqModel.rows(hidden, rows), padding == null ? null : Seq2SeqModel.rows(padding, rows),
                    keys.length);
            for (int l = 0; l < keys.length; l++) {
                if (keys[l] != null) {
                    m.keys[l] = Seq2SeqModel.rows(keys[l], rows);
                    m.values[l] = Seq2SeqModel.rows(values[l], rows);
                }
            }
            return m;
        }
    }

    final DecoderCache self;
    final Memory memory;
    /** Rows per source when grouped (row r decodes source r / group), else 0 and memory is per row. */
    final int group;
    private final int[] rowSource;
    /** Cross-attention weights of the last call per layer, [R, H, T, S], when recorded. */
    final Tensor[] crossWeights;
    boolean recordCrossWeights;

    Seq2SeqCache(DecoderCache self, Memory memory, int[] rowSource) {
        int rows = self.batchSize(), n = memory.sources();
        if (rowSource.length != rows) throw new IllegalArgumentException("cache: " + rowSource.length + " row sources for " + rows + " rows");
        for (int s : rowSource) {
            if (s < 0 || s >= n) throw new IllegalArgumentException("cache: source " + s + " out of range [0, " + n + ")");
        }
        int g = rows % n == 0 ? rows / n : 0;
        for (int r = 0; r < rows && g > 0; r++) if (rowSource[r] != r / g) g = 0;
        if (g == 0) {                                                         // one source per row
            memory = memory.rows(rowSource);
            rowSource = identity(rows);
            g = 1;
        }
        this.self = self;
        this.memory = memory;
        this.group = g;
        this.rowSource = rowSource.clone();
        this.crossWeights = new Tensor[memory.keys.length];
    }

    private static int[] identity(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = i;
        return out;
    }

    @Override
    public int length() {
        return self.length();
    }

    @Override
    public int batchSize() {
        return self.batchSize();
    }

    /** The decoder self-attention keys and values. */
    public DecoderCache selfCache() {
        return self;
    }

    /** The encoder side. */
    public Memory memory() {
        return memory;
    }

    /** The source row r decodes. */
    public int sourceOf(int row) {
        return rowSource[row];
    }

    /** Whether the next calls keep each layer's cross-attention weights ({@link #crossWeights(int)}). */
    public Seq2SeqCache recordCrossWeights(boolean record) {
        this.recordCrossWeights = record;
        return this;
    }

    /** The cross-attention weights of {@code layer} in the last call, [R, H, T, S]; null unless recorded. */
    public Tensor crossWeights(int layer) {
        return crossWeights[layer];
    }

    @Override
    public Seq2SeqCache select(int[] rows) {
        int[] src = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= batchSize()) {
                throw new IllegalArgumentException("cache select: row " + rows[i] + " out of range [0, " + batchSize() + ")");
            }
            src[i] = rowSource[rows[i]];
        }
        Seq2SeqCache out = new Seq2SeqCache(self.select(rows), memory, src);
        out.recordCrossWeights = recordCrossWeights;
        return out;
    }
}
