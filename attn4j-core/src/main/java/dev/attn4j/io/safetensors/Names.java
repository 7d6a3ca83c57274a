package dev.attn4j.io.safetensors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Error messages for tensor names that are not there. */
final class Names {
    private Names() {
    }

    static SafetensorsException notFound(Path file, String name, Collection<String> available) {
        return new SafetensorsException(file, "no tensor " + HeaderParser.quote(String.valueOf(name))
                + describe(name, available));
    }

    /** "; it has N tensors, closest names: a, b, c" (names sharing the longest prefix first). */
    static String describe(String name, Collection<String> available) {
        if (available.isEmpty()) return "; it has no tensors";
        List<String> sorted = new ArrayList<>(available);
        String key = name == null ? "" : name;
        sorted.sort(Comparator.comparingInt((String s) -> -commonPrefix(s, key)));
        int shown = Math.min(5, sorted.size());
        return "; it has " + available.size() + " tensors, e.g. " + String.join(", ", sorted.subList(0, shown))
                + (shown < sorted.size() ? ", ..." : "");
    }

    private static int commonPrefix(String a, String b) {
        int n = Math.min(a.length(), b.length()), i = 0;
        while (i < n && a.charAt(i) == b.charAt(i)) i++;
        return i;
    }
}
