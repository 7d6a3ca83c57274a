package dev.attn4j.tokenizers;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.function.IntUnaryOperator;

/**
 * A string being normalized, with the alignment of every normalized UTF-16 unit to a range of
 * the original string, so token offsets can be mapped back to the input.
 *
 * <p>Follows the Rust {@code tokenizers} NormalizedString: edits are described per code point
 * with a "change" (0 = replaces the next original char, +1 = inserted, -N = replaces the next
 * char and removes N more). Both units of a surrogate pair carry the same alignment, which makes
 * this equivalent to the Rust per-byte bookkeeping.
 */
final class NormalizedString {
    private final String original;
    private String normalized;
    /** Per normalized UTF-16 unit: [start, end) in {@link #original}. */
    private int[] alignStart;
    private int[] alignEnd;
    /** Offset of {@link #original} inside the whole input sequence. */
    private final int originalShift;

    NormalizedString(String s) {
        this.original = s;
        this.normalized = s;
        this.originalShift = 0;
        int n = s.length();
        alignStart = new int[n];
        alignEnd = new int[n];
        for (int i = 0; i < n; ) {
            int len = Character.charCount(s.codePointAt(i));
            for (int k = 0; k < len; k++) {
                alignStart[i + k] = i;
                alignEnd[i + k] = i + len;
            }
            i += len;
        }
    }

    private NormalizedString(String original, String normalized, int[] as, int[] ae, int shift) {
        this.original = original;
        this.normalized = normalized;
        this.alignStart = as;
        this.alignEnd = ae;
        this.originalShift = shift;
    }

    String get() {
        return normalized;
    }

    String original() {
        return original;
    }

    int length() {
        return normalized.length();
    }

    boolean isEmpty() {
        return normalized.isEmpty();
    }

    /** [start, end) of this piece in the whole input sequence (UTF-16 units). */
    int[] offsetsOriginal() {
        return new int[] {originalShift, originalShift + original.length()};
    }

    /**
     * Maps a normalized range to the whole input sequence (UTF-16 units), as Rust's
     * convert_offsets + original_shift; returns null when out of range.
     */
    int[] toOriginal(int start, int end) {
        if (start == end) {
            return new int[] {originalShift + start, originalShift + end};
        }
        if (start > end || start < 0 || end > normalized.length()) {
            return null;
        }
        return new int[] {originalShift + alignStart[start], originalShift + alignEnd[end - 1]};
    }

    /** Edit list: code points and their change values (see class doc). */
    static final class Edits {
        int[] cps = new int[16];
        int[] changes = new int[16];
        int size;

        void add(int cp, int change) {
            if (size == cps.length) {
                cps = java.util.Arrays.copyOf(cps, size * 2);
                changes = java.util.Arrays.copyOf(changes, size * 2);
            }
            cps[size] = cp;
            changes[size] = change;
            size++;
        }
    }

    /** Rust's transform(): applies edits to the normalized range that the whole original maps to. */
    void transform(Edits edits, int initialOffset) {
        int n = normalized.length();
        if (n == 0) {
            if (original.isEmpty()) {
                transformRange(0, 0, edits, initialOffset);
            }
            return;
        }
        int start = -1;
        for (int i = 0; i < n; i++) {
            if (alignStart[i] != alignEnd[i]) {
                start = i;
                break;
            }
        }
        if (start < 0) {
            start = n;
        }
        transformRange(start, n, edits, initialOffset);
    }

    /** Rust's transform_range() on a normalized range [nStart, nEnd) (UTF-16 units). */
    void transformRange(int nStart, int nEnd, Edits edits, int initialOffset) {
        String old = normalized.substring(nStart, nEnd);
        int oi = 0;
        int initialRemoved = 0;
        for (int k = 0; k < initialOffset && oi < old.length(); k++) {
            int sz = Character.charCount(old.codePointAt(oi));
            oi += sz;
            initialRemoved += sz;
        }
        int offset = initialRemoved + nStart;
        StringBuilder sb = new StringBuilder(edits.size + 4);
        int[] ns = new int[edits.size * 2 + 1];
        int[] ne = new int[edits.size * 2 + 1];
        int w = 0;
        for (int e = 0; e < edits.size; e++) {
            int c = edits.cps[e];
            int change = edits.changes[e];
            int as;
            int ae;
            if (change > 0) {
                if (offset < 1) {
                    as = 0;
                    ae = 0;
                } else {
                    as = alignStart[offset - 1];
                    ae = alignEnd[offset - 1];
                }
            } else {
                if (offset >= alignStart.length) {
                    throw new IllegalStateException("normalizer edit past the end of \"" + normalized + "\"");
                }
                as = alignStart[offset];
                ae = alignEnd[offset];
            }
            int replaced = 0;
            if (change <= 0 && oi < old.length()) {
                replaced = Character.charCount(old.codePointAt(oi));
                oi += replaced;
            }
            int removed = 0;
            for (int k = 0; k < -change && oi < old.length(); k++) {
                int sz = Character.charCount(old.codePointAt(oi));
                oi += sz;
                removed += sz;
            }
            offset += replaced + removed;
            sb.appendCodePoint(c);
            int units = Character.charCount(c);
            for (int u = 0; u < units; u++) {
                ns[w] = as;
                ne[w] = ae;
                w++;
            }
        }
        int n = normalized.length();
        int newLen = n - (nEnd - nStart) + w;
        int[] s2 = new int[newLen];
        int[] e2 = new int[newLen];
        System.arraycopy(alignStart, 0, s2, 0, nStart);
        System.arraycopy(alignEnd, 0, e2, 0, nStart);
        System.arraycopy(ns, 0, s2, nStart, w);
        System.arraycopy(ne, 0, e2, nStart, w);
        System.arraycopy(alignStart, nEnd, s2, nStart + w, n - nEnd);
        System.arraycopy(alignEnd, nEnd, e2, nStart + w, n - nEnd);
        alignStart = s2;
        alignEnd = e2;
        normalized = normalized.substring(0, nStart) + sb + normalized.substring(nEnd);
    }

    /**
     * Replaces the whole normalized string with {@code cps}: code point {@code i} came from the
     * current normalized units [{@code from[i]}, {@code to[i]}); an empty range marks an inserted
     * char, aligned with the unit before it. For normalizers that work on the whole string at
     * once (SentencePiece's), where per-char edit lists would be awkward.
     */
    void rewrite(int[] cps, int[] from, int[] to) {
        StringBuilder sb = new StringBuilder(cps.length + 4);
        int[] s2 = new int[cps.length * 2];
        int[] e2 = new int[cps.length * 2];
        int w = 0;
        for (int i = 0; i < cps.length; i++) {
            int as;
            int ae;
            if (to[i] > from[i]) {
                as = alignStart[from[i]];
                ae = alignEnd[to[i] - 1];
            } else if (from[i] > 0) {
                as = alignEnd[from[i] - 1];
                ae = as;
            } else {
                as = alignStart.length > 0 ? alignStart[0] : 0;
                ae = as;
            }
            sb.appendCodePoint(cps[i]);
            for (int u = 0; u < Character.charCount(cps[i]); u++) {
                s2[w] = as;
                e2[w] = ae;
                w++;
            }
        }
        alignStart = java.util.Arrays.copyOf(s2, w);
        alignEnd = java.util.Arrays.copyOf(e2, w);
        normalized = sb.toString();
    }

    /** Unicode normalization with alignments, segment by segment. */
    void unicodeNormalize(Normalizer.Form form) {
        String s = normalized;
        if (Normalizer.isNormalized(s, form)) {
            return;
        }
        boolean compat = form == Normalizer.Form.NFKC || form == Normalizer.Form.NFKD;
        int[] frozen = compat ? RustUnicodeTables.NO_COMPAT_DECOMPOSITION : RustUnicodeTables.NO_CANONICAL_DECOMPOSITION;
        Edits edits = new Edits();
        int i = 0;
        while (i < s.length()) {
            int c = s.codePointAt(i);
            int j = i + Character.charCount(c);
            if (RustUnicodeTables.in(frozen, c) || RustUnicodeTables.in(RustUnicodeTables.NO_COMBINING_CLASS, c)) {
                // newer than the Rust tables: Rust leaves it alone
                edits.add(c, 0);
                i = j;
                continue;
            }
            while (j < s.length() && !isSegmentStart(s.codePointAt(j))
                    && !RustUnicodeTables.in(frozen, s.codePointAt(j))
                    && !RustUnicodeTables.in(RustUnicodeTables.NO_COMBINING_CLASS, s.codePointAt(j))) {
                j += Character.charCount(s.codePointAt(j));
            }
            segmentEdits(s.substring(i, j), form, edits);
            i = j;
        }
        transform(edits, 0);
    }

    /**
     * Edits for one segment: each output char is tied to the input char it comes from (its
     * decomposition, or the first char of a composition), as the Rust alignment-aware normalizer
     * does; chars of one input after the first are insertions (+1), inputs swallowed by a
     * composition are removals. Falls back to position-by-position when marks get reordered.
     */
    private static void segmentEdits(String seg, Normalizer.Form form, Edits edits) {
        boolean compat = form == Normalizer.Form.NFKC || form == Normalizer.Form.NFKD;
        boolean compose = form == Normalizer.Form.NFC || form == Normalizer.Form.NFKC;
        Normalizer.Form decomp = compat ? Normalizer.Form.NFKD : Normalizer.Form.NFD;
        int[] in = seg.codePoints().toArray();
        int[] outCps = Normalizer.normalize(seg, form).codePoints().toArray();
        // 1. Decompose char by char: the first char of each decomposition replaces its input
        //    (change 0), the others are insertions (+1).
        int[] dec = new int[in.length * 4 + 4];
        int[] decChange = new int[dec.length];
        int nd = 0;
        for (int c : in) {
            int[] d = Normalizer.normalize(new String(Character.toChars(c)), decomp).codePoints().toArray();
            for (int k = 0; k < d.length; k++) {
                if (nd == dec.length) {
                    dec = java.util.Arrays.copyOf(dec, nd * 2);
                    decChange = java.util.Arrays.copyOf(decChange, nd * 2);
                }
                dec[nd] = d[k];
                decChange[nd] = k == 0 ? 0 : 1;
                nd++;
            }
        }
        // 2. Canonical reordering: chars keep their change as they move. The reordering is a
        //    stable sort, so the earliest unused equal char is the one that moved there.
        int[] full = Normalizer.normalize(seg, decomp).codePoints().toArray();
        int[] stream = new int[full.length];
        int[] change = new int[full.length];
        boolean ok = full.length == nd;
        boolean[] used = new boolean[nd];
        for (int i = 0; i < full.length && ok; i++) {
            ok = false;
            for (int k = 0; k < nd; k++) {
                if (!used[k] && dec[k] == full[i]) {
                    used[k] = true;
                    stream[i] = full[i];
                    change[i] = decChange[k];
                    ok = true;
                    break;
                }
            }
        }
        // 3. Composition: a composed char takes its starter's change, and each char it absorbs
        //    adds (its change - 1).
        if (ok && compose) {
            boolean[] taken = new boolean[stream.length];
            int[] outChange = new int[outCps.length];
            int p = 0;
            for (int i = 0; i < outCps.length && ok; i++) {
                while (p < stream.length && taken[p]) {
                    p++;
                }
                int[] parts = Normalizer.normalize(new String(Character.toChars(outCps[i])),
                        Normalizer.Form.NFD).codePoints().toArray();
                if (p >= stream.length || stream[p] != parts[0]) {
                    ok = false;
                    break;
                }
                taken[p] = true;
                int ch = change[p];
                for (int k = 1; k < parts.length && ok; k++) {
                    ok = false;
                    for (int q = p + 1; q < stream.length; q++) {
                        if (!taken[q] && stream[q] == parts[k]) {
                            taken[q] = true;
                            ch += change[q] - 1;
                            ok = true;
                            break;
                        }
                    }
                }
                outChange[i] = ch;
            }
            for (boolean t : taken) {
                ok &= t;
            }
            stream = outCps;
            change = outChange;
        }
        if (!ok) {
            // Unicode version mismatch or an unexpected shape: align position by position.
            int n = in.length;
            int m = outCps.length;
            for (int k = 0; k < m; k++) {
                edits.add(outCps[k], k < n ? ((m < n && k == m - 1) ? -(n - m) : 0) : 1);
            }
            return;
        }
        for (int i = 0; i < stream.length; i++) {
            edits.add(stream[i], change[i]);
        }
    }

    /** Whether a normalization segment may start at {@code cp} (never inside a composing run). */
    private static boolean isSegmentStart(int cp) {
        int t = Character.getType(cp);
        if (t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK
                || t == Character.ENCLOSING_MARK) {
            return false;
        }
        // Hangul medial vowels and final consonants compose with the preceding jamo.
        if ((cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2)) {
            return false;
        }
        return cp != 0x3099 && cp != 0x309A;
    }

    /** Keeps only the code points accepted by {@code keep}. */
    void filter(IntPredicate keep) {
        String s = normalized;
        // Walk backwards as Rust does, so a kept char carries the count of removed chars after it.
        int[] cps = s.codePoints().toArray();
        int[] outCp = new int[cps.length];
        int[] outCh = new int[cps.length];
        int w = 0;
        int removed = 0;
        for (int i = cps.length - 1; i >= 0; i--) {
            if (keep.test(cps[i])) {
                outCp[w] = cps[i];
                outCh[w] = -removed;
                removed = 0;
                w++;
            } else {
                removed++;
            }
        }
        Edits edits = new Edits();
        for (int i = w - 1; i >= 0; i--) {
            edits.add(outCp[i], outCh[i]);
        }
        transform(edits, removed);
    }

    /** Maps every code point to one code point. */
    void map(IntUnaryOperator f) {
        Edits edits = new Edits();
        normalized.codePoints().forEach(c -> edits.add(f.applyAsInt(c), 0));
        transform(edits, 0);
    }

    /** Prepends {@code s} (aligned with the first char), as Rust's prepend(). */
    void prepend(String s) {
        if (normalized.isEmpty() || s.isEmpty()) {
            return;
        }
        int next = normalized.codePointAt(0);
        Edits edits = new Edits();
        int[] cps = s.codePoints().toArray();
        for (int i = 0; i < cps.length; i++) {
            edits.add(cps[i], i == 0 ? 0 : 1);
        }
        edits.add(next, 1);
        transformRange(0, Character.charCount(next), edits, 0);
    }

    /** Appends {@code s} (aligned with the last char), as Rust's append(). */
    void append(String s) {
        if (normalized.isEmpty() || s.isEmpty()) {
            return;
        }
        int b = normalized.offsetByCodePoints(normalized.length(), -1);
        Edits edits = new Edits();
        edits.add(normalized.codePointAt(b), 0);
        s.codePoints().forEach(c -> edits.add(c, 1));
        transformRange(b, normalized.length(), edits, 0);
    }

    /** Full (unconditional) Unicode lowercase mapping per code point, as Rust's char::to_lowercase. */
    void lowercase() {
        Edits edits = new Edits();
        normalized.codePoints().forEach(c -> {
            if (c == 0x130) { // the one unconditional multi-char lowercase mapping
                edits.add('i', 0);
                edits.add(0x307, 1);
            } else {
                int newer = RustUnicodeTables.lowercaseUnicode17(c);
                edits.add(newer >= 0 ? newer : Character.toLowerCase(c), 0);
            }
        });
        transform(edits, 0);
    }

    /** Replaces every match of {@code pattern} with {@code content}. */
    void replace(SplitPattern pattern, String content) {
        List<int[]> matches = pattern.findMatches(normalized);
        int offset = 0;
        for (int[] m : matches) {
            if (m[2] == 0) {
                continue;
            }
            int start = Math.max(0, m[0] + offset);
            int end = Math.max(0, m[1] + offset);
            int removedChars = normalized.codePointCount(start, end);
            Edits edits = new Edits();
            content.codePoints().forEach(c -> edits.add(c, 1));
            transformRange(start, end, edits, removedChars);
            offset += content.length() - (m[1] - m[0]);
        }
    }

    /** Removes leading and/or trailing whitespace (Rust char::is_whitespace). */
    void strip(boolean left, boolean right) {
        int[] cps = normalized.codePoints().toArray();
        int lead = 0;
        if (left) {
            while (lead < cps.length && CharClass.isWhitespace(cps[lead])) {
                lead++;
            }
        }
        int trail = 0;
        if (right) {
            while (trail < cps.length && CharClass.isWhitespace(cps[cps.length - 1 - trail])) {
                trail++;
            }
        }
        if (lead == 0 && trail == 0) {
            return;
        }
        Edits edits = new Edits();
        int len = cps.length;
        for (int i = 0; i < len; i++) {
            if (i < lead || i >= len - trail) {
                continue;
            }
            edits.add(cps[i], i == len - trail - 1 ? -trail : 0);
        }
        transform(edits, lead);
    }

    /** A piece of this string: normalized range [start, end) (UTF-16 units). */
    NormalizedString slice(int start, int end) {
        if (start == end) {
            return new NormalizedString("", "", new int[0], new int[0], originalShift + Math.min(start, original.length()));
        }
        int oStart = alignStart[start];
        int oEnd = alignEnd[end - 1];
        int[] as = new int[end - start];
        int[] ae = new int[end - start];
        for (int i = start; i < end; i++) {
            as[i - start] = alignStart[i] - oStart;
            ae[i - start] = alignEnd[i] - oStart;
        }
        String orig = oStart <= oEnd ? original.substring(oStart, oEnd) : "";
        return new NormalizedString(orig, normalized.substring(start, end), as, ae, originalShift + oStart);
    }

    /** Splits on {@code pattern} with the given delimiter behaviour (empty pieces included). */
    List<NormalizedString> split(SplitPattern pattern, SplitBehavior behavior) {
        List<int[]> matches = pattern.findMatches(normalized);
        List<int[]> splits = new ArrayList<>(); // [start, end, remove]
        switch (behavior) {
            case ISOLATED -> {
                for (int[] m : matches) {
                    splits.add(new int[] {m[0], m[1], 0});
                }
            }
            case REMOVED -> {
                for (int[] m : matches) {
                    splits.add(new int[] {m[0], m[1], m[2]});
                }
            }
            case CONTIGUOUS -> {
                boolean prev = false;
                for (int[] m : matches) {
                    boolean isMatch = m[2] != 0;
                    if (isMatch == prev && !splits.isEmpty()) {
                        splits.get(splits.size() - 1)[1] = m[1];
                    } else {
                        splits.add(new int[] {m[0], m[1], 0});
                    }
                    prev = isMatch;
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean prev = false;
                for (int[] m : matches) {
                    boolean isMatch = m[2] != 0;
                    if (isMatch && !prev && !splits.isEmpty()) {
                        splits.get(splits.size() - 1)[1] = m[1];
                    } else {
                        splits.add(new int[] {m[0], m[1], 0});
                    }
                    prev = isMatch;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean prev = false;
                for (int i = matches.size() - 1; i >= 0; i--) {
                    int[] m = matches.get(i);
                    boolean isMatch = m[2] != 0;
                    if (isMatch && !prev && !splits.isEmpty()) {
                        splits.get(splits.size() - 1)[0] = m[0];
                    } else {
                        splits.add(new int[] {m[0], m[1], 0});
                    }
                    prev = isMatch;
                }
                java.util.Collections.reverse(splits);
            }
        }
        List<NormalizedString> out = new ArrayList<>(splits.size());
        for (int[] s : splits) {
            if (s[2] == 0) {
                out.add(slice(s[0], s[1]));
            }
        }
        return out;
    }

    /** How a split keeps its delimiters. */
    enum SplitBehavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS
    }
}
