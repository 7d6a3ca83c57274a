package dev.attn4j.cli;

import dev.attn4j.kernels.MemoryBandwidth;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.Params;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.gguf.GgufDecoders;
import dev.attn4j.generate.CausalLM;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Storage;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.Callable;

/**
 * {@code attn4j bench generate}: prefill and decode throughput of a decoder-only LM. A batch of
 * random prompts runs through one prefill forward, then {@code --new-tokens} one-token decode
 * steps against the key/value cache (greedy), after a short warm-up. Decode of one token per row
 * reads every weight once per step, so the weight bytes read per step times the steps per second
 * is the memory bandwidth the decode implies; the command measures the machine's bandwidth in
 * the same process just before and just after the timed run ({@link MemoryBandwidth}: medians of
 * a multi-threaded copy, and of a read-only pass, over arrays far larger than the caches) and
 * prints them and the ratios. Human lines go to stderr, the JSON object is the last stdout line.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Prefill and decode tokens/s of a decoder-only LM, with the memory bandwidth decode implies (weight bytes "
                + "read per step x steps/s) next to the machine's copy bandwidth measured in the same run; a JSON object as the "
                + "last line.",
                "--random-config builds a random-weight model of a real shape in memory: " + "llama-3.2-1b, tiny, or a config.json file."})
public final class BenchGenerateCommand implements Callable<Integer> {
    /** Shapes --random-config knows, as config.json objects. */
    static final Map<String, String> RANDOM_CONFIGS = new LinkedHashMap<>();

    static {
        // meta-llama/Llama-3.2-1B's config.json (architecture fields)
        RANDOM_CONFIGS.put("llama-3.2-1b", "{\"model_type\": \"llama\", \"vocab_size\": 128256, \"hidden_size\": 2048, "
                + "\"intermediate_size\": 8192, \"num_hidden_layers\": 16, \"num_attention_heads\": 32, \"num_key_value_heads\": 8, "
                + "\"head_dim\": 64, \"max_position_embeddings\": 131072, \"rms_norm_eps\": 1e-05, \"hidden_act\": \"silu\", "
                + "\"rope_theta\": 500000.0, \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0, \"low_freq_factor\": 1.0, "
                + "\"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"}, \"tie_word_embeddings\": true, "
                + "\"attention_bias\": false, \"mlp_bias\": false, \"bos_token_id\": 128000, \"eos_token_id\": 128001}");
        RANDOM_CONFIGS.put("tiny", "{\"model_type\": \"llama\", \"vocab_size\": 512, \"hidden_size\": 64, \"intermediate_size\": 172, "
                + "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"max_position_embeddings\": 2048, "
                + "\"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": true, \"bos_token_id\": 1, "
                + "\"eos_token_id\": 2}");
    }

    static final class Source {
        @Option(names = "--model", paramLabel = "M", description = "Model directory, Hugging Face id or llama2.c .bin file.")
        String model;
        @Option(names = "--random-config", paramLabel = "NAME", description = "Random weights of a known shape: llama-3.2-1b, tiny, "
                + "or a config.json path.")
        String randomConfig;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "128", description = "Prompt length (default: ${DEFAULT-VALUE}).")
    int promptTokens;
    @Option(names = "--new-tokens", paramLabel = "N", defaultValue = "128", description = "Decode steps (default: ${DEFAULT-VALUE}).")
    int newTokens;
    @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "Sequences decoded together (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--threads", paramLabel = "T", description = "Kernel threads (default: available processors).")
    Integer threads;
    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights and prompts (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--dtype", paramLabel = "T", defaultValue = "bf16", description = "Weight type of a --random-config model: "
            + "bf16, f16 or f32 (default: ${DEFAULT-VALUE}).")
    String dtype;
    @Option(names = "--copy-mib", defaultValue = "512", description = "Size of each array of the copy benchmark in MiB (default: ${DEFAULT-VALUE}).")
    int copyMib;
    @Option(names = "--llama-cpp", negatable = true, defaultValue = "true", fallbackValue = "true", description = "With a GGUF --model: "
            + "also time llama.cpp (the native library of the Maven artifact de.kherud:llama, run from attn4j-bench in a child JVM) on the "
            + "same file, threads and prompt, rounds interleaved with attn4j's, and print the ratios (default: on; --no-llama-cpp skips it).")
    boolean llamaCpp;
    @Option(names = "--rounds", paramLabel = "R", description = "Timed rounds, medians reported (default: 3 with llama.cpp, else 1).")
    Integer rounds;

    @Override
    public Integer call() throws IOException {
        if (promptTokens < 1 || newTokens < 1 || batch < 1) {
            throw new IllegalArgumentException("--prompt-tokens, --new-tokens and --batch must be >= 1, got " + promptTokens + ", "
                    + newTokens + ", " + batch);
        }
        if (copyMib < 1) throw new IllegalArgumentException("--copy-mib must be >= 1, got " + copyMib);
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + t);
        boolean peer = llamaCpp && source.model != null && GgufDecoders.isGguf(Path.of(source.model));
        if (peer && batch != 1) throw new IllegalArgumentException("--batch " + batch + ": the llama.cpp comparison runs batch 1 (or --no-llama-cpp)");
        int r = rounds != null ? rounds : peer ? 3 : 1;
        if (r < 1) throw new IllegalArgumentException("--rounds must be >= 1, got " + r);
        Parallel.setThreads(t);
        String name;
        long built = System.nanoTime();
        CausalDecoder model;
        if (source.randomConfig != null) {
            name = "random:" + source.randomConfig;
            model = randomModel(source.randomConfig, weightType(dtype), seed);
        } else {
            name = source.model;
            CausalModelOptions o = new CausalModelOptions();
            o.model = source.model;
            model = o.load();
        }
        System.err.printf(Locale.ROOT, "model %s: %,d parameters, built in %.1f s%n", name, model.parameterCount(), (System.nanoTime() - built) / 1e9);
        try (model; var grad = GradMode.noGrad()) {
            DecoderConfig c = model.config();
            if (promptTokens + newTokens > model.maxPositions()) {
                throw new IllegalArgumentException("--prompt-tokens + --new-tokens = " + (promptTokens + newTokens) + " exceeds the model's "
                        + model.maxPositions() + " positions");
            }
            SplittableRandom rng = new SplittableRandom(seed + 1);
            int[][] prompt = new int[batch][promptTokens];
            for (int[] row : prompt) for (int j = 0; j < row.length; j++) row[j] = rng.nextInt(c.vocabSize());
            // warm-up: a short prefill and a few decode steps compile the kernels' paths
            run(model, slice(prompt, Math.min(promptTokens, 8)), 3, null);
            // the machine's bandwidth just before and just after the timed run (a shared machine drifts)
            MemoryBandwidth.Result before = MemoryBandwidth.measure(copyMib, t, 5);
            double[][] ours = new double[r][2], theirs = peer ? new double[r][] : null;
            String llamaInfo = null;
            for (int i = 0; i < r; i++) {                                   // interleaved: attn4j, llama.cpp, attn4j, ...
                run(model, prompt, newTokens, ours[i]);
                if (peer) {
                    JsonNode l = llamaCppRound(Path.of(source.model), t, newTokens, prompt[0]);
                    theirs[i] = new double[] {l.path("prefill_seconds").asDouble(), l.path("decode_seconds").asDouble()};
                    llamaInfo = l.path("system_info").asText();
                    System.err.printf(Locale.ROOT, "round %d: attn4j prefill %.3f s, decode %.3f s; llama.cpp prefill %.3f s, decode %.3f s%n",
                            i + 1, ours[i][0], ours[i][1], theirs[i][0], theirs[i][1]);
                }
            }
            MemoryBandwidth.Result after = MemoryBandwidth.measure(copyMib, t, 5);
            double[] times = {median(ours, 0), median(ours, 1)};
            double prefillTps = (double) batch * promptTokens / times[0];
            double stepsPerSecond = newTokens / times[1];
            double decodeTps = batch * stepsPerSecond;
            WeightBytes wb = weightBytes(model);
            double impliedGbps = wb.bytes * stepsPerSecond / 1e9;
            System.err.printf(Locale.ROOT, "prefill %d x %d tokens: %.3f s (%.1f tokens/s); decode %d steps: %.3f s (%.2f tokens/s)%n",
                    batch, promptTokens, times[0], prefillTps, newTokens, times[1], decodeTps);
            double copyGbps = (before.copyMedian() + after.copyMedian()) / 2, readGbps = (before.readMedian() + after.readMedian()) / 2;
            System.err.printf(Locale.ROOT, "weights read per decode step: %.1f MB (%s) -> %.2f GB/s; copy benchmark: %.2f GB/s "
                    + "(medians before/after %.2f/%.2f), read benchmark: %.2f GB/s (%.2f/%.2f)%n", wb.bytes / 1e6, wb.dtypes, impliedGbps,
                    copyGbps, before.copyMedian(), after.copyMedian(), readGbps, before.readMedian(), after.readMedian());
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", name);
            json.put("model_type", c.modelType());
            json.put("parameters", model.parameterCount());
            json.put("weight_dtype", wb.dtypes);
            json.put("threads", t);
            json.put("batch", batch);
            json.put("prompt_tokens", promptTokens);
            json.put("new_tokens", newTokens);
            json.put("prefill_seconds", round(times[0], 4));
            json.put("prefill_tokens_per_second", round(prefillTps, 2));
            json.put("decode_seconds", round(times[1], 4));
            json.put("decode_tokens_per_second", round(decodeTps, 3));
            json.put("weight_bytes_per_step", wb.bytes);
            json.put("implied_bandwidth_gb_per_s", round(impliedGbps, 3));
            json.put("copy_bandwidth_gb_per_s", round(copyGbps, 3));
            json.put("bandwidth_ratio", round(impliedGbps / copyGbps, 3));
            json.put("read_bandwidth_gb_per_s", round(readGbps, 3));
            json.put("read_bandwidth_ratio", round(impliedGbps / readGbps, 3));
            json.put("rounds", r);
            if (peer) {
                double lp = batch * promptTokens / median(theirs, 0), ld = newTokens / median(theirs, 1);
                Map<String, Object> l = new LinkedHashMap<>();
                l.put("prefill_tokens_per_second", round(lp, 2));
                l.put("decode_tokens_per_second", round(ld, 3));
                l.put("implied_bandwidth_gb_per_s", round(wb.bytes * ld / 1e9, 3));
                l.put("system_info", llamaInfo);
                json.put("llama_cpp", l);
                json.put("prefill_ratio", round(prefillTps / lp, 3));
                json.put("decode_ratio", round(decodeTps / ld, 3));
                System.err.printf(Locale.ROOT, "llama.cpp (medians of %d rounds): prefill %.1f tokens/s, decode %.2f tokens/s; attn4j / llama.cpp: "
                        + "prefill %.2fx, decode %.2fx%n", r, lp, ld, prefillTps / lp, decodeTps / ld);
            }
            System.out.println(JsonMapper.builder().build().writeValueAsString(json));
        }
        return 0;
    }

    /** Median over rounds of column {@code col}. */
    static double median(double[][] rows, int col) {
        double[] v = new double[rows.length];
        for (int i = 0; i < v.length; i++) v[i] = rows[i][col];
        java.util.Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    /**
     * One llama.cpp round on {@code gguf} ({@code dev.attn4j.bench.LlamaCppGenerate} from
     * attn4j-bench's jar in a child JVM): its JSON line, with prefill and decode seconds.
     */
    static JsonNode llamaCppRound(Path gguf, int threads, int newTokens, int[] prompt) throws IOException {
        List<String> cmd = ChildJvm.javaCommand("attn4j.bench.jar");
        cmd.add("-cp");
        cmd.add(BenchEmbedCommand.benchJar("attn4j bench generate --model F.gguf").toString());
        cmd.add("dev.attn4j.bench.LlamaCppGenerate");
        cmd.add(gguf.toAbsolutePath().toString());
        cmd.add(Integer.toString(threads));
        cmd.add(Integer.toString(newTokens));
        cmd.add(java.util.Arrays.stream(prompt).mapToObj(Integer::toString).collect(java.util.stream.Collectors.joining(",")));
        Path log = Files.createTempFile("attn4j-llamacpp", ".log");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            int rc;
            try {
                rc = p.waitFor();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while llama.cpp ran", e);
            }
            if (rc != 0 || out.isEmpty()) {
                List<String> lines = Files.readAllLines(log);
                throw new IOException("llama.cpp failed on " + gguf + " (exit " + rc + "): "
                        + (lines.isEmpty() ? "no output" : lines.get(lines.size() - 1)));
            }
            String last = out.substring(out.lastIndexOf('\n') + 1);
            return JsonMapper.builder().build().readTree(last);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** The config of a --random-config value: a known name or a config.json file. */
    static DecoderConfig randomConfig(String nameOrFile) throws IOException {
        String text = RANDOM_CONFIGS.get(nameOrFile.toLowerCase(Locale.ROOT));
        Path file = Path.of(nameOrFile);
        if (text == null) {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("--random-config: '" + nameOrFile + "' is neither a known shape " + RANDOM_CONFIGS.keySet()
                        + " nor a config.json file");
            }
            text = Files.readString(file);
        }
        JsonNode node;
        try {
            node = JsonMapper.builder().build().readTree(text);
        } catch (IOException e) {
            throw new IOException(nameOrFile + ": not valid JSON: " + e.getMessage(), e);
        }
        return DecoderModels.config(node, file);
    }

    /** A model of that shape with random weights of standard deviation 0.02 ({@link DecoderModels#random}), in eval mode. */
    static CausalDecoder randomModel(String nameOrFile, DType type, long seed) throws IOException {
        return DecoderModels.random(randomConfig(nameOrFile), type, seed);
    }

    /** The DType a --dtype value names. */
    static DType weightType(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "bf16", "bfloat16" -> DType.BF16;
            case "f16", "float16", "fp16" -> DType.F16;
            case "f32", "float32", "fp32" -> DType.F32;
            default -> throw new IllegalArgumentException("--dtype: '" + name + "' is not one of bf16, f16, f32");
        };
    }

    private static int[][] slice(int[][] rows, int n) {
        int[][] out = new int[rows.length][];
        for (int i = 0; i < rows.length; i++) out[i] = java.util.Arrays.copyOf(rows[i], n);
        return out;
    }

    /** Prefill then {@code steps} greedy decode steps; times[0] = prefill seconds, times[1] = decode seconds. */
    private static void run(CausalLM model, int[][] prompt, int steps, double[] times) {
        int b = prompt.length;
        CausalLM.KvCache cache = model.newCache(b, prompt[0].length + steps);
        long t0 = System.nanoTime();
        float[][][] logits = model.forward(cache, prompt, null, false);                    // [B][1][V]
        long t1 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            int[][] next = new int[b][1];
            for (int i = 0; i < b; i++) next[i][0] = argmax(logits[i][0]);
            logits = model.forward(cache, next, null, false);
        }
        long t2 = System.nanoTime();
        if (times != null) {
            times[0] = (t1 - t0) / 1e9;
            times[1] = (t2 - t1) / 1e9;
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
        return best;
    }

    record WeightBytes(long bytes, String dtypes) {
    }

    /**
     * Bytes of weights one decode step reads: every parameter, except embedding tables that are
     * only looked up (token embeddings of an untied model, GPT-2's position table); a tied
     * embedding is read whole as the LM head.
     */
    static WeightBytes weightBytes(CausalDecoder model) {
        long bytes = 0;
        TreeSet<String> dtypes = new TreeSet<>();
        boolean tied = model.config().tieWordEmbeddings();
        for (Map.Entry<String, Tensor> e : model.namedParameters().entrySet()) {
            String k = e.getKey();
            boolean lookup = k.endsWith("wpe.weight") || (!tied && (k.endsWith("embed_tokens.weight") || k.endsWith("wte.weight")));
            NDArray d = e.getValue().data();
            if (d.storage() instanceof Storage.Quantized q) {
                dtypes.add(q.matrix().type().name());
                if (!lookup) bytes += q.matrix().rows() * q.matrix().rowBytes();
            } else {
                dtypes.add(d.dtype().name());
                if (!lookup) bytes += (long) d.numel() * d.dtype().byteSize();
            }
        }
        return new WeightBytes(bytes, String.join("+", dtypes));
    }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
