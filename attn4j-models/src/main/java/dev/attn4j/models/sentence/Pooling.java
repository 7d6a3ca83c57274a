package dev.attn4j.models.sentence;

import dev.attn4j.hub.PoolingConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * sentence-transformers' {@code Pooling} module: token embeddings [T, C] of one sequence (padding
 * excluded) to a sentence embedding, concatenating the enabled modes in sentence-transformers'
 * order (cls, max, mean, mean_sqrt_len_tokens, weightedmean, lasttoken). Sums run in double.
 */
public final class Pooling {
    /** One pooling mode. */
    public enum Mode {
        /** The first token ([CLS]). */
        CLS,
        /** Element-wise maximum over real tokens. */
        MAX,
        /** Mean over real tokens. */
        MEAN,
        /** Sum over real tokens divided by sqrt(count). */
        MEAN_SQRT_LEN_TOKENS,
        /** Mean weighted by position (1, 2, ..., n). */
        WEIGHTEDMEAN,
        /** The last real token. */
        LASTTOKEN
    }

    private final List<Mode> modes;
    private final int dim;

    /** Pooling of {@code dim}-wide token embeddings with the given modes (at least one). */
    public Pooling(int dim, List<Mode> modes) {
        if (modes.isEmpty()) throw new IllegalArgumentException("pooling needs at least one mode");
        if (dim <= 0) throw new IllegalArgumentException("pooling dimension must be positive, got " + dim);
        this.modes = List.copyOf(modes);
        this.dim = dim;
    }

    /** The pooling described by a {@code 1_Pooling/config.json}. */
    public static Pooling of(PoolingConfig config) {
        List<Mode> m = new ArrayList<>();
        for (String name : config.modes()) m.add(Mode.valueOf(name.toUpperCase(Locale.ROOT)));
        return new Pooling(config.wordEmbeddingDimension(), m);
    }

    /** Mean pooling (sentence-transformers' default). */
    public static Pooling mean(int dim) {
        return new Pooling(dim, List.of(Mode.MEAN));
    }

    public List<Mode> modes() {
        return modes;
    }

    /** Width of the token embeddings. */
    public int tokenDimension() {
        return dim;
    }

    /** Width of the output: the token width times the number of modes. */
    public int outputDimension() {
        return dim * modes.size();
    }

    /**
     * Pools {@code tokens} (row-major [T, C] at {@code offset}, the real tokens of one sequence,
     * {@code count} >= 0 of them) into a new array of {@link #outputDimension()}. An empty
     * sequence pools to zeros (sentence-transformers clamps the token count to 1e-9).
     */
    public float[] pool(float[] tokens, int offset, int count) {
        float[] out = new float[outputDimension()];
        for (int mi = 0; mi < modes.size(); mi++) {
            int o = mi * dim;
            switch (modes.get(mi)) {
                case CLS -> {
                    if (count > 0) System.arraycopy(tokens, offset, out, o, dim);
                }
                case LASTTOKEN -> {
                    if (count > 0) System.arraycopy(tokens, offset + (count - 1) * dim, out, o, dim);
                }
                case MAX -> {
                    for (int j = 0; j < dim; j++) {
                        float m = count > 0 ? Float.NEGATIVE_INFINITY : 0;
                        for (int t = 0; t < count; t++) m = Math.max(m, tokens[offset + t * dim + j]);
                        out[o + j] = m;
                    }
                }
                case MEAN, MEAN_SQRT_LEN_TOKENS, WEIGHTEDMEAN -> {
                    Mode mode = modes.get(mi);
                    double weightSum = 0;
                    double[] acc = new double[dim];
                    for (int t = 0; t < count; t++) {
                        double wt = mode == Mode.WEIGHTEDMEAN ? t + 1 : 1;
                        weightSum += wt;
                        for (int j = 0; j < dim; j++) acc[j] += wt * tokens[offset + t * dim + j];
                    }
                    double div = mode == Mode.MEAN_SQRT_LEN_TOKENS ? Math.sqrt(Math.max(count, 1e-9)) : Math.max(weightSum, 1e-9);
                    for (int j = 0; j < dim; j++) out[o + j] = (float) (acc[j] / div);
                }
            }
        }
        return out;
    }

    /** Scales {@code v} to unit L2 norm in place (sentence-transformers' Normalize; a zero vector stays zero). */
    public static float[] normalize(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        double norm = Math.max(Math.sqrt(s), 1e-12);
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] / norm);
        return v;
    }

    @Override
    public String toString() {
        return "Pooling" + modes;
    }
}
