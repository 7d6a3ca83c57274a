package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The table "model" of scripts/make-generation-references.py: next-token logits =
 * {@code table[prev2][prev1] + pos * slope}, where prev1 is the last token, prev2 the token before it
 * when the attention mask marks it real (else index V), and pos the last token's position id
 * ({@code cumsum(mask) - 1}, clamped at 0). Its cache holds each row's tokens and mask.
 */
final class TableCausalLM implements CausalLM {
    private final int vocab;
    private final float[][][] table;                                          // [V + 1][V][V]
    private final float[] slope;                                              // [V]
    private final int maxPositions;
    int forwards;

    TableCausalLM(int vocab, float[][][] table, float[] slope, int maxPositions) {
        this.vocab = vocab;
        this.table = table;
        this.slope = slope;
        this.maxPositions = maxPositions;
    }

    @Override public int vocabSize() { return vocab; }

    @Override public int maxPositions() { return maxPositions; }

    static final class Cache implements KvCache {
        final List<int[]> tokens = new ArrayList<>();
        final List<int[]> mask = new ArrayList<>();
        final int capacity;

        Cache(int batch, int capacity) {
            this.capacity = capacity;
            for (int i = 0; i < batch; i++) {
                tokens.add(new int[0]);
                mask.add(new int[0]);
            }
        }

        @Override public int length() { return tokens.get(0).length; }

        @Override public int batchSize() { return tokens.size(); }

        @Override
        public KvCache select(int[] rows) {
            Cache c = new Cache(0, capacity);
            for (int r : rows) {
                c.tokens.add(tokens.get(r).clone());
                c.mask.add(mask.get(r).clone());
            }
            return c;
        }
    }

    @Override
    public KvCache newCache(int batch, int capacity) {
        return new Cache(batch, capacity);
    }

    @Override
    public float[][][] forward(KvCache kv, int[][] tokens, int[][] attentionMask, boolean allPositions) {
        forwards++;
        Cache c = (Cache) kv;
        int t = tokens[0].length;
        int past = c.length();
        if (past + t > c.capacity) throw new IllegalStateException("cache full: " + (past + t) + " > " + c.capacity);
        float[][][] out = new float[tokens.length][][];
        for (int b = 0; b < tokens.length; b++) {
            int[] all = Arrays.copyOf(c.tokens.get(b), past + t);
            System.arraycopy(tokens[b], 0, all, past, t);
            int[] m = attentionMask == null ? ones(past + t) : attentionMask[b];
            if (m.length != past + t) throw new IllegalStateException("mask length " + m.length + ", expected " + (past + t));
            c.tokens.set(b, all);
            c.mask.set(b, m.clone());
            out[b] = new float[allPositions ? t : 1][];
            for (int j = allPositions ? 0 : t - 1, o = 0; j < t; j++, o++) out[b][o] = logitsAt(all, m, past + j);
        }
        return out;
    }

    private float[] logitsAt(int[] ids, int[] mask, int j) {
        int pos = -1;
        for (int i = 0; i <= j; i++) pos += mask[i];
        int p1 = ids[j];
        int p2 = j > 0 && mask[j - 1] == 1 ? ids[j - 1] : vocab;
        float fp = Math.max(pos, 0);
        float[] out = new float[vocab];
        for (int v = 0; v < vocab; v++) out[v] = table[p2][p1][v] + fp * slope[v];
        return out;
    }

    private static int[] ones(int n) {
        int[] m = new int[n];
        Arrays.fill(m, 1);
        return m;
    }
}
