package dev.attn4j.models.bert;

import dev.attn4j.tensor.NDArray;

import java.util.List;

/**
 * One padded batch for an encoder: token ids, attention mask (1 = real token, 0 = padding) and
 * token type ids, each [B, T]. The mask may be null (every token is real); token types may be
 * null (all zero).
 *
 * @param inputIds      [B, T] token ids
 * @param attentionMask [B, T] of 0/1, or null
 * @param tokenTypeIds  [B, T] segment ids, or null
 */
public record EncoderInput(int[][] inputIds, int[][] attentionMask, int[][] tokenTypeIds) {
    public EncoderInput {
        if (inputIds == null || inputIds.length == 0) throw new IllegalArgumentException("input_ids: the batch is empty");
        int t = rowLength("input_ids", inputIds, inputIds.length, -1);
        if (attentionMask != null) {
            rowLength("attention_mask", attentionMask, inputIds.length, t);
            for (int b = 0; b < attentionMask.length; b++) {
                for (int i = 0; i < t; i++) {
                    if (attentionMask[b][i] != 0 && attentionMask[b][i] != 1) {
                        throw new IllegalArgumentException("attention_mask[" + b + "][" + i + "] is " + attentionMask[b][i]
                                + "; only 0 and 1 are allowed");
                    }
                }
            }
        }
        if (tokenTypeIds != null) rowLength("token_type_ids", tokenTypeIds, inputIds.length, t);
    }

    private static int rowLength(String what, int[][] rows, int batch, int expected) {
        if (rows.length != batch) {
            throw new IllegalArgumentException(what + " has " + rows.length + " rows, input_ids has " + batch);
        }
        int t = expected;
        for (int b = 0; b < rows.length; b++) {
            if (rows[b] == null) throw new IllegalArgumentException(what + "[" + b + "] is null");
            if (t < 0) t = rows[b].length;
            if (rows[b].length != t) {
                throw new IllegalArgumentException(what + "[" + b + "] has length " + rows[b].length + ", expected " + t
                        + " (rows must be padded to one length)");
            }
        }
        if (t == 0) throw new IllegalArgumentException(what + ": sequences have length 0");
        return t;
    }

    /** Unpadded sequences right-padded with {@code padId} to the longest, with the matching mask. */
    public static EncoderInput padded(List<int[]> ids, List<int[]> typeIds, int padId) {
        if (ids.isEmpty()) throw new IllegalArgumentException("input_ids: the batch is empty");
        int t = 0;
        for (int[] s : ids) t = Math.max(t, s.length);
        int n = ids.size();
        int[][] in = new int[n][t], mask = new int[n][t], types = typeIds == null ? null : new int[n][t];
        for (int b = 0; b < n; b++) {
            int[] s = ids.get(b);
            java.util.Arrays.fill(in[b], padId);
            System.arraycopy(s, 0, in[b], 0, s.length);
            java.util.Arrays.fill(mask[b], 0, s.length, 1);
            if (types != null) {
                int[] ty = typeIds.get(b);
                if (ty.length != s.length) {
                    throw new IllegalArgumentException("token_type_ids[" + b + "] has length " + ty.length + ", input_ids["
                            + b + "] has " + s.length);
                }
                System.arraycopy(ty, 0, types[b], 0, ty.length);
            }
        }
        return new EncoderInput(in, mask, types);
    }

    /** Batch size B. */
    public int batchSize() {
        return inputIds.length;
    }

    /** Padded length T. */
    public int length() {
        return inputIds[0].length;
    }

    /** Number of real tokens of row {@code b}. */
    public int realLength(int b) {
        if (attentionMask == null) return length();
        int n = 0;
        for (int m : attentionMask[b]) n += m;
        return n;
    }

    /** Whether some token is padding. */
    public boolean hasPadding() {
        if (attentionMask == null) return false;
        for (int[] row : attentionMask) for (int m : row) if (m == 0) return true;
        return false;
    }

    /** The mask as F32 [B, T] (ones when absent). */
    public NDArray maskArray() {
        int n = batchSize(), t = length();
        float[] out = new float[n * t];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < t; i++) out[b * t + i] = attentionMask == null ? 1 : attentionMask[b][i];
        }
        return NDArray.of(out, n, t);
    }

    /** {@code rows} as F32 [B, T], each value checked to lie in [0, limit). */
    static NDArray ids(String what, int[][] rows, int limit) {
        int n = rows.length, t = rows[0].length;
        float[] out = new float[n * t];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < t; i++) {
                int v = rows[b][i];
                if (v < 0 || v >= limit) {
                    throw new IllegalArgumentException(what + "[" + b + "][" + i + "] = " + v + " is out of range [0, " + limit + ")");
                }
                out[b * t + i] = v;
            }
        }
        return NDArray.of(out, n, t);
    }
}
