package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Something to split or replace on. {@link #findMatches} covers the whole input with
 * consecutive {@code [start, end, isMatch]} ranges (UTF-16 units), as Rust's Pattern trait.
 */
interface SplitPattern {
    List<int[]> findMatches(String s);

    /** A regular expression (Unicode classes). */
    static SplitPattern regex(String regex) {
        Pattern p = Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        return s -> {
            List<int[]> out = new ArrayList<>();
            if (s.isEmpty()) {
                out.add(new int[] {0, 0, 0});
                return out;
            }
            Matcher m = p.matcher(s);
            int prev = 0;
            while (m.find()) {
                if (prev != m.start()) {
                    out.add(new int[] {prev, m.start(), 0});
                }
                out.add(new int[] {m.start(), m.end(), 1});
                prev = m.end();
            }
            if (prev != s.length()) {
                out.add(new int[] {prev, s.length(), 0});
            }
            return out;
        };
    }

    /** A literal string. */
    static SplitPattern literal(String lit) {
        if (lit.isEmpty()) {
            return s -> {
                List<int[]> out = new ArrayList<>();
                out.add(new int[] {0, s.length(), 0});
                return out;
            };
        }
        return s -> {
            List<int[]> out = new ArrayList<>();
            if (s.isEmpty()) {
                out.add(new int[] {0, 0, 0});
                return out;
            }
            int prev = 0;
            int from = 0;
            int i;
            while ((i = s.indexOf(lit, from)) >= 0) {
                if (prev != i) {
                    out.add(new int[] {prev, i, 0});
                }
                out.add(new int[] {i, i + lit.length(), 1});
                prev = i + lit.length();
                from = prev;
            }
            if (prev != s.length()) {
                out.add(new int[] {prev, s.length(), 0});
            }
            return out;
        };
    }

    /** Every code point accepted by {@code pred} is its own match. */
    static SplitPattern chars(IntPredicate pred) {
        return s -> {
            List<int[]> out = new ArrayList<>();
            if (s.isEmpty()) {
                out.add(new int[] {0, 0, 0});
                return out;
            }
            int last = 0;
            int i = 0;
            while (i < s.length()) {
                int c = s.codePointAt(i);
                int n = Character.charCount(c);
                if (pred.test(c)) {
                    if (last < i) {
                        out.add(new int[] {last, i, 0});
                    }
                    out.add(new int[] {i, i + n, 1});
                    last = i + n;
                }
                i += n;
            }
            if (s.length() > last) {
                out.add(new int[] {last, s.length(), 0});
            }
            return out;
        };
    }

    /** Same ranges with match and non-match swapped. */
    static SplitPattern invert(SplitPattern p) {
        return s -> {
            List<int[]> m = p.findMatches(s);
            for (int[] r : m) {
                r[2] = r[2] == 0 ? 1 : 0;
            }
            return m;
        };
    }
}
