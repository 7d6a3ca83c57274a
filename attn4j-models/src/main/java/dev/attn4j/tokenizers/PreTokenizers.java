package dev.attn4j.tokenizers;

import dev.attn4j.tokenizers.NormalizedString.SplitBehavior;
import java.util.List;

/** The pre-tokenizers of tokenizer.json. */
final class PreTokenizers {
    private PreTokenizers() {
    }

    /** Splits a {@link PreTokenizedString} further (and may rewrite its pieces). */
    interface PreTokenizer {
        void preTokenize(PreTokenizedString s);
    }

    private static final SplitPattern WHITESPACE = SplitPattern.chars(CharClass::isWhitespace);
    private static final SplitPattern PUNCTUATION = SplitPattern.chars(CharClass::isPunctuation);

    /** Splits on whitespace (removed) then on punctuation (isolated). */
    record Bert() implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            s.split(n -> n.split(WHITESPACE, SplitBehavior.REMOVED));
            s.split(n -> n.split(PUNCTUATION, SplitBehavior.ISOLATED));
        }
    }

    private static final SplitPattern WORDS = SplitPattern.invert(SplitPattern.regex("\\w+|[^\\w\\s]+"));

    /** Splits into runs of word characters and runs of other non-space characters. */
    record Whitespace() implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            s.split(n -> n.split(WORDS, SplitBehavior.REMOVED));
        }
    }

    /** Splits on whitespace only. */
    record WhitespaceSplit() implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            s.split(n -> n.split(WHITESPACE, SplitBehavior.REMOVED));
        }
    }

    /** Isolates punctuation characters with the given behaviour. */
    record Punctuation(SplitBehavior behavior) implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            s.split(n -> n.split(PUNCTUATION, behavior));
        }
    }

    private static final SplitPattern NUMERIC = SplitPattern.chars(CharClass::isNumeric);

    /** Splits digits off, one by one or as runs. */
    record Digits(boolean individualDigits) implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            SplitBehavior b = individualDigits ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS;
            s.split(n -> n.split(NUMERIC, b));
        }
    }

    /** Splits on a pattern with the given behaviour, optionally inverted. */
    record Split(SplitPattern pattern, SplitBehavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            SplitPattern p = invert ? SplitPattern.invert(pattern) : pattern;
            s.split(n -> n.split(p, behavior));
        }
    }

    /** How Metaspace adds the replacement character in front. */
    enum PrependScheme {
        ALWAYS, FIRST, NEVER
    }

    /** Replaces spaces with a marker (default '▁'), optionally prepends it, and splits before it. */
    record Metaspace(int replacement, PrependScheme prependScheme, boolean split) implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            String rep = new String(Character.toChars(replacement));
            SplitPattern space = SplitPattern.chars(c -> c == ' ');
            SplitPattern marker = SplitPattern.chars(c -> c == replacement);
            s.split(n -> {
                n.replace(space, rep);
                boolean starts = n.get().startsWith(rep);
                switch (prependScheme) {
                    case ALWAYS -> {
                        if (!starts) {
                            n.prepend(rep);
                        }
                    }
                    case FIRST -> {
                        if (!starts && n.offsetsOriginal()[0] == 0) {
                            n.prepend(rep);
                        }
                    }
                    case NEVER -> {
                    }
                }
                return split ? n.split(marker, SplitBehavior.MERGED_WITH_NEXT) : List.of(n);
            });
        }
    }

    private static final SplitPattern GPT2 = SplitPattern.regex(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    /** GPT-2 byte-level: optional prefix space, the GPT-2 split regex, then bytes mapped to chars. */
    record ByteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            s.split(n -> {
                if (addPrefixSpace && !n.get().startsWith(" ")) {
                    n.prepend(" ");
                }
                return useRegex ? n.split(GPT2, SplitBehavior.ISOLATED) : List.of(n);
            });
            s.normalize(ByteLevel::toByteChars);
        }

        static void toByteChars(NormalizedString n) {
            String str = n.get();
            NormalizedString.Edits edits = new NormalizedString.Edits();
            byte[] buf = new byte[4];
            for (int i = 0; i < str.length(); ) {
                int c = str.codePointAt(i);
                int len = Utf8.encode(c, buf);
                for (int b = 0; b < len; b++) {
                    edits.add(ByteChars.BYTE_TO_CHAR[buf[b] & 0xFF], b > 0 ? 1 : 0);
                }
                i += Character.charCount(c);
            }
            n.transform(edits, 0);
        }
    }

    /** Applies pre-tokenizers in order. */
    record Sequence(List<PreTokenizer> preTokenizers) implements PreTokenizer {
        @Override
        public void preTokenize(PreTokenizedString s) {
            for (PreTokenizer p : preTokenizers) {
                p.preTokenize(s);
            }
        }
    }
}
