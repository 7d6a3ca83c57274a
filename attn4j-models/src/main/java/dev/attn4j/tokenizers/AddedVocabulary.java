package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Finds added tokens in the input (leftmost-longest), then normalizes what lies between them. */
final class AddedVocabulary {
    final List<AddedToken> tokens;
    final Map<String, AddedToken> byContent = new LinkedHashMap<>();
    final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Trie raw = new Trie();
    private final Trie normalizedTrie = new Trie();

    /** Trie over UTF-16 units; a node's token is set where a token ends. */
    private static final class Trie {
        final Map<Character, Trie> children = new HashMap<>(4);
        AddedToken token;
        boolean empty = true;

        void add(String key, AddedToken t) {
            empty = false;
            Trie node = this;
            for (int i = 0; i < key.length(); i++) {
                node = node.children.computeIfAbsent(key.charAt(i), c -> new Trie());
            }
            if (node.token == null) {
                node.token = t;
            }
        }
    }

    /**
     * Marian's language codes: a piece of input that starts with {@code >>} and holds {@code <<} begins
     * with a code token ({@code >>fr<<}) whose id is {@code codeIds}' (else {@code codeUnk}), as
     * {@code MarianTokenizer.remove_language_code} does for each chunk between special tokens; null: off.
     */
    Map<String, Integer> codeIds;
    int codeUnk;

    AddedVocabulary(List<AddedToken> tokens, Normalizers.Normalizer normalizer) {
        this.tokens = tokens;
        for (AddedToken t : tokens) {
            byContent.put(t.content(), t);
            byId.put(t.id(), t);
            if (t.content().isEmpty()) {
                continue;
            }
            if (t.normalized()) {
                NormalizedString n = new NormalizedString(t.content());
                if (normalizer != null) {
                    normalizer.normalize(n);
                }
                if (!n.isEmpty()) {
                    normalizedTrie.add(n.get(), t);
                }
            } else {
                raw.add(t.content(), t);
            }
        }
    }

    boolean isSpecial(String content) {
        AddedToken t = byContent.get(content);
        return t != null && t.special();
    }

    /** Splits {@code s} into added-token matches and the text between them. */
    PreTokenizedString extractAndNormalize(Normalizers.Normalizer normalizer, String sequence) {
        PreTokenizedString p = new PreTokenizedString(sequence);
        p.splitWithTokens(n -> splitWithIndices(n, raw));
        if (codeIds != null) {
            p.splitWithTokens(this::splitLanguageCode);
        }
        p.splitWithTokens(n -> {
            if (normalizer != null) {
                normalizer.normalize(n);
            }
            return splitWithIndices(n, normalizedTrie);
        });
        return p;
    }

    private List<PreTokenizedString.Split> splitLanguageCode(NormalizedString n) {
        String s = n.get();
        int end = s.startsWith(">>") ? s.indexOf("<<") : -1;
        if (end < 0) {
            return List.of(new PreTokenizedString.Split(n, null));
        }
        end += 2;
        String code = s.substring(0, end);
        NormalizedString piece = n.slice(0, end);
        int id = codeIds.getOrDefault(code, codeUnk);
        return List.of(new PreTokenizedString.Split(piece, List.of(new Token(id, code, 0, piece.length()))),
                new PreTokenizedString.Split(n.slice(end, s.length()), null));
    }

    private static List<PreTokenizedString.Split> splitWithIndices(NormalizedString n, Trie trie) {
        List<PreTokenizedString.Split> out = new ArrayList<>();
        if (trie.empty) {
            out.add(new PreTokenizedString.Split(n, null));
            return out;
        }
        String s = n.get();
        int startOffset = 0;
        int pos = 0;
        while (pos < s.length()) {
            // leftmost-longest match starting at pos
            Trie node = trie;
            AddedToken found = null;
            int foundEnd = -1;
            for (int k = pos; k < s.length(); k++) {
                node = node.children.get(s.charAt(k));
                if (node == null) {
                    break;
                }
                if (node.token != null) {
                    found = node.token;
                    foundEnd = k + 1;
                }
            }
            if (found == null) {
                pos++;
                continue;
            }
            int start = pos;
            int stop = foundEnd;
            pos = foundEnd;
            if (found.singleWord()) {
                boolean startSpace = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean stopSpace = stop == s.length() || !isWordChar(s.codePointAt(stop));
                if (!startSpace || !stopSpace) {
                    continue;
                }
            }
            if (found.lstrip()) {
                int newStart = start;
                while (newStart > 0 && CharClass.isWhitespace(s.codePointBefore(newStart))) {
                    newStart -= Character.charCount(s.codePointBefore(newStart));
                }
                start = Math.max(newStart, startOffset);
            }
            if (found.rstrip()) {
                while (stop < s.length() && CharClass.isWhitespace(s.codePointAt(stop))) {
                    stop += Character.charCount(s.codePointAt(stop));
                }
            }
            if (startOffset < start) {
                out.add(new PreTokenizedString.Split(n.slice(startOffset, start), null));
            }
            NormalizedString piece = n.slice(start, stop);
            out.add(new PreTokenizedString.Split(piece,
                    List.of(new Token(found.id(), piece.get(), 0, piece.length()))));
            startOffset = stop;
        }
        if (startOffset != s.length() || s.isEmpty()) {
            out.add(new PreTokenizedString.Split(n.slice(startOffset, s.length()), null));
        }
        return out;
    }

    /** Rust regex {@code \w}: Alphabetic, marks, decimal digits, connector punctuation, joiners. */
    static boolean isWordChar(int c) {
        if (Character.isAlphabetic(c)) {
            return true;
        }
        return switch (Character.getType(c)) {
            case Character.NON_SPACING_MARK, Character.COMBINING_SPACING_MARK, Character.ENCLOSING_MARK,
                    Character.DECIMAL_DIGIT_NUMBER, Character.CONNECTOR_PUNCTUATION -> true;
            default -> c == 0x200C || c == 0x200D;
        };
    }
}
