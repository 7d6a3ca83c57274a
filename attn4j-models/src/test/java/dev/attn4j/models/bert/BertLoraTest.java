package dev.attn4j.models.bert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.nn.Lora;
import dev.attn4j.nn.LoraConfig;
import dev.attn4j.nn.LoraLinear;
import dev.attn4j.tensor.NDArray;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA on BertModel: the inference fast path never drops an adapter, and the result is the float64 reference's. */
class BertLoraTest {
    @TempDir
    Path tmp;

    private final SplittableRandom rng = new SplittableRandom(18);

    @Test
    void loraBertMatchesTheFloat64ReferenceOnEveryPath() throws Exception {
        BertConfig c = BertInferenceTest.wider("gelu");
        Path dir = TinyEncoders.write(tmp.resolve("bert"), c, TinyEncoders.weights(c, true, rng), "", SafetensorsDType.F32);
        Map<String, double[]> w = TinyEncoders.readBack(dir, "");
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {3, 17, 9}, true);
        double[][][] base = TinyEncoders.forward(c, w, in).hidden().getLast();

        BertModel m = BertModel.fromPretrained(dir);
        LoraConfig config = LoraConfig.of(4, 8, List.of("query", "value"));
        Map<String, LoraLinear> layers = Lora.apply(m, config, rng);
        assertThat(layers).hasSize(2 * c.numHiddenLayers());
        Map<String, double[]> merged = new LinkedHashMap<>(w);
        for (var e : layers.entrySet()) {
            LoraLinear l = e.getValue();
            l.loraB.weight.data().copyFrom(NDArray.normal(rng, l.loraB.weight.shape(), 0, 0.5));
            double[] wm = merged.get(e.getKey() + ".weight").clone();                   // [out, in]
            NDArray a = l.loraA.weight.data(), b = l.loraB.weight.data();
            for (int o = 0; o < c.hiddenSize(); o++) {
                for (int i = 0; i < c.hiddenSize(); i++) {
                    double ba = 0;
                    for (int k = 0; k < 4; k++) ba += b.getDouble(o, k) * a.getDouble(k, i);
                    wm[o * c.hiddenSize() + i] += config.scaling() * ba;
                }
            }
            merged.put(e.getKey() + ".weight", wm);
        }
        TinyEncoders.Ref ref = TinyEncoders.forward(c, merged, in);
        double[][][] expected = ref.hidden().getLast();
        assertThat(maxDiff(expected, base)).as("the adapter changes the output").isGreaterThan(1e-2);

        m.eval();
        try (var g = GradMode.noGrad()) {
            assertThat(BertInference.applies(m)).as("an unmerged adapter keeps the fast path off").isFalse();
            assertThat(maxDiff(expected, m.forward(in).lastHiddenState().data())).isLessThan(2e-4);
            PackedHiddenStates packed = m.forwardPacked(in);
            assertThat(maxDiffPacked(expected, packed, in)).isLessThan(2e-4);
        }
        assertThat(maxDiff(expected, m.forward(in).lastHiddenState().data())).as("autograd path").isLessThan(2e-4);

        Lora.merge(m);
        try (var g = GradMode.noGrad()) {
            assertThat(BertInference.applies(m)).as("merged into the side-by-side q/k/v weights").isTrue();
            assertThat(maxDiff(expected, m.forward(in).lastHiddenState().data())).isLessThan(2e-4);
            assertThat(maxDiffPacked(expected, m.forwardPacked(in), in)).isLessThan(2e-4);
        }
        Lora.unmerge(m);
        try (var g = GradMode.noGrad()) {
            assertThat(BertInference.applies(m)).isFalse();
            assertThat(maxDiff(expected, m.forward(in).lastHiddenState().data())).isLessThan(2e-4);
        }
        Lora.mergeAndUnload(m);
        try (var g = GradMode.noGrad()) {
            assertThat(BertInference.applies(m)).isTrue();
            assertThat(maxDiff(expected, m.forward(in).lastHiddenState().data())).isLessThan(2e-4);
        }
    }

    @Test
    void trainingStepsMoveOnlyTheAdaptersAndModulesToSave() {
        BertConfig c = TinyEncoders.config("bert");
        BertModel m = BertModel.random(c, rng);
        Map<String, NDArray> before = new LinkedHashMap<>();
        m.stateDict().forEach((k, v) -> before.put(k, v.copy()));
        LoraConfig config = LoraConfig.of(2, 4, List.of("query", "value")).withDropout(0.1).withModulesToSave(List.of("embeddings.LayerNorm"));
        Lora.apply(m, config, rng);
        Map<String, dev.attn4j.autograd.Tensor> trainable = Lora.trainableParameters(m);
        assertThat(trainable.keySet()).hasSize(4 * c.numHiddenLayers() + 2).contains("embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                "encoder.layer.1.attention.self.value.lora_B.default.weight");
        dev.attn4j.optim.AdamW opt = new dev.attn4j.optim.AdamW(List.copyOf(trainable.values()), 1e-2);
        m.train();
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {4, 7}, true);
        for (int step = 0; step < 3; step++) {
            m.zeroGrad();
            m.forward(in).poolerOutput().square().sum().backward();
            m.namedParameters().forEach((k, p) -> assertThat(p.grad() != null).as(k).isEqualTo(trainable.containsKey(k)));
            opt.step();
        }
        Map<String, NDArray> after = m.stateDict();
        before.forEach((k, v) -> {
            String live = after.containsKey(k) ? k : k.replace(".weight", ".base_layer.weight").replace(".bias", ".base_layer.bias");
            boolean same = java.util.Arrays.equals(v.toFloatArray(), after.get(live).toFloatArray());
            assertThat(same).as(k + " unchanged").isEqualTo(!k.startsWith("embeddings.LayerNorm."));
        });
        assertThat(after.get("encoder.layer.0.attention.self.query.lora_B.default.weight").toFloatArray()).as("B moved").isNotEqualTo(
                new float[2 * c.hiddenSize()]);
    }

    private static double maxDiff(double[][][] ref, double[][][] other) {
        double d = 0;
        for (int b = 0; b < ref.length; b++) {
            for (int t = 0; t < ref[b].length; t++) {
                for (int j = 0; j < ref[b][t].length; j++) d = Math.max(d, Math.abs(ref[b][t][j] - other[b][t][j]));
            }
        }
        return d;
    }

    /** Over every position: the reference computes padding rows as the module path does. */
    private static double maxDiff(double[][][] ref, NDArray out) {
        double d = 0;
        for (int b = 0; b < ref.length; b++) {
            for (int t = 0; t < ref[b].length; t++) {
                for (int j = 0; j < ref[b][t].length; j++) d = Math.max(d, Math.abs(ref[b][t][j] - out.getDouble(b, t, j)));
            }
        }
        return d;
    }

    private static double maxDiffPacked(double[][][] ref, PackedHiddenStates p, EncoderInput in) {
        double d = 0;
        for (int b = 0; b < ref.length; b++) {
            for (int t = 0; t < in.realLength(b); t++) {
                for (int j = 0; j < ref[b][t].length; j++) d = Math.max(d, Math.abs(ref[b][t][j] - p.values()[p.valueOffset(b) + t * p.hiddenSize() + j]));
            }
        }
        return d;
    }
}
