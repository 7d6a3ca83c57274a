package dev.attn4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bleu, tokenizer train, train --task translation, translate and attention on a toy corpus. */
class TranslationCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path out;
    static JsonNode summary;

    record Result(int code, String out, String err) {
        List<String> lines() {
            return out.lines().filter(l -> !l.isBlank()).toList();
        }

        JsonNode last() throws Exception {
            return JSON.readTree(lines().get(lines().size() - 1));
        }
    }

    static Result run(String... args) {
        StringWriter o = new StringWriter(), e = new StringWriter();
        int code = Main.run(new PrintWriter(o, true), new PrintWriter(e, true), args);
        return new Result(code, o.toString(), e.toString());
    }

    static void corpus(String name, long seed, int n) throws Exception {
        String[] src = {"ein", "mann", "frau", "hund", "sieht", "rot", "und"}, tgt = {"a", "man", "woman", "dog", "sees", "red", "and"};
        SplittableRandom rng = new SplittableRandom(seed);
        StringBuilder s = new StringBuilder(), t = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int len = 2 + rng.nextInt(4);
            for (int j = 0; j < len; j++) {
                int w = rng.nextInt(src.length);
                s.append(j > 0 ? " " : "").append(src[w]);
                t.append(j > 0 ? " " : "").append(tgt[w]);
            }
            s.append(" .\n");
            t.append(" .\n");
        }
        Files.writeString(tmp.resolve(name + ".de"), s, StandardCharsets.UTF_8);
        Files.writeString(tmp.resolve(name + ".en"), t, StandardCharsets.UTF_8);
    }

    @BeforeAll
    static void trainToyModel() throws Exception {
        corpus("train", 1, 200);
        corpus("valid", 2, 12);
        out = tmp.resolve("model");
        Result r = run("train", "--task", "translation", "--train-src", tmp.resolve("train.de").toString(), "--train-tgt",
                tmp.resolve("train.en").toString(), "--valid-src", tmp.resolve("valid.de").toString(), "--valid-tgt",
                tmp.resolve("valid.en").toString(), "--test-src", tmp.resolve("valid.de").toString(), "--test-tgt",
                tmp.resolve("valid.en").toString(), "--vocab-size", "40", "--tokenizer-type", "unigram", "--arch", "transformer",
                "--layers", "1", "--d-model", "32", "--heads", "2", "--ffn", "64", "--dropout", "0.1", "--label-smoothing", "0.1",
                "--max-tokens", "256", "--lr", "3e-3", "--warmup", "10", "--max-steps", "30", "--eval-every", "10", "--log-every", "10",
                "--average-last", "2", "--save-every", "10", "--eval-beam", "2", "--minutes", "5", "--out", out.toString());
        assertThat(r.code()).as(r.err()).isZero();
        summary = r.last();
        assertThat(r.err()).contains("tok/s").contains("valid loss").contains("BLEU").contains("test ");
    }

    @Test
    void trainPrintsASummaryAndWritesTheOutputDirectory() throws Exception {
        assertThat(summary.get("task").asText()).isEqualTo("translation");
        assertThat(summary.get("steps").asLong()).isEqualTo(30);
        assertThat(summary.get("stopReason").asText()).isEqualTo("max_steps");
        assertThat(summary.get("tokensPerSecond").asDouble()).isPositive();
        assertThat(summary.get("bleuSignature").asText()).isEqualTo("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
        assertThat(summary.has("averagedBleu")).isTrue();
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "summary.json", "valid.hyp", "test.hyp",
                "last/optimizer.safetensors", "last/trainer.json", "averaged/model.safetensors")) {
            assertThat(out.resolve(f)).as(f).isRegularFile();
        }
        // the test BLEU in the summary is what `attn4j bleu` says of test.hyp
        Result b = run("bleu", "--hyp", out.resolve("test.hyp").toString(), "--ref", tmp.resolve("valid.en").toString(), "--json");
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(b.last().get("score").asDouble()).isEqualTo(Math.round(summary.get("testBleu").asDouble() * 100) / 100.0);
    }

    @Test
    void translateAndAttentionReadTheTrainedModel() throws Exception {
        Result t = run("translate", "--checkpoint", out.toString(), "ein mann sieht einen hund .", "rot und rot .");
        assertThat(t.code()).as(t.err()).isZero();
        assertThat(t.lines()).hasSize(2);
        assertThat(JSON.readTree(t.lines().get(0)).get("source").asText()).isEqualTo("ein mann sieht einen hund .");
        assertThat(JSON.readTree(t.lines().get(0)).has("output")).isTrue();
        Path png = tmp.resolve("att.png");
        Result a = run("attention", "--checkpoint", out.toString(), "--out", png.toString(), "ein mann sieht rot .");
        assertThat(a.code()).as(a.err()).isZero();
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isGreaterThan(100);
        assertThat(a.last().get("png").asText()).isEqualTo(png.toString());
    }

    @Test
    void resumeContinuesTheRun() throws Exception {
        Path copy = tmp.resolve("resumed");
        copyTree(out, copy);
        Result r = run("train", "--task", "translation", "--out", copy.toString(), "--resume", "--max-steps", "40", "--steps", "5", "--minutes", "5");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.last().get("steps").asLong()).isEqualTo(35);
        assertThat(r.err()).contains("resuming");
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }

    @Test
    void bleuPrintsTheScoreAndSignature() throws Exception {
        Path h = tmp.resolve("h.txt"), r = tmp.resolve("r.txt");
        Files.writeString(h, "The cat sat on the mat.\nA dog barks.\n");
        Files.writeString(r, "The cat sat on a mat.\nA dog barks.\n");
        Result b = run("bleu", "--hyp", h.toString(), "--ref", r.toString());
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(b.lines()).hasSize(2);
        assertThat(b.lines().get(0)).matches("BLEU = \\d+\\.\\d\\d [0-9./]+ \\(BP = 1\\.000 ratio = 1\\.000 hyp_len = 11 ref_len = 11\\)");
        assertThat(b.lines().get(1)).isEqualTo("nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0");
        Files.writeString(r, "one line only\n");
        Result bad = run("bleu", "--hyp", h.toString(), "--ref", r.toString());
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("has 2 lines").contains("has 1");
    }

    @Test
    void tokenizerTrainWritesAFileBothLibrariesLoad() throws Exception {
        Path tok = tmp.resolve("tok.json");
        Result r = run("tokenizer", "train", "--type", "bpe", "--vocab-size", "300", "--files", tmp.resolve("train.de").toString(),
                tmp.resolve("train.en").toString(), "--out", tok.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.last().get("vocabSize").asInt()).isLessThanOrEqualTo(300);
        var t = dev.attn4j.tokenizers.Tokenizer.fromFile(tok);
        assertThat(t.tokenToId("<pad>")).isZero();
        assertThat(t.decode(t.encode("ein mann sieht rot .").ids())).isEqualTo("ein mann sieht rot .");
        Result small = run("tokenizer", "train", "--type", "bpe", "--vocab-size", "100", "--files", tmp.resolve("train.de").toString(),
                "--out", tmp.resolve("x.json").toString());
        assertThat(small.code()).isEqualTo(2);
        assertThat(small.err()).contains("too small");
    }

    @Test
    void translationNeedsItsFilesAndRefusesDatesOptions() {
        Result r = run("train", "--task", "translation", "--out", tmp.resolve("x").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--train-src");
        Result d = run("train", "--task", "dates", "--train-src", "a", "--out", tmp.resolve("y").toString());
        assertThat(d.code()).isEqualTo(2);
        assertThat(d.err()).contains("--task translation");
    }
}
