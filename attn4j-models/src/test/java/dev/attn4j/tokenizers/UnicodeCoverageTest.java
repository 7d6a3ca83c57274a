package dev.attn4j.tokenizers;

import static dev.attn4j.tokenizers.BertParityTest.assertSame;
import static dev.attn4j.tokenizers.BertParityTest.show;

import java.io.IOException;
import java.nio.file.Files;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Random code points from all of Unicode through character-class-sensitive pipelines, against
 * the Rust library: guards the tables where its Unicode data differs from the JDK's.
 */
class UnicodeCoverageTest {
    private static final String UNK_MODEL = "\"model\":{\"type\":\"Unigram\",\"unk_id\":0,\"vocab\":[[\"<unk>\",0.0]]}";

    private static String pipeline(String normalizer, String preTokenizer) {
        return "{\"normalizer\":" + normalizer + ",\"pre_tokenizer\":" + preTokenizer + "," + UNK_MODEL + "}";
    }

    private static void check(String json, long seed, int strings) {
        Tokenizer tok = Tokenizer.fromJson(json);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (RustOracle rust = new RustOracle(json)) {
            for (int i = 0; i < strings; i++) {
                StringBuilder sb = new StringBuilder();
                for (int k = 0; k < 40; k++) {
                    int plane = rnd.nextInt(8);
                    int c = plane < 5 ? rnd.nextInt(0x10000) : plane == 5 ? 0x10000 + rnd.nextInt(0x10000)
                            : plane == 6 ? 0x1D000 + rnd.nextInt(0x3000) : rnd.nextInt(0x110000);
                    if (c >= 0xD800 && c <= 0xDFFF) {
                        c = 0x301 + rnd.nextInt(0x60); // combining marks instead of surrogates
                    }
                    sb.append(switch (rnd.nextInt(4)) {
                        case 0 -> "a";
                        case 1 -> " ";
                        case 2 -> "1";
                        default -> "";
                    });
                    sb.appendCodePoint(c);
                }
                String s = sb.toString();
                assertSame(rust.encode(s, null, false), tok.encode(s, false), "seed=" + seed + " i=" + i + " json="
                        + json + " text=" + show(s));
            }
        }
    }

    @Test
    void bert() throws IOException {
        String json = Files.readString(BertParityTest.FILE);
        check(json, System.nanoTime(), 200);
    }

    @Test
    void unicodeFormsMarksCaseAndClasses() {
        long seed = System.nanoTime();
        check(pipeline("{\"type\":\"NFKC\"}", "{\"type\":\"Whitespace\"}"), seed, 300);
        check(pipeline("{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFD\"},{\"type\":\"StripAccents\"},"
                + "{\"type\":\"Lowercase\"}]}", "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Digits\","
                + "\"individual_digits\":true},{\"type\":\"Punctuation\",\"behavior\":\"Isolated\"},"
                + "{\"type\":\"WhitespaceSplit\"}]}"), seed + 1, 300);
        check(pipeline("{\"type\":\"NFKD\"}", "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,"
                + "\"use_regex\":true,\"trim_offsets\":false}"), seed + 2, 200);
        check(pipeline("{\"type\":\"NFC\"}", "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\","
                + "\"prepend_scheme\":\"first\",\"split\":true}"), seed + 3, 200);
    }
}
