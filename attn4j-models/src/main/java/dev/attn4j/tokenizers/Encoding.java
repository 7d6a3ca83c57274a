package dev.attn4j.tokenizers;

import java.util.Arrays;
import java.util.List;

/**
 * The result of encoding one text (or text pair): one entry per token in every array.
 * Offsets are [start, end) character offsets into the input text, counted in Unicode code
 * points as the Rust library reports them ({@link #utf16Offsets} gives Java string indices);
 * special and padding tokens have offsets (0, 0). Word and sequence ids are -1 where a token
 * belongs to no word / sequence. Arrays are returned as copies.
 */
public final class Encoding {
    private final int[] ids;
    private final int[] typeIds;
    private final String[] tokens;
    private final int[] wordIds;
    private final int[] starts;
    private final int[] ends;
    private final int[] specialTokensMask;
    private final int[] attentionMask;
    private final int[] sequenceIds;

    Encoding(int[] ids, int[] typeIds, String[] tokens, int[] wordIds, int[] starts, int[] ends,
            int[] specialTokensMask, int[] attentionMask, int[] sequenceIds) {
        this.ids = ids;
        this.typeIds = typeIds;
        this.tokens = tokens;
        this.wordIds = wordIds;
        this.starts = starts;
        this.ends = ends;
        this.specialTokensMask = specialTokensMask;
        this.attentionMask = attentionMask;
        this.sequenceIds = sequenceIds;
    }

    /** Number of tokens (padding included). */
    public int length() {
        return ids.length;
    }

    /** Token ids. */
    public int[] ids() {
        return ids.clone();
    }

    /** Segment (token type) ids. */
    public int[] typeIds() {
        return typeIds.clone();
    }

    /** Token strings. */
    public List<String> tokens() {
        return List.of(tokens);
    }

    /** Index of the word each token comes from within its sequence, -1 for special/padding tokens. */
    public int[] wordIds() {
        return wordIds.clone();
    }

    /** Which input sequence (0 or 1) each token comes from, -1 for special/padding tokens. */
    public int[] sequenceIds() {
        return sequenceIds.clone();
    }

    /** [n][2] code point offsets {start, end} into the input each token comes from. */
    public int[][] offsets() {
        int[][] o = new int[ids.length][];
        for (int i = 0; i < ids.length; i++) {
            o[i] = new int[] {starts[i], ends[i]};
        }
        return o;
    }

    /**
     * [n][2] offsets converted to UTF-16 indices (Java {@code String} positions) of the input
     * each token comes from: {@code text} for sequence 0, {@code pair} for sequence 1.
     */
    public int[][] utf16Offsets(String text, String pair) {
        int[][] o = offsets();
        for (int i = 0; i < o.length; i++) {
            String s = sequenceIds[i] == 1 ? pair : text;
            if (s == null || (o[i][0] == 0 && o[i][1] == 0)) {
                continue;
            }
            int cps = s.codePointCount(0, s.length());
            o[i][0] = s.offsetByCodePoints(0, Math.min(o[i][0], cps));
            o[i][1] = s.offsetByCodePoints(0, Math.min(o[i][1], cps));
        }
        return o;
    }

    /** 1 for real tokens, 0 for padding. */
    public int[] attentionMask() {
        return attentionMask.clone();
    }

    /** 1 for special tokens added by the post-processor and for padding, else 0. */
    public int[] specialTokensMask() {
        return specialTokensMask.clone();
    }

    @Override
    public String toString() {
        return "Encoding{ids=" + Arrays.toString(ids) + ", tokens=" + Arrays.toString(tokens) + "}";
    }
}
