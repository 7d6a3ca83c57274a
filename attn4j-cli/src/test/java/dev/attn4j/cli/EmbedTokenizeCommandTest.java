package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code attn4j embed} and {@code attn4j tokenize} on all-MiniLM-L6-v2, and their errors on broken model directories. */
class EmbedTokenizeCommandTest {
    @TempDir
    Path tmp;

    static Path model;

    @BeforeAll
    static void findModel() {
        Path root = DefaultModel.repositoryRoot();
        model = root == null ? null : root.resolve(DefaultModel.RELATIVE).normalize();
        assumeTrue(model != null && Files.isDirectory(model), "shared model directory not present");
    }

    record Run(int code, String out, String err) {
        List<JsonNode> json() throws Exception {
            List<JsonNode> rows = new ArrayList<>();
            assertThat(out).endsWith("\n");
            for (String line : out.split("\n", -1)) {
                if (line.isEmpty()) continue;
                assertThat(line).startsWith("{\"text\":").endsWith("]}");
                rows.add(JsonMapper.builder().build().readTree(line));
            }
            return rows;
        }
    }

    static Run run(String... args) {
        CliRun.Output o = CliRun.main(null, args);
        return new Run(o.code(), o.out(), o.err());
    }

    @Test
    void defaultModelIsTheBuiltInMiniLm() throws Exception {
        String old = System.getProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY);
        System.setProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY, tmp.toString());
        try {
            Path dir = DefaultModel.resolve();
            assertThat(dir.getParent()).isEqualTo(tmp);
            assertThat(dir.getFileName().toString()).matches("all-MiniLM-L6-v2-[0-9a-f]{16}");
            // Same model as the shared copy: embed without --model gives the shared model's vectors.
            Run builtIn = run("embed", "The default model works offline.");
            Run shared = run("embed", "--model", model.toString(), "The default model works offline.");
            assertThat(builtIn.code()).as(builtIn.err()).isZero();
            assertThat(builtIn.out()).isEqualTo(shared.out());
        } finally {
            if (old == null) System.clearProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY);
            else System.setProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY, old);
        }
    }

    @Test
    void tokenizeWritesIdsAndTokensWithSpecialTokensAndTruncation() throws Exception {
        Path file = tmp.resolve("in.txt");
        String longText = "word ".repeat(400);
        Files.writeString(file, "Hello, world!\n\n" + longText + "\r\nnaïve Café\n", StandardCharsets.UTF_8);
        Run r = run("tokenize", "--model", model.toString(), "--file", file.toString(), "last one");
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> rows = r.json();
        assertThat(rows).hasSize(5);
        assertThat(rows.get(0).get("text").asText()).isEqualTo("Hello, world!");
        assertThat(rows.get(0).get("ids").toString()).isEqualTo("[101,7592,1010,2088,999,102]");
        assertThat(rows.get(0).get("tokens").toString()).isEqualTo("[\"[CLS]\",\"hello\",\",\",\"world\",\"!\",\"[SEP]\"]");
        assertThat(rows.get(1).get("text").asText()).isEmpty();
        assertThat(rows.get(1).get("tokens").toString()).isEqualTo("[\"[CLS]\",\"[SEP]\"]");
        assertThat(rows.get(2).get("ids")).hasSize(256);
        assertThat(rows.get(2).get("tokens").get(255).asText()).isEqualTo("[SEP]");
        assertThat(rows.get(3).get("text").asText()).isEqualTo("naïve Café");
        assertThat(rows.get(3).get("tokens").toString()).isEqualTo("[\"[CLS]\",\"naive\",\"cafe\",\"[SEP]\"]");
        assertThat(rows.get(4).get("text").asText()).isEqualTo("last one");
    }

    @Test
    void embedWritesOneUnitVectorPerInputInOrder() throws Exception {
        Path file = tmp.resolve("in.txt");
        Files.writeString(file, "a long line " + "with many words ".repeat(60) + "\n\nshort\n", StandardCharsets.UTF_8);
        Run r = run("embed", "--model", model.toString(), "--batch-size", "2", "--file", file.toString(), "short", "Ünïcödé 東京");
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> rows = r.json();
        assertThat(rows).extracting(n -> n.get("text").asText())
                .containsExactly(Files.readAllLines(file).get(0), "", "short", "short", "Ünïcödé 東京");
        for (JsonNode row : rows) {
            JsonNode e = row.get("embedding");
            assertThat(e).hasSize(384);
            double norm = 0;
            for (JsonNode v : e) norm += v.asDouble() * v.asDouble();
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
        }
        for (int j = 0; j < 384; j++) {  // the same text in two batches of different composition
            assertThat(Math.abs(rows.get(2).get("embedding").get(j).asDouble() - rows.get(3).get("embedding").get(j).asDouble()))
                    .isLessThanOrEqualTo(1e-5);
        }
        assertThat(rows.get(0).get("embedding").toString()).isNotEqualTo(rows.get(2).get("embedding").toString());
    }

    @Test
    void inputErrorsExitWithCodeTwo() throws Exception {
        Run none = run("embed", "--model", model.toString());
        assertThat(none.code()).isEqualTo(2);
        assertThat(none.err().strip()).isEqualTo("attn4j: no input: give texts as arguments or --file F");
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[] {'o', 'k', '\n', (byte) 0xff, (byte) 0xfe});
        Run r = run("tokenize", "--model", model.toString(), "--file", bad.toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).isEqualTo("attn4j: " + bad + ": not valid UTF-8");
        Run b = run("embed", "--model", model.toString(), "--batch-size", "0", "x");
        assertThat(b.code()).isEqualTo(2);
        assertThat(b.err()).contains("--batch-size must be positive");
    }

    /** A copy of the model's small files with the weights linked, to break one thing at a time. */
    private Path copyModel(String name) throws Exception {
        Path dir = tmp.resolve(name);
        Files.createDirectories(dir.resolve("1_Pooling"));
        for (String f : List.of("config.json", "modules.json", "sentence_bert_config.json", "special_tokens_map.json",
                "tokenizer.json", "tokenizer_config.json", "vocab.txt", "1_Pooling/config.json")) {
            Files.copy(model.resolve(f), dir.resolve(f));
        }
        Files.createSymbolicLink(dir.resolve("model.safetensors"), model.resolve("model.safetensors"));
        return dir;
    }

    private void assertOneLineError(Path dir, String command, String expected) {
        Run r = run(command, "--model", dir.toString(), "some text");
        assertThat(r.code()).as("exit code of %s, stderr: %s", command, r.err()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).startsWith("attn4j: ").contains(expected);
    }

    @Test
    void malformedModelDirectoriesGiveOneErrorLine() throws Exception {
        Path ok = copyModel("ok");
        assertThat(run("embed", "--model", ok.toString(), "x").code()).isZero();

        Path noConfig = copyModel("no-config");
        Files.delete(noConfig.resolve("config.json"));
        assertOneLineError(noConfig, "embed", noConfig + ": missing config.json");
        assertOneLineError(noConfig, "tokenize", noConfig + ": missing config.json");

        Path badJson = copyModel("bad-json");
        Files.writeString(badJson.resolve("config.json"), "{\"model_type\": \"bert\", ");
        assertOneLineError(badJson, "embed", badJson.resolve("config.json") + ": malformed JSON at line 1");

        Path noTokenizer = copyModel("no-tokenizer");
        Files.delete(noTokenizer.resolve("tokenizer.json"));
        assertOneLineError(noTokenizer, "tokenize", noTokenizer + ": missing tokenizer.json");

        Path unknown = copyModel("unknown-component");
        String tj = Files.readString(unknown.resolve("tokenizer.json"));
        Files.writeString(unknown.resolve("tokenizer.json"), tj.replaceFirst("\"BertNormalizer\"", "\"FancyNormalizer\""));
        assertOneLineError(unknown, "embed", unknown.resolve("tokenizer.json").toString());
        assertOneLineError(unknown, "tokenize", "FancyNormalizer");

        Path truncated = copyModel("truncated");
        Files.delete(truncated.resolve("model.safetensors"));
        try (var in = Files.newInputStream(model.resolve("model.safetensors"))) {
            Files.write(truncated.resolve("model.safetensors"), in.readNBytes(1_000_000));
        }
        assertOneLineError(truncated, "embed", "model.safetensors");
        assertThat(run("tokenize", "--model", truncated.toString(), "x").code()).as("tokenize does not need the weights").isZero();

        Path noWeights = copyModel("no-weights");
        Files.delete(noWeights.resolve("model.safetensors"));
        assertOneLineError(noWeights, "embed", "missing model.safetensors");

        assertOneLineError(tmp.resolve("does-not-exist"), "embed", "no such model directory");
    }
}
