package dev.attn4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.models.Params;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.BertForSequenceClassification;
import dev.attn4j.models.bert.ClassifierConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassifierTrainerTest {
    static Path tiny() throws Exception {
        return Path.of(ClassifierTrainerTest.class.getResource("/classifiers/bert-seq/config.json").toURI()).getParent();
    }

    /** A learnable toy task: label = 2 if token 7 occurs, 1 if token 9 occurs, else 0. */
    static List<ClassifierTrainer.Example> data(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<ClassifierTrainer.Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 3 + r.nextInt(9);
            int[] ids = new int[len];
            ids[0] = 2;
            for (int j = 1; j < len; j++) ids[j] = 10 + r.nextInt(30);
            int label = r.nextInt(3);
            if (label > 0) ids[1 + r.nextInt(len - 1)] = label == 2 ? 7 : 9;
            out.add(new ClassifierTrainer.Example(ids, new int[len], label));
        }
        return out;
    }

    static FineTuneConfig cfg() {
        return FineTuneConfig.defaults().withLr(3e-3).withEpochs(2, -1).withBatch(8, 16, 2)
                .withRegularisation(0.1, 0.01, 1.0, "linear").withEvaluation(5, "accuracy", 0).withData(7, true, true, true, 3);
    }

    static EncoderClassifier load(long seed) throws Exception {
        return EncoderClassifiers.load(tiny(), new EncoderClassifiers.Options(null, null, true, seed, null));
    }

    @Test
    void batchesCoverEveryExampleOnceAndFollowTheSeed() throws Exception {
        try (EncoderClassifier m = load(1)) {
            ClassifierTrainer t = ClassifierTrainer.create(m, tiny(), data(203, 1), List.of(), cfg(), Path.of("unused"), null, null);
            List<int[]> e0 = t.batches(0), e1 = t.batches(1), again = t.batches(0);
            int[] seen = new int[203];
            for (int[] b : e0) for (int i : b) seen[i]++;
            for (int s : seen) assertEquals(1, s);
            assertEquals(26, e0.size());
            for (int i = 0; i < e0.size(); i++) assertArrayEquals(e0.get(i), again.get(i));
            assertNotEquals(Arrays.toString(e0.get(1)), Arrays.toString(e1.get(1)), "a new order each epoch");
            assertEquals(13, t.stepsPerEpoch());
            assertEquals(26, t.totalSteps());
            assertEquals(0.0, t.lrAt(0));                        // warm-up ceil(0.1 * 26) = 3 steps, from 0
            assertEquals(3e-3 * 2 / 3, t.lrAt(2), 1e-15);
            assertEquals(3e-3 * 23 / 23, t.lrAt(3), 1e-15);
            assertEquals(3e-3 * 1 / 23, t.lrAt(25), 1e-15);
        }
    }

    /** A freshly initialised BERT classifier (N(0, 0.02) weights, as transformers initialises) saved in HF layout. */
    static Path freshModel(Path dir) throws Exception {
        BertConfig c = BertConfig.bert(40, 32, 2, 4, 64, 24, 2);
        SplittableRandom rng = new SplittableRandom(5);
        var m = new BertForSequenceClassification(c, new ClassifierConfig(List.of("neg", "neu", "pos"), null, null), null,
                Params.random(rng, 0.02), Params.random(rng, 0.02), rng);
        m.savePretrained(dir, null);
        return dir;
    }

    @Test
    void learnsAToyTaskAndWritesTheBestModel(@TempDir Path tmp) throws Exception {
        List<String> evals = new ArrayList<>();
        FineTuneConfig c = cfg().withEpochs(8, -1).withLr(2e-3);
        ClassifierTrainer.Result r;
        Path fresh = freshModel(tmp.resolve("fresh"));
        try (EncoderClassifier m = EncoderClassifiers.load(fresh, new EncoderClassifiers.Options(null, null, true, 3, null))) {
            ClassifierTrainer t = ClassifierTrainer.create(m, fresh, data(240, 2), data(60, 3), c, tmp.resolve("work"), null, evals::add);
            r = t.run(tmp.resolve("out"));
        }
        JsonNode last = ClassifierTrainer.JSON.readTree(evals.get(evals.size() - 1));
        assertTrue(r.bestValue() >= 0.9, "best accuracy " + r.bestValue() + " " + evals);
        assertTrue(last.has("confusion") && last.get("perClass").has("pos"), last.toString());
        try (EncoderClassifier best = EncoderClassifiers.load(tmp.resolve("out"))) {
            ClassifierTrainer.Evaluation ev = ClassifierTrainer.evaluate(best, data(60, 3), 16);
            assertEquals(r.bestValue(), ev.metrics().accuracy(), 1e-12, "out holds the best evaluation's model");
        }
    }

    /**
     * A run interrupted at step 4 (mid-epoch, between evaluations) and resumed from its checkpoint
     * restores the model and the optimizer state bit for bit and the schedule position, takes the
     * same batches, and ends where the straight run ends. The end weights are compared within 1e-5:
     * the Vector API leaves the lane order of a float reduction open, and code the JIT compiled
     * between two runs can sum in another order (a run can differ from itself in the last bits).
     */
    @Test
    void resumeContinuesExactly(@TempDir Path tmp) throws Exception {
        List<ClassifierTrainer.Example> train = data(100, 4), eval = data(20, 5);
        Map<String, NDArray> straight;
        try (EncoderClassifier m = load(9)) {
            ClassifierTrainer.create(m, tiny(), train, eval, cfg(), tmp.resolve("a"), null, null).run(tmp.resolve("out-a"));
            straight = copy(m);
        }
        Map<String, NDArray> weightsAt4, optimizerAt4;
        List<int[]> epoch1;
        try (EncoderClassifier m = load(9)) {
            ClassifierTrainer t = ClassifierTrainer.create(m, tiny(), train, eval, cfg(), tmp.resolve("b"), null, null);
            t.interruptAfter = 4;
            assertNull(t.run(tmp.resolve("out-b")));
            weightsAt4 = copy(m);
            optimizerAt4 = t.optimizer().stateDict();
            epoch1 = t.batches(1);
        }
        ClassifierTrainer resumed = ClassifierTrainer.resume(tmp.resolve("b"), tiny(), train, eval, cfg(), null, null);
        assertEquals(4, resumed.state().step());
        assertEquals(4, resumed.optimizer().steps());
        Map<String, NDArray> w = copy(resumed.model()), o = resumed.optimizer().stateDict();
        for (var e : weightsAt4.entrySet()) assertArrayEquals(e.getValue().toFloatArray(), w.get(e.getKey()).toFloatArray(), e.getKey());
        assertEquals(optimizerAt4.keySet(), o.keySet());
        for (var e : optimizerAt4.entrySet()) assertArrayEquals(e.getValue().toFloatArray(), o.get(e.getKey()).toFloatArray(), e.getKey());
        List<int[]> again = resumed.batches(1);
        for (int i = 0; i < epoch1.size(); i++) assertArrayEquals(epoch1.get(i), again.get(i));
        ClassifierTrainer.Result r = resumed.run(tmp.resolve("out-b"));
        assertEquals(14, r.steps());
        Map<String, NDArray> end = copy(resumed.model());
        for (var e : straight.entrySet()) {
            float[] a = e.getValue().toFloatArray(), b = end.get(e.getKey()).toFloatArray();
            // the key bias's gradient is zero in exact arithmetic: Adam turns its rounding noise into steps of up to lr
            double tol = e.getKey().endsWith("attention.self.key.bias") ? 3e-3 * 10 : 1e-5;
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], tol, e.getKey() + "[" + i + "]");
        }
        assertTrue(Files.isRegularFile(tmp.resolve("out-b/model.safetensors")));
        resumed.model().close();
    }

    static Map<String, NDArray> copy(EncoderClassifier m) {
        Map<String, NDArray> out = new java.util.LinkedHashMap<>();
        for (var e : m.namedParameters().entrySet()) out.put(e.getKey(), e.getValue().data().copy());
        return out;
    }

    @Test
    void earlyStoppingStopsAfterPatienceEvaluations(@TempDir Path tmp) throws Exception {
        List<String> evals = new ArrayList<>();
        // lr far too small to change the accuracy: every evaluation after the first is no better
        FineTuneConfig c = cfg().withLr(1e-9).withEpochs(5, -1).withEvaluation(2, "accuracy", 2);
        try (EncoderClassifier m = load(2)) {
            ClassifierTrainer.Result r = ClassifierTrainer.create(m, tiny(), data(64, 6), data(20, 7), c, tmp.resolve("w"), null, evals::add)
                    .run(tmp.resolve("out"));
            assertTrue(r.earlyStopped());
            assertEquals(3, evals.size(), evals.toString());
            assertEquals(6, r.steps());
            assertEquals(2, r.bestStep());
        }
    }
}
