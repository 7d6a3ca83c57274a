package dev.attn4j.tokenizers;

import java.util.SplittableRandom;

/** Random test strings covering the awkward parts of Unicode text. */
final class TextGen {
    private static final String[] WORDS = {"the", "Hello", "world", "tokenizer", "isn't", "don't", "U.S.A.",
        "naïve", "café", "Über", "straße", "İstanbul", "ΣΊΣΥΦΟΣ", "Привет", "мир", "東京", "北京大学", "こんにちは",
        "カタカナ", "한국어", "안녕하세요", "مرحبا", "שלום", "नमस्ते", "ภาษาไทย", "e\u0301te\u0301", "A\u030A",
        "ﬁne", "①②", "½", "x²", "Ⅻ", "𝔾𝕠𝕠𝕕", "ｆｕｌｌ", "١٢٣", "unaffable", "running", "##ing", "[CLS]", "[SEP]",
        "[MASK]", "<s>", "</s>", "<mask>", "<unk>", "hello_world", "C++", "e-mail", "3.14159", "1,000,000",
        "2024-01-01", "@user", "#tag", "http://example.com/a?b=c", "ǅ", "ŉ", "ΐ", "ﬀ", "Ǆ"};
    private static final String[] EMOJI = {"😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇫🇷", "1️⃣", "🧑‍💻", "🫠", "🥰",
        "🤌", "🪐", "🐈‍⬛", "☺", "✈️"};
    private static final String[] SPACES = {" ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "\u2009",
        "\u2028", "\u0085", "   \t ", "\u200B", "\u200D", "\uFEFF"};
    private static final String PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»“”‘’—–…·•§¶†‡‰′″‹›、。「」『』【】〜";

    private final SplittableRandom rnd;

    TextGen(long seed) {
        rnd = new SplittableRandom(seed);
    }

    int nextInt(int bound) {
        return rnd.nextInt(bound);
    }

    /** A random string of up to about {@code maxPieces} pieces. */
    String next(int maxPieces) {
        int kind = rnd.nextInt(20);
        if (kind == 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        int pieces = 1 + rnd.nextInt(maxPieces);
        for (int i = 0; i < pieces; i++) {
            piece(sb);
        }
        return sb.toString();
    }

    private void piece(StringBuilder sb) {
        switch (rnd.nextInt(16)) {
            case 0, 1, 2, 3 -> sb.append(WORDS[rnd.nextInt(WORDS.length)]);
            case 4 -> sb.append(EMOJI[rnd.nextInt(EMOJI.length)]);
            case 5, 6 -> sb.append(SPACES[rnd.nextInt(SPACES.length)]);
            case 7 -> sb.append(PUNCT.charAt(rnd.nextInt(PUNCT.length())));
            case 8 -> { // control characters
                int[] c = {0, 1, 7, 8, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F, 0x80, 0x9F, 0xAD, 0xFFFD, 0x200E, 0xE000};
                sb.appendCodePoint(c[rnd.nextInt(c.length)]);
            }
            case 9 -> { // a long word
                int n = 90 + rnd.nextInt(30);
                for (int i = 0; i < n; i++) {
                    sb.append((char) ('a' + rnd.nextInt(26)));
                }
            }
            case 10 -> sb.append(rnd.nextLong(0, 1_000_000_000L));
            case 11 -> { // random letters of assorted scripts
                int[][] ranges = {{'a', 'z'}, {'A', 'Z'}, {0xC0, 0x24F}, {0x370, 0x3FF}, {0x400, 0x4FF},
                    {0x590, 0x5FF}, {0x600, 0x6FF}, {0x900, 0x97F}, {0xE00, 0xE5B}, {0x3040, 0x30FF},
                    {0x4E00, 0x9FFF}, {0xAC00, 0xD7A3}, {0x1F300, 0x1F5FF}, {0x300, 0x36F}, {0x2000, 0x206F}};
                int[] r = ranges[rnd.nextInt(ranges.length)];
                int n = 1 + rnd.nextInt(6);
                for (int i = 0; i < n; i++) {
                    int cp = r[0] + rnd.nextInt(r[1] - r[0] + 1);
                    if (Character.isDefined(cp)) {
                        sb.appendCodePoint(cp);
                    }
                }
            }
            case 12 -> { // any assigned code point
                int cp;
                do {
                    cp = rnd.nextInt(0x30000);
                } while (!Character.isDefined(cp) || Character.getType(cp) == Character.SURROGATE
                        || Character.getType(cp) == Character.UNASSIGNED);
                sb.appendCodePoint(cp);
            }
            case 13 -> { // lowercase ASCII word
                int n = 1 + rnd.nextInt(10);
                for (int i = 0; i < n; i++) {
                    sb.append((char) ('a' + rnd.nextInt(26)));
                }
            }
            default -> sb.append(' ');
        }
    }
}
