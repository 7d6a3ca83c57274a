package dev.attn4j.train.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Against scripts/make-bleu-references.py, a transcription of sacreBLEU 2.6.0's default corpus BLEU. */
class BleuTest {
    private static JsonNode references() throws IOException {
        try (InputStream in = BleuTest.class.getResourceAsStream("/bleu/bleu-references.json")) {
            assertThat(in).as("bleu-references.json on the test classpath").isNotNull();
            return JsonMapper.builder().build().readTree(in);
        }
    }

    private static List<String> strings(JsonNode arr) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : arr) out.add(n.asText());
        return out;
    }

    @Test
    void matchesTheReferenceCases() throws IOException {
        JsonNode cases = references();
        assertThat(cases.size()).isGreaterThanOrEqualTo(10);
        for (JsonNode c : cases) {
            String name = c.get("name").asText();
            List<String> hyps = strings(c.get("hyps"));
            List<List<String>> refs = new ArrayList<>();
            for (JsonNode s : c.get("refs")) refs.add(strings(s));
            for (int i = 0; i < hyps.size(); i++) {
                assertThat(Bleu.tokenize13a(Bleu.rstrip(hyps.get(i)))).as(name + " hyp " + i).isEqualTo(c.get("hypTokens").get(i).asText());
                for (int r = 0; r < refs.size(); r++) {
                    assertThat(Bleu.tokenize13a(Bleu.rstrip(refs.get(r).get(i)))).as(name + " ref " + r + "." + i)
                            .isEqualTo(c.get("refTokens").get(r).get(i).asText());
                }
            }
            Bleu.Score s = Bleu.corpus(hyps, refs);
            assertThat(s.hypLen()).as(name).isEqualTo(c.get("hypLen").asLong());
            assertThat(s.refLen()).as(name).isEqualTo(c.get("refLen").asLong());
            for (int n = 0; n < Bleu.MAX_ORDER; n++) {
                assertThat(s.counts()[n]).as(name + " counts " + n).isEqualTo(c.get("counts").get(n).asLong());
                assertThat(s.totals()[n]).as(name + " totals " + n).isEqualTo(c.get("totals").get(n).asLong());
                assertThat(s.precisions()[n]).as(name + " precision " + n).isCloseTo(c.get("precisions").get(n).asDouble(), within(1e-12));
            }
            assertThat(s.bp()).as(name).isCloseTo(c.get("bp").asDouble(), within(1e-13));
            assertThat(s.score()).as(name).isCloseTo(c.get("score").asDouble(), within(1e-10));
            assertThat(s.format()).as(name).isEqualTo(c.get("formatted").asText());
            assertThat(s.signature()).as(name).isEqualTo(c.get("signature").asText());
        }
    }

    @Test
    void pythonWhitespaceAndRounding() {
        assertThat(Bleu.split(" a\u00a0b\u3000c\u001fd\u200be ")).containsExactly("a", "b", "c", "d\u200be");
        assertThat(Bleu.rstrip("x \t\r\u0085\u2029")).isEqualTo("x");
        assertThat(Bleu.fixed(0.125, 2)).isEqualTo("0.12");
        assertThat(Bleu.fixed(2.675, 2)).isEqualTo("2.67");                     // 2.67499999... in binary
        assertThat(Bleu.fixed(0.0625, 3)).isEqualTo("0.062");
        assertThat(Bleu.fixed(100, 1)).isEqualTo("100.0");
    }

    @Test
    void identicalCorpusScoresHundred() {
        List<String> lines = List.of("A dog runs across the park .", "Two men are playing chess outside.");
        Bleu.Score s = Bleu.corpus(lines, List.of(lines));
        assertThat(s.score()).isCloseTo(100.0, within(1e-9));
        assertThat(s.format()).startsWith("BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000");
    }

    @Test
    void mismatchedLengthsAreRefused() {
        assertThatThrownBy(() -> Bleu.corpus(List.of("a", "b"), List.of(List.of("a"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 segments").hasMessageContaining("has 1");
        assertThatThrownBy(() -> Bleu.corpus(List.of("a"), List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
