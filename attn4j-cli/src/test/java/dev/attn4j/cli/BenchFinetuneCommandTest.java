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

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code attn4j bench finetune} on a tiny random BERT: attn4j alone ({@code --peer none}, a missing
 * python), and with the PyTorch peer (plain-torch transcription, and transformers where it imports)
 * when {@code /usr/bin/python3} has torch.
 */
class BenchFinetuneCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PYTHON = "/usr/bin/python3";

    @TempDir
    static Path tmp;

    static Path model;

    record Run(int code, String out, String err) {
        JsonNode last() throws Exception {
            String[] lines = out.strip().split("\n");
            return JSON.readTree(lines[lines.length - 1]);
        }
    }

    static Run run(String... args) {
        CliRun.Output o = CliRun.main(null, args);
        return new Run(o.code(), o.out(), o.err());
    }

    @BeforeAll
    static void tinyModel() throws Exception {
        model = tmp.resolve("tiny-bert");
        BertConfig c = BertConfig.bert(50, 32, 2, 4, 64, 40, 2);
        SplittableRandom rng = new SplittableRandom(7);
        new BertForSequenceClassification(c, ClassifierConfig.ofNumLabels(2), null, Params.random(rng, 0.02), Params.random(rng, 0.02), rng)
                .savePretrained(model, null);
    }

    static String[] args(String... extra) {
        String[] base = {"bench", "finetune", "--model", model.toString(), "--batch-size", "4", "--seq", "8", "--threads", "1",
                "--warmup", "1", "--rounds", "3", "--steps", "2", "--pause-ms", "1"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    static void assertAttn4jSide(JsonNode j) {
        assertThat(j.path("bench").asText()).isEqualTo("finetune");
        assertThat(j.path("model").asText()).isEqualTo(model.toString());
        assertThat(j.path("batch").asInt()).isEqualTo(4);
        assertThat(j.path("seq").asInt()).isEqualTo(8);
        assertThat(j.path("threads").asInt()).isEqualTo(1);
        JsonNode a = j.path("attn4j");
        assertThat(a.path("trainExamplesPerSecond").asDouble()).isPositive();
        assertThat(a.path("inferExamplesPerSecond").asDouble()).isPositive();
        assertThat(a.path("trainBestExamplesPerSecond").asDouble()).isGreaterThanOrEqualTo(a.path("trainExamplesPerSecond").asDouble());
        assertThat(a.path("trainRounds")).hasSize(3);
        assertThat(a.path("inferRounds")).hasSize(3);
        for (String p : new String[] {"forward", "backward", "clipAndAdamW", "total"}) {
            assertThat(a.path("trainStepMs").path(p).isNumber()).as(p).isTrue();
        }
        assertThat(a.path("trainStepMs").path("total").asDouble()).isPositive();
        // two classes, random labels: a loss near ln 2 after a few small steps
        assertThat(a.path("lastLoss").asDouble()).isBetween(0.3, 1.2);
    }

    @Test
    void attn4jAloneWithPeerNone() throws Exception {
        Run r = run(args("--peer", "none"));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.last();
        assertAttn4jSide(j);
        assertThat(j.path("torch").isNull()).isTrue();
        assertThat(j.path("trainRatio").isNull()).isTrue();
        assertThat(r.err()).contains("train (fwd + bwd + clip + AdamW)").contains("attn4j training step, mean ms");
    }

    @Test
    void missingPythonIsOneLineAndAttn4jIsReported() throws Exception {
        Path nope = tmp.resolve("no-such-python3");
        Run r = run(args("--python", nope.toString()));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("no PyTorch peer: " + nope + " not found; reporting attn4j alone");
        JsonNode j = r.last();
        assertAttn4jSide(j);
        assertThat(j.path("torch").isNull()).isTrue();
        assertThat(j.path("torchUnavailable").asText()).contains("not found");
    }

    @Test
    void badOptionsExit2WithTheOptionNamed() {
        Run r = run("bench", "finetune", "--model", model.toString(), "--threads", "0");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--threads must be >= 1, got 0");
        r = run("bench", "finetune", "--model", tmp.resolve("nope").toString());
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--model").contains("no such directory");
        r = run("bench", "finetune", "--model", model.toString(), "--peer", "djl");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--peer must be python or none, got djl");
        r = run("bench", "finetune", "--model", model.toString(), "--seq", "41");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--seq 41 exceeds the model's max_position_embeddings 40");
    }

    static boolean pythonHasTorch() {
        if (!Files.isExecutable(Path.of(PYTHON))) return false;
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    static void assertTorchSide(JsonNode j, String implPrefix) {
        JsonNode t = j.path("torch");
        assertThat(t.path("impl").asText()).startsWith(implPrefix);
        assertThat(t.path("trainExamplesPerSecond").asDouble()).isPositive();
        assertThat(t.path("inferExamplesPerSecond").asDouble()).isPositive();
        assertThat(t.path("trainRounds")).hasSize(3);
        assertThat(t.path("lastLoss").asDouble()).isBetween(0.3, 1.2);
        double ratio = j.path("attn4j").path("trainExamplesPerSecond").asDouble() / t.path("trainExamplesPerSecond").asDouble();
        assertThat(j.path("trainRatio").asDouble()).isCloseTo(ratio, org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(j.path("inferRatio").asDouble()).isPositive();
    }

    @Test
    void plainTorchPeer() throws Exception {
        assumeTrue(pythonHasTorch(), PYTHON + " with torch is not available");
        Run r = run(args("--torch-impl", "plain"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("peer plain-torch BERT transcription");
        JsonNode j = r.last();
        assertAttn4jSide(j);
        assertTorchSide(j, "plain-torch BERT transcription");
    }

    @Test
    void transformersPeer() throws Exception {
        assumeTrue(pythonHasTorch(), PYTHON + " with torch is not available");
        assumeTrue(Files.exists(Path.of("/opt/pyref/READY")), "transformers (/opt/pyref) is not available");
        Run r = run(args("--torch-impl", "transformers", "--python-path", "/opt/pyref"));
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode j = r.last();
        assertAttn4jSide(j);
        assertTorchSide(j, "transformers ");
        assertThat(j.path("torch").path("impl").asText()).endsWith("BertForSequenceClassification");
    }

    /** The peer's plain-torch transcription gives transformers' logits (same weights and head) and the same no-decay group. */
    @Test
    void plainTranscriptionMatchesTransformers() throws Exception {
        assumeTrue(pythonHasTorch(), PYTHON + " with torch is not available");
        assumeTrue(Files.exists(Path.of("/opt/pyref/READY")), "transformers (/opt/pyref) is not available");
        Path script = tmp.resolve(BenchFinetuneCommand.SCRIPT);
        try (var in = BenchFinetuneCommand.class.getResourceAsStream(BenchFinetuneCommand.SCRIPT)) {
            Files.write(script, in.readAllBytes());
        }
        String check = String.join("\n",
                "import importlib.util, sys, torch",
                "spec = importlib.util.spec_from_file_location('bf', sys.argv[1]); bf = importlib.util.module_from_spec(spec)",
                "spec.loader.exec_module(bf)",
                "pm, pnd, pf = bf.plain_model(sys.argv[2], 2, 1, torch)",
                "tm, tnd, tf = bf.transformers_model(sys.argv[2], 2, torch)",
                "pm.classifier.load_state_dict(tm.classifier.state_dict()); pm.eval(); tm.eval()",
                "ids = torch.randint(1, 50, (3, 9), generator=torch.Generator().manual_seed(3))",
                "ty, mk = torch.zeros_like(ids), torch.ones_like(ids)",
                "with torch.no_grad(): d = (pf(ids, ty, mk) - tf(ids, ty, mk)).abs().max().item()",
                "print('maxdiff', d)",
                "print('nodecay', sum(1 for n, _ in pm.named_parameters() if pnd(n)), sum(1 for n, _ in tm.named_parameters() if tnd(n)))");
        ProcessBuilder pb = new ProcessBuilder(PYTHON, "-c", check, script.toString(), model.toString()).redirectErrorStream(true);
        pb.environment().put("PYTHONPATH", "/opt/pyref");
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        double diff = Double.parseDouble(out.lines().filter(l -> l.startsWith("maxdiff ")).findFirst().orElseThrow().substring(8));
        assertThat(diff).as(out).isLessThan(1e-5);
        // biases and LayerNorm weights: both sides put the same number of parameters in the no-decay group
        String[] nd = out.lines().filter(l -> l.startsWith("nodecay ")).findFirst().orElseThrow().split(" ");
        assertThat(nd[1]).as(out).isEqualTo(nd[2]);
        assertThat(Integer.parseInt(nd[1])).isGreaterThan(10);
    }
}
