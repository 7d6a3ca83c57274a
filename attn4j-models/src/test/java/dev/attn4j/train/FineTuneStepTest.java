package dev.attn4j.train;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.optim.LrSchedules;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Two optimizer steps as transformers' Trainer takes them (AdamW over the decay / no-decay groups,
 * clipping to norm 1, linear schedule) against the float64 transcription in
 * {@code scripts/make-classifier-references.py}.
 */
class FineTuneStepTest {
    @Test
    void twoTrainerStepsMatchFloat64() throws Exception {
        Path dir = Path.of(getClass().getResource("/classifiers/bert-seq/config.json").toURI()).getParent();
        Map<String, NDArray> exp = new LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir.resolve("expected.safetensors"))) {
            for (String k : c.names()) exp.put(k, c.getCopy(k));
        }
        int[][] ids = ints(exp.get("input_ids")), mask = ints(exp.get("attention_mask"));
        float[] labels = exp.get("labels").toFloatArray();
        try (EncoderClassifier m = EncoderClassifiers.load(dir, new EncoderClassifiers.Options(null, null, true, 1, null))) {
            m.eval();
            ParameterGroups opt = new ParameterGroups(m, 1e-3, 0.01);
            TreeSet<String> decay = new TreeSet<>();
            for (String k : exp.keySet()) if (k.startsWith("decay.")) decay.add(k.substring(6));
            assertEquals(decay, new TreeSet<>(opt.decayNames()), "Trainer.get_decay_parameter_names");
            LrSchedules.Schedule sched = LrSchedules.linearWarmupLinearDecay(1e-3, 0, 4);
            for (int s = 0; s < 2; s++) {
                int from = s;
                int[][] bi = Arrays.copyOfRange(ids, from, 3), bm = Arrays.copyOfRange(mask, from, 3);
                float[] bl = Arrays.copyOfRange(labels, from, 3);
                Tensor logits = m.forward(new EncoderInput(bi, bm, null));
                m.loss(logits, NDArray.of(bl, bl.length)).backward();
                opt.step(sched.lr(opt.steps()), 1.0);
                opt.zeroGrad();
            }
            assertEquals(2, opt.steps());
            for (var e : m.namedParameters().entrySet()) {
                NDArray want = exp.get("step." + e.getKey());
                // The key bias's gradient is zero in exact arithmetic (softmax ignores a shift of a query's scores), so
                // Adam's m / (sqrt(v) + eps) turns float32 rounding noise into steps of up to lr: allow two of them.
                double atol = e.getKey().endsWith("attention.self.key.bias") ? 2e-3 : 2e-6;
                EncoderClassifierTestAccess.assertClose(want, e.getValue().data(), atol, 1e-4, "after two steps: " + e.getKey());
            }
        }
    }

    static int[][] ints(NDArray a) {
        int b = a.dim(0), t = a.dim(1);
        int[][] out = new int[b][t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) out[i][j] = (int) a.getDouble(i, j);
        return out;
    }

    /** The tolerance check of the head tests. */
    static final class EncoderClassifierTestAccess {
        static void assertClose(NDArray expected, NDArray actual, double atol, double rtol, String what) {
            double[] e = expected.toDoubleArray(), a = actual.contiguous().toDoubleArray();
            assertEquals(e.length, a.length, what);
            for (int i = 0; i < e.length; i++) {
                double tol = atol + rtol * Math.abs(e[i]);
                if (!(Math.abs(e[i] - a[i]) <= tol)) {
                    throw new AssertionError(what + "[" + i + "]: expected " + e[i] + ", got " + a[i] + " (tolerance " + tol + ")");
                }
            }
        }
    }
}
