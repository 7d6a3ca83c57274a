package dev.attn4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * translate / summarize / attention with {@code --model} on tiny encoder-decoders that carry real
 * tokenizer files (written with transformers by scripts/make-seq2seq-references.py): the texts,
 * ids and outputs transformers' tokenizer + generate() gave (cli.json), and the one-line errors.
 */
class PretrainedSeq2SeqCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Path dir(String name) throws Exception {
        return Path.of(PretrainedSeq2SeqCommandsTest.class.getResource("/seq2seq/" + name + "/config.json").toURI()).getParent();
    }

    static JsonNode cases(String name) throws Exception {
        return JSON.readTree(dir(name).resolve("cli.json").toFile());
    }

    static List<String> lines(CliRun.Output o) {
        return o.out().lines().filter(l -> !l.isBlank()).toList();
    }

    static List<Integer> ints(JsonNode a) {
        List<Integer> out = new ArrayList<>();
        a.forEach(x -> out.add(x.asInt()));
        return out;
    }

    @Test
    void translateMatchesTransformersOnTextsAsOneBatch() throws Exception {
        JsonNode cases = cases("marian-tokenizer");
        List<String> args = new ArrayList<>(List.of("translate", "--model", dir("marian-tokenizer").toString(), "--json"));
        cases.forEach(c -> args.add(c.get("text").asText()));
        CliRun.Output o = CliRun.main(null, args.toArray(String[]::new));
        assertThat(o.code()).as(o.err()).isZero();
        List<String> out = lines(o);
        assertThat(out).hasSize(cases.size());
        for (int i = 0; i < cases.size(); i++) {
            JsonNode got = JSON.readTree(out.get(i)), want = cases.get(i);
            assertThat(got.get("source").asText()).isEqualTo(want.get("text").asText());
            assertThat(ints(got.get("token_ids"))).as("text %d", i).isEqualTo(ints(want.get("token_ids")));
            assertThat(got.get("output").asText()).isEqualTo(want.get("output").asText());
        }
        // without --json: one output a line; --beam is --num-beams; batches of one give the same
        args.remove("--json");
        args.addAll(List.of("--batch-size", "1"));
        CliRun.Output plain = CliRun.main(null, args.toArray(String[]::new));
        assertThat(plain.code()).as(plain.err()).isZero();
        for (int i = 0; i < cases.size(); i++) assertThat(lines(plain).get(i)).isEqualTo(cases.get(i).get("output").asText());
        CliRun.Output beam = CliRun.main(null, "translate", "--model", dir("marian-tokenizer").toString(), "--beam", "1",
                cases.get(0).get("text").asText());
        CliRun.Output numBeams = CliRun.main(null, "translate", "--model", dir("marian-tokenizer").toString(), "--num-beams", "1",
                cases.get(0).get("text").asText());
        assertThat(beam.code()).as(beam.err()).isZero();
        assertThat(beam.out()).isEqualTo(numBeams.out());
    }

    @Test
    void translateTakesIdsAndAFile() throws Exception {
        JsonNode c = cases("marian-tokenizer").get(1);
        String ids = String.join(",", ints(c.get("input_ids")).stream().map(String::valueOf).toList());
        Path file = tmp.resolve("in.txt");
        Files.writeString(file, c.get("text").asText() + "\n\n");
        CliRun.Output o = CliRun.main(null, "translate", "--model", dir("marian-tokenizer").toString(), "--json", "--file", file.toString(),
                "--ids", ids);
        assertThat(o.code()).as(o.err()).isZero();
        assertThat(lines(o)).hasSize(2);
        JsonNode fromText = JSON.readTree(lines(o).get(0)), fromIds = JSON.readTree(lines(o).get(1));
        assertThat(fromIds.get("source").isArray()).isTrue();
        assertThat(ints(fromIds.get("token_ids"))).isEqualTo(ints(c.get("token_ids"))).isEqualTo(ints(fromText.get("token_ids")));
        // ids need no tokenizer: a copy without any tokenizer file prints output null
        Path bare = copy("marian-tokenizer", "source.spm", "target.spm", "vocab.json", "tokenizer_config.json");
        CliRun.Output noTok = CliRun.main(null, "translate", "--model", bare.toString(), "--json", "--ids", ids);
        assertThat(noTok.code()).as(noTok.err()).isZero();
        JsonNode n = JSON.readTree(lines(noTok).get(0));
        assertThat(n.get("output").isNull()).isTrue();
        assertThat(ints(n.get("token_ids"))).isEqualTo(ints(c.get("token_ids")));
    }

    @Test
    void summarizeAppliesT5TaskParams() throws Exception {
        JsonNode cases = cases("t5-tokenizer");
        List<String> args = new ArrayList<>(List.of("summarize", "--model", dir("t5-tokenizer").toString(), "--json"));
        cases.forEach(c -> args.add(c.get("text").asText()));
        CliRun.Output o = CliRun.main(null, args.toArray(String[]::new));
        assertThat(o.code()).as(o.err()).isZero();
        for (int i = 0; i < cases.size(); i++) {
            JsonNode got = JSON.readTree(lines(o).get(i)), want = cases.get(i);
            assertThat(ints(got.get("token_ids"))).as("text %d", i).isEqualTo(ints(want.get("token_ids")));
            assertThat(got.get("output").asText()).isEqualTo(want.get("output").asText());
        }
    }

    @Test
    void attentionRendersTheCrossAttentionOfAModel() throws Exception {
        Path png = tmp.resolve("att.png");
        CliRun.Output o = CliRun.main(null, "attention", "--model", dir("marian-tokenizer").toString(), "--out", png.toString(),
                "--head", "1", "une petite maison");
        assertThat(o.code()).as(o.err()).isZero();
        JsonNode line = JSON.readTree(lines(o).get(0));
        assertThat(line.get("head").asInt()).isEqualTo(1);
        assertThat(line.get("layer").asInt()).isEqualTo(1);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isGreaterThan(100);
        assertThat(img.getHeight()).isGreaterThan(100);
        CliRun.Output bad = CliRun.main(null, "attention", "--model", dir("marian-tokenizer").toString(), "--out", png.toString(),
                "--layer", "5", "une");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--layer 5 out of range");
    }

    /** A copy of a test model directory without the named files. */
    Path copy(String name, String... without) throws Exception {
        Path to = Files.createDirectories(tmp.resolve(name + "-" + without.length + "-" + System.nanoTime()));
        try (var files = Files.list(dir(name))) {
            for (Path f : files.toList()) {
                if (!List.of(without).contains(f.getFileName().toString())) Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return to;
    }

    static void assertOneLineError(CliRun.Output o, String... fragments) {
        assertThat(o.code()).as(o.out() + o.err()).isEqualTo(2);
        assertThat(o.err().strip().lines().count()).as(o.err()).isEqualTo(1);
        assertThat(o.err()).startsWith("attn4j: ");
        for (String f : fragments) assertThat(o.err()).contains(f);
    }

    @Test
    void clearErrors() throws Exception {
        // a missing tokenizer file when text is given
        Path noVocab = copy("marian-tokenizer", "vocab.json");
        assertOneLineError(CliRun.main(null, "translate", "--model", noVocab.toString(), "bonjour"), "vocab.json", "missing");
        Path none = copy("marian-tokenizer", "source.spm", "target.spm", "vocab.json", "tokenizer_config.json");
        assertOneLineError(CliRun.main(null, "translate", "--model", none.toString(), "bonjour"), "no tokenizer file", "--ids");
        // an unknown model_type
        Path pegasus = copy("marian-tokenizer");
        ObjectNode cfg = (ObjectNode) JSON.readTree(pegasus.resolve("config.json").toFile());
        cfg.put("model_type", "pegasus");
        Files.writeString(pegasus.resolve("config.json"), cfg.toString());
        assertOneLineError(CliRun.main(null, "summarize", "--model", pegasus.toString(), "bonjour"), "unsupported model_type 'pegasus'",
                "marian, t5");
        // weights that do not match the config
        Path wide = copy("marian-tokenizer");
        cfg = (ObjectNode) JSON.readTree(wide.resolve("config.json").toFile());
        cfg.put("decoder_ffn_dim", 32);
        Files.writeString(wide.resolve("config.json"), cfg.toString());
        assertOneLineError(CliRun.main(null, "translate", "--model", wide.toString(), "bonjour"), "weights do not fit the marian config",
                "model.decoder.layers.0.fc1.weight");
        // no model and no checkpoint, or both
        assertOneLineError(CliRun.main(null, "translate", "bonjour"), "exactly one of --model");
        assertOneLineError(CliRun.main(null, "translate", "--model", dir("marian-tokenizer").toString(), "--ids", "1,999"),
                "outside the vocabulary");
    }
}
