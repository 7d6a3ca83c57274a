package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;

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
        CliRun.Output o = CliRun.main(null, args);
        return new Run(o.code(), o.out(), o.err());
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
        return ints(n.get("token_ids"));
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) out[i] = array.get(i).asInt();
        return out;
    }

    /** Row i of the padded reference batch without its left padding. */
    static int[] prompt(SafetensorsCheckpoint ref, int i) throws Exception {
        int[] mask = row(ref, "padded.attention_mask", i);
        return Arrays.copyOfRange(row(ref, "padded.input_ids", i), mask.length - Arrays.stream(mask).sum(), mask.length);
    }

    static String csv(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Test
    void greedyBatchOfDifferentLengthsMatchesTransformers() throws Exception {
        try (SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(llama().resolve("reference.safetensors"))) {
            int[] p1 = prompt(ref, 1), p2 = prompt(ref, 2);
            int n = row(ref, "greedy.sequences", 1).length;
            // the script's call: generate(do_sample=False, max_new_tokens=N, min_new_tokens=N, pad_token_id=0)
            Run r = run("generate", "--model", llama().toString(), "--json", "--greedy", "--ids", csv(p1), "--ids", join(p2),
                    "--max-new-tokens", "" + n, "--min-new-tokens", "" + n);
            assertThat(r.code()).as(r.err()).isZero();
            List<JsonNode> rows = r.json();
            assertThat(rows).hasSize(2);
            assertThat(ints(rows.get(0).get("prompt"))).containsExactly(p1);
            assertThat(ids(rows.get(0))).containsExactly(row(ref, "greedy.sequences", 1));
            assertThat(ids(rows.get(1))).containsExactly(row(ref, "greedy.sequences", 2));
            for (int i = 0; i < 2; i++) {
                JsonNode j = rows.get(i);
                assertThat(j.get("output").isNull()).as("no tokenizer: no text").isTrue();
                assertThat(j.get("prompt_tokens").asInt()).isEqualTo(i == 0 ? p1.length : p2.length);
                assertThat(j.get("generated_tokens").asInt()).isEqualTo(n);
                assertThat(j.get("stop_reason").asText()).isEqualTo("length");
                assertThat(j.get("tokens_per_second").asDouble()).isPositive();
            }
            // the same prompts from --ids-file, and streamed (one prompt after another): the same ids
            Path idsFile = Files.createTempFile("ids", ".txt");
            try {
                Files.writeString(idsFile, csv(p1) + "\n" + join(p2) + "\n");
                Run s = run("generate", "--model", llama().toString(), "--ids-file", idsFile.toString(), "--max-new-tokens", "" + n,
                        "--min-new-tokens", "" + n);
                assertThat(s.code()).as(s.err()).isZero();
                assertThat(s.out()).isEqualTo(join(row(ref, "greedy.sequences", 1)) + "\n" + join(row(ref, "greedy.sequences", 2)) + "\n");
            } finally {
                Files.deleteIfExists(idsFile);
            }
        }
    }

    @Test
    void beamSearchMatchesTransformersAndTopK1SamplingIsGreedy() throws Exception {
        try (SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(llama().resolve("reference.safetensors"))) {
            int eos = (int) ref.getLongs("beam.eos")[0];
            for (int i = 0; i < 3; i++) {
                int[] want = Arrays.stream(row(ref, "beam.sequences", i)).filter(x -> x >= 0).toArray();   // EOS cut off
                int n = row(ref, "beam.sequences", i).length;
                Run r = run("generate", "--model", llama().toString(), "--json", "--ids", csv(prompt(ref, i)), "--num-beams", "3",
                        "--max-new-tokens", "" + n, "--length-penalty", "1", "--early-stopping", "false", "--eos-token-id", "" + eos);
                assertThat(r.code()).as(r.err()).isZero();
                JsonNode j = r.json().get(0);
                int[] got = ids(j);
                boolean onEos = want.length < n;
                assertThat(j.get("stop_reason").asText()).isEqualTo(onEos ? "eos" : "length");
                assertThat(Arrays.copyOf(got, want.length)).as("beam search, prompt " + i).containsExactly(want);
                assertThat(got.length).isEqualTo(onEos ? want.length + 1 : want.length);
                if (onEos) assertThat(got[got.length - 1]).isEqualTo(eos);
            }
            int n = row(ref, "greedy.sequences", 0).length;
            Run r = run("generate", "--model", llama().toString(), "--json", "--ids", csv(prompt(ref, 0)), "--top-k", "1", "--seed", "9",
                    "--max-new-tokens", "" + n, "--min-new-tokens", "" + n);
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(ids(r.json().get(0))).containsExactly(row(ref, "greedy.sequences", 0));
        }
    }

    @Test
    void samplingIsReproducibleWithASeed() throws Exception {
        String[] args = {"generate", "--model", llama().toString(), "--json", "--ids", "1,5,9", "--temperature", "1.5", "--top-k", "0",
                "--max-new-tokens", "24", "--seed", "42"};
        Run a = run(args), b = run(args);
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(ids(a.json().get(0))).hasSize(24).containsExactly(ids(b.json().get(0)));
        // other seeds give other draws (24 draws from a 64-token vocabulary at temperature 1.5)
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (String seed : new String[] {"1", "2", "3"}) {
            args[args.length - 1] = seed;
            seen.add(Arrays.toString(ids(run(args).json().get(0))));
        }
        assertThat(seen).hasSizeGreaterThan(1);
    }

    @Test
    void scoreGivesTransformersLogProbabilities() throws Exception {
        try (SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(llama().resolve("reference.safetensors"))) {
            int[] ids = row(ref, "padded.input_ids", 0);                          // row 0 has no padding
            NDArray logits = ref.getCopy("padded.logits");                        // [3, T, V]
            double[] expected = new double[ids.length - 1];
            for (int j = 1; j < ids.length; j++) {
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < logits.dim(2); v++) max = Math.max(max, logits.getDouble(0, j - 1, v));
                for (int v = 0; v < logits.dim(2); v++) sum += Math.exp(logits.getDouble(0, j - 1, v) - max);
                expected[j - 1] = logits.getDouble(0, j - 1, ids[j]) - max - Math.log(sum);
            }
            Run r = run("score", "--model", llama().toString(), "--ids", csv(ids), "--ids", "7");
            assertThat(r.code()).as(r.err()).isZero();
            JsonNode n = r.json().get(0);
            assertThat(ints(n.get("ids"))).containsExactly(ids);
            assertThat(n.has("text")).isFalse();
            assertThat(n.has("tokens")).as("no tokenizer: no tokens").isFalse();
            assertThat(n.get("logprobs").size()).isEqualTo(ids.length - 1);
            double mean = 0;
            for (int j = 0; j < expected.length; j++) {
                assertThat(n.get("logprobs").get(j).asDouble()).as("logprob of token " + (j + 1)).isCloseTo(expected[j], offset(1e-4));
                mean += expected[j] / expected.length;
            }
            assertThat(n.get("perplexity").asDouble()).isCloseTo(Math.exp(-mean), offset(1e-3));
            JsonNode one = r.json().get(1);
            assertThat(one.get("logprobs").size()).isZero();
            assertThat(one.get("perplexity").isNull()).isTrue();
        }
    }

    // ------------------------------------------------------------------ a byte-level model with its tokenizer

    /** GPT-2's byte-to-character map (printable bytes stand for themselves, the others for 256 + n). */
    static String byteChar(int b) {
        if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)) return String.valueOf((char) b);
        int n = 0;
        for (int x = 0; x < b; x++) if (!((x >= '!' && x <= '~') || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF))) n++;
        return String.valueOf((char) (256 + n));
    }

    /**
     * A random Llama-shaped model over a byte-level BPE vocabulary without merges (id = byte value,
     * 256 = the special {@code <|end|>}, its EOS), written to {@code dir} with its tokenizer.json.
     */
    static Path byteModel(Path dir, String generationConfig) throws Exception {
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            if (b > 0) vocab.append(", ");
            vocab.append(JsonMapper.builder().build().writeValueAsString(byteChar(b))).append(": ").append(b);
        }
        String tokenizer = "{\"version\": \"1.0\", \"truncation\": null, \"padding\": null, \"added_tokens\": [{\"id\": 256, "
                + "\"content\": \"<|end|>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, "
                + "\"special\": true}], \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                + "\"trim_offsets\": true, \"use_regex\": true}, \"post_processor\": null, \"decoder\": {\"type\": \"ByteLevel\", "
                + "\"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}, \"model\": {\"type\": \"BPE\", "
                + "\"dropout\": null, \"unk_token\": null, \"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, "
                + "\"fuse_unk\": false, \"byte_fallback\": false, \"vocab\": {" + vocab + "}, \"merges\": []}}";
        String config = "{\"model_type\": \"llama\", \"vocab_size\": 257, \"hidden_size\": 16, \"intermediate_size\": 16, "
                + "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 256, "
                + "\"eos_token_id\": 256, \"tie_word_embeddings\": false}";
        Files.writeString(dir.resolve("config.json"), config);
        Files.writeString(dir.resolve("tokenizer.json"), tokenizer);
        if (generationConfig != null) Files.writeString(dir.resolve("generation_config.json"), generationConfig);
        var cfg = dev.attn4j.models.decoder.DecoderConfig.fromJson(JsonMapper.builder().build().readTree(config));
        var model = dev.attn4j.models.DecoderModels.create(cfg, dev.attn4j.models.Params.random(new java.util.SplittableRandom(11), 1.0));
        dev.attn4j.io.safetensors.SafetensorsWriter.write(dir.resolve("model.safetensors"), model.stateDict());
        return dir;
    }

    @Test
    void streamedTextEqualsTheFinalDecode(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path dir = byteModel(tmp, null);
        var tok = dev.attn4j.tokenizers.Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        boolean sawMultiByte = false;
        for (String seed : new String[] {"1", "2", "3", "4"}) {
            String[] common = {"--model", dir.toString(), "--max-new-tokens", "40", "--temperature", "1", "--top-k", "0", "--seed", seed,
                    "h\u00e9llo"};
            Run streamed = run(concat(new String[] {"generate"}, common));
            assertThat(streamed.code()).as(streamed.err()).isZero();
            Run json = run(concat(new String[] {"generate", "--json"}, common));
            assertThat(json.code()).as(json.err()).isZero();
            JsonNode j = json.json().get(0);
            int[] ids = ids(j);
            assertThat(j.get("prompt").asText()).isEqualTo("h\u00e9llo");
            assertThat(j.get("prompt_tokens").asInt()).isEqualTo(6);             // h, two bytes of é, l, l, o
            assertThat(j.get("output").asText()).isEqualTo(tok.decode(ids, true));
            assertThat(streamed.out()).isEqualTo(j.get("output").asText() + "\n");
            for (int id : ids) sawMultiByte |= id >= 0x80 && id < 256;
        }
        assertThat(sawMultiByte).as("some generated byte is part of a multi-byte sequence").isTrue();
    }

    @Test
    void generationConfigGivesTheDefaultsAndOptionsOverrideThem(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // the model's generation_config.json: sample at temperature 1 with top_k 0, 7 new tokens at most
        Path dir = byteModel(tmp, "{\"do_sample\": true, \"temperature\": 1.0, \"top_k\": 0, \"max_new_tokens\": 7, \"eos_token_id\": 256}");
        Run a = run("generate", "--model", dir.toString(), "--json", "--seed", "5", "abc");
        Run b = run("generate", "--model", dir.toString(), "--json", "--seed", "5", "--greedy", "abc");
        assertThat(a.code()).as(a.err()).isZero();
        assertThat(b.code()).isEqualTo(2);                                        // --seed is a sampling option: not with --greedy
        assertThat(b.err()).contains("--greedy excludes");
        b = run("generate", "--model", dir.toString(), "--json", "--greedy", "abc");
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(a.json().get(0).get("generated_tokens").asInt()).isLessThanOrEqualTo(7);
        int[] greedy = ids(b.json().get(0));
        assertThat(greedy.length).isLessThanOrEqualTo(7);
        // greedy through the library on the same model gives the same ids
        try (var m = dev.attn4j.models.DecoderModels.load(dir)) {
            int[] prompt = dev.attn4j.tokenizers.Tokenizer.fromFile(dir.resolve("tokenizer.json")).encode("abc").ids();
            var config = dev.attn4j.generate.GenerationConfig.builder().maxNewTokens(7).eosTokenId(256).build();
            assertThat(greedy).containsExactly(new dev.attn4j.generate.Generator(m).generate(prompt, config).get(0).tokens());
        }
        // --stop ends at the first token completing the text; the stop reason says so
        String text = b.json().get(0).get("output").asText();
        assertThat(text.length()).as("greedy text '" + text + "'").isGreaterThanOrEqualTo(2);
        if (text.substring(0, 2).chars().allMatch(c -> c > ' ' && c < 127)) {                 // ASCII: one token per character
            Run s = run("generate", "--model", dir.toString(), "--json", "--greedy", "--stop", text.substring(0, 2), "abc");
            assertThat(s.code()).as(s.err()).isZero();
            assertThat(s.json().get(0).get("stop_reason").asText()).isEqualTo("stop_string");
            assertThat(s.json().get(0).get("output").asText()).endsWith(text.substring(0, 2));
        }
        Run sc = run("score", "--model", dir.toString(), "ab\u00e9");
        assertThat(sc.code()).as(sc.err()).isZero();
        JsonNode n = sc.json().get(0);
        assertThat(n.get("text").asText()).isEqualTo("ab\u00e9");
        assertThat(n.get("tokens")).hasSize(4);
        assertThat(n.get("tokens").get(0).asText()).isEqualTo("a");
        assertThat(n.get("logprobs")).hasSize(3);
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The error output without the JVM's warnings: exactly one line. */
    static String oneLine(Run r) {
        List<String> lines = Arrays.stream(r.err().split("\n")).filter(l -> !l.isBlank() && !l.startsWith("WARNING")).toList();
        assertThat(lines).as("error output: " + r.err()).hasSize(1);
        return lines.get(0);
    }

    @Test
    void errorsExit2WithOneLine(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Run r = run("generate", "--model", llama().toString(), "Once upon a time");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("has no tokenizer").contains("--ids");
        r = run("score", "--model", llama().toString(), "--ids", "1,2,999");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("id 999 is outside the vocabulary [0, 64)");
        r = run("generate", "--model", root().resolve("no-such-dir").toString(), "--ids", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("no-such-dir");
        // a prompt longer than the context (64 positions)
        int[] long65 = new int[65];
        Arrays.fill(long65, 3);
        r = run("generate", "--model", llama().toString(), "--ids", csv(long65));
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("input 1 has 65 tokens, more than the model's context of 64 positions");
        r = run("score", "--model", llama().toString(), "--ids", csv(long65));
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("65 tokens");
        // bad option combinations
        r = run("generate", "--model", llama().toString(), "--ids", "1", "--greedy", "--num-beams", "2");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("--greedy and --num-beams 2 exclude each other");
        r = run("generate", "--model", llama().toString(), "--ids", "1", "--greedy", "--temperature", "0.7");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("--greedy excludes");
        r = run("generate", "--model", llama().toString(), "--ids", "1", "--stop", "x");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("--stop needs the model's tokenizer");
        r = run("generate", "--model", llama().toString(), "--ids", "1", "--early-stopping", "sometimes");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("--early-stopping takes true, false or never");
        // an unsupported model type, named, with the supported ones listed
        Path bert = Files.createDirectories(tmp.resolve("bert"));
        Files.writeString(bert.resolve("config.json"), "{\"model_type\": \"bert\", \"vocab_size\": 10}");
        r = run("generate", "--model", bert.toString(), "--ids", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("unsupported model_type 'bert'").contains("llama").contains("gpt2").contains("qwen3");
        // a missing and a corrupt weight file
        Path missing = Files.createDirectories(tmp.resolve("missing"));
        Files.copy(llama().resolve("config.json"), missing.resolve("config.json"));
        r = run("generate", "--model", missing.toString(), "--ids", "1");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains(missing.toString());
        Path corrupt = Files.createDirectories(tmp.resolve("corrupt"));
        Files.copy(llama().resolve("config.json"), corrupt.resolve("config.json"));
        byte[] weights = Files.readAllBytes(llama().resolve("model.safetensors"));
        Files.write(corrupt.resolve("model.safetensors"), Arrays.copyOf(weights, weights.length / 2));
        r = run("score", "--model", corrupt.toString(), "--ids", "1,2");
        assertThat(r.code()).isEqualTo(2);
        assertThat(oneLine(r)).contains("model.safetensors");
    }

    @Test
    void benchGenerateOnARandomModel() throws Exception {
        Run r = run("bench", "generate", "--random-config", "tiny", "--dtype", "f32", "--prompt-tokens", "8", "--new-tokens", "4",
                "--batch", "2", "--copy-mib", "8", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\n");
        JsonNode j = JsonMapper.builder().build().readTree(lines[lines.length - 1]);
        assertThat(j.get("model_type").asText()).isEqualTo("llama");
        assertThat(j.get("weight_dtype").asText()).isEqualTo("F32");
        assertThat(j.get("batch").asInt()).isEqualTo(2);
        assertThat(j.get("prefill_tokens_per_second").asDouble()).isPositive();
        assertThat(j.get("decode_tokens_per_second").asDouble()).isPositive();
        assertThat(j.get("copy_bandwidth_gb_per_s").asDouble()).isPositive();
        // tiny: tied embeddings, so every parameter is read per step: 4 bytes each
        var m = BenchGenerateCommand.randomModel("tiny", dev.attn4j.tensor.DType.F32, 1);
        assertThat(m.config().hiddenSize()).isEqualTo(64);
        assertThat(j.get("parameters").asLong()).isEqualTo(m.parameterCount());
        assertThat(j.get("weight_bytes_per_step").asLong()).isEqualTo(4 * m.parameterCount());
        double implied = j.get("weight_bytes_per_step").asLong() * (j.get("decode_tokens_per_second").asDouble() / 2) / 1e9;
        assertThat(j.get("implied_bandwidth_gb_per_s").asDouble()).isCloseTo(implied, offset(0.01 + implied * 0.01));
        // the Llama-3.2-1B shape (config only: building its 1.2B random weights is the bench's job)
        var big = BenchGenerateCommand.randomConfig("llama-3.2-1b");
        assertThat(big.vocabSize()).isEqualTo(128256);
        assertThat(big.numKeyValueHeads()).isEqualTo(8);
        assertThat(big.rope().type()).isEqualTo("llama3");
        assertThat(big.tieWordEmbeddings()).isTrue();
        // the default --dtype bf16: 16-bit linears and embeddings (norms stay F32), so between 2 and 4 bytes a parameter
        Run r16 = run("bench", "generate", "--random-config", "tiny", "--prompt-tokens", "4", "--new-tokens", "2", "--copy-mib", "8",
                "--threads", "1");
        assertThat(r16.code()).as(r16.err()).isZero();
        String[] lines16 = r16.out().strip().split("\n");
        JsonNode j16 = JsonMapper.builder().build().readTree(lines16[lines16.length - 1]);
        assertThat(j16.get("weight_dtype").asText()).contains("BF16");
        assertThat(j16.get("weight_bytes_per_step").asLong()).isGreaterThanOrEqualTo(2 * m.parameterCount()).isLessThan(3 * m.parameterCount());
        Run bad = run("bench", "generate", "--random-config", "llama-9b");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(oneLine(bad)).contains("'llama-9b' is neither a known shape");
    }

    @Test
    void quantizeARandomModelAndBenchTheGguf(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path gguf = tmp.resolve("tiny-q8_0.gguf");
        Run q = run("quantize", "--random-config", "tiny", "--type", "q8_0", "--out", gguf.toString());
        assertThat(q.code()).as(q.err()).isZero();
        try (var f = dev.attn4j.io.gguf.GgufFile.open(gguf)) {
            assertThat(f.tensors().get("blk.0.attn_q.weight").type().name()).isEqualTo("Q8_0");
            // a placeholder vocabulary of the model's size, so that llama.cpp loads the file
            assertThat(f.get("tokenizer.ggml.tokens").asList()).hasSize(512);
            assertThat(f.get("tokenizer.ggml.tokens").asList().get(3).asString()).isEqualTo("<0x00>");
        }
        Run r = run("bench", "generate", "--model", gguf.toString(), "--no-llama-cpp", "--rounds", "2", "--prompt-tokens", "8",
                "--new-tokens", "4", "--copy-mib", "8", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\n");
        JsonNode j = JsonMapper.builder().build().readTree(lines[lines.length - 1]);
        assertThat(j.get("weight_dtype").asText()).contains("Q8_0");
        assertThat(j.get("rounds").asInt()).isEqualTo(2);
        assertThat(j.has("llama_cpp")).isFalse();
        // Q8_0: 34 bytes per 32 weights of every linear layer, read once per step
        assertThat(j.get("weight_bytes_per_step").asLong()).isLessThan(4L * j.get("parameters").asLong() / 3);
        Run batch = run("bench", "generate", "--model", gguf.toString(), "--batch", "2", "--prompt-tokens", "4", "--new-tokens", "2");
        assertThat(batch.code()).isEqualTo(2);
        assertThat(oneLine(batch)).contains("llama.cpp comparison runs batch 1");
        Run noTok = run("quantize", "--random-config", "tiny", "--tokenizer", tmp.resolve("nowhere").toString(), "--type", "q8_0", "--out",
                tmp.resolve("x.gguf").toString());
        assertThat(noTok.code()).isEqualTo(2);
        assertThat(oneLine(noTok)).contains("nowhere").contains("not a directory");
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
        Run r = run("generate", "--model", tmp.toString(), "--json", "--max-new-tokens", "4", "Hello world", "Bonjour");
        assertThat(r.code()).as(r.err()).isZero();
        for (JsonNode n : r.json()) {
            int[] ids = ids(n);
            assertThat(ids.length).isBetween(1, 4);
            assertThat(n.get("output").asText()).isEqualTo(tok.decode(ids, true));
        }
        int[] prompt = tok.encode("Hello world").ids();
        assertThat(prompt[0]).isEqualTo(1);                                       // <s> from the tokenizer's post-processor
        assertThat(r.json().get(0).get("prompt_tokens").asInt()).isEqualTo(prompt.length);
        var genConfig = dev.attn4j.generate.GenerationConfig.builder().maxNewTokens(4).eosTokenId(2).padTokenId(2).build();
        int[] direct = new dev.attn4j.generate.Generator(model).generate(prompt, genConfig).get(0).tokens();
        assertThat(ids(r.json().get(0))).containsExactly(direct);
        Run s = run("score", "--model", tmp.toString(), "Hello world");
        assertThat(s.code()).as(s.err()).isZero();
        assertThat(s.json().get(0).get("tokens")).hasSize(prompt.length);
        assertThat(s.json().get(0).get("tokens").get(0).asText()).isEqualTo("<s>");
    }

    @Test
    void stories260KFromBos() throws Exception {
        Path bin = root().resolve("../shared/models/stories260K/stories260K.bin").normalize();
        assumeTrue(Files.isRegularFile(bin), "shared model not present: " + bin);
        Path ref = root().resolve("attn4j-models/src/test/resources/decoder/stories260K-reference.safetensors");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(ref)) {
            int[] greedy = Arrays.stream(c.getLongs("greedy")).mapToInt(l -> (int) l).toArray();
            Run r = run("generate", "--model", bin.toString(), "--json", "--ids", "1", "--greedy", "--max-new-tokens", "20");
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(ids(r.json().get(0))).containsExactly(Arrays.copyOf(greedy, 20));
        }
    }
}
