package dev.attn4j.models.seq2seq;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.generate.StepModel;
import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.nn.Module;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tensor.NDArray;
import java.util.SplittableRandom;

/**
 * A trainable sequence-to-sequence model over a {@link CharVocab}-style vocabulary (PAD 0, BOS 1,
 * EOS 2): teacher-forced logits for training, a {@link StepModel} for decoding, and the
 * cross-attention weights for inspection.
 *
 * @param <S> the decoder state of incremental decoding
 */
public abstract class Seq2SeqModel<S> extends Module implements StepModel<S> {
    protected final Seq2SeqConfig config;

    protected Seq2SeqModel(Seq2SeqConfig config) {
        this.config = config;
    }

    /** Builds the model {@code config} describes. */
    public static Seq2SeqModel<?> create(Seq2SeqConfig config, SplittableRandom rng) {
        return switch (config.arch()) {
            case TRANSFORMER -> new TransformerSeq2Seq(config, rng);
            case GRU_BAHDANAU, GRU_LUONG -> new GruAttentionSeq2Seq(config, rng);
        };
    }

    public final Seq2SeqConfig config() {
        return config;
    }

    /** Teacher-forced next-token logits [B, T, V] for {@code batch}. */
    public abstract Tensor forward(Batch batch);

    /**
     * Cross-attention weights while the model reads {@code output} for {@code source}:
     * [layers][heads][T][S] where row t holds the weights used to predict output token t
     * (T = output.length + 1, the last row predicting EOS) over the S source tokens.
     */
    public abstract float[][][][] crossAttention(int[] source, int[] output);

    @Override
    public int bosId() {
        return CharVocab.BOS;
    }

    @Override
    public int eosId() {
        return CharVocab.EOS;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /** Rows of log-probabilities from logits [N, V] (or [N, 1, V]). */
    protected static float[][] logProbRows(Tensor logits) {
        NDArray lp = ArrayOps.logSoftmax(logits.data().reshape(-1, logits.dim(-1)), 1); // [N, V]
        int n = lp.dim(0), v = lp.dim(1);
        float[] flat = lp.toFloatArray();
        float[][] out = new float[n][v];
        for (int i = 0; i < n; i++) System.arraycopy(flat, i * v, out[i], 0, v);
        return out;
    }

    /** Rows {@code rows} of t [N, ...] as a new constant [k, ...]. */
    protected static Tensor rows(Tensor t, int[] rows) {
        return Tensor.of(rows(t.data(), rows));
    }

    /** Rows {@code rows} of a [N, ...] array as a new [k, ...] array. */
    protected static NDArray rows(NDArray a, int[] rows) {
        int[] shape = a.shape().toArray();
        for (int r : rows) {
            if (r < 0 || r >= shape[0]) throw new IllegalArgumentException("row " + r + " out of range for " + shape[0] + " rows");
        }
        float[] idx = new float[rows.length];
        for (int i = 0; i < rows.length; i++) idx[i] = rows[i];
        NDArray flat = a.reshape(shape[0], -1);                                 // [N, rest]
        shape[0] = rows.length;
        return ArrayOps.embedding(flat, NDArray.of(idx, rows.length)).reshape(shape); // [k, ...]
    }

    /** Token ids as an [N, 1] array. */
    protected static NDArray column(int[] tokens) {
        float[] f = new float[tokens.length];
        for (int i = 0; i < f.length; i++) f[i] = tokens[i];
        return NDArray.of(f, tokens.length, 1);
    }
}
