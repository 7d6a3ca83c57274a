package dev.attn4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.tasks.CharVocab;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train / translate / attention on a tiny checkpoint trained here for a few steps. */
class Seq2SeqCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path tmp;
    static Path ckpt;

    record Result(int code, String out, String err) {
        List<String> lines() {
            return out.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(code, out.toString(), err.toString());
    }

    @BeforeAll
    static void trainTinyCheckpoint() throws Exception {
        ckpt = tmp.resolve("tiny");
        Result r = run("train", "--task", "dates", "--arch", "transformer", "--out", ckpt.toString(), "--seed", "7",
                "--steps", "4", "--max-steps", "6", "--warmup", "1", "--d-model", "16", "--heads", "2", "--layers", "1",
                "--ff", "32", "--batch-size", "8", "--eval-every", "1000", "--final-eval-size", "10", "--log-every", "2");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode last = JSON.readTree(r.lines().get(r.lines().size() - 1));
        assertThat(last.get("steps").asLong()).isEqualTo(4);
        assertThat(last.has("exactMatch")).isTrue();
        assertThat(last.get("tokensPerSecond").asDouble()).isPositive();
        assertThat(r.err()).contains("tok/s").contains("ETA").contains("loss");
    }

    @Test
    void resumeContinuesToTheStepLimit() throws Exception {
        Path copy = tmp.resolve("resumed");
        Files.createDirectories(copy);
        try (var files = Files.list(ckpt)) {
            for (Path f : files.toList()) Files.copy(f, copy.resolve(f.getFileName()));
        }
        Result r = run("train", "--out", copy.toString(), "--resume");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(JSON.readTree(r.lines().get(r.lines().size() - 1)).get("steps").asLong()).isEqualTo(6);
        assertThat(r.err()).contains("from step 4");
    }

    @Test
    void translatePrintsOneJsonLinePerInput() throws Exception {
        Path file = tmp.resolve("inputs.txt");
        Files.writeString(file, "3 March 2021\n\n2021.03.03\n");
        Result r = run("translate", "--checkpoint", ckpt.toString(), "--file", file.toString(), "--beam", "3", "March 3, 2021");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.lines()).hasSize(3);
        String[] sources = {"3 March 2021", "2021.03.03", "March 3, 2021"};
        for (int i = 0; i < 3; i++) {
            JsonNode n = JSON.readTree(r.lines().get(i));
            assertThat(n.get("source").asText()).isEqualTo(sources[i]);
            assertThat(n.get("output").isTextual()).isTrue();
            assertThat(n.size()).isEqualTo(2);
        }
        Result greedy = run("translate", "--checkpoint", ckpt.toString(), "--beam", "1", "1 Jan 1999");
        assertThat(greedy.code()).as(greedy.err()).isZero();
        assertThat(greedy.lines()).hasSize(1);
    }

    @Test
    void attentionWritesALabelledPng() throws Exception {
        Path png = tmp.resolve("maps/att.png");
        Result r = run("attention", "--checkpoint", ckpt.toString(), "--out", png.toString(), "March 3, 2021");
        assertThat(r.code()).as(r.err()).isZero();
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img).isNotNull();
        assertThat(img.getWidth()).isGreaterThan(13 * 22);
        JsonNode n = JSON.readTree(r.lines().get(0));
        assertThat(n.get("head").asText()).isEqualTo("mean");
        Result oneHead = run("attention", "--checkpoint", ckpt.toString(), "--out", tmp.resolve("h1.png").toString(), "--layer", "0",
                "--head", "1", "3 March 2021");
        assertThat(oneHead.code()).as(oneHead.err()).isZero();
        Result badLayer = run("attention", "--checkpoint", ckpt.toString(), "--out", tmp.resolve("x.png").toString(), "--layer", "3", "x");
        assertThat(badLayer.code()).isEqualTo(2);
        assertThat(badLayer.err()).contains("--layer 3 out of range").contains("1 decoder layer");
        Result badHead = run("attention", "--checkpoint", ckpt.toString(), "--out", tmp.resolve("x.png").toString(), "--head", "2", "x");
        assertThat(badHead.code()).isEqualTo(2);
        assertThat(badHead.err()).contains("--head 2 out of range");
    }

    @Test
    void malformedCheckpointDirectoriesGiveAClearError() throws Exception {
        Result missing = run("translate", "--checkpoint", tmp.resolve("nope").toString(), "x");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).contains("nope").contains("does not exist");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        Result noFiles = run("attention", "--checkpoint", empty.toString(), "--out", tmp.resolve("y.png").toString(), "x");
        assertThat(noFiles.code()).isEqualTo(2);
        assertThat(noFiles.err()).contains("has no config.json");
        Result noResume = run("train", "--out", tmp.resolve("absent").toString(), "--resume");
        assertThat(noResume.code()).isEqualTo(2);
        assertThat(noResume.err()).contains("does not exist");
        Result badArch = run("train", "--out", tmp.resolve("z").toString(), "--arch", "lstm");
        assertThat(badArch.code()).isEqualTo(2);
        assertThat(badArch.err()).contains("unknown architecture 'lstm'");
    }

    @Test
    void theBitmapFontCoversTheDatesAlphabet() {
        for (char c : CharVocab.DATES_ALPHABET.toCharArray()) assertThat(BitmapFont.has(c)).as("glyph for '%s'", c).isTrue();
        for (char c : "EOS_<>?".toCharArray()) assertThat(BitmapFont.has(c)).as("glyph for '%s'", c).isTrue();
    }
}
