package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.explain.Explainer;
import dev.attn4j.explain.Explanation;
import dev.attn4j.models.Params;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.BertForSequenceClassification;
import dev.attn4j.models.bert.ClassifierConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.tokenizers.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static dev.attn4j.cli.FinetuneClassifyCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code attn4j classify --explain}: each line gains the attributions of its predicted label, the
 * same as {@link Explainer#explain} gives in process (whose values are tested against transformers
 * in attn4j-models' ExplainerTest); without the flag the lines are unchanged.
 */
class ClassifyExplainCommandTest {
    /** A small random BERT classifier (labels negative / positive) with a WordPiece tokenizer over 40 tokens. */
    static Path classifier(Path dir) throws Exception {
        BertConfig c = BertConfig.bert(40, 32, 2, 4, 64, 40, 2);
        SplittableRandom rng = new SplittableRandom(11);
        Path model = dir.resolve("clf");
        new BertForSequenceClassification(c, new ClassifierConfig(List.of("negative", "positive"), null, null), null,
                Params.random(rng, 0.2), Params.random(rng, 0.5), rng).savePretrained(model, null);
        List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad"));
        for (int i = tokens.size(); i < 40; i++) tokens.add("w" + i);
        StringBuilder vocab = new StringBuilder(), added = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) vocab.append(i == 0 ? "" : ",").append('"').append(tokens.get(i)).append("\":").append(i);
        for (int i = 0; i < 4; i++) {
            added.append(i == 0 ? "" : ",").append("{\"id\":").append(i).append(",\"content\":\"").append(tokens.get(i))
                    .append("\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
        }
        Files.writeString(model.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
                + added + "],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,"
                + "\"strip_accents\":null,\"lowercase\":true},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},\"post_processor\":"
                + "{\"type\":\"BertProcessing\",\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]},\"decoder\":{\"type\":\"WordPiece\","
                + "\"prefix\":\"##\",\"cleanup\":true},\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\","
                + "\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":100,\"vocab\":{" + vocab + "}}}");
        return model;
    }

    @Test
    void explainAddsTheAttributionsOfThePredictedLabel(@TempDir Path tmp) throws Exception {
        Path model = classifier(tmp);
        List<String> texts = List.of("w7 good w9", "bad w8 w8 w12 w30", "w6");
        List<String> args = new ArrayList<>(List.of("classify", "--model", model.toString(), "--explain", "--batch-size", "2"));
        args.addAll(texts);
        FinetuneClassifyCommandTest.Run r = run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> lines = r.lines();
        assertThat(lines).hasSize(3);
        Tokenizer tok = Tokenizer.fromFile(model.resolve("tokenizer.json"));
        try (EncoderClassifier m = EncoderClassifiers.load(model)) {
            for (int i = 0; i < texts.size(); i++) {
                JsonNode line = lines.get(i);
                assertThat(line.get("text").asText()).isEqualTo(texts.get(i));
                JsonNode e = line.get("explain");
                assertThat(e).as(line.toString()).isNotNull();
                int label = m.head().id2label().indexOf(line.get("label").asText());
                Explanation want = Explainer.explain(m, tok.encode(texts.get(i), true), label);
                assertThat(want.label()).isEqualTo(Explainer.explain(m, tok.encode(texts.get(i), true)).label());
                int n = want.length();
                assertThat(e.get("tokens")).hasSize(n);
                for (int t = 0; t < n; t++) {
                    assertThat(e.get("tokens").get(t).asText()).isEqualTo(want.tokens().get(t));
                    assertThat(e.get("special").get(t).asBoolean()).isEqualTo(want.special()[t]);
                    assertThat(e.get("offsets").get(t).get(0).asInt()).isEqualTo(want.offsets()[t][0]);
                    assertThat(e.get("offsets").get(t).get(1).asInt()).isEqualTo(want.offsets()[t][1]);
                    assertThat(e.get("gradientXInput").get(t).asDouble()).isEqualTo(want.gradientXInput()[t]);
                    assertThat(e.get("attentionRollout").get(t).asDouble()).isEqualTo(want.attentionRollout()[t]);
                }
                assertThat(e.get("tokens").get(0).asText()).isEqualTo("[CLS]");
                assertThat(e.get("special").get(0).asBoolean()).isTrue();
                assertThat(e.get("special").get(1).asBoolean()).isFalse();
            }
        }
        assertThat(lines.get(0).get("explain").get("tokens").toString()).isEqualTo("[\"[CLS]\",\"w7\",\"good\",\"w9\",\"[SEP]\"]");
        assertThat(lines.get(0).get("explain").get("offsets").get(2).toString()).isEqualTo("[3,7]");

        FinetuneClassifyCommandTest.Run plain = run("classify", "--model", model.toString(), texts.get(0));
        assertThat(plain.code()).as(plain.err()).isZero();
        JsonNode p = plain.lines().get(0);
        assertThat(p.has("explain")).isFalse();
        assertThat(p.get("label")).isEqualTo(lines.get(0).get("label"));
        assertThat(p.get("score")).isEqualTo(lines.get(0).get("score"));
    }
}
