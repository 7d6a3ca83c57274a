package dev.attn4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LoraTest {
    private final SplittableRandom rng = new SplittableRandom(18);

    /** An encoder-shaped tree: layers.N.{query, key, value, out}, a pre_classifier and a classifier. */
    static final class Attn extends Module {
        final Linear query, key, value, out;

        Attn(SplittableRandom rng) {
            query = child("query", new Linear(6, 6, rng));
            key = child("key", new Linear(6, 6, rng));
            value = child("value", new Linear(6, 6, rng));
            out = child("out", new Linear(6, 6, rng));
        }

        Tensor forward(Tensor x) {
            return out.forward(query.forward(x).mul(key.forward(x)).add(value.forward(x)).tanh()); // [B, 6]
        }
    }

    static final class Net extends Module {
        final ModuleList<Attn> layers;
        final LayerNorm norm;
        final Linear preClassifier, classifier;

        Net(SplittableRandom rng) {
            layers = child("layers", new ModuleList<>(List.of(new Attn(rng), new Attn(rng))));
            norm = child("norm", new LayerNorm(6));
            preClassifier = child("pre_classifier", new Linear(6, 6, rng));
            classifier = child("classifier", new Linear(6, 3, rng));
        }

        Tensor forward(Tensor x) {
            for (Attn a : layers) x = a.forward(x);
            return classifier.forward(preClassifier.forward(norm.forward(x)).tanh()); // [B, 3]
        }
    }

    private static LoraConfig qv() {
        return LoraConfig.of(4, 8, List.of("query", "value"));
    }

    @Test
    void forwardAndMergeMatchTheFloat64Reference() throws IOException {
        JsonNode root;
        try (InputStream in = LoraTest.class.getResourceAsStream("/lora/linear.json")) {
            root = new ObjectMapper().readTree(in);
        }
        assertThat(root.get("cases").size()).isEqualTo(2);
        for (JsonNode c : root.get("cases")) {
            int in = c.get("in").asInt(), out = c.get("out").asInt(), r = c.get("r").asInt();
            int[] xShape = ints(c.get("x_shape"));
            NDArray bias = c.get("bias").isNull() ? null : array(c.get("bias"), out);
            Linear base = new Linear(array(c.get("weight"), out, in), bias);
            LoraLinear l = new LoraLinear(base, r, c.get("lora_alpha").asDouble(), 0.0, c.get("use_rslora").asBoolean(), rng);
            l.loraA.weight.data().copyFrom(array(c.get("lora_A"), r, in));
            l.loraB.weight.data().copyFrom(array(c.get("lora_B"), out, r));
            Tensor x = Tensor.of(array(c.get("x"), xShape));
            NDArray y = l.forward(x).data();
            assertClose(y, c.get("y"), 2e-5, c.get("name").asText() + " forward");
            assertClose(base.forward(x).data(), c.get("y"), 2e-5, "the hooked base layer's forward");
            assertThat(l.merge()).isTrue();
            assertThat(l.merge()).as("second merge does nothing").isFalse();
            assertClose(base.weight.data(), c.get("merged_weight"), 1e-6, c.get("name").asText() + " merged weight");
            assertClose(l.forward(x).data(), c.get("y"), 2e-5, "merged forward");
            assertThat(l.unmerge()).isTrue();
            assertClose(base.weight.data(), c.get("weight"), 1e-6, "unmerged weight");
        }
    }

    @Test
    void freshAdapterStartsAsTheBaseLayerWithPeftsInitialisation() {
        Linear base = new Linear(16, 5, rng);
        Tensor x = Tensor.of(NDArray.normal(rng, Shape.of(3, 16), 0, 1));
        NDArray before = base.forward(x).data().copy();
        LoraLinear l = new LoraLinear(base, 8, 16, 0.1, false, rng);
        assertThat(l.scaling).isEqualTo(2.0);
        assertThat(new LoraLinear(new Linear(4, 4, rng), 4, 8, 0, true, rng).scaling).isEqualTo(4.0);
        assertThat(l.loraA.weight.shape()).isEqualTo(Shape.of(8, 16));
        assertThat(l.loraB.weight.shape()).isEqualTo(Shape.of(5, 8));
        float[] a = l.loraA.weight.data().toFloatArray();
        double bound = 1 / Math.sqrt(16);                       // kaiming_uniform(a = sqrt(5)): U(-1/sqrt(in), 1/sqrt(in))
        double maxAbs = 0;
        for (float v : a) maxAbs = Math.max(maxAbs, Math.abs(v));
        assertThat(maxAbs).isLessThanOrEqualTo(bound).isGreaterThan(0.7 * bound);
        assertThat(l.loraB.weight.data().toFloatArray()).containsOnly(0f);
        l.eval();
        assertThat(l.forward(x).data().toFloatArray()).containsExactly(before.toFloatArray());
    }

    @Test
    void applyWrapsTargetsUnderPeftsNamesAndFreezesTheRest() {
        Net net = new Net(rng);
        Map<String, NDArray> baseState = net.stateDict();
        Map<String, LoraLinear> layers = Lora.apply(net, qv().withModulesToSave(List.of("classifier")), rng);
        assertThat(layers.keySet()).containsExactly("layers.0.query", "layers.0.value", "layers.1.query", "layers.1.value");
        assertThat(net.stateDict().keySet()).contains("layers.0.query.base_layer.weight", "layers.0.query.base_layer.bias",
                "layers.0.query.lora_A.default.weight", "layers.0.query.lora_B.default.weight", "layers.0.key.weight",
                "layers.1.value.lora_B.default.weight", "classifier.weight", "pre_classifier.weight");
        assertThat(net.stateDict().keySet()).doesNotContain("layers.0.query.weight");
        assertThat(net.stateDict().get("layers.1.value.base_layer.weight")).isSameAs(baseState.get("layers.1.value.weight"));
        // "classifier" is a suffix of "pre_classifier" too: peft's modules_to_save test is key.endswith(name)
        assertThat(Lora.trainableParameters(net).keySet()).containsExactlyInAnyOrder(
                "layers.0.query.lora_A.default.weight", "layers.0.query.lora_B.default.weight",
                "layers.0.value.lora_A.default.weight", "layers.0.value.lora_B.default.weight",
                "layers.1.query.lora_A.default.weight", "layers.1.query.lora_B.default.weight",
                "layers.1.value.lora_A.default.weight", "layers.1.value.lora_B.default.weight",
                "pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias");
        assertThat(net.layers.get(0).query.lora()).isSameAs(layers.get("layers.0.query"));
        assertThatThrownBy(() -> Lora.apply(net, qv(), rng)).hasMessageContaining("already holds a LoRA adapter");
    }

    @Test
    void gradientsReachOnlyTheAdaptersAndModulesToSave() {
        Net net = new Net(rng);
        Lora.apply(net, qv().withDropout(0.2).withModulesToSave(List.of("classifier")), rng);
        for (LoraLinear l : Lora.layers(net).values()) {       // B = 0 would give A a zero gradient
            l.loraB.weight.data().copyFrom(NDArray.normal(rng, l.loraB.weight.shape(), 0, 0.3));
        }
        net.train();
        Tensor x = Tensor.of(NDArray.normal(rng, Shape.of(5, 6), 0, 1));
        net.forward(x).square().sum().backward();
        List<String> withGrad = new ArrayList<>();
        net.namedParameters().forEach((name, p) -> {
            if (p.grad() != null) withGrad.add(name);
        });
        assertThat(withGrad).containsExactlyInAnyOrderElementsOf(Lora.trainableParameters(net).keySet());
        for (String name : withGrad) {
            double norm = 0;
            for (float v : net.namedParameters().get(name).grad().toFloatArray()) norm += v * v;
            assertThat(norm).as(name).isGreaterThan(0);
        }
    }

    @Test
    void gradientsOfTheAdapterMatchFiniteDifferences() {
        Linear base = new Linear(5, 4, rng);
        base.weight.requiresGrad(false);
        base.bias.requiresGrad(false);
        LoraLinear l = new LoraLinear(base, 3, 6, 0, false, rng);
        l.loraB.weight.data().copyFrom(NDArray.normal(rng, Shape.of(4, 3), 0, 0.5));
        NDArray x = NDArray.normal(rng, Shape.of(2, 5), 0, 1);
        l.forward(Tensor.of(x)).square().sum().backward();
        for (Tensor p : List.of(l.loraA.weight, l.loraB.weight)) {
            NDArray g = p.grad();
            for (int i = 0; i < p.numel(); i++) {
                int si = p.data().storageIndexOfFlat(i);
                float orig = p.data().storage().getFloat(si);
                double h = 1e-2;
                p.data().storage().setDouble(si, orig + h);
                double up = l.forward(Tensor.of(x)).square().sum().item();
                p.data().storage().setDouble(si, orig - h);
                double down = l.forward(Tensor.of(x)).square().sum().item();
                p.data().storage().setDouble(si, orig);
                double numeric = (up - down) / (2 * h);
                assertThat(g.storage().getDouble(g.storageIndexOfFlat(i))).isCloseTo(numeric, org.assertj.core.data.Offset.offset(2e-2 * (1 + Math.abs(numeric))));
            }
        }
        assertThat(base.weight.grad()).isNull();
    }

    @Test
    void targetMatchingFollowsPeft() {
        // a list entry matches the whole name or a dotted suffix (tuners_utils.check_target_module_exists)
        assertThat(Lora.apply(new Net(rng), LoraConfig.of(2, 2, List.of("layers.0.key")), rng).keySet())
                .containsExactly("layers.0.key");
        assertThat(Lora.apply(new Net(rng), LoraConfig.of(2, 2, List.of("classifier")), rng).keySet())
                .containsExactly("classifier");
        assertThatThrownBy(() -> Lora.apply(new Net(rng), LoraConfig.of(2, 2, List.of("ery")), rng))
                .hasMessageContaining("target_modules [ery] not found");
        // a string is a regular expression over the whole name (re.fullmatch)
        LoraConfig regex = LoraConfig.of(2, 2, List.of("x")).withTargetModulesRegex(".*\\.1\\.(query|out)");
        assertThat(Lora.apply(new Net(rng), regex, rng).keySet()).containsExactly("layers.1.query", "layers.1.out");
        assertThatThrownBy(() -> Lora.apply(new Net(rng), LoraConfig.of(2, 2, List.of("x")).withTargetModulesRegex("layers\\.1"), rng))
                .hasMessageContaining("'layers.1' is a Attn, not a Linear");
        // a Linear whose parent reads its weight directly would silently lose the adapter
        final class Direct extends Module implements ReadsLinearWeights {
            Direct(SplittableRandom rng) {
                child("proj", new Linear(3, 3, rng));
            }
        }
        final class Holder extends Module {
            Holder(SplittableRandom rng) {
                child("attn", new Direct(rng));
            }
        }
        assertThatThrownBy(() -> Lora.apply(new Holder(rng), LoraConfig.of(2, 2, List.of("proj")), rng))
                .hasMessageContaining("'attn.proj' cannot be adapted: its parent Direct reads the Linear's weight directly");
        // targets inside modules_to_save are left alone
        Net net = new Net(rng);
        Map<String, LoraLinear> l = Lora.apply(net, LoraConfig.of(2, 2, List.of("classifier", "query"))
                .withModulesToSave(List.of("pre_classifier")), rng);
        assertThat(l.keySet()).containsExactly("layers.0.query", "layers.1.query", "classifier");
        assertThatThrownBy(() -> LoraConfig.of(0, 2, List.of("q"))).hasMessageContaining("r must be a positive integer");
        assertThatThrownBy(() -> LoraConfig.of(2, 2, List.of("q")).withTargetModulesRegex("(")).hasMessageContaining("not a valid regular expression");
        assertThatThrownBy(() -> new LoraConfig(2, 2, 0, List.of("q"), null, null, false, "all", null, null, false))
                .hasMessageContaining("bias \"all\" is not supported");
    }

    @Test
    void mergeAndUnloadGivesBackThePlainModelWithTheUpdateFolded() {
        Net net = new Net(rng);
        Tensor x = Tensor.of(NDArray.normal(rng, Shape.of(4, 6), 0, 1));
        Map<String, LoraLinear> layers = Lora.apply(net, qv(), rng);
        for (LoraLinear l : layers.values()) l.loraB.weight.data().copyFrom(NDArray.normal(rng, l.loraB.weight.shape(), 0, 0.3));
        net.eval();
        NDArray withAdapter = net.forward(x).data().copy();
        NDArray q0 = net.layers.get(0).query.weight.data().copy();
        NDArray delta = layers.get("layers.0.query").deltaWeight();
        Lora.mergeAndUnload(net);
        assertThat(Lora.layers(net)).isEmpty();
        assertThat(net.layers.get(0).query.lora()).isNull();
        assertThat(net.stateDict().keySet()).contains("layers.0.query.weight").noneMatch(k -> k.contains("lora_") || k.contains("base_layer"));
        NDArray merged = net.layers.get(0).query.weight.data();
        for (int o = 0; o < 6; o++) {
            for (int i = 0; i < 6; i++) {
                assertThat(merged.getDouble(o, i)).isCloseTo(q0.getDouble(o, i) + delta.getDouble(o, i), org.assertj.core.data.Offset.offset(1e-6));
            }
        }
        assertThat(maxDiff(net.forward(x).data(), withAdapter)).isLessThan(1e-5);
    }

    private static double maxDiff(NDArray a, NDArray b) {
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }

    private static int[] ints(JsonNode n) {
        int[] out = new int[n.size()];
        for (int i = 0; i < out.length; i++) out[i] = n.get(i).asInt();
        return out;
    }

    private static NDArray array(JsonNode values, int... shape) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) values.get(i).asDouble();
        return NDArray.of(f, shape);
    }

    private static void assertClose(NDArray actual, JsonNode expected, double tol, String what) {
        float[] a = actual.toFloatArray();
        assertThat(a).as(what + " size").hasSize(expected.size());
        for (int i = 0; i < a.length; i++) {
            double e = expected.get(i).asDouble();
            assertThat(Math.abs(a[i] - e)).as(what + " [" + i + "]: " + a[i] + " vs " + e).isLessThanOrEqualTo(tol * Math.max(1, Math.abs(e)));
        }
    }
}
