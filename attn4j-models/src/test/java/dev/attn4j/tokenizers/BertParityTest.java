package dev.attn4j.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** all-MiniLM-L6-v2's real BERT tokenizer against the Rust library on random text. */
class BertParityTest {
    static final Path FILE = dev.attn4j.testing.MiniLm.any().resolve("tokenizer.json");
    static String json;
    static Tokenizer tok;
    static RustOracle rust;

    @BeforeAll
    static void load() throws IOException {
        assertThat(FILE).as("shared model file (run from attn4j-models)").exists();
        json = Files.readString(FILE, StandardCharsets.UTF_8);
        tok = Tokenizer.fromFile(FILE);
        rust = new RustOracle(json);
    }

    @AfterAll
    static void close() {
        rust.close();
    }

    static void assertSame(RustOracle.Result r, Encoding e, String what) {
        assertThat(e.tokens()).as("tokens " + what).containsExactly(r.tokens());
        assertThat(e.ids()).as("ids " + what).containsExactly(r.ids());
        assertThat(e.typeIds()).as("type ids " + what).containsExactly(r.typeIds());
        assertThat(Arrays.deepToString(e.offsets())).as("offsets " + what).isEqualTo(Arrays.deepToString(r.offsets()));
        assertThat(e.attentionMask()).as("attention mask " + what).containsExactly(r.attentionMask());
        assertThat(e.specialTokensMask()).as("special tokens mask " + what).containsExactly(r.specialTokensMask());
        assertThat(e.wordIds()).as("word ids " + what).containsExactly(r.wordIds());
    }

    static String show(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c > 0x7E) {
                sb.append(String.format("\\u{%X}", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append('"').toString();
    }

    @Test
    void singleStrings() {
        long seed = Long.getLong("attn4j.seed", System.nanoTime()); // -Dattn4j.seed=N replays a failure
        TextGen gen = new TextGen(seed);
        for (int i = 0; i < 7000; i++) {
            String s = gen.next(12);
            String what = "seed=" + seed + " i=" + i + " text=" + show(s);
            assertSame(rust.encode(s, null, true), tok.encode(s), what);
        }
    }

    @Test
    void pairsAndTruncation() {
        java.util.Map<String, RustOracle> oracles = new java.util.HashMap<>();
        try {
            pairsAndTruncation(oracles);
        } finally {
            oracles.values().forEach(RustOracle::close);
        }
    }

    /** tokenizer.json with its null truncation replaced (whatever the file's JSON spacing). */
    private static String withTruncation(String tokenizerJson, String truncation) {
        String out = tokenizerJson.replaceFirst("\"truncation\"\\s*:\\s*null", "\"truncation\": " + truncation);
        assertThat(out).as("tokenizer.json has a null truncation to replace").isNotEqualTo(tokenizerJson);
        return out;
    }

    private void pairsAndTruncation(java.util.Map<String, RustOracle> oracles) {
        long seed = Long.getLong("attn4j.seed", System.nanoTime()); // -Dattn4j.seed=N replays a failure
        TextGen gen = new TextGen(seed);
        Truncation.Strategy[] strategies = Truncation.Strategy.values();
        for (int i = 0; i < 1500; i++) {
            // max_length 256 with long texts (as a model would use it), 17 with short ones
            int max = i % 6 == 0 ? 256 : 17;
            String a = gen.next(max == 256 ? 60 : 12);
            String b = gen.next(max == 256 ? 60 : 12);
            Truncation.Strategy st = strategies[i % 3];
            Truncation.Direction dir = (i / 3) % 2 == 0 ? Truncation.Direction.RIGHT : Truncation.Direction.LEFT;
            String what = "seed=" + seed + " i=" + i + " " + st + " " + dir + " max=" + max + " a=" + show(a)
                    + " b=" + show(b);
            String truncJson = "{\"max_length\":" + max + ",\"strategy\":\"" + switch (st) {
                case LONGEST_FIRST -> "LongestFirst";
                case ONLY_FIRST -> "OnlyFirst";
                case ONLY_SECOND -> "OnlySecond";
            } + "\",\"stride\":0,\"direction\":\"" + (dir == Truncation.Direction.RIGHT ? "Right" : "Left") + "\"}";
            Tokenizer t = tok.withTruncation(new Truncation(max, st, 0, dir));
            RustOracle r = oracles.computeIfAbsent(truncJson,
                    k -> new RustOracle(withTruncation(json, k)));
            {
                RustOracle.Result expected;
                try {
                    expected = r.encode(a, b, true);
                } catch (RuntimeException e) {
                    // Rust refuses (sequence too short for only_first / only_second): so must we.
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> t.encode(a, b)).as(what)
                            .isInstanceOf(TokenizerException.class);
                    continue;
                }
                assertSame(expected, t.encode(a, b), what);
            }
            if (i % 10 == 0) {
                assertSame(rust.encode(a, b, true), tok.encode(a, b), "untruncated " + what);
                assertSame(rust.encode(a, b, false), tok.encode(a, b, false), "no specials " + what);
            }
        }
    }

    @Test
    void decode() {
        long seed = Long.getLong("attn4j.seed", System.nanoTime()); // -Dattn4j.seed=N replays a failure
        TextGen gen = new TextGen(seed);
        for (int i = 0; i < 1000; i++) {
            String s = gen.next(12);
            int[] ids = tok.encode(s).ids();
            if (i % 7 == 0 && ids.length > 0) {
                ids[gen.nextInt(ids.length)] = gen.nextInt(tok.vocabSize() + 5);
            }
            for (boolean skip : new boolean[] {true, false}) {
                assertThat(tok.decode(ids, skip)).as("seed=" + seed + " i=" + i + " skip=" + skip + " ids="
                        + Arrays.toString(ids)).isEqualTo(rust.decode(ids, skip));
            }
        }
    }
}
