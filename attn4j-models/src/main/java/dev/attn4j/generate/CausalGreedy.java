package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Greedy decoding over a {@link CausalLM}, as transformers' {@code generate(do_sample=False,
 * num_beams=1)}: prompts of different lengths are left-padded into one batch (mask 0 at the
 * padding, position ids cumsum(mask) - 1), the prompt runs in one forward (prefill), then one token
 * per row per step against the key/value cache. A row stops at its first EOS (kept in its output);
 * the batch stops when every row has or after {@code maxNewTokens}.
 */
public final class CausalGreedy {
    private CausalGreedy() {
    }

    /**
     * The new tokens per prompt (EOS included when produced). {@code eosIds} may be empty (run to
     * {@code maxNewTokens}); {@code padId} fills the left padding and finished rows.
     */
    public static List<int[]> generate(CausalLM model, List<int[]> prompts, int maxNewTokens, int[] eosIds, int padId) {
        if (maxNewTokens < 1) throw new IllegalArgumentException("greedy: maxNewTokens must be >= 1, got " + maxNewTokens);
        int b = prompts.size();
        if (b == 0) return List.of();
        int t = 0;
        for (int i = 0; i < b; i++) {
            if (prompts.get(i).length == 0) throw new IllegalArgumentException("greedy: prompt " + i + " is empty");
            t = Math.max(t, prompts.get(i).length);
        }
        int capacity = t + maxNewTokens;
        int[][] tokens = new int[b][t];
        int[][] mask = new int[b][capacity];
        for (int i = 0; i < b; i++) {
            int[] p = prompts.get(i);
            int pad = t - p.length;
            Arrays.fill(tokens[i], 0, pad, padId);
            System.arraycopy(p, 0, tokens[i], pad, p.length);
            Arrays.fill(mask[i], pad, capacity, 1);
        }
        List<List<Integer>> out = new ArrayList<>();
        for (int i = 0; i < b; i++) out.add(new ArrayList<>());
        boolean[] done = new boolean[b];
        int active = b;
        CausalLM.KvCache cache = model.newCache(b, capacity);
        float[][][] logits = model.forward(cache, tokens, prefix(mask, t), false);              // [B][1][V]
        {
            for (int step = 0; step < maxNewTokens && active > 0; step++) {
                int[][] next = new int[b][1];
                for (int i = 0; i < b; i++) {
                    if (done[i]) {
                        next[i][0] = padId;
                        continue;
                    }
                    int best = argmax(logits[i][0]);
                    next[i][0] = best;
                    out.get(i).add(best);
                    if (contains(eosIds, best)) {
                        done[i] = true;
                        active--;
                    }
                }
                if (step + 1 == maxNewTokens || active == 0) break;
                logits = model.forward(cache, next, prefix(mask, t + step + 1), false);
            }
        }
        List<int[]> result = new ArrayList<>(b);
        for (List<Integer> row : out) result.add(row.stream().mapToInt(Integer::intValue).toArray());
        return result;
    }

    private static int[][] prefix(int[][] mask, int length) {
        int[][] out = new int[mask.length][];
        for (int i = 0; i < mask.length; i++) out[i] = Arrays.copyOf(mask[i], length);
        return out;
    }

    private static boolean contains(int[] ids, int id) {
        for (int e : ids) if (e == id) return true;
        return false;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
        return best;
    }

}
