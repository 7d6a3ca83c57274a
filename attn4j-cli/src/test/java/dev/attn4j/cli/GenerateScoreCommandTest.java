package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code attn4j generate} and {@code attn4j score} on the tiny Llama checkpoint of the decoder
 * tests (attn4j-models/src/test/resources/decoder/llama), against the transformers outputs stored
 * beside it, and on stories260K (llama2.c .bin, ../shared) when present.
 */
class GenerateScoreCommandTest {
    record Run(int code, String out, String err) {
        List<JsonNode> json() throws Exception {
            List<JsonNode> rows = new ArrayList<>();
            for (String line : out.split("\n")) if (!line.isEmpty()) rows.add(JsonMapper.builder().build().readTree(line));
            return rows;
        }
    }

    static Run run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static Path root() {
        Path here = Path.of("").toAbsolutePath();
        return here.getFileName().toString().startsWith("attn4j-") ? here.getParent() : here;
    }

    static Path llama() {
        return root().resolve("attn4j-models/src/test/resources/decoder/llama");
    }

    static int[] row(SafetensorsCheckpoint ref, String key, int row) throws Exception {
        int[] shape = ref.info(key).shape();
        long[] v = ref.getLongs(key);
        return Arrays.stream(Arrays.copyOfRange(v, row * shape[1], (row + 1) * shape[1])).mapToInt(l -> (int) l).toArray();
    }

    static String join(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(" "));
    }

    static int[] ids(JsonNode n) {
        int[] out = new int[n.get("ids").size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get("ids").get(i).asInt();
        return out;
    }

    @Test
    void greedyBatchOfDifferentLengthsMatchesTransformers() throws Exception {
        try (SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(llama().resolve("reference.safetensors"))) {
            int[] mask1 = row(ref, "padded.attention_mask", 1), mask2 = row(ref, "padded.attention_mask", 2);
            int[] p1 = Arrays.copyOfRange(row(ref, "padded.input_ids", 1), mask1.length - Arrays.stream(mask1).sum(), mask1.length);
            int[] p2 = Arrays.copyOfRange(row(ref, "padded.input_ids", 2), mask2.length - Arrays.stream(mask2).sum(), mask2.length);
            Run r = run("generate", "--model", llama().toString(), "--ids", "--max-new-tokens", "6", join(p1), join(p2));
            assertThat(r.code()).as(r.err()).isZero();
            List<JsonNode> rows = r.json();
            assertThat(rows).hasSize(2);
            assertThat(rows.get(0).get("prompt").asText()).isEqualTo(join(p1));
            assertThat(ids(rows.get(0))).containsExactly(row(ref, "greedy.sequences", 1));
            assertThat(ids(rows.get(1))).containsExactly(row(ref, "greedy.sequences", 2));
        }
    }

    @Test
    void scoreIsTheSummedLogProbabilityOfTransformersLogits() throws Exception {
        try (SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(llama().resolve("reference.safetensors"))) {
            int[] ids = row(ref, "padded.input_ids", 0);                          // row 0 has no padding
            NDArray logits = ref.getCopy("padded.logits");                        // [3, T, V]
            double expected = 0;
            for (int j = 1; j < ids.length; j++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < logits.dim(2); v++) max = Math.max(max, logits.getDouble(0, j - 1, v));
                for (int v = 0; v < logits.dim(2); v++) sum += Math.exp(logits.getDouble(0, j - 1, v) - max);
                expected += logits.getDouble(0, j - 1, ids[j]) - max - Math.log(sum);
            }
            Run r = run("score", "--model", llama().toString(), "--ids", join(ids));
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode n = r.json().get(0);
            assertThat(n.get("tokens").asInt()).isEqualTo(ids.length);
            assertThat(n.get("scored").asInt()).isEqualTo(ids.length - 1);
            assertThat(n.get("logprob").asDouble()).isCloseTo(expected, offset(1e-3));
            assertThat(n.get("perplexity").asDouble()).isCloseTo(Math.exp(-expected / (ids.length - 1)), offset(1e-3));
        }
    }

    @Test
    void textWithoutTokenizerAndBadIdsAreClearErrors() {
        Run r = run("generate", "--model", llama().toString(), "Once upon a time");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("has no tokenizer.json").contains("--ids");
        r = run("score", "--model", llama().toString(), "--ids", "1 2 999");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("id 999 is outside the vocabulary [0, 64)");
        r = run("generate", "--model", root().resolve("no-such-dir").toString(), "--ids", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("no-such-dir");
    }

    @Test
    void textsGoThroughTheModelsTokenizer(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path tokenizer = root().resolve("../shared/tokenizers/mistral/tokenizer.json").normalize();
        assumeTrue(Files.isRegularFile(tokenizer), "shared tokenizer not present: " + tokenizer);
        // a random Mistral-shaped model over the real 32,000-token vocabulary, saved by its state dict
        String config = "{\"model_type\": \"mistral\", \"vocab_size\": 32000, \"hidden_size\": 16, \"intermediate_size\": 16, "
                + "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 64, "
                + "\"sliding_window\": 4, \"bos_token_id\": 1, \"eos_token_id\": 2, \"tie_word_embeddings\": false}";
        Files.writeString(tmp.resolve("config.json"), config);
        Files.copy(tokenizer, tmp.resolve("tokenizer.json"));
        var cfg = dev.attn4j.models.decoder.DecoderConfig.fromJson(JsonMapper.builder().build().readTree(config));
        var model = dev.attn4j.models.DecoderModels.create(cfg, dev.attn4j.models.Params.random(new java.util.SplittableRandom(5), 0.5));
        dev.attn4j.io.safetensors.SafetensorsWriter.write(tmp.resolve("model.safetensors"), model.stateDict());
        var tok = dev.attn4j.tokenizers.Tokenizer.fromFile(tokenizer);
        Run r = run("generate", "--model", tmp.toString(), "--max-new-tokens", "4", "Hello world", "Bonjour");
        assertThat(r.code()).as(r.err()).isZero();
        for (JsonNode n : r.json()) {
            int[] ids = ids(n);
            assertThat(ids.length).isBetween(1, 4);
            assertThat(n.get("text").asText()).isEqualTo(tok.decode(ids, true));
        }
        int[] prompt = tok.encode("Hello world").ids();
        assertThat(prompt[0]).isEqualTo(1);                                       // <s> from the tokenizer's post-processor
        var genConfig = dev.attn4j.generate.GenerationConfig.builder().maxNewTokens(4).eosTokenId(2).padTokenId(2).build();
        int[] direct = new dev.attn4j.generate.Generator(model).generate(prompt, genConfig).get(0).tokens();
        assertThat(ids(r.json().get(0))).containsExactly(direct);
        Run s = run("score", "--model", tmp.toString(), "Hello world");
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(s.json().get(0).get("tokens").asInt()).isEqualTo(prompt.length);
    }

    @Test
    void stories260KFromBos() throws Exception {
        Path bin = root().resolve("../shared/models/stories260K/stories260K.bin").normalize();
        assumeTrue(Files.isRegularFile(bin), "shared model not present: " + bin);
        Path ref = root().resolve("attn4j-models/src/test/resources/decoder/stories260K-reference.safetensors");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(ref)) {
            int[] greedy = Arrays.stream(c.getLongs("greedy")).mapToInt(l -> (int) l).toArray();
            Run r = run("generate", "--model", bin.toString(), "--ids", "--greedy", "--max-new-tokens", "20", "1");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(ids(r.json().get(0))).containsExactly(Arrays.copyOf(greedy, 20));
        }
    }
}
