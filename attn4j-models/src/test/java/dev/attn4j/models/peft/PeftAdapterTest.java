package dev.attn4j.models.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsFile;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.BertModel;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.models.bert.TinyEncodersAccess;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Lora;
import dev.attn4j.nn.LoraConfig;
import dev.attn4j.nn.LoraLinear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
    @TempDir
    Path tmp;

    private final SplittableRandom rng = new SplittableRandom(18);

    /** transformers' BertForSequenceClassification layout: {@code bert.*} and {@code classifier}. */
    static final class SeqCls extends Module {
        final BertModel bert;
        final Linear classifier;

        SeqCls(BertModel bert, SplittableRandom rng) {
            this.bert = child("bert", bert);
            this.classifier = child("classifier", new Linear(bert.config().hiddenSize(), 3, rng));
        }

        Tensor forward(EncoderInput in) {
            return classifier.forward(bert.forward(in).poolerOutput());                // [B, 3]
        }
    }

    private Path baseDir() throws IOException {
        BertConfig c = TinyEncodersAccess.config("bert");
        return TinyEncodersAccess.write(tmp.resolve("base"), c, TinyEncodersAccess.weights(c, true, new SplittableRandom(7)));
    }

    private static LoraConfig config(Path base) {
        return LoraConfig.of(4, 16, PeftAdapter.defaultTargetModules("bert")).withDropout(0.1)
                .withModulesToSave(List.of("classifier", "score")).withTaskType("SEQ_CLS")
                .withBaseModelNameOrPath(base.toString());
    }

    /** A model with an adapter whose A, B and head are all random (as after training). */
    private SeqCls trained(Path base, LoraConfig config) throws IOException {
        SeqCls m = new SeqCls(BertModel.fromPretrained(base), rng);
        Lora.apply(m, config, rng);
        for (LoraLinear l : Lora.layers(m).values()) {
            l.loraB.weight.data().copyFrom(NDArray.normal(rng, l.loraB.weight.shape(), 0, 0.5));
        }
        return m;
    }

    private static EncoderInput batch() {
        return new EncoderInput(new int[][] {{2, 9, 17, 30, 3}, {2, 40, 3, 0, 0}}, new int[][] {{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}, null);
    }

    @Test
    void savedKeysAndConfigAreWhatPeftWrites() throws IOException {
        Path base = baseDir();
        SeqCls m = trained(base, config(base));
        Path dir = tmp.resolve("adapter");
        assertThat(PeftAdapter.isAdapterDirectory(dir)).isFalse();
        PeftAdapter.save(dir, m, config(base));
        assertThat(PeftAdapter.isAdapterDirectory(dir)).isTrue();
        assertThat(PeftAdapter.isAdapterDirectory(base)).isFalse();
        // Transcribed from peft (huggingface/peft @ 5d602fd): PeftModel's state dict puts "base_model.model." before the
        // model's module names (peft_model.py, tuners_utils.BaseTuner.model); get_peft_model_state_dict
        // (utils/save_and_load.py) keeps the lora_ entries of each LoRA layer and removes the adapter name
        // (_remove_adapter_name_from_state_dict_key: "lora_A.default.weight" -> "lora_A.weight"), and adds each
        // ModulesToSaveWrapper's module state dict as "<wrapper name>.<key>" (utils/other.py adapter_state_dict).
        List<String> expected = new ArrayList<>();
        for (int layer = 0; layer < 2; layer++) {
            for (String t : List.of("query", "value")) {
                for (String ab : List.of("lora_A", "lora_B")) {
                    expected.add("base_model.model.bert.encoder.layer." + layer + ".attention.self." + t + "." + ab + ".weight");
                }
            }
        }
        expected.add("base_model.model.classifier.weight");
        expected.add("base_model.model.classifier.bias");
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("adapter_model.safetensors"))) {
            assertThat(f.names()).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(f.metadata()).containsEntry("format", "pt");
            assertThat(f.get("base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight").shape()).isEqualTo(Shape.of(4, 15));
            assertThat(f.get("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight").shape()).isEqualTo(Shape.of(15, 4));
            assertThat(f.get("base_model.model.classifier.weight").shape()).isEqualTo(Shape.of(3, 15));
            assertThat(f.info("base_model.model.classifier.weight").dtype().toString()).isEqualTo("F32");
        }
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertThat(cfg.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(cfg.get("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(cfg.get("r").isInt()).isTrue();
        assertThat(cfg.get("r").asInt()).isEqualTo(4);
        assertThat(cfg.get("lora_alpha").isInt()).as("lora_alpha is an int field in peft").isTrue();
        assertThat(cfg.get("lora_alpha").asInt()).isEqualTo(16);
        assertThat(cfg.get("lora_dropout").asDouble()).isEqualTo(0.1);
        assertThat(cfg.get("target_modules").toString()).isEqualTo("[\"query\",\"value\"]");
        assertThat(cfg.get("modules_to_save").toString()).isEqualTo("[\"classifier\",\"score\"]");
        assertThat(cfg.get("base_model_name_or_path").asText()).isEqualTo(base.toString());
        assertThat(cfg.get("inference_mode").asBoolean()).isTrue();
        assertThat(cfg.get("bias").asText()).isEqualTo("none");
        assertThat(cfg.get("use_rslora").asBoolean()).isFalse();
        assertThat(cfg.get("fan_in_fan_out").asBoolean()).isFalse();
        List<String> names = new ArrayList<>();
        cfg.fieldNames().forEachRemaining(names::add);
        assertThat(names).as("json.dumps(sort_keys=True)").isSorted();
        assertThat(PeftAdapter.readConfig(dir)).isEqualTo(config(base).withInferenceMode(true));
    }

    @Test
    void aRegexTargetAndRsloraRoundTrip() throws IOException {
        Path base = baseDir();
        LoraConfig config = LoraConfig.of(2, 6, List.of("x")).withTargetModulesRegex(".*layer\\.1\\.attention\\.self\\.(key|value)")
                .withRslora(true).withBaseModelNameOrPath(base.toString());
        SeqCls m = trained(base, config);
        assertThat(Lora.layers(m).keySet()).containsExactly("bert.encoder.layer.1.attention.self.key", "bert.encoder.layer.1.attention.self.value");
        assertThat(Lora.layers(m).values()).allSatisfy(l -> assertThat(l.scaling).isEqualTo(6 / Math.sqrt(2)));
        Path dir = tmp.resolve("regex");
        PeftAdapter.save(dir, m, config);
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        assertThat(cfg.get("target_modules").isTextual()).isTrue();
        assertThat(cfg.get("use_rslora").asBoolean()).isTrue();
        assertThat(cfg.get("modules_to_save").isNull()).isTrue();
        SeqCls fresh = new SeqCls(BertModel.fromPretrained(base), rng);
        fresh.classifier.weight.data().copyFrom(m.classifier.weight.data());
        fresh.classifier.bias.data().copyFrom(m.classifier.bias.data());
        assertThat(PeftAdapter.load(dir, fresh)).isEqualTo(config.withInferenceMode(true));
        m.eval();
        fresh.eval();
        assertThat(fresh.forward(batch()).data().toFloatArray()).containsExactly(m.forward(batch()).data().toFloatArray());
    }

    @Test
    void anAdapterReloadsBitIdentically() throws IOException {
        Path base = baseDir();
        SeqCls m = trained(base, config(base));
        Path dir = tmp.resolve("adapter");
        PeftAdapter.save(dir, m, config(base));
        SeqCls fresh = new SeqCls(BertModel.fromPretrained(base), new SplittableRandom(99));
        LoraConfig read = PeftAdapter.load(dir, fresh);
        assertThat(read.r()).isEqualTo(4);
        Map<String, NDArray> a = PeftAdapter.adapterStateDict(m, config(base)), b = PeftAdapter.adapterStateDict(fresh, read);
        assertThat(b.keySet()).containsExactlyElementsOf(a.keySet());
        a.forEach((k, v) -> assertThat(b.get(k).toFloatArray()).as(k).containsExactly(v.toFloatArray()));
        m.eval();
        fresh.eval();
        try (var g = GradMode.noGrad()) {
            assertThat(fresh.forward(batch()).data().toFloatArray()).containsExactly(m.forward(batch()).data().toFloatArray());
        }
        // a second save of the reloaded adapter writes the same bytes
        PeftAdapter.save(tmp.resolve("again"), fresh, read.withInferenceMode(false));
        assertThat(Files.readAllBytes(tmp.resolve("again/adapter_model.safetensors"))).isEqualTo(Files.readAllBytes(dir.resolve("adapter_model.safetensors")));
        assertThat(Files.readString(tmp.resolve("again/adapter_config.json"))).isEqualTo(Files.readString(dir.resolve("adapter_config.json")));
    }

    @Test
    void mergeEqualsBasePlusScaledProductAndIsAPlainDirectory() throws IOException {
        Path base = baseDir();
        LoraConfig config = config(base);
        SeqCls m = trained(base, config);
        m.eval();
        NDArray logits;
        try (var g = GradMode.noGrad()) {
            logits = m.forward(batch()).data().copy();
        }
        Map<String, NDArray> baseState = StateDicts.read(base.resolve("model.safetensors"));
        Map<String, LoraLinear> layers = Lora.layers(m);
        Path out = tmp.resolve("merged");
        PeftAdapter.saveMerged(out, m, base);
        Map<String, NDArray> merged = StateDicts.read(out.resolve("model.safetensors"));
        TreeSet<String> expectedKeys = new TreeSet<>();
        baseState.keySet().forEach(k -> expectedKeys.add("bert." + k));
        expectedKeys.add("classifier.weight");
        expectedKeys.add("classifier.bias");
        assertThat(new TreeSet<>(merged.keySet())).isEqualTo(expectedKeys);
        assertThat(Files.readString(out.resolve("config.json"))).isEqualTo(Files.readString(base.resolve("config.json")));
        double scaling = 16.0 / 4;
        for (var e : layers.entrySet()) {
            String key = e.getKey().substring("bert.".length()) + ".weight";
            NDArray w0 = baseState.get(key), w = merged.get("bert." + key);
            NDArray a = e.getValue().loraA.weight.data(), b = e.getValue().loraB.weight.data();   // [r, in], [out, r]
            for (int o = 0; o < w0.dim(0); o++) {
                for (int i = 0; i < w0.dim(1); i++) {
                    double ba = 0;
                    for (int k = 0; k < 4; k++) ba += b.getDouble(o, k) * a.getDouble(k, i);
                    assertThat(Math.abs(w.getDouble(o, i) - (w0.getDouble(o, i) + scaling * ba))).as(key).isLessThanOrEqualTo(1e-6);
                }
            }
        }
        for (String k : baseState.keySet()) {
            if (!k.endsWith("attention.self.query.weight") && !k.endsWith("attention.self.value.weight")) {
                assertThat(merged.get("bert." + k).toFloatArray()).as(k).containsExactly(baseState.get(k).toFloatArray());
            }
        }
        // the merged directory is a plain model: it loads without peft and gives the adapter's logits
        SeqCls plain = new SeqCls(BertModel.fromPretrained(out), rng);
        plain.classifier.weight.data().copyFrom(merged.get("classifier.weight"));
        plain.classifier.bias.data().copyFrom(merged.get("classifier.bias"));
        plain.eval();
        try (var g = GradMode.noGrad()) {
            assertThat(maxDiff(plain.forward(batch()).data(), logits)).isLessThan(1e-5);
        }
    }

    @Test
    void badAdaptersGetOneErrorNamingTheKey() throws IOException {
        Path base = baseDir();
        SeqCls m = trained(base, config(base));
        Path dir = tmp.resolve("adapter");
        PeftAdapter.save(dir, m, config(base));
        Map<String, NDArray> tensors = new LinkedHashMap<>(StateDicts.read(dir.resolve("adapter_model.safetensors")));
        String a0 = "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight";

        Path missing = copyWith(dir, "missing", tensors, t -> t.remove(a0));
        assertThatThrownBy(() -> PeftAdapter.load(missing, new SeqCls(BertModel.fromPretrained(base), rng)))
                .hasMessageContaining("adapter_model.safetensors").hasMessageContaining("missing key " + a0);
        Path shape = copyWith(dir, "shape", tensors, t -> t.put(a0, NDArray.zeros(5, 15)));
        assertThatThrownBy(() -> PeftAdapter.load(shape, new SeqCls(BertModel.fromPretrained(base), rng)))
                .hasMessageContaining(a0 + ": file has shape [5, 15], model expects [4, 15]");
        Path extra = copyWith(dir, "extra", tensors, t -> t.put("base_model.model.bert.pooler.dense.lora_A.weight", NDArray.zeros(4, 15)));
        assertThatThrownBy(() -> PeftAdapter.load(extra, new SeqCls(BertModel.fromPretrained(base), rng)))
                .hasMessageContaining("unexpected key base_model.model.bert.pooler.dense.lora_A.weight");

        ObjectNode cfg = (ObjectNode) new ObjectMapper().readTree(dir.resolve("adapter_config.json").toFile());
        cfg.put("use_dora", true);
        Path dora = copyWith(dir, "dora", tensors, t -> { });
        Files.writeString(dora.resolve("adapter_config.json"), cfg.toString());
        assertThatThrownBy(() -> PeftAdapter.readConfig(dora)).hasMessageContaining("adapter_config.json").hasMessageContaining("use_dora true is not supported");
        cfg.put("use_dora", false).put("peft_type", "IA3");
        Files.writeString(dora.resolve("adapter_config.json"), cfg.toString());
        assertThatThrownBy(() -> PeftAdapter.readConfig(dora)).hasMessageContaining("peft_type is \"IA3\", expected \"LORA\"");
        cfg.put("peft_type", "LORA").putArray("target_modules").add("nothing_here");
        Files.writeString(dora.resolve("adapter_config.json"), cfg.toString());
        assertThatThrownBy(() -> PeftAdapter.load(dora, new SeqCls(BertModel.fromPretrained(base), rng)))
                .hasMessageContaining("adapter_config.json").hasMessageContaining("target_modules [nothing_here] not found");
        Files.writeString(dora.resolve("adapter_config.json"), "{\"peft_type\": \"LORA\",");
        assertThatThrownBy(() -> PeftAdapter.readConfig(dora)).hasMessageContaining("adapter_config.json: not valid JSON");
        assertThatThrownBy(() -> PeftAdapter.readConfig(tmp.resolve("nowhere"))).hasMessageContaining("not a peft adapter directory");
    }

    private static Path copyWith(Path dir, String name, Map<String, NDArray> tensors,
                                 java.util.function.Consumer<Map<String, NDArray>> edit) throws IOException {
        Path out = dir.resolveSibling(name);
        Files.createDirectories(out);
        Files.copy(dir.resolve("adapter_config.json"), out.resolve("adapter_config.json"));
        Map<String, NDArray> t = new LinkedHashMap<>(tensors);
        edit.accept(t);
        SafetensorsWriter.write(out.resolve("adapter_model.safetensors"), t);
        return out;
    }

    private static double maxDiff(NDArray a, NDArray b) {
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
        return m;
    }
}
