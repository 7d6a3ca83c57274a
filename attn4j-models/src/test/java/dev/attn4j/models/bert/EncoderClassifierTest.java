package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The task heads against transformers: logits, loss and every parameter's gradient of small random
 * checkpoints written by transformers' own classes ({@code scripts/make-classifier-references.py},
 * float64 references), key names, save_pretrained output and loading a bare encoder.
 */
class EncoderClassifierTest {
    static final List<String> NAMES = List.of("bert-seq", "bert-token", "roberta-seq", "roberta-token", "distilbert-seq",
            "distilbert-token");

    static Path dir(String name) {
        try {
            return Path.of(EncoderClassifierTest.class.getResource("/classifiers/" + name + "/config.json").toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, NDArray> expected(String name) throws IOException {
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir(name).resolve("expected.safetensors"))) {
            for (String k : c.names()) out.put(k, c.getCopy(k));
        }
        return out;
    }

    static int[][] ints(NDArray a) {
        int b = a.dim(0), t = a.dim(1);
        int[][] out = new int[b][t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) out[i][j] = (int) a.getDouble(i, j);
        return out;
    }

    static EncoderInput input(Map<String, NDArray> exp) {
        return new EncoderInput(ints(exp.get("input_ids")), ints(exp.get("attention_mask")), null);
    }

    static void assertClose(NDArray expected, NDArray actual, double atol, double rtol, String what) {
        assertEquals(expected.shape(), actual.shape(), what + " shape");
        double[] e = expected.toDoubleArray(), a = actual.contiguous().toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            double tol = atol + rtol * Math.abs(e[i]);
            if (!(Math.abs(e[i] - a[i]) <= tol)) {
                throw new AssertionError(what + "[" + i + "]: expected " + e[i] + ", got " + a[i] + " (tolerance " + tol + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert-seq", "bert-token", "roberta-seq", "roberta-token", "distilbert-seq", "distilbert-token"})
    void logitsAndLossMatchTransformers(String name) throws IOException {
        Map<String, NDArray> exp = expected(name);
        for (boolean trainable : new boolean[] {false, true}) {
            try (EncoderClassifier m = EncoderClassifiers.load(dir(name),
                    new EncoderClassifiers.Options(null, null, trainable, 1, null)); var g = GradMode.noGrad()) {
                assertEquals(name.endsWith("-token"), m.tokenLevel());
                assertEquals(List.of("neg", "neu", "pos"), m.head().id2label());
                assertTrue(m.newlyInitializedKeys().isEmpty(), "a fine-tuned head is used as it is");
                Tensor logits = m.forward(input(exp));
                assertClose(exp.get("logits"), logits.data(), 2e-5, 1e-4, name + " logits");
                NDArray labels = exp.get("labels");
                if (!m.tokenLevel()) labels = labels.reshape(labels.numel());
                assertClose(exp.get("loss"), m.loss(logits, labels).data().reshape(1), 1e-5, 1e-5, name + " loss");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert-seq", "bert-token", "roberta-seq", "roberta-token", "distilbert-seq", "distilbert-token"})
    void gradientsOfEveryParameterMatchFloat64(String name) throws IOException {
        Map<String, NDArray> exp = expected(name);
        try (EncoderClassifier m = EncoderClassifiers.load(dir(name), new EncoderClassifiers.Options(null, null, true, 1, null))) {
            m.eval();
            Tensor logits = m.forward(input(exp));
            NDArray labels = exp.get("labels");
            if (!m.tokenLevel()) labels = labels.reshape(labels.numel());
            m.loss(logits, labels).backward();
            TreeSet<String> expectedKeys = new TreeSet<>();
            for (String k : exp.keySet()) if (k.startsWith("grad.")) expectedKeys.add(k.substring(5));
            assertEquals(expectedKeys, new TreeSet<>(m.namedParameters().keySet()), "parameter names = transformers' named_parameters");
            for (var e : m.namedParameters().entrySet()) {
                NDArray want = exp.get("grad." + e.getKey());
                NDArray got = e.getValue().grad();
                if (got == null) got = NDArray.zeros(want.shape().toArray());
                double scale = 0;
                for (double v : want.toDoubleArray()) scale = Math.max(scale, Math.abs(v));
                assertClose(want, got, 1e-6 + 2e-4 * scale, 1e-3, name + " grad " + e.getKey());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert-seq", "roberta-token", "distilbert-seq"})
    void savePretrainedWritesTransformersLayout(String name, @TempDir Path tmp) throws IOException {
        Map<String, NDArray> exp = expected(name);
        Path out = tmp.resolve("saved");
        Files.createDirectories(out);
        Files.writeString(out.resolve("stale.txt"), "replaced");
        try (EncoderClassifier m = EncoderClassifiers.load(dir(name), new EncoderClassifiers.Options(null, null, true, 1, null))) {
            m.savePretrained(out, dir(name));
        }
        assertFalse(Files.exists(out.resolve("stale.txt")), "the directory is replaced whole");
        try (var files = Files.list(tmp)) {
            assertEquals(List.of(out), files.toList(), "no temporary directory left");
        }
        try (SafetensorsCheckpoint ours = SafetensorsCheckpoint.open(out.resolve("model.safetensors"));
             SafetensorsCheckpoint theirs = SafetensorsCheckpoint.open(dir(name).resolve("model.safetensors"))) {
            assertEquals(new TreeSet<>(theirs.names()), new TreeSet<>(ours.names()), "keys of transformers' state_dict");
            assertEquals("pt", ours.metadata().get("format"));
            for (String k : theirs.names()) {
                assertEquals(theirs.info(k).dtype(), ours.info(k).dtype(), k);
                assertEquals(List.of(box(theirs.info(k).shape())), List.of(box(ours.info(k).shape())), k);
                assertClose(theirs.getCopy(k), ours.getCopy(k), 0, 0, k);
            }
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode theirs = json.readTree(dir(name).resolve("config.json").toFile());
        JsonNode ours = json.readTree(out.resolve("config.json").toFile());
        for (String f : List.of("architectures", "id2label", "label2id", "model_type", "hidden_size", "vocab_size", "dim")) {
            assertEquals(theirs.get(f), ours.get(f), "config.json " + f);
        }
        try (EncoderClassifier m = EncoderClassifiers.load(out); var g = GradMode.noGrad()) {
            assertClose(exp.get("logits"), m.forward(input(exp)).data(), 2e-5, 1e-4, "reloaded logits");
        }
    }

    private static Integer[] box(int[] a) {
        Integer[] out = new Integer[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i];
        return out;
    }

    /** A bare encoder (no prefix, no head): the head is new, N(0, initializer_range) weights and zero bias, named once. */
    @Test
    void bareEncoderGetsAFreshHead(@TempDir Path tmp) throws IOException {
        Map<String, NDArray> w = new LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir("bert-seq").resolve("model.safetensors"))) {
            for (String k : c.names()) if (k.startsWith("bert.") && !k.startsWith("bert.pooler.")) w.put(k.substring(5), c.getCopy(k));
        }
        SafetensorsWriter.write(tmp.resolve("model.safetensors"), w);
        ObjectMapper json = new ObjectMapper();
        var cfg = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(dir("bert-seq").resolve("config.json").toFile());
        cfg.remove(List.of("id2label", "label2id", "architectures"));
        cfg.put("initializer_range", 0.5);
        Files.writeString(tmp.resolve("config.json"), cfg.toString());
        List<String> log = new ArrayList<>();
        assertThrows(dev.attn4j.hub.ModelDirectoryException.class, () -> EncoderClassifiers.load(tmp), "no labels anywhere");
        try (EncoderClassifier m = EncoderClassifiers.load(tmp, new EncoderClassifiers.Options(null,
                new ClassifierConfig(List.of("a", "b"), null, null), true, 3, log::add))) {
            assertEquals(List.of("bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"),
                    m.newlyInitializedKeys());
            assertEquals(1, log.size());
            assertTrue(log.get(0).contains("newly initialized") && log.get(0).contains("classifier.weight"), log.get(0));
            BertForSequenceClassification b = (BertForSequenceClassification) m;
            double[] cw = b.classifier.weight.data().toDoubleArray();
            double sq = 0;
            for (double v : cw) sq += v * v;
            double std = Math.sqrt(sq / cw.length);
            assertTrue(std > 0.3 && std < 0.7, "std " + std + " from initializer_range 0.5");
            for (double v : b.classifier.bias.data().toDoubleArray()) assertEquals(0.0, v);
            assertClose(w.get("embeddings.word_embeddings.weight"), b.bert.embeddings.wordEmbeddings.weight.data(), 0, 0, "encoder kept");
        }
    }

    @Test
    void wrongShapesAndUnknownKeysAreNamed(@TempDir Path tmp) throws IOException {
        Map<String, NDArray> w = new LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir("bert-seq").resolve("model.safetensors"))) {
            for (String k : c.names()) w.put(k, c.getCopy(k));
        }
        w.put("bert.encoder.mystery.weight", NDArray.zeros(2));
        SafetensorsWriter.write(tmp.resolve("model.safetensors"), w);
        Files.copy(dir("bert-seq").resolve("config.json"), tmp.resolve("config.json"));
        var e = assertThrows(dev.attn4j.hub.ModelDirectoryException.class, () -> EncoderClassifiers.load(tmp));
        assertTrue(e.getMessage().contains("bert.encoder.mystery.weight"), e.getMessage());
        var e2 = assertThrows(dev.attn4j.hub.ModelDirectoryException.class, () -> EncoderClassifiers.load(dir("bert-seq"),
                new EncoderClassifiers.Options(null, ClassifierConfig.ofNumLabels(5), false, 1, null)));
        assertTrue(e2.getMessage().contains("classifier.weight") && e2.getMessage().contains("[5, 12]"), e2.getMessage());
    }

    /** transformers itself loads what attn4j saved (when Debian's torch and the transformers source are present). */
    @Test
    void transformersLoadsTheSavedClassifier(@TempDir Path tmp) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        Path pyref = Path.of("/opt/pyref/transformers");
        assumeTrue(Files.isExecutable(python) && Files.isDirectory(pyref), "python3 with transformers source not present");
        Map<String, NDArray> exp = expected("bert-seq");
        Path out = tmp.resolve("saved");
        float[] javaLogits;
        try (EncoderClassifier m = EncoderClassifiers.load(dir("bert-seq"), new EncoderClassifiers.Options(null, null, true, 1, null))) {
            // change the weights so the check is not of the reference's own file
            for (Tensor p : m.parameters()) {
                float[] a = p.data().floatArray();
                for (int i = p.data().offset(); i < p.data().offset() + p.numel(); i++) a[i] *= 1.01f;
            }
            m.savePretrained(out, null);
            m.eval();
            try (var g = GradMode.noGrad()) {
                javaLogits = m.forward(input(exp)).data().contiguous().toFloatArray();
            }
        }
        int[][] ids = ints(exp.get("input_ids")), mask = ints(exp.get("attention_mask"));
        String script = "import torch,sys\nfrom transformers import AutoModelForSequenceClassification as A\n"
                + "m=A.from_pretrained(sys.argv[1]).eval()\n"
                + "print(type(m).__name__)\n"
                + "with torch.no_grad(): print(' '.join(repr(float(v)) for v in m(input_ids=torch.tensor(" + java.util.Arrays.deepToString(ids)
                + "),attention_mask=torch.tensor(" + java.util.Arrays.deepToString(mask) + ")).logits.flatten()))\n";
        ProcessBuilder pb = new ProcessBuilder(python.toString(), "-c", script, out.toString()).redirectErrorStream(false);
        pb.environment().put("PYTHONPATH", "/opt/pyref");
        Process p = pb.start();
        String stdout = new String(p.getInputStream().readAllBytes());
        String stderr = new String(p.getErrorStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assumeTrue(p.exitValue() == 0 || !stderr.contains("ModuleNotFoundError"), "transformers does not import: " + stderr);
        assertEquals(0, p.exitValue(), stderr);
        String[] lines = stdout.strip().split("\n");
        assertEquals("BertForSequenceClassification", lines[0]);
        String[] vals = lines[1].trim().split(" ");
        assertEquals(javaLogits.length, vals.length);
        for (int i = 0; i < vals.length; i++) assertEquals(Double.parseDouble(vals[i]), javaLogits[i], 1e-4, "logit " + i);
    }
}
