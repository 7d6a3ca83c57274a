package dev.attn4j.generate;

import java.util.List;
import java.util.function.IntFunction;

/**
 * transformers' {@code StopStringCriteria}: a sequence stops when one of the stop strings occurs in
 * the text of its tokens and that occurrence ends inside the last token (the last token overlaps
 * the end of the stop string; it may run past it, and earlier tokens may run off its start). An
 * occurrence that ends before the last token does not count: it would have stopped generation when
 * it was produced. As transformers, only the last {@code max(len(stop string))} tokens are looked at.
 *
 * <p>The text of a token is {@code tokenText.apply(id)}: what the token decodes to on its own
 * (transformers uses the vocabulary's cleaned token strings, e.g. {@code "Ġthe"} as {@code " the"}).
 */
public final class StopStrings {
    private final List<String> stops;
    private final IntFunction<String> tokenText;
    private final int maxLen;

    /**
     * @param stops     the stop strings (none empty)
     * @param tokenText a token id's text
     */
    public StopStrings(List<String> stops, IntFunction<String> tokenText) {
        if (stops.isEmpty()) throw new IllegalArgumentException("stop_strings: no stop string given");
        for (String s : stops) {
            if (s == null || s.isEmpty()) throw new IllegalArgumentException("stop_strings: empty stop string in " + stops);
        }
        if (tokenText == null) throw new IllegalArgumentException("stop_strings need a token decoder (token id -> text)");
        this.stops = List.copyOf(stops);
        this.tokenText = tokenText;
        int m = 0;
        for (String s : stops) m = Math.max(m, s.length());
        this.maxLen = m;
    }

    public List<String> stops() {
        return stops;
    }

    /**
     * The stop string the sequence {@code ids[0 .. length)} ends with (in the sense above), or null.
     * When several match, the first in the list.
     */
    public String match(int[] ids, int length) {
        if (length == 0) return null;
        int from = Math.max(0, length - maxLen);
        StringBuilder text = new StringBuilder();
        for (int i = from; i < length - 1; i++) text.append(text(ids[i]));
        int lastStart = text.length();
        text.append(text(ids[length - 1]));
        int end = text.length();
        if (end == lastStart) return null;                                    // an empty last token overlaps nothing
        for (String s : stops) {
            // occurrences ending in (lastStart, end]
            int at = text.indexOf(s, Math.max(0, lastStart - s.length() + 1));
            if (at >= 0 && at + s.length() <= end && at + s.length() > lastStart) return s;
        }
        return null;
    }

    private String text(int id) {
        String t = tokenText.apply(id);
        return t == null ? "" : t;
    }
}
