package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.train.ClassifierTrainer;
import dev.attn4j.train.ParameterGroups;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code attn4j bench finetune}: fine-tuning throughput of attn4j next to PyTorch, measured in the
 * same run on the same model, batch, data and thread count.
 *
 * <p>attn4j's side is {@link ClassifierTrainer}'s training step as {@code finetune} runs it: a
 * trainable {@code *ForSequenceClassification} with a fresh head, dropout on, forward,
 * cross-entropy, backward, {@link ParameterGroups#step} (clip_grad_norm_ then AdamW with the
 * decay / no-decay groups) and zero_grad; inference is the eval-mode no-grad forward of the same
 * batch. The data are fixed random ids of exactly batch x seq tokens (no padding) and random labels.
 *
 * <p>PyTorch's side is {@code bench_finetune.py} (a resource of this module) run by Debian's
 * {@code /usr/bin/python3} with torch as a child process that stays alive and is driven over
 * stdin / stdout, so its start-up is not timed: transformers' {@code BertForSequenceClassification}
 * from the same directory when transformers imports (the {@code --python-path} folder, default
 * {@code /opt/pyref} where it exists), else a plain-torch transcription of the same forward.
 *
 * <p>Method: warm-up steps on both sides, then interleaved timed rounds (attn4j training, torch
 * training, attn4j inference, torch inference, ...), each of {@code --steps} steps after both sides
 * idle for {@code --pause-ms}; per side the median and best examples/s and the ratio of medians,
 * a table on stderr and one JSON line on stdout. Each side times itself, so the pipe is not counted.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Fine-tuning throughput: training examples/s (forward + backward + AdamW step, dropout on) and"
                + " inference examples/s (eval-mode forward) of attn4j's ClassifierTrainer step next to PyTorch"
                + " (python3 + torch child process) on the same model, batch, data and threads, in interleaved rounds."
                + " Table on stderr; the last stdout line is one JSON object."})
public final class BenchFinetuneCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String SCRIPT = "bench_finetune.py";
    static final double LR = 1e-4, WEIGHT_DECAY = 0.01, MAX_GRAD_NORM = 1.0;

    @Option(names = "--model", paramLabel = "DIR",
            description = "BERT-family model directory (default: ../shared/models/all-MiniLM-L6-v2 if present, else the built-in model)")
    Path model;

    @Option(names = "--batch-size", paramLabel = "B", description = "examples per step (default 32)")
    int batch = 32;

    @Option(names = "--seq", paramLabel = "T", description = "tokens per example, no padding (default 64)")
    int seq = 64;

    @Option(names = "--threads", paramLabel = "N", description = "threads for both sides (default 2)")
    int threads = 2;

    @Option(names = "--warmup", paramLabel = "N", description = "untimed training and inference steps per side first (default 2)")
    int warmup = 2;

    @Option(names = "--rounds", paramLabel = "R", description = "timed rounds per side and kind (default 5)")
    int rounds = 5;

    @Option(names = "--steps", paramLabel = "N", description = "steps per timed round (default 3)")
    int steps = 3;

    @Option(names = "--pause-ms", paramLabel = "P",
            description = "idle time before each timed round, not counted, so the other side's spinning threads are idle (default 100)")
    int pauseMs = 100;

    @Option(names = "--seed", paramLabel = "X", description = "seed of the ids, labels, head and dropout (default 42)")
    long seed = 42;

    @Option(names = "--num-labels", paramLabel = "L", description = "classes of the fresh head (default 2)")
    int numLabels = 2;

    @Option(names = "--peer", paramLabel = "P", description = "python (default) or none")
    String peer = "python";

    @Option(names = "--python", paramLabel = "EXE", description = "python with torch for the peer (default /usr/bin/python3)")
    String python = "/usr/bin/python3";

    @Option(names = "--python-path", paramLabel = "DIR",
            description = "PYTHONPATH of the peer, where transformers is importable (default /opt/pyref when it exists)")
    String pythonPath;

    @Option(names = "--torch-impl", paramLabel = "I",
            description = "auto (default: transformers if it imports, else the plain-torch transcription), transformers or plain")
    String torchImpl = "auto";

    /** Median, best and all examples/s of one side and kind. */
    record Rate(double median, double best, double[] all) {
        static Rate of(List<Double> perSecond) {
            double[] a = perSecond.stream().mapToDouble(Double::doubleValue).toArray();
            double[] s = a.clone();
            Arrays.sort(s);
            int n = s.length;
            double med = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
            return new Rate(med, s[n - 1], a);
        }
    }

    @Override
    public Integer call() throws Exception {
        if (batch < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batch);
        if (seq < 1) throw new IllegalArgumentException("--seq must be >= 1, got " + seq);
        if (threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        if (rounds < 1) throw new IllegalArgumentException("--rounds must be >= 1, got " + rounds);
        if (steps < 1) throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        if (pauseMs < 0) throw new IllegalArgumentException("--pause-ms must be >= 0, got " + pauseMs);
        if (numLabels < 2) throw new IllegalArgumentException("--num-labels must be >= 2, got " + numLabels);
        if (!peer.equals("python") && !peer.equals("none")) throw new IllegalArgumentException("--peer must be python or none, got " + peer);
        if (!List.of("auto", "transformers", "plain").contains(torchImpl)) {
            throw new IllegalArgumentException("--torch-impl must be auto, transformers or plain, got " + torchImpl);
        }
        Path dir = model != null ? model : defaultModel();
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--model " + dir + ": no such directory");
        Parallel.setThreads(threads);

        List<String> labels = new ArrayList<>();
        for (int i = 0; i < numLabels; i++) labels.add("LABEL_" + i);
        EncoderClassifier m = EncoderClassifiers.load(dir, new EncoderClassifiers.Options(EncoderClassifiers.Task.SEQUENCE_CLASSIFICATION,
                ClassifierTrainer.head(labels), true, seed, null));
        if (seq > m.config().maxPositionEmbeddings()) {
            m.close();
            throw new IllegalArgumentException("--seq " + seq + " exceeds the model's max_position_embeddings " + m.config().maxPositionEmbeddings());
        }
        // fixed random ids (no special or padding tokens needed for timing) and labels
        SplittableRandom rng = new SplittableRandom(seed);
        int vocab = m.config().vocabSize();
        int[][] ids = new int[batch][seq], mask = new int[batch][seq], types = new int[batch][seq];
        float[] lab = new float[batch];
        int[] labInt = new int[batch];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                ids[b][t] = 1 + rng.nextInt(vocab - 1);
                mask[b][t] = 1;
            }
            labInt[b] = rng.nextInt(numLabels);
            lab[b] = labInt[b];
        }
        EncoderInput in = new EncoderInput(ids, mask, m.config().typeVocabSize() > 0 ? types : null);
        NDArray labelArray = NDArray.of(lab, batch);
        Attn4jSide a = new Attn4jSide(m, in, labelArray);

        String where = String.format(Locale.ROOT, "model %s, %s, batch %d x seq %d, %d threads", dir, m.architecture(), batch, seq, threads);
        System.err.println("bench finetune: " + where + "; " + m.parameterCount() + " parameters");
        TorchPeer torch = null;
        String peerNote = null;
        if (peer.equals("python")) {
            try {
                torch = TorchPeer.start(python, pythonPath != null ? pythonPath : defaultPythonPath(), dir, threads, ids, labInt, numLabels,
                        torchImpl, seed);
                System.err.println("bench finetune: peer " + torch.impl + " (torch " + torch.version + ", " + torch.threads + " threads)");
            } catch (PeerUnavailable e) {
                peerNote = e.getMessage();
                System.err.println("bench finetune: no PyTorch peer: " + peerNote + "; reporting attn4j alone");
            }
        }
        try {
            List<Double> aTrain = new ArrayList<>(), aInfer = new ArrayList<>(), tTrain = new ArrayList<>(), tInfer = new ArrayList<>();
            if (warmup > 0) {
                a.train(warmup);
                a.infer(warmup);
                if (torch != null) {
                    torch.run("train", warmup);
                    torch.run("infer", warmup);
                }
            }
            a.phases.reset();
            dev.attn4j.autograd.Tensor.backwardProfile();                                // drops the warm-up's rule times
            for (int r = 0; r < rounds; r++) {
                pause();
                aTrain.add(batch * steps / a.train(steps));
                if (torch != null) {
                    pause();
                    tTrain.add(batch * steps / torch.run("train", steps));
                }
                pause();
                aInfer.add(batch * steps / a.infer(steps));
                if (torch != null) {
                    pause();
                    tInfer.add(batch * steps / torch.run("infer", steps));
                }
                System.err.printf(Locale.ROOT, "round %d/%d: attn4j train %.1f infer %.1f%s examples/s%n", r + 1, rounds,
                        aTrain.getLast(), aInfer.getLast(),
                        torch == null ? "" : String.format(Locale.ROOT, "; torch train %.1f infer %.1f", tTrain.getLast(), tInfer.getLast()));
            }
            Rate at = Rate.of(aTrain), ai = Rate.of(aInfer);
            Rate tt = torch == null ? null : Rate.of(tTrain), ti = torch == null ? null : Rate.of(tInfer);
            printTable(at, ai, tt, ti, a.phases);

            ObjectNode o = JSON.createObjectNode();
            o.put("bench", "finetune");
            o.put("model", dir.toString());
            o.put("architecture", m.architecture());
            o.put("batch", batch);
            o.put("seq", seq);
            o.put("threads", threads);
            o.put("warmup", warmup);
            o.put("rounds", rounds);
            o.put("steps", steps);
            o.put("pauseMs", pauseMs);
            ObjectNode jo = side(o.putObject("attn4j"), at, ai);
            ObjectNode ph = jo.putObject("trainStepMs");
            for (int i = 0; i < Phases.NAMES.length; i++) ph.put(Phases.NAMES[i], round2(a.phases.meanMs(i)));
            ph.put("total", round2(a.phases.totalMs()));
            jo.put("lastLoss", a.lastLoss);
            if (torch != null) {
                ObjectNode to = side(o.putObject("torch"), tt, ti);
                to.put("impl", torch.impl);
                to.put("version", torch.version);
                to.put("lastLoss", torch.lastLoss);
                o.put("trainRatio", round3(at.median() / tt.median()));
                o.put("inferRatio", round3(ai.median() / ti.median()));
            } else {
                o.putNull("torch");
                if (peerNote != null) o.put("torchUnavailable", peerNote);
                o.putNull("trainRatio");
                o.putNull("inferRatio");
            }
            System.out.println(JSON.writeValueAsString(o));
            return 0;
        } finally {
            if (torch != null) torch.close();
            m.close();
        }
    }

    private static ObjectNode side(ObjectNode o, Rate train, Rate infer) {
        o.put("trainExamplesPerSecond", round2(train.median()));
        o.put("trainBestExamplesPerSecond", round2(train.best()));
        o.put("inferExamplesPerSecond", round2(infer.median()));
        o.put("inferBestExamplesPerSecond", round2(infer.best()));
        ArrayNode tr = o.putArray("trainRounds");
        for (double v : train.all()) tr.add(round2(v));
        ArrayNode ir = o.putArray("inferRounds");
        for (double v : infer.all()) ir.add(round2(v));
        return o;
    }

    private void printTable(Rate at, Rate ai, Rate tt, Rate ti, Phases ph) {
        var e = System.err;
        e.printf(Locale.ROOT, "%n%-34s %10s %10s %10s %10s %8s%n", "examples/s (batch " + batch + " x " + seq + ", " + threads + " threads)",
                "attn4j med", "best", "torch med", "best", "ratio");
        row("train (fwd + bwd + clip + AdamW)", at, tt);
        row("inference (eval, no grad)", ai, ti);
        e.printf(Locale.ROOT, "attn4j training step, mean ms over the timed steps: %s%n", ph.describe());
        java.util.Map<String, long[]> rules = dev.attn4j.autograd.Tensor.backwardProfile();   // -Dattn4j.autograd.profile=true
        if (!rules.isEmpty()) {
            // "op: part" entries time parts of op's rule (e.g. "linear: dw", one GEMM): shown, not added to the total
            long total = rules.entrySet().stream().filter(en -> !en.getKey().contains(": ")).mapToLong(en -> en.getValue()[0]).sum();
            long timed = Math.max(1, ph.steps);
            e.printf(Locale.ROOT, "backward rules over the %d timed steps (-Dattn4j.autograd.profile), share of %.0f ms, ms per step:%n",
                    ph.steps, total / 1e6);
            rules.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0])).limit(18)
                    .forEach(en -> e.printf(Locale.ROOT, "  %-24s %5.1f%%  %8.1f ms  %6d calls%n", en.getKey(), 100.0 * en.getValue()[0] / total,
                            en.getValue()[0] / 1e6 / timed, en.getValue()[1]));
        }
    }

    private void row(String name, Rate a, Rate t) {
        if (t == null) {
            System.err.printf(Locale.ROOT, "%-34s %10.1f %10.1f %10s %10s %8s%n", name, a.median(), a.best(), "-", "-", "-");
        } else {
            System.err.printf(Locale.ROOT, "%-34s %10.1f %10.1f %10.1f %10.1f %7.2fx%n", name, a.median(), a.best(), t.median(), t.best(),
                    a.median() / t.median());
        }
    }

    private void pause() throws InterruptedException {
        if (pauseMs > 0) Thread.sleep(pauseMs);
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** ../shared/models/all-MiniLM-L6-v2 next to the repository when present, else the built-in default model. */
    static Path defaultModel() {
        Path root = DefaultModel.repositoryRoot();
        if (root != null) {
            Path shared = root.resolve(DefaultModel.RELATIVE).normalize();
            if (Files.isDirectory(shared)) return shared;
        }
        return DefaultModel.resolve();
    }

    static String defaultPythonPath() {
        return Files.isDirectory(Path.of("/opt/pyref")) ? "/opt/pyref" : null;
    }

    /** Mean milliseconds per phase of the attn4j training step. */
    static final class Phases {
        static final String[] NAMES = {"forward", "loss", "backward", "clipAndAdamW", "zeroGrad"};
        final long[] nanos = new long[NAMES.length];
        long steps;

        void reset() {
            Arrays.fill(nanos, 0);
            steps = 0;
        }

        double meanMs(int i) {
            return steps == 0 ? 0 : nanos[i] / 1e6 / steps;
        }

        double totalMs() {
            double s = 0;
            for (int i = 0; i < NAMES.length; i++) s += meanMs(i);
            return s;
        }

        String describe() {
            StringBuilder sb = new StringBuilder();
            double total = totalMs();
            for (int i = 0; i < NAMES.length; i++) {
                sb.append(String.format(Locale.ROOT, "%s %.1f (%.0f%%), ", NAMES[i], meanMs(i), 100 * meanMs(i) / Math.max(1e-9, total)));
            }
            return sb.append(String.format(Locale.ROOT, "total %.1f", total)).toString();
        }
    }

    /** attn4j's side: ClassifierTrainer's step (one batch, no accumulation) and eval forward. */
    static final class Attn4jSide {
        final EncoderClassifier model;
        final EncoderInput in;
        final NDArray labels;
        final ParameterGroups optimizer;
        final Phases phases = new Phases();
        double lastLoss = Double.NaN;

        Attn4jSide(EncoderClassifier model, EncoderInput in, NDArray labels) {
            this.model = model;
            this.in = in;
            this.labels = labels;
            this.optimizer = new ParameterGroups(model, LR, WEIGHT_DECAY);
        }

        /** Runs n training steps; returns their seconds. */
        double train(int n) {
            model.train(true);
            long start = System.nanoTime();
            for (int s = 0; s < n; s++) {
                long t0 = System.nanoTime();
                Tensor logits = model.forward(in);                                       // [B, L]
                long t1 = System.nanoTime();
                Tensor loss = model.loss(logits, labels);
                double l = loss.item();
                if (!Double.isFinite(l)) throw new IllegalStateException("attn4j training diverged: loss " + l);
                long t2 = System.nanoTime();
                loss.backward();
                long t3 = System.nanoTime();
                optimizer.step(LR, MAX_GRAD_NORM);
                long t4 = System.nanoTime();
                optimizer.zeroGrad();
                long t5 = System.nanoTime();
                phases.nanos[0] += t1 - t0;
                phases.nanos[1] += t2 - t1;
                phases.nanos[2] += t3 - t2;
                phases.nanos[3] += t4 - t3;
                phases.nanos[4] += t5 - t4;
                phases.steps++;
                lastLoss = l;
            }
            return (System.nanoTime() - start) / 1e9;
        }

        /** Runs n eval-mode no-grad forwards; returns their seconds. */
        double infer(int n) {
            model.eval();
            long start = System.nanoTime();
            try (var g = GradMode.noGrad()) {
                for (int s = 0; s < n; s++) {
                    model.forward(in);                                                   // [B, L]
                }
            }
            double dt = (System.nanoTime() - start) / 1e9;
            model.train(true);
            return dt;
        }
    }

    /** The peer could not start (no python, no torch, the script failed to load the model): said in one line. */
    static final class PeerUnavailable extends Exception {
        PeerUnavailable(String message) {
            super(message);
        }
    }

    /** The python child running bench_finetune.py, one JSON line per request and reply. */
    static final class TorchPeer implements AutoCloseable {
        final Process process;
        final BufferedWriter toChild;
        final BufferedReader fromChild;
        final Path script, errLog;
        String impl, version;
        int threads;
        double lastLoss = Double.NaN;

        private TorchPeer(Process process, Path script, Path errLog) {
            this.process = process;
            this.script = script;
            this.errLog = errLog;
            this.toChild = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            this.fromChild = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        }

        static TorchPeer start(String python, String pythonPath, Path model, int threads, int[][] ids, int[] labels, int numLabels,
                               String impl, long seed) throws IOException, PeerUnavailable {
            Path exe = Path.of(python);
            if (python.contains("/") && !Files.isExecutable(exe)) throw new PeerUnavailable(python + " not found");
            Path script = Files.createTempFile("attn4j-bench-finetune-", ".py");
            try (InputStream s = BenchFinetuneCommand.class.getResourceAsStream(SCRIPT)) {
                if (s == null) throw new IOException("resource " + SCRIPT + " missing from the attn4j jar");
                Files.write(script, s.readAllBytes());
            }
            Path err = Files.createTempFile("attn4j-bench-finetune-", ".log");
            ProcessBuilder pb = new ProcessBuilder(python, "-u", script.toString());
            pb.redirectError(err.toFile());
            String t = Integer.toString(threads);
            pb.environment().put("OMP_NUM_THREADS", t);
            pb.environment().put("OPENBLAS_NUM_THREADS", t);
            pb.environment().put("MKL_NUM_THREADS", t);
            if (pythonPath != null) pb.environment().put("PYTHONPATH", pythonPath);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                cleanup(script, err);
                throw new PeerUnavailable(python + " cannot be started: " + e.getMessage());
            }
            TorchPeer peer = new TorchPeer(p, script, err);
            ObjectNode setup = JSON.createObjectNode();
            setup.put("model", model.toAbsolutePath().toString());
            setup.put("threads", threads);
            setup.set("ids", JSON.valueToTree(ids));
            setup.set("labels", JSON.valueToTree(labels));
            setup.put("numLabels", numLabels);
            setup.put("lr", LR);
            setup.put("weightDecay", WEIGHT_DECAY);
            setup.put("maxGradNorm", MAX_GRAD_NORM);
            setup.put("impl", impl);
            setup.put("seed", seed);
            JsonNode r;
            try {
                r = peer.request(setup);
            } catch (IOException e) {
                String why = peer.failure();
                peer.close();
                throw new PeerUnavailable(why);
            }
            if (!r.path("ready").asBoolean(false)) {
                peer.close();
                throw new PeerUnavailable("the torch peer failed: " + r.path("error").asText(r.toString()));
            }
            peer.impl = r.path("impl").asText();
            peer.version = r.path("torch").asText();
            peer.threads = r.path("threads").asInt();
            return peer;
        }

        /** Runs {@code op} (train or infer) for n steps in the child; returns the child's own timing in seconds. */
        double run(String op, int n) throws IOException {
            ObjectNode q = JSON.createObjectNode();
            q.put("op", op);
            q.put("steps", n);
            JsonNode r;
            try {
                r = request(q);
            } catch (IOException e) {
                throw new IOException("the torch peer stopped during " + op + ": " + failure(), e);
            }
            if (r.has("error")) throw new IOException("the torch peer failed during " + op + ": " + r.get("error").asText());
            lastLoss = r.path("loss").asDouble(Double.NaN);
            return r.path("seconds").asDouble();
        }

        private JsonNode request(JsonNode q) throws IOException {
            toChild.write(JSON.writeValueAsString(q));
            toChild.newLine();
            toChild.flush();
            String line = fromChild.readLine();
            if (line == null) throw new IOException("no reply");
            return JSON.readTree(line);
        }

        /** One line saying why the child stopped: its exit code and the last line of its stderr. */
        String failure() {
            String last = "";
            try {
                process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
                List<String> lines = Files.readAllLines(errLog, StandardCharsets.UTF_8).stream().filter(s -> !s.isBlank()).toList();
                if (!lines.isEmpty()) last = lines.getLast().strip();
            } catch (IOException | InterruptedException e) {
                // keep what we have
            }
            if (last.contains("No module named 'torch'")) return "python has no torch (" + last + ")";
            String code = process.isAlive() ? "still running" : "exit code " + process.exitValue();
            return "the torch peer stopped (" + code + ")" + (last.isEmpty() ? "" : ": " + last);
        }

        @Override
        public void close() {
            try {
                if (process.isAlive()) {
                    toChild.write("{\"op\":\"quit\"}");
                    toChild.newLine();
                    toChild.flush();
                }
            } catch (IOException e) {
                // already gone
            }
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            cleanup(script, errLog);
        }

        private static void cleanup(Path... files) {
            for (Path f : files) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    // a temp file left behind is harmless
                }
            }
        }
    }
}
