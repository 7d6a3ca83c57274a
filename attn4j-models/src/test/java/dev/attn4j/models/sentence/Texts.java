package dev.attn4j.models.sentence;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Varied test inputs: short and long English, unicode of many scripts, punctuation, empty. */
final class Texts {
    private Texts() {
    }

    private static final String[] WORDS = ("the quick brown fox jumps over lazy dog attention is all you need transformer "
            + "embedding sentence model java vector search retrieval weather today tomorrow café naïve résumé Zürich "
            + "über straße façade coöperate 東京 北京 日本語 中文 한국어 русский язык العربية עברית ελληνικά हिन्दी ไทย "
            + "😀 🚀 👍🏽 ❤️ 42 3.14 1,000,000 e-mail don't U.S.A. #hashtag @user http://example.com/a?b=c "
            + "Ǆemal ﬁnance Ⅻ ½ x² e\u0301 n\u0303 \u00e9 ΣΑΣ İstanbul ǅ").split(" ");

    private static final String[] FIXED = {"", " ", "\t\n", "Hello, world!", "A", "?!", "[CLS] [SEP] [PAD] [MASK]",
            "UPPER CASE TEXT", "MiXeD cAsE", "naïve café résumé", "東京は日本の首都です。", "Привет, как дела?",
            "مرحبا بالعالم", "😀😀😀", "e\u0301e\u0301", "\u200b\u200bzero width", "tab\tseparated\tvalues",
            "a-b_c.d,e;f:g", "12345 67890", "unaffable unbelievable antidisestablishmentarianism"};

    /**
     * {@code n} texts: the fixed ones, {@code longCount} long ones (well over 256 tokens), and
     * random word mixes of 1 to {@code maxWords} words.
     */
    static List<String> varied(SplittableRandom rng, int n, int longCount, int maxWords) {
        List<String> out = new ArrayList<>(List.of(FIXED));
        for (int i = 0; i < longCount && out.size() < n; i++) out.add(words(rng, 300 + rng.nextInt(200)));
        while (out.size() < n) out.add(words(rng, 1 + rng.nextInt(maxWords)));
        return out.subList(0, n);
    }

    static String words(SplittableRandom rng, int count) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < count; i++) {
            if (i > 0) sb.append(rng.nextInt(10) == 0 ? ", " : " ");
            String w = WORDS[rng.nextInt(WORDS.length)];
            if (rng.nextInt(8) == 0) w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            sb.append(w);
        }
        return sb.toString();
    }
}
