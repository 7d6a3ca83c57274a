package dev.attn4j.models.seq2seq;

import dev.attn4j.nn.Losses;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tensor.NDArray;
import java.util.List;

/**
 * A padded training batch of token ids (as float values).
 *
 * @param source        [B, S] source ids, padded with {@link CharVocab#PAD}
 * @param sourcePadding [B, S] 1 where the source is padding, else 0
 * @param targetIn      [B, T] decoder input: BOS then the target (padded)
 * @param targetOut     [B, T] what to predict: the target then EOS; padding is {@link Losses#IGNORE_INDEX}
 * @param sourceTokens  number of real source tokens
 * @param targetTokens  number of real target tokens (EOS included)
 */
public record Batch(NDArray source, NDArray sourcePadding, NDArray targetIn, NDArray targetOut, int sourceTokens,
                    int targetTokens) {

    /** Batch size B. */
    public int size() {
        return source.dim(0);
    }

    /** A batch of (source, target) id sequences without special tokens. */
    public static Batch of(List<int[]> sources, List<int[]> targets) {
        if (sources.size() != targets.size() || sources.isEmpty()) {
            throw new IllegalArgumentException("batch needs as many targets as sources (and at least one), got "
                    + sources.size() + " and " + targets.size());
        }
        int b = sources.size();
        Sources src = sources(sources);
        int t = 0, tgtTokens = 0;
        for (int[] y : targets) t = Math.max(t, y.length + 1);
        float[] in = new float[b * t], out = new float[b * t];
        java.util.Arrays.fill(out, Losses.IGNORE_INDEX);
        for (int i = 0; i < b; i++) {
            int[] y = targets.get(i);
            in[i * t] = CharVocab.BOS;
            for (int j = 0; j < y.length; j++) {
                in[i * t + j + 1] = y[j];
                out[i * t + j] = y[j];
            }
            out[i * t + y.length] = CharVocab.EOS;
            tgtTokens += y.length + 1;
        }
        return new Batch(src.ids, src.padding, NDArray.of(in, b, t), NDArray.of(out, b, t), src.tokens, tgtTokens);
    }

    /** Padded source ids [B, S], padding flags [B, S] and the number of real tokens. */
    public record Sources(NDArray ids, NDArray padding, int tokens) {
    }

    /** Pads {@code sources} to the longest one; empty sources are refused. */
    public static Sources sources(List<int[]> sources) {
        int b = sources.size(), s = 0, tokens = 0;
        for (int i = 0; i < b; i++) {
            int[] x = sources.get(i);
            if (x.length == 0) throw new IllegalArgumentException("source " + i + " of the batch is empty");
            s = Math.max(s, x.length);
        }
        float[] ids = new float[b * s], pad = new float[b * s];
        for (int i = 0; i < b; i++) {
            int[] x = sources.get(i);
            for (int j = 0; j < s; j++) {
                if (j < x.length) ids[i * s + j] = x[j];
                else pad[i * s + j] = 1;
            }
            tokens += x.length;
        }
        return new Sources(NDArray.of(ids, b, s), NDArray.of(pad, b, s), tokens);
    }
}
