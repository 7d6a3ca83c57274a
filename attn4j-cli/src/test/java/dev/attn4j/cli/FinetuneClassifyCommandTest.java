package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.models.Params;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.BertForSequenceClassification;
import dev.attn4j.models.bert.ClassifierConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code attn4j finetune} and {@code attn4j classify} end to end on a small fresh BERT with a
 * WordPiece tokenizer written here (label = whether the text says good or bad), and their
 * one-line errors for bad input.
 */
class FinetuneClassifyCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path shared;

    static Path model;

    record Run(int code, String out, String err) {
        List<JsonNode> lines() throws Exception {
            List<JsonNode> rows = new ArrayList<>();
            for (String l : out.split("\n")) if (!l.isBlank()) rows.add(JSON.readTree(l));
            return rows;
        }
    }

    static Run run(String... args) {
        CliRun.Output o = CliRun.main(null, args);
        return new Run(o.code(), o.out(), o.err());
    }

    static final List<String> WORDS = new ArrayList<>();

    /** A bare BERT encoder (no head, N(0, 0.02)) and a WordPiece tokenizer over 40 tokens. */
    @BeforeAll
    static void tinyModel() throws Exception {
        model = shared.resolve("tiny-bert");
        BertConfig c = BertConfig.bert(40, 32, 2, 4, 64, 40, 2);
        SplittableRandom rng = new SplittableRandom(5);
        new BertForSequenceClassification(c, ClassifierConfig.ofNumLabels(2), null, Params.random(rng, 0.02), Params.random(rng, 0.02), rng)
                .savePretrained(model, null);
        // strip the head and the labels: a base model as on the Hub
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(model.resolve("config.json").toFile());
        cfg.remove(List.of("id2label", "label2id", "problem_type", "architectures"));
        Files.writeString(model.resolve("config.json"), cfg.toString());
        var w = new java.util.LinkedHashMap<String, dev.attn4j.tensor.NDArray>();
        try (var ck = dev.attn4j.io.safetensors.SafetensorsCheckpoint.open(model.resolve("model.safetensors"))) {
            for (String k : ck.names()) if (k.startsWith("bert.")) w.put(k.substring(5), ck.getCopy(k));
        }
        dev.attn4j.io.safetensors.SafetensorsWriter.write(model.resolve("model.safetensors"), w);
        StringBuilder vocab = new StringBuilder();
        List<String> tokens = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad"));
        for (int i = tokens.size(); i < 40; i++) tokens.add("w" + i);
        for (int i = 0; i < tokens.size(); i++) vocab.append(i == 0 ? "" : ",").append('"').append(tokens.get(i)).append("\":").append(i);
        WORDS.addAll(tokens.subList(6, 40));
        String added = "";
        for (int i = 0; i < 4; i++) {
            added += (i == 0 ? "" : ",") + "{\"id\":" + i + ",\"content\":\"" + tokens.get(i)
                    + "\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}";
        }
        Files.writeString(model.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":[" + added
                + "],\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":true,\"strip_accents\":null,"
                + "\"lowercase\":true},\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},\"post_processor\":{\"type\":\"BertProcessing\","
                + "\"sep\":[\"[SEP]\",3],\"cls\":[\"[CLS]\",2]},\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
                + "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\","
                + "\"max_input_chars_per_word\":100,\"vocab\":{" + vocab + "}}}");
    }

    /** A CSV of n rows: label positive when the text says good, negative when bad; some fields quoted with commas. */
    static Path csv(Path dir, String name, int n, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder("id,text,label\n");
        for (int i = 0; i < n; i++) {
            boolean good = r.nextBoolean();
            List<String> w = new ArrayList<>();
            int len = 2 + r.nextInt(8);
            for (int j = 0; j < len; j++) w.add(WORDS.get(r.nextInt(WORDS.size())));
            w.add(r.nextInt(w.size() + 1), good ? "good" : "bad");
            String text = String.join(i % 3 == 0 ? ", " : " ", w);
            sb.append(i).append(',').append(i % 3 == 0 ? "\"" + text + "\"" : text).append(',').append(good ? "positive" : "negative").append('\n');
        }
        Path f = dir.resolve(name);
        Files.writeString(f, sb.toString());
        return f;
    }

    @Test
    void finetuneThenClassify(@TempDir Path tmp) throws Exception {
        Path train = csv(tmp, "train.csv", 300, 1);
        Path out = tmp.resolve("out");
        Run ft = run("finetune", "--model", model.toString(), "--train", train.toString(), "--eval-fraction", "0.2", "--out", out.toString(),
                "--epochs", "6", "--lr", "2e-3", "--batch-size", "16", "--warmup-ratio", "0.1", "--weight-decay", "0.01", "--log-every", "5");
        assertThat(ft.code()).as(ft.err()).isZero();
        assertThat(ft.err()).contains("newly initialized: [classifier.weight, classifier.bias]")
                .contains("examples/s").contains("ETA");
        List<JsonNode> lines = ft.lines();
        assertThat(lines).hasSize(7);                                      // 6 evaluations, one summary
        JsonNode eval = lines.get(0);
        assertThat(eval.get("perClass").has("positive")).isTrue();
        assertThat(eval.get("confusion")).hasSize(2);
        JsonNode summary = lines.get(6);
        for (String k : List.of("best", "evalAccuracy", "evalMacroF1", "trainSeconds", "examplesPerSecond", "checkpoint")) {
            assertThat(summary.has(k)).as(k).isTrue();
        }
        assertThat(summary.get("trainExamples").asInt()).isEqualTo(240);
        assertThat(summary.get("evalAccuracy").asDouble()).isGreaterThan(0.9);
        JsonNode cfg = JSON.readTree(out.resolve("config.json").toFile());
        assertThat(cfg.get("architectures").get(0).asText()).isEqualTo("BertForSequenceClassification");
        assertThat(cfg.get("id2label").toString()).isEqualTo("{\"0\":\"negative\",\"1\":\"positive\"}");
        assertThat(cfg.get("problem_type").asText()).isEqualTo("single_label_classification");
        assertThat(out.resolve("tokenizer.json")).exists();
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("out", "out.checkpoints", "train.csv");
        }

        Run one = run("classify", "--model", out.toString(), "--top-k", "1", "w7 good w9", "bad w8");
        assertThat(one.code()).as(one.err()).isZero();
        List<JsonNode> rows = one.lines();
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).get("text").asText()).isEqualTo("w7 good w9");
        assertThat(rows.get(0).get("label").asText()).isEqualTo("positive");
        assertThat(rows.get(1).get("label").asText()).isEqualTo("negative");
        assertThat(rows.get(0).get("scores")).hasSize(1);
        assertThat(rows.get(0).get("score").asDouble()).isGreaterThan(0.5);

        Path test = csv(tmp, "test.csv", 50, 9);
        Run labelled = run("classify", "--model", out.toString(), "--file", test.toString(), "--format", "csv");
        assertThat(labelled.code()).as(labelled.err()).isZero();
        List<JsonNode> all = labelled.lines();
        assertThat(all).hasSize(51);
        assertThat(all.get(0).has("gold")).isTrue();
        assertThat(all.get(0).get("scores")).hasSize(2);
        int correct = 0;
        for (int i = 0; i < 50; i++) if (all.get(i).get("gold").equals(all.get(i).get("label"))) correct++;
        JsonNode last = all.get(50);
        assertThat(last.get("n").asInt()).isEqualTo(50);
        assertThat(last.get("accuracy").asDouble()).isEqualTo(correct / 50.0);
    }

    static void assertOneLineError(Run r, String... parts) {
        assertThat(r.code()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines().count()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).startsWith("attn4j: ");
        for (String p : parts) assertThat(r.err()).contains(p);
    }

    @Test
    void badInputIsOneLineExitTwoAndNothingWritten(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("out");
        Path noCol = tmp.resolve("nocol.csv");
        Files.writeString(noCol, "sentence,label\nw7 good,positive\n");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", noCol.toString(), "--out", out.toString()),
                noCol + ":1", "no column 'text'");
        Path ragged = tmp.resolve("ragged.csv");
        Files.writeString(ragged, "text,label\nw7 good,positive\nw8 bad\n");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", ragged.toString(), "--out", out.toString()),
                ragged + ":3", "row has 1 field, the header has 2");
        Path empty = tmp.resolve("empty.csv");
        Files.writeString(empty, "");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", empty.toString(), "--out", out.toString()), empty.toString());
        Path train = csv(tmp, "train.csv", 20, 1);
        Path evalFile = tmp.resolve("eval.csv");
        Files.writeString(evalFile, "text,label\nw7 good,positive\nw9,neutral\n");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", train.toString(), "--eval", evalFile.toString(),
                "--out", out.toString()), evalFile + ":3", "'neutral'");
        Path noTok = tmp.resolve("no-tokenizer");
        Files.createDirectories(noTok);
        Files.copy(model.resolve("config.json"), noTok.resolve("config.json"));
        Files.copy(model.resolve("model.safetensors"), noTok.resolve("model.safetensors"));
        assertOneLineError(run("finetune", "--model", noTok.toString(), "--train", train.toString(), "--out", out.toString()),
                "tokenizer.json");
        assertOneLineError(run("classify", "--model", model.toString(), "some text"), "id2label");
        assertThat(out).doesNotExist();
        assertThat(tmp.resolve("out.checkpoints")).doesNotExist();
    }
}
