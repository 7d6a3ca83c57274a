package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tokenizers.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code embed --quantize} and {@code classify --quantize}: the encoder's linear weights quantized on load. */
class QuantizeOnLoadCommandTest {
    @TempDir
    Path tmp;

    static Path miniLm() {
        Path root = DefaultModel.repositoryRoot();
        Path model = root == null ? null : root.resolve(DefaultModel.RELATIVE).normalize();
        assumeTrue(model != null && Files.isDirectory(model), "shared model directory not present");
        return model;
    }

    static void assertOneLine(FinetuneClassifyCommandTest.Run r, String... expected) {
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).startsWith("attn4j: ").contains(expected);
    }

    @Test
    void badQuantizeValuesExitTwoWithOneLine() throws Exception {
        Path clf = ClassifyExplainCommandTest.classifier(tmp);
        assertOneLine(FinetuneClassifyCommandTest.run("embed", "--quantize", "q9_9", "text"), "unknown quantization type 'q9_9'",
                "q8_0");
        assertOneLine(FinetuneClassifyCommandTest.run("classify", "--model", clf.toString(), "--quantize", "int8", "text"),
                "unknown quantization type 'int8'", "q4_k");
        FinetuneClassifyCommandTest.Run missing = FinetuneClassifyCommandTest.run("embed", "--quantize");   // picocli: message + usage
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("Missing required parameter for option '--quantize'");
    }

    @Test
    void embedQuantizeQ8_0GivesTheInProcessQuantizedEmbeddingsCloseToF32() throws Exception {
        Path model = miniLm();
        List<String> texts = List.of("Quantized weights on load.", "A man is eating food.", "The new movie is awesome.");
        List<String> args = new ArrayList<>(List.of("embed", "--model", model.toString(), "--quantize", "Q8_0"));
        args.addAll(texts);
        FinetuneClassifyCommandTest.Run r = FinetuneClassifyCommandTest.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> rows = r.lines();
        assertThat(rows).hasSize(3);
        try (SentenceTransformer q = SentenceTransformer.load(model, QuantType.Q8_0); SentenceTransformer f = SentenceTransformer.load(model)) {
            List<float[]> eq = q.encode(texts), ef = f.encode(texts);
            for (int i = 0; i < texts.size(); i++) {
                JsonNode e = rows.get(i).get("embedding");
                double dot = 0, worst = 0;
                for (int j = 0; j < 384; j++) {
                    worst = Math.max(worst, Math.abs(e.get(j).asDouble() - eq.get(i)[j]));
                    dot += e.get(j).asDouble() * ef.get(i)[j];
                }
                assertThat(worst).as("vs in-process q8_0, text %d", i).isLessThan(1e-6);
                assertThat(dot).as("cosine vs f32 (unit vectors), text %d", i).isGreaterThan(0.999).isLessThan(1.000001);
                double diffF32 = 0;
                for (int j = 0; j < 384; j++) diffF32 = Math.max(diffF32, Math.abs(e.get(j).asDouble() - ef.get(i)[j]));
                assertThat(diffF32).as("q8_0 differs from f32").isGreaterThan(1e-5);
            }
        }
    }

    @Test
    void classifyQuantizeScoresAsTheQuantizedModelInProcess() throws Exception {
        Path clf = ClassifyExplainCommandTest.classifier(tmp);
        List<String> texts = List.of("w7 good w9", "bad w8 w8 w12 w30", "w6");
        List<String> args = new ArrayList<>(List.of("classify", "--model", clf.toString(), "--quantize", "q4_0"));
        args.addAll(texts);
        FinetuneClassifyCommandTest.Run r = FinetuneClassifyCommandTest.run(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> rows = r.lines();
        assertThat(rows).hasSize(3);
        Tokenizer tok = Tokenizer.fromFile(clf.resolve("tokenizer.json"));
        try (EncoderClassifier q = EncoderClassifiers.load(clf, EncoderClassifiers.Options.inference().withQuantize(QuantType.Q4_0));
             EncoderClassifier f = EncoderClassifiers.load(clf)) {
            var enc = texts.stream().map(t -> tok.encode(t, true)).toList();
            List<float[]> pq = q.probabilities(enc, 32), pf = f.probabilities(enc, 32);
            double moved = 0;
            for (int i = 0; i < texts.size(); i++) {
                for (int k = 0; k < 2; k++) {
                    String label = q.head().id2label().get(k);
                    assertThat(rows.get(i).get("scores").get(label).asDouble()).as("text %d %s", i, label)
                            .isCloseTo(pq.get(i)[k], org.assertj.core.data.Offset.offset(1e-6));
                    moved = Math.max(moved, Math.abs(pq.get(i)[k] - pf.get(i)[k]));
                }
            }
            assertThat(moved).as("q4_0 scores differ from f32").isGreaterThan(1e-6);
        }
    }
}
