package dev.attn4j.tokenizers;

import java.text.Normalizer.Form;
import java.util.List;

/** The normalizers of tokenizer.json. */
final class Normalizers {
    private Normalizers() {
    }

    /** Rewrites a {@link NormalizedString} in place. */
    interface Normalizer {
        void normalize(NormalizedString s);
    }

    /** BERT cleanup: control chars, CJK spacing, accents, lowercase. */
    record Bert(boolean cleanText, boolean handleChineseChars, Boolean stripAccents, boolean lowercase)
            implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            if (cleanText) {
                s.filter(c -> !(c == 0 || c == 0xFFFD || CharClass.isBertControl(c)));
                s.map(c -> CharClass.isBertWhitespace(c) ? ' ' : c);
            }
            if (handleChineseChars) {
                boolean any = s.get().codePoints().anyMatch(CharClass::isChineseChar);
                if (any) {
                    NormalizedString.Edits edits = new NormalizedString.Edits();
                    s.get().codePoints().forEach(c -> {
                        if (CharClass.isChineseChar(c)) {
                            edits.add(' ', 0);
                            edits.add(c, 1);
                            edits.add(' ', 1);
                        } else {
                            edits.add(c, 0);
                        }
                    });
                    s.transform(edits, 0);
                }
            }
            boolean strip = stripAccents != null ? stripAccents : lowercase;
            if (strip) {
                s.unicodeNormalize(Form.NFD);
                s.filter(c -> !CharClass.isMarkNonspacing(c));
            }
            if (lowercase) {
                s.lowercase();
            }
        }
    }

    /** Lowercase. */
    record Lowercase() implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            s.lowercase();
        }
    }

    /** One of the four Unicode normalization forms. */
    record Unicode(Form form) implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            s.unicodeNormalize(form);
        }
    }

    /** Removes combining marks. */
    record StripAccents() implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            s.filter(c -> !CharClass.isCombiningMark(c));
        }
    }

    /** Strips whitespace left and/or right. */
    record Strip(boolean left, boolean right) implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            s.strip(left, right);
        }
    }

    /** Replaces a string or regex with content. */
    record Replace(SplitPattern pattern, String content) implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            s.replace(pattern, content);
        }
    }

    /** Prepends a string to non-empty input. */
    record Prepend(String prepend) implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            if (!s.isEmpty()) {
                s.prepend(prepend);
            }
        }
    }

    /** Applies normalizers in order. */
    record Sequence(List<Normalizer> normalizers) implements Normalizer {
        @Override
        public void normalize(NormalizedString s) {
            for (Normalizer n : normalizers) {
                n.normalize(s);
            }
        }
    }
}
