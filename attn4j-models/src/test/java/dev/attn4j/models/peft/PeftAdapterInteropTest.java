package dev.attn4j.models.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.io.safetensors.SafetensorsFile;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.BertModel;
import dev.attn4j.models.bert.DistilBertModel;
import dev.attn4j.models.bert.TinyEncodersAccess;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.nn.Lora;
import dev.attn4j.nn.LoraConfig;
import dev.attn4j.nn.LoraLinear;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tensor.NDArray;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Against peft itself: src/test/resources/peft holds a tiny BertForSequenceClassification, an
 * adapter that peft 0.21 made for it, and what peft computed (scripts/gen-peft-reference.py).
 * It also holds the keys peft saves for RoBERTa and DistilBERT sequence classifiers.
 * When the Python oracle is present (/opt/pyref/READY), peft also loads an adapter attn4j wrote.
 */
class PeftAdapterInteropTest {
    @TempDir
    Path tmp;

    private static Path base, adapter;
    private static JsonNode expected;

    @BeforeAll
    static void resources() throws Exception {
        base = Path.of(PeftAdapterInteropTest.class.getResource("/peft/base").toURI());
        adapter = Path.of(PeftAdapterInteropTest.class.getResource("/peft/adapter").toURI());
        expected = new ObjectMapper().readTree(PeftAdapterInteropTest.class.getResource("/peft/expected.json"));
    }

    /** The base directory's BertForSequenceClassification: bert.* and its classifier. */
    private static PeftAdapterTest.SeqCls baseModel() throws IOException {
        PeftAdapterTest.SeqCls m = new PeftAdapterTest.SeqCls(BertModel.fromPretrained(base), new SplittableRandom(1));
        Map<String, NDArray> w = StateDicts.read(base.resolve("model.safetensors"));
        m.classifier.weight.data().copyFrom(w.get("classifier.weight"));
        m.classifier.bias.data().copyFrom(w.get("classifier.bias"));
        return m;
    }

    private static int[][] ints(JsonNode n) {
        int[][] out = new int[n.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = new int[n.get(i).size()];
            for (int j = 0; j < out[i].length; j++) out[i][j] = n.get(i).get(j).asInt();
        }
        return out;
    }

    private static EncoderInput batch() {
        return new EncoderInput(ints(expected.get("input_ids")), ints(expected.get("attention_mask")), null);
    }

    private static NDArray logits(PeftAdapterTest.SeqCls m) {
        m.eval();
        try (var g = GradMode.noGrad()) {
            return m.forward(batch()).data();                                          // [B, labels]
        }
    }

    private static double maxDiff(NDArray a, JsonNode rows) {
        double d = 0;
        for (int b = 0; b < rows.size(); b++) {
            for (int j = 0; j < rows.get(b).size(); j++) d = Math.max(d, Math.abs(a.getDouble(b, j) - rows.get(b).get(j).asDouble()));
        }
        return d;
    }

    @Test
    void anAdapterPeftWroteLoadsAndGivesPeftsLogits() throws IOException {
        PeftAdapterTest.SeqCls m = baseModel();
        double baseDiff = maxDiff(logits(m), expected.get("logits"));
        LoraConfig config = PeftAdapter.load(adapter, m);
        assertThat(config.r()).isEqualTo(4);
        assertThat(config.loraAlpha()).isEqualTo(8);
        assertThat(config.modulesToSave()).containsExactly("classifier", "score");
        assertThat(baseDiff).as("the adapter changes the logits").isGreaterThan(1e-2);
        assertThat(maxDiff(logits(m), expected.get("logits"))).isLessThan(1e-5);
    }

    @Test
    void attn4jWritesPeftsKeysTensorsAndConfigFields() throws IOException {
        PeftAdapterTest.SeqCls m = baseModel();
        LoraConfig config = PeftAdapter.load(adapter, m);
        Path out = tmp.resolve("again");
        PeftAdapter.save(out, m, config);
        List<String> peftKeys = new ArrayList<>();
        expected.get("adapter_keys").forEach(k -> peftKeys.add(k.asText()));
        try (SafetensorsFile ours = SafetensorsFile.open(out.resolve("adapter_model.safetensors"));
             SafetensorsFile theirs = SafetensorsFile.open(adapter.resolve("adapter_model.safetensors"))) {
            assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(peftKeys);
            assertThat(theirs.names()).containsExactlyInAnyOrderElementsOf(peftKeys);
            for (String k : peftKeys) {
                assertThat(ours.info(k).dtype()).isEqualTo(theirs.info(k).dtype());
                assertThat(ours.get(k).shape()).isEqualTo(theirs.get(k).shape());
                assertThat(ours.get(k).toFloatArray()).as(k).containsExactly(theirs.get(k).toFloatArray());
            }
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode ourCfg = json.readTree(out.resolve("adapter_config.json").toFile());
        JsonNode peftCfg = json.readTree(adapter.resolve("adapter_config.json").toFile());
        for (Iterator<String> it = ourCfg.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            assertThat(peftCfg.has(f)).as("peft writes field " + f).isTrue();
            assertThat(ourCfg.get(f)).as(f).isEqualTo(peftCfg.get(f));
        }
    }

    /** A module tree with transformers' names for a sequence classifier's head. */
    static final class Head extends Module {
        Head(Map<String, Module> children) {
            children.forEach(this::child);
        }
    }

    @Test
    void robertaAndDistilBertHeadsSaveUnderPeftsKeys() {
        SplittableRandom rng = new SplittableRandom(3);
        BertConfig rc = TinyEncodersAccess.config("roberta"), dc = TinyEncodersAccess.config("distilbert");
        Map<String, Module> roberta = new LinkedHashMap<>();
        roberta.put("roberta", BertModel.random(rc, rng));
        roberta.put("classifier", new Head(Map.of("dense", new Linear(15, 15, rng), "out_proj", new Linear(15, 3, rng))));
        Map<String, Module> distil = new LinkedHashMap<>();
        distil.put("distilbert", DistilBertModel.random(dc, rng));
        distil.put("pre_classifier", new Linear(15, 15, rng));
        distil.put("classifier", new Linear(15, 3, rng));
        for (var c : List.of(Map.entry("roberta", new Head(roberta)), Map.entry("distilbert", new Head(distil)))) {
            LoraConfig config = LoraConfig.of(4, 8, PeftAdapter.defaultTargetModules(c.getKey()))
                    .withModulesToSave(List.of("classifier", "score")).withTaskType("SEQ_CLS");
            Lora.apply(c.getValue(), config, rng);
            List<String> peftKeys = new ArrayList<>();
            expected.get("other_adapter_keys").get(c.getKey()).forEach(k -> peftKeys.add(k.asText()));
            assertThat(PeftAdapter.adapterStateDict(c.getValue(), config).keySet()).as(c.getKey())
                    .containsExactlyInAnyOrderElementsOf(peftKeys);
        }
    }

    @Test
    void mergeMatchesPeftsMergeAndUnload() throws IOException {
        PeftAdapterTest.SeqCls m = baseModel();
        PeftAdapter.load(adapter, m);
        Path out = tmp.resolve("merged");
        PeftAdapter.saveMerged(out, m, base);
        Map<String, NDArray> merged = StateDicts.read(out.resolve("model.safetensors"));
        JsonNode weights = expected.get("merged_weights");
        assertThat(weights.size()).isEqualTo(4);
        weights.fieldNames().forEachRemaining(k -> {
            float[] ours = merged.get(k).toFloatArray();
            JsonNode theirs = weights.get(k);
            assertThat(ours).hasSize(theirs.size());
            for (int i = 0; i < ours.length; i++) {
                assertThat(Math.abs(ours[i] - theirs.get(i).asDouble())).as(k + " [" + i + "]").isLessThanOrEqualTo(1e-6);
            }
        });
        assertThat(maxDiff(logits(m), expected.get("merged_logits"))).isLessThan(1e-5);
        assertThat(merged.keySet()).as("the keys transformers' save_pretrained wrote for the base")
                .containsExactlyInAnyOrderElementsOf(StateDicts.read(base.resolve("model.safetensors")).keySet());
    }

    @Test
    void peftLoadsAnAdapterAttn4jWrote() throws Exception {
        Path python = Path.of("/usr/bin/python3"), script = Path.of("../scripts/peft-load-check.py").toAbsolutePath().normalize();
        assumeTrue(Files.exists(Path.of("/opt/pyref/READY")) && Files.isExecutable(python) && Files.exists(script),
                "peft oracle (/opt/pyref) not present");
        PeftAdapterTest.SeqCls m = baseModel();
        SplittableRandom rng = new SplittableRandom(5);
        LoraConfig config = LoraConfig.of(3, 12, List.of("query", "value")).withModulesToSave(List.of("classifier", "score"))
                .withTaskType("SEQ_CLS").withBaseModelNameOrPath(base.toString()).withDropout(0.05);
        for (LoraLinear l : Lora.apply(m, config, rng).values()) {
            l.loraB.weight.data().copyFrom(NDArray.normal(rng, l.loraB.weight.shape(), 0, 0.5));
        }
        m.classifier.weight.data().copyFrom(NDArray.normal(rng, m.classifier.weight.shape(), 0, 0.5));
        Path out = tmp.resolve("ours");
        PeftAdapter.save(out, m, config);
        ObjectMapper json = new ObjectMapper();
        ProcessBuilder pb = new ProcessBuilder(python.toString(), script.toString(), out.toString(),
                json.writeValueAsString(expected.get("input_ids")), json.writeValueAsString(expected.get("attention_mask")));
        pb.environment().put("PYTHONPATH", "/opt/pyref");
        pb.environment().put("OMP_NUM_THREADS", "1");
        Path err = tmp.resolve("stderr.txt");
        Process p = pb.redirectError(err.toFile()).start();
        p.getOutputStream().close();
        byte[] stdout = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        String[] lines = new String(stdout, StandardCharsets.UTF_8).strip().split("\n");
        JsonNode result = json.readTree(lines[lines.length - 1]);
        assertThat(result.get("warnings")).as("peft's load warnings").isEmpty();
        assertThat(maxDiff(logits(m), result.get("logits"))).isLessThan(1e-5);
    }
}
