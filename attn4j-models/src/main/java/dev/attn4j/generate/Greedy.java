package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Greedy decoding: the most likely next token at every step, for a whole batch at once. */
public final class Greedy {
    private Greedy() {
    }

    /**
     * The greedy outputs for {@code sources}: per source the generated ids without BOS and EOS,
     * stopping at EOS or after {@code maxLength} tokens.
     */
    public static <S> List<int[]> decode(StepModel<S> model, List<int[]> sources, int maxLength) {
        return decodeWithScores(model, sources, maxLength).stream().map(Hypothesis::tokens).toList();
    }

    /** As {@link #decode}, with each output's summed log-probability (EOS included when produced). */
    public static <S> List<Hypothesis> decodeWithScores(StepModel<S> model, List<int[]> sources, int maxLength) {
        if (maxLength < 1) throw new IllegalArgumentException("greedy: maxLength must be >= 1, got " + maxLength);
        int b = sources.size();
        List<Hypothesis> out = new ArrayList<>(b);
        if (b == 0) return out;
        S state = model.start(sources);
        int[] tokens = new int[b];
        Arrays.fill(tokens, model.bosId());
        int[][] generated = new int[b][maxLength];
        int[] lengths = new int[b];
        double[] sums = new double[b];
        boolean[] done = new boolean[b];
        int active = b;
        for (int t = 0; t < maxLength && active > 0; t++) {
            float[][] logp = model.step(state, tokens);                       // [B][V]
            for (int i = 0; i < b; i++) {
                if (done[i]) {
                    tokens[i] = model.eosId();                                 // keeps the row busy, ignored
                    continue;
                }
                int best = argmax(logp[i]);
                sums[i] += logp[i][best];
                tokens[i] = best;
                if (best == model.eosId()) {
                    done[i] = true;
                    active--;
                } else {
                    generated[i][lengths[i]++] = best;
                }
            }
        }
        for (int i = 0; i < b; i++) {
            int[] ids = Arrays.copyOf(generated[i], lengths[i]);
            out.add(new Hypothesis(ids, sums[i], sums[i], done[i]));
        }
        return out;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
        return best;
    }
}
