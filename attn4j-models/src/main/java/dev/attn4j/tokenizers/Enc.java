package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Mutable encoding used while a text goes through the pipeline; becomes an {@link Encoding}. */
final class Enc {
    int[] ids;
    int[] typeIds;
    String[] tokens;
    int[] wordIds;
    int[] starts;
    int[] ends;
    int[] specialMask;
    int[] attentionMask;
    int[] sequenceIds;

    Enc(int n) {
        ids = new int[n];
        typeIds = new int[n];
        tokens = new String[n];
        wordIds = new int[n];
        starts = new int[n];
        ends = new int[n];
        specialMask = new int[n];
        attentionMask = new int[n];
        sequenceIds = new int[n];
    }

    int length() {
        return ids.length;
    }

    /** {@code n} special tokens (offsets 0, no word, special mask 1). */
    static Enc special(int[] ids, String[] tokens, int typeId, int sequenceId) {
        Enc e = new Enc(ids.length);
        for (int i = 0; i < ids.length; i++) {
            e.ids[i] = ids[i];
            e.tokens[i] = tokens[i];
            e.typeIds[i] = typeId;
            e.wordIds[i] = -1;
            e.specialMask[i] = 1;
            e.attentionMask[i] = 1;
            e.sequenceIds[i] = -1;
        }
        return e;
    }

    void setTypeIds(int t) {
        Arrays.fill(typeIds, t);
    }

    void setSequenceId(int s) {
        Arrays.fill(sequenceIds, s);
    }

    /** Concatenation of {@code parts}. */
    static Enc merge(List<Enc> parts) {
        int n = 0;
        for (Enc p : parts) {
            n += p.length();
        }
        Enc e = new Enc(n);
        int o = 0;
        for (Enc p : parts) {
            int m = p.length();
            System.arraycopy(p.ids, 0, e.ids, o, m);
            System.arraycopy(p.typeIds, 0, e.typeIds, o, m);
            System.arraycopy(p.tokens, 0, e.tokens, o, m);
            System.arraycopy(p.wordIds, 0, e.wordIds, o, m);
            System.arraycopy(p.starts, 0, e.starts, o, m);
            System.arraycopy(p.ends, 0, e.ends, o, m);
            System.arraycopy(p.specialMask, 0, e.specialMask, o, m);
            System.arraycopy(p.attentionMask, 0, e.attentionMask, o, m);
            System.arraycopy(p.sequenceIds, 0, e.sequenceIds, o, m);
            o += m;
        }
        return e;
    }

    /** Keeps the range [from, to). */
    Enc range(int from, int to) {
        Enc e = new Enc(to - from);
        int m = to - from;
        System.arraycopy(ids, from, e.ids, 0, m);
        System.arraycopy(typeIds, from, e.typeIds, 0, m);
        System.arraycopy(tokens, from, e.tokens, 0, m);
        System.arraycopy(wordIds, from, e.wordIds, 0, m);
        System.arraycopy(starts, from, e.starts, 0, m);
        System.arraycopy(ends, from, e.ends, 0, m);
        System.arraycopy(specialMask, from, e.specialMask, 0, m);
        System.arraycopy(attentionMask, from, e.attentionMask, 0, m);
        System.arraycopy(sequenceIds, from, e.sequenceIds, 0, m);
        return e;
    }

    /** Keeps {@code maxLen} tokens: the first ones (right truncation) or the last ones (left). */
    Enc truncate(int maxLen, boolean left) {
        if (maxLen >= length()) {
            return this;
        }
        return left ? range(length() - maxLen, length()) : range(0, maxLen);
    }

    /** Pads to {@code target} tokens on the right or left. */
    Enc pad(int target, int padId, int padTypeId, String padToken, boolean left) {
        int n = length();
        if (n >= target) {
            return this;
        }
        Enc p = new Enc(target - n);
        Arrays.fill(p.ids, padId);
        Arrays.fill(p.typeIds, padTypeId);
        Arrays.fill(p.tokens, padToken);
        Arrays.fill(p.wordIds, -1);
        Arrays.fill(p.specialMask, 1);
        Arrays.fill(p.sequenceIds, -1);
        List<Enc> parts = new ArrayList<>(2);
        if (left) {
            parts.add(p);
            parts.add(this);
        } else {
            parts.add(this);
            parts.add(p);
        }
        return merge(parts);
    }

    Encoding toEncoding() {
        return new Encoding(ids, typeIds, tokens, wordIds, starts, ends, specialMask, attentionMask, sequenceIds);
    }
}
