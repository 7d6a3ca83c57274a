package dev.attn4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ModuleTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** A little encoder-shaped tree: layers.0.linear1, layers.1.linear1, norm. */
    static final class Block extends Module {
        final Linear linear1;
        final Dropout dropout;

        Block(SplittableRandom rng) {
            linear1 = child("linear1", new Linear(4, 3, rng));
            dropout = child("dropout", new Dropout(0.5, rng));
        }
    }

    static final class Encoder extends Module {
        final Sequential layers;
        final LayerNorm norm;

        Encoder(SplittableRandom rng) {
            layers = child("layers", new Sequential(new Linear(4, 4, rng), new Linear(4, 4, false, rng)));
            norm = child("norm", new LayerNorm(4));
            child("block", new Block(rng));
        }
    }

    @Test
    void namedParametersUseDottedPyTorchNames() {
        Encoder e = new Encoder(rng);
        assertThat(e.namedParameters().keySet()).containsExactly(
                "layers.0.weight", "layers.0.bias", "layers.1.weight", "norm.weight", "norm.bias",
                "block.linear1.weight", "block.linear1.bias");
        assertThat(e.namedParameters().get("block.linear1.weight").shape()).isEqualTo(Shape.of(3, 4));
        assertThat(e.parameterCount()).isEqualTo(16 + 4 + 16 + 4 + 4 + 12 + 3);
        assertThat(e.parameters()).allMatch(Tensor::requiresGrad);
    }

    @Test
    void trainAndEvalReachEveryDescendant() {
        Encoder e = new Encoder(rng);
        e.eval();
        assertThat(e.namedModules().values()).noneMatch(Module::isTraining);
        Block b = (Block) e.children().get("block");
        Tensor x = Tensor.of(NDArray.uniform(rng, Shape.of(8, 4), -1, 1));
        assertThat(b.dropout.forward(x).data().toFloatArray()).isEqualTo(x.data().toFloatArray());
        e.train();
        float[] dropped = b.dropout.forward(x).data().toFloatArray();
        int zeros = 0;
        for (float v : dropped) if (v == 0f) zeros++;
        assertThat(zeros).as("seed %d", seed).isBetween(1, 31);
    }

    @Test
    void stateDictRoundTripAndStrictness() {
        Encoder a = new Encoder(rng);
        Encoder b = new Encoder(rng);
        Map<String, NDArray> sd = new LinkedHashMap<>();
        a.stateDict().forEach((k, v) -> sd.put(k, v.copy()));
        assertThat(b.loadStateDict(sd, true).missingKeys()).isEmpty();
        b.stateDict().forEach((k, v) -> assertThat(v.toFloatArray()).as(k).isEqualTo(sd.get(k).toFloatArray()));

        Map<String, NDArray> partial = new LinkedHashMap<>(sd);
        partial.remove("norm.bias");
        partial.put("extra.weight", NDArray.zeros(2));
        assertThatThrownBy(() -> b.loadStateDict(partial, true))
                .hasMessageContaining("missing keys [norm.bias]").hasMessageContaining("unexpected keys [extra.weight]");
        Module.LoadResult r = b.loadStateDict(partial, false);
        assertThat(r.missingKeys()).containsExactly("norm.bias");
        assertThat(r.unexpectedKeys()).containsExactly("extra.weight");

        Map<String, NDArray> wrong = new LinkedHashMap<>(sd);
        wrong.put("layers.0.weight", NDArray.zeros(4, 5));
        assertThatThrownBy(() -> b.loadStateDict(wrong, false))
                .hasMessageContaining("layers.0.weight").hasMessageContaining("[4, 5]").hasMessageContaining("[4, 4]");
    }

    @Test
    void linearMatchesAFloat64Reference() {
        Linear l = new Linear(7, 5, rng);
        NDArray x = NDArray.uniform(rng, Shape.of(3, 2, 7), -1, 1);
        NDArray y;
        try (var g = GradMode.noGrad()) {
            y = l.forward(Tensor.of(x)).data(); // [3, 2, 5]
        }
        assertThat(y.shape()).isEqualTo(Shape.of(3, 2, 5));
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++)
                for (int o = 0; o < 5; o++) {
                    double s = l.bias.data().getDouble(o);
                    for (int k = 0; k < 7; k++) s += x.getDouble(i, j, k) * l.weight.data().getDouble(o, k);
                    assertThat(y.getDouble(i, j, o)).as("seed %d", seed).isCloseTo(s, org.assertj.core.api.Assertions.within(1e-5));
                }
        assertThatThrownBy(() -> l.forward(Tensor.zeros(2, 6))).hasMessageContaining("[2, 6]").hasMessageContaining("7");
        // default init bound 1/sqrt(in)
        double bound = 1 / Math.sqrt(7);
        for (float w : l.weight.data().toFloatArray()) assertThat(Math.abs(w)).isLessThanOrEqualTo((float) bound);
    }

    @Test
    void embeddingPaddingRowIsZeroAndGetsNoGradient() {
        Embedding emb = new Embedding(10, 3, 0, rng);
        assertThat(emb.weight.data().select(0, 0).toFloatArray()).containsOnly(0f);
        Tensor out = emb.forward(NDArray.of(new float[] {0, 3, 3, 0}, 2, 2)); // [2, 2, 3]
        assertThat(out.shape()).isEqualTo(Shape.of(2, 2, 3));
        out.sum().backward();
        NDArray g = emb.weight.grad();
        assertThat(g.select(0, 0).toFloatArray()).containsOnly(0f);
        assertThat(g.select(0, 3).toFloatArray()).containsOnly(2f);
        assertThat(g.select(0, 1).toFloatArray()).containsOnly(0f);
    }

    @Test
    void layerNormAndRmsNormMatchReferences() {
        LayerNorm ln = new LayerNorm(6);
        RMSNorm rms = new RMSNorm(6, 1e-6);
        NDArray x = NDArray.uniform(rng, Shape.of(4, 6), -3, 3);
        NDArray ly = ln.forward(Tensor.of(x)).data();
        NDArray ry = rms.forward(Tensor.of(x)).data();
        for (int i = 0; i < 4; i++) {
            double mean = 0, var = 0, ms = 0;
            for (int j = 0; j < 6; j++) mean += x.getDouble(i, j) / 6;
            for (int j = 0; j < 6; j++) {
                var += Math.pow(x.getDouble(i, j) - mean, 2) / 6;
                ms += Math.pow(x.getDouble(i, j), 2) / 6;
            }
            for (int j = 0; j < 6; j++) {
                assertThat(ly.getDouble(i, j)).isCloseTo((x.getDouble(i, j) - mean) / Math.sqrt(var + 1e-5),
                        org.assertj.core.api.Assertions.within(1e-5));
                assertThat(ry.getDouble(i, j)).isCloseTo(x.getDouble(i, j) / Math.sqrt(ms + 1e-6),
                        org.assertj.core.api.Assertions.within(1e-5));
            }
        }
        assertThat(new RMSNorm(6).eps).isEqualTo(Math.ulp(1.0f));
    }

    @Test
    void activationsByConfigName() {
        assertThat(Activation.byName("gelu").forward(Tensor.of(new float[] {1f}, 1)).item()).isCloseTo(0.8413447, org.assertj.core.api.Assertions.within(1e-6));
        assertThat(Activation.byName("gelu_new").forward(Tensor.of(new float[] {1f}, 1)).item()).isCloseTo(0.8411920, org.assertj.core.api.Assertions.within(1e-6));
        assertThatThrownBy(() -> Activation.byName("swoosh")).hasMessageContaining("swoosh");
    }
}
