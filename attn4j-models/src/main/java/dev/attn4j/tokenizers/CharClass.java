package dev.attn4j.tokenizers;

/** Character classes with the meaning the Rust tokenizers library gives them. */
final class CharClass {
    private CharClass() {
    }

    /** Rust char::is_whitespace (the Unicode White_Space property). */
    static boolean isWhitespace(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F
                || c == 0x205F || c == 0x3000;
    }

    /** Rust char::is_numeric (general categories Nd, Nl, No). */
    static boolean isNumeric(int c) {
        int t = Character.getType(c);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /** Rust char::is_alphanumeric. */
    static boolean isAlphanumeric(int c) {
        return Character.isAlphabetic(c) || isNumeric(c);
    }

    /** ASCII punctuation or a Unicode P* category, as BertPreTokenizer and Punctuation use. */
    static boolean isPunctuation(int c) {
        if (c < 0x80) {
            return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60)
                    || (c >= 0x7B && c <= 0x7E);
        }
        if (RustUnicodeTables.in(RustUnicodeTables.PUNCTUATION, c)) {
            return true;
        }
        if (RustUnicodeTables.in(RustUnicodeTables.PLAIN, c)) {
            return false;
        }
        return switch (Character.getType(c)) {
            case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                    Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                    Character.FINAL_QUOTE_PUNCTUATION, Character.OTHER_PUNCTUATION -> true;
            default -> false;
        };
    }

    /** BertNormalizer whitespace: tab, newline, carriage return or White_Space. */
    static boolean isBertWhitespace(int c) {
        return c == '\t' || c == '\n' || c == '\r' || isWhitespace(c);
    }

    /** BertNormalizer control: categories Cc, Cf, Cn, Co, Cs except tab, newline, carriage return. */
    static boolean isBertControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r' || RustUnicodeTables.in(RustUnicodeTables.PLAIN, c)) {
            return false;
        }
        return switch (Character.getType(c)) {
            // Rust's tables leave unassigned code points out of "other" in practice.
            case Character.CONTROL, Character.FORMAT, Character.PRIVATE_USE, Character.SURROGATE -> true;
            default -> false;
        };
    }

    /** The CJK ideograph blocks BertNormalizer pads with spaces. */
    static boolean isChineseChar(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F)
                || (c >= 0x2B920 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF)
                || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    /** General category Mn. */
    static boolean isMarkNonspacing(int c) {
        if (RustUnicodeTables.in(RustUnicodeTables.NONSPACING_MARK, c)) {
            return true;
        }
        if (RustUnicodeTables.in(RustUnicodeTables.PLAIN, c) || RustUnicodeTables.in(RustUnicodeTables.PUNCTUATION, c)) {
            return false;
        }
        return Character.getType(c) == Character.NON_SPACING_MARK;
    }

    /** General categories Mn, Mc, Me. */
    static boolean isCombiningMark(int c) {
        int t = Character.getType(c);
        return t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK || t == Character.ENCLOSING_MARK;
    }
}
