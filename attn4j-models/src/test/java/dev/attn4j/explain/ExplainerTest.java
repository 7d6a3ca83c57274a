package dev.attn4j.explain;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.bert.BertEmbeddings;
import dev.attn4j.models.bert.BertModel;
import dev.attn4j.models.bert.ClassifierConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tokenizers.Encoding;
import dev.attn4j.tokenizers.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Gradient x input and attention rollout against transformers (float64 references from
 * {@code scripts/make-explain-references.py}: inputs_embeds with requires_grad, eager attention
 * weights, samiraabnar/attention_flow's rollout) on the task heads' small random checkpoints, and a
 * finite-difference check of gradient x input on the real all-MiniLM-L6-v2.
 */
class ExplainerTest {
    static Path resource(String path) {
        try {
            return Path.of(ExplainerTest.class.getResource(path).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, NDArray> expected(String name) throws IOException {
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(resource("/explain/" + name + ".safetensors"))) {
            for (String k : c.names()) out.put(k, c.getCopy(k));
        }
        return out;
    }

    static int[][] ints(NDArray a) {
        int[][] out = new int[a.dim(0)][a.dim(1)];
        for (int i = 0; i < out.length; i++) for (int j = 0; j < out[i].length; j++) out[i][j] = (int) a.getDouble(i, j);
        return out;
    }

    static EncoderClassifier load(String name, boolean trainable) throws IOException {
        Path dir = resource("/classifiers/" + name + "/config.json").getParent();
        return EncoderClassifiers.load(dir, new EncoderClassifiers.Options(null, null, trainable, 1, null));
    }

    static void assertClose(NDArray expected, double[][] actual, double atol, String what) {
        double[] e = expected.toDoubleArray();
        int t = expected.dim(1);
        assertEquals(expected.dim(0), actual.length, what + " rows");
        for (int i = 0; i < e.length; i++) {
            double a = actual[i / t][i % t];
            double tol = atol + 1e-4 * Math.abs(e[i]);
            if (!(Math.abs(e[i] - a) <= tol)) {
                throw new AssertionError(what + "[" + i / t + "][" + i % t + "]: expected " + e[i] + ", got " + a + " (tolerance " + tol + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert-seq", "roberta-seq", "distilbert-seq"})
    void attributionsMatchTransformers(String name) throws IOException {
        Map<String, NDArray> exp = expected(name);
        int[][] mask = ints(exp.get("attention_mask"));
        EncoderInput in = new EncoderInput(ints(exp.get("input_ids")), mask,
                exp.containsKey("token_type_ids") ? ints(exp.get("token_type_ids")) : null);
        for (boolean trainable : new boolean[] {false, true}) {
            try (EncoderClassifier m = load(name, trainable)) {
                if (trainable) m.train();                                          // explain switches dropout off and back
                Explainer.Attributions a = Explainer.attribute(m, in, null);
                int[] predicted = ints(exp.get("predicted").reshape(1, in.batchSize()))[0];
                assertArrayEquals(predicted, a.labels(), name + " predicted labels");
                double[][] logits = new double[a.logits().length][];
                for (int i = 0; i < logits.length; i++) {
                    logits[i] = new double[a.logits()[i].length];
                    for (int j = 0; j < logits[i].length; j++) logits[i][j] = a.logits()[i][j];
                }
                assertClose(exp.get("logits"), logits, 1e-5, name + " logits");
                assertClose(exp.get("gxi.predicted"), a.gradientXInput(), 1e-5, name + " gradient x input (predicted)");
                assertClose(exp.get("rollout"), a.attentionRollout(), 1e-5, name + " attention rollout");
                int[] other = new int[predicted.length];
                for (int i = 0; i < other.length; i++) other[i] = (predicted[i] + 1) % m.numLabels();
                Explainer.Attributions b = Explainer.attribute(m, in, other);
                assertArrayEquals(other, b.labels());
                assertClose(exp.get("gxi.other"), b.gradientXInput(), 1e-5, name + " gradient x input (other label)");
                assertClose(exp.get("rollout"), b.attentionRollout(), 1e-5, name + " attention rollout (label-independent)");
                // the model is left as it was: mode, requires-grad flags, no gradients on the parameters
                assertEquals(trainable, m.isTraining(), "training mode restored");
                for (var p : m.namedParameters().entrySet()) {
                    assertNull(p.getValue().grad(), p.getKey() + " has no gradient");
                }
                for (int r = 0; r < mask.length; r++) {
                    double sum = 0;
                    for (int i = 0; i < mask[r].length; i++) sum += a.attentionRollout()[r][i];
                    assertEquals(1.0, sum, 1e-6, "row " + r + " of the rollout sums to 1");
                }
            }
        }
    }

    @Test
    void requiresGradFlagsAreRestored() throws IOException {
        try (EncoderClassifier m = load("bert-seq", true)) {
            List<Tensor> params = m.parameters();
            params.get(0).requiresGrad(false);                                     // e.g. a frozen embedding
            Explainer.attribute(m, new EncoderInput(new int[][] {{2, 5, 7, 3}}, null, null), null);
            assertFalse(params.get(0).requiresGrad());
            for (int i = 1; i < params.size(); i++) assertTrue(params.get(i).requiresGrad(), "parameter " + i);
        }
    }

    @Test
    void badInputGetsOneClearError() throws IOException {
        EncoderInput ok = new EncoderInput(new int[][] {{2, 5, 7, 3}}, null, null);
        try (EncoderClassifier m = load("bert-token", false)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Explainer.attribute(m, ok, null));
            assertTrue(e.getMessage().contains("BertForTokenClassification"), e.getMessage());
        }
        try (EncoderClassifier m = load("bert-seq", false)) {
            var e = assertThrows(IllegalArgumentException.class, () -> Explainer.attribute(m, ok, new int[] {3}));
            assertTrue(e.getMessage().contains("label 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Explainer.attribute(m, ok, new int[] {0, 1}));
            assertTrue(e.getMessage().contains("2 labels for a batch of 1"), e.getMessage());
            EncoderInput left = new EncoderInput(new int[][] {{0, 2, 5, 3}}, new int[][] {{0, 1, 1, 1}}, null);
            e = assertThrows(IllegalArgumentException.class, () -> Explainer.attribute(m, left, null));
            assertTrue(e.getMessage().contains("padded on the left"), e.getMessage());
            EncoderInput outOfVocab = new EncoderInput(new int[][] {{2, 45, 3}}, null, null);
            e = assertThrows(IllegalArgumentException.class, () -> Explainer.attribute(m, outOfVocab, null));
            assertTrue(e.getMessage().contains("45"), e.getMessage());
        }
    }

    /**
     * The real all-MiniLM-L6-v2 (6 layers, 12 heads) with the two-label head of the reference file
     * against transformers in float64: tokens, logits, gradient x input and attention rollout of
     * three sentences tokenized by the Java tokenizer.
     */
    @Test
    void realMiniLmMatchesTransformers() throws IOException {
        Path dir = dev.attn4j.testing.MiniLm.any();
        assumeTrue(Files.isDirectory(dir), "shared model directory not present: " + dir);
        Map<String, NDArray> exp = expected("minilm");
        List<String> sentences;
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(resource("/explain/minilm.safetensors"))) {
            sentences = List.of(new com.fasterxml.jackson.databind.ObjectMapper().readValue(c.metadata().get("sentences"), String[].class));
        }
        assertEquals(3, sentences.size());
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        try (EncoderClassifier m = EncoderClassifiers.load(dir, new EncoderClassifiers.Options(
                EncoderClassifiers.Task.SEQUENCE_CLASSIFICATION, ClassifierConfig.ofNumLabels(2), false, 42, null))) {
            var loaded = m.loadStateDict(Map.of("classifier.weight", exp.get("classifier.weight"), "classifier.bias",
                    exp.get("classifier.bias")), false);
            assertTrue(loaded.unexpectedKeys().isEmpty(), loaded.toString());
            for (int s = 0; s < sentences.size(); s++) {
                Encoding enc = tok.encode(sentences.get(s), true);
                assertArrayEquals(ints(exp.get("input_ids." + s))[0], enc.ids(), "input ids of sentence " + s);
                Explanation x = Explainer.explain(m, enc);
                assertEquals((int) exp.get("predicted." + s).getDouble(0), x.label(), "predicted label of sentence " + s);
                assertEquals(exp.get("logits." + s).getDouble(0, x.label()), x.logit(), 1e-4, "logit");
                double scale = 0;
                for (double v : exp.get("gxi." + s).toDoubleArray()) scale = Math.max(scale, Math.abs(v));
                assertClose(exp.get("gxi." + s), new double[][] {x.gradientXInput()}, 1e-3 * scale, "sentence " + s + " gradient x input");
                assertClose(exp.get("rollout." + s), new double[][] {x.attentionRollout()}, 1e-5, "sentence " + s + " attention rollout");
            }
        }
    }

    /**
     * The real all-MiniLM-L6-v2 with a fresh (seeded) two-label head: per token, gradient x input
     * is the derivative of the logit along that token's own embedding (d/dε logit(E + ε E_i) at 0),
     * checked by central differences through the same word-embeddings hook; the tokens, offsets and
     * special marks are the tokenizer's.
     */
    @Test
    void realMiniLmGradientXInputIsTheDirectionalDerivative() throws IOException {
        Path dir = dev.attn4j.testing.MiniLm.any();
        assumeTrue(Files.isDirectory(dir), "shared model directory not present: " + dir);
        Tokenizer tok = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
        String text = "The film was a wonderful surprise, but the ending dragged.";
        Encoding enc = tok.encode(text, true);
        try (EncoderClassifier m = EncoderClassifiers.load(dir, new EncoderClassifiers.Options(
                EncoderClassifiers.Task.SEQUENCE_CLASSIFICATION, ClassifierConfig.ofNumLabels(2), false, 42, null))) {
            Explanation x = Explainer.explain(m, enc);
            assertEquals(enc.tokens(), x.tokens());
            assertEquals("[CLS]", x.tokens().get(0));
            assertTrue(x.special()[0] && x.special()[x.length() - 1], "[CLS] and [SEP] are marked");
            for (int i = 1; i < x.length() - 1; i++) assertFalse(x.special()[i], x.tokens().get(i));
            int wonderful = x.tokens().indexOf("wonderful");
            assertEquals("wonderful", text.substring(x.offsets()[wonderful][0], x.offsets()[wonderful][1]));
            double sum = 0;
            for (double r : x.attentionRollout()) {
                assertTrue(r >= 0);
                sum += r;
            }
            assertEquals(1.0, sum, 1e-5);
            BertEmbeddings emb = ((BertModel) m.encoder()).embeddings;
            EncoderInput in = new EncoderInput(new int[][] {enc.ids()}, null, new int[][] {enc.typeIds()});
            double max = 0;
            for (double g : x.gradientXInput()) max = Math.max(max, Math.abs(g));
            assertTrue(max > 0);
            double eps = 1e-2;
            for (int i = 0; i < x.length(); i++) {
                double d = (logitWithScaledToken(m, emb, in, i, 1 + eps, x.label())
                        - logitWithScaledToken(m, emb, in, i, 1 - eps, x.label())) / (2 * eps);
                assertEquals(d, x.gradientXInput()[i], 0.02 * max, "token " + i + " " + x.tokens().get(i));
            }
        }
    }

    private static double logitWithScaledToken(EncoderClassifier m, BertEmbeddings emb, EncoderInput in, int token, double scale,
                                               int label) {
        try (var g = GradMode.noGrad()) {
            Tensor logits = emb.withWordEmbeddingsHook(x -> {
                NDArray a = x.data().contiguous().copy();                          // [1, T, C]
                NDArray row = a.select(0, 0).select(0, token);                     // [C]
                for (int c = 0; c < row.dim(0); c++) row.set(row.getDouble(c) * scale, c);
                return Tensor.of(a);
            }, () -> m.forward(in));                                               // [1, L]
            return logits.data().getDouble(0, label);
        }
    }
}
