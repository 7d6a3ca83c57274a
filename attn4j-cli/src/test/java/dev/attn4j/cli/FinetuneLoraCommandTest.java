package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.attn4j.cli.FinetuneClassifyCommandTest.Run;

import static dev.attn4j.cli.FinetuneClassifyCommandTest.JSON;
import static dev.attn4j.cli.FinetuneClassifyCommandTest.assertOneLineError;
import static dev.attn4j.cli.FinetuneClassifyCommandTest.csv;
import static dev.attn4j.cli.FinetuneClassifyCommandTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code attn4j finetune --lora-r}, {@code classify} on the adapter and {@code merge}, on the tiny
 * fresh BERT and tokenizer of {@link FinetuneClassifyCommandTest}.
 */
class FinetuneLoraCommandTest {
    @TempDir
    static Path shared;

    static Path model;

    @BeforeAll
    static void tinyModel() throws Exception {
        FinetuneClassifyCommandTest.shared = shared;
        FinetuneClassifyCommandTest.tinyModel();
        model = FinetuneClassifyCommandTest.model;
    }

    static final List<String> TEXTS = List.of("w7 good w9", "bad w8", "w12 w13 good", "w20 bad w21 w22", "w30");

    @Test
    void loraFinetuneWritesPeftAdapterThatClassifyAndMergeRead(@TempDir Path tmp) throws Exception {
        byte[] baseWeights = Files.readAllBytes(model.resolve("model.safetensors"));
        Path train = csv(tmp, "train.csv", 300, 1);
        Path out = tmp.resolve("adapter");
        Run ft = run("finetune", "--model", model.toString(), "--train", train.toString(), "--eval-fraction", "0.2", "--out", out.toString(),
                "--epochs", "5", "--lr", "1e-2", "--batch-size", "16", "--lora-r", "4", "--lora-alpha", "8", "--log-every", "50");
        assertThat(ft.code()).as(ft.err()).isZero();
        assertThat(ft.err()).contains("LoRA r 4");
        List<JsonNode> lines = ft.lines();
        assertThat(lines.get(lines.size() - 1).get("evalAccuracy").asDouble()).isGreaterThan(0.8);

        // peft's files: config naming the base as given, weights with only the adapters and the head
        JsonNode ac = JSON.readTree(out.resolve("adapter_config.json").toFile());
        assertThat(ac.get("base_model_name_or_path").asText()).isEqualTo(model.toString());
        assertThat(ac.get("r").asInt()).isEqualTo(4);
        assertThat(ac.get("lora_alpha").asInt()).isEqualTo(8);
        assertThat(ac.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(ac.get("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(ac.get("target_modules").toString()).isEqualTo("[\"query\",\"value\"]");
        assertThat(ac.get("modules_to_save").toString()).isEqualTo("[\"classifier\",\"score\"]");
        assertThat(out.resolve("tokenizer.json")).exists();
        assertThat(out.resolve("model.safetensors")).doesNotExist();
        Map<String, NDArray> sd = StateDicts.read(out.resolve("adapter_model.safetensors"));
        List<String> expected = new ArrayList<>();
        for (int l = 0; l < 2; l++) {
            for (String t : List.of("query", "value")) {
                for (String ab : List.of("lora_A", "lora_B")) expected.add("base_model.model.bert.encoder.layer." + l + ".attention.self." + t + "." + ab + ".weight");
            }
        }
        expected.add("base_model.model.classifier.weight");
        expected.add("base_model.model.classifier.bias");
        assertThat(sd.keySet()).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(sd.get("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight").shape().toArray()).containsExactly(4, 32);
        float[] b = sd.get("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight").toFloatArray();   // [32, 4]
        assertThat(b).hasSize(32 * 4);
        float bmax = 0;
        for (float v : b) bmax = Math.max(bmax, Math.abs(v));
        assertThat(bmax).as("lora_B trained away from its zero init").isGreaterThan(1e-4f);
        // the base stays untouched, and the optimizer held only the trainable parameters
        assertThat(Files.readAllBytes(model.resolve("model.safetensors"))).isEqualTo(baseWeights);
        Path last = tmp.resolve("adapter.checkpoints").resolve("last");
        assertThat(last.resolve("adapter_config.json")).exists();
        long stateElements = 0;
        for (NDArray v : StateDicts.read(last.resolve("optimizer.safetensors")).values()) stateElements += v.numel();
        long trainable = 2 * 2 * 2 * (4 * 32) + (2 * 32 + 2);             // lora_A [4, 32], lora_B [32, 4] x 4 layers; classifier
        assertThat(stateElements).as("AdamW moments of the trainable parameters only").isBetween(2 * trainable, 2 * trainable + 16);

        // classify: adapter dir == base + --adapter == merged dir
        List<String> viaAdapter = new ArrayList<>(List.of("classify", "--model", out.toString()));
        viaAdapter.addAll(TEXTS);
        Run a = run(viaAdapter.toArray(String[]::new));
        assertThat(a.code()).as(a.err()).isZero();
        List<String> explicit = new ArrayList<>(List.of("classify", "--model", model.toString(), "--adapter", out.toString()));
        explicit.addAll(TEXTS);
        Run e = run(explicit.toArray(String[]::new));
        assertThat(e.code()).as(e.err()).isZero();
        assertThat(e.out()).isEqualTo(a.out());
        Path merged = tmp.resolve("merged");
        Run mg = run("merge", "--adapter", out.toString(), "--out", merged.toString());
        assertThat(mg.code()).as(mg.err()).isZero();
        assertThat(merged.resolve("adapter_config.json")).doesNotExist();
        JsonNode mcfg = JSON.readTree(merged.resolve("config.json").toFile());
        assertThat(mcfg.get("architectures").get(0).asText()).isEqualTo("BertForSequenceClassification");
        assertThat(mcfg.get("id2label").toString()).isEqualTo("{\"0\":\"negative\",\"1\":\"positive\"}");
        assertThat(StateDicts.read(merged.resolve("model.safetensors")).keySet()).noneMatch(k -> k.contains("lora"));
        List<String> viaMerged = new ArrayList<>(List.of("classify", "--model", merged.toString()));
        viaMerged.addAll(TEXTS);
        Run m = run(viaMerged.toArray(String[]::new));
        assertThat(m.code()).as(m.err()).isZero();
        List<JsonNode> ra = a.lines(), rm = m.lines();
        assertThat(rm).hasSize(TEXTS.size());
        for (int i = 0; i < TEXTS.size(); i++) {
            assertThat(rm.get(i).get("label").asText()).isEqualTo(ra.get(i).get("label").asText());
            for (String label : List.of("negative", "positive")) {
                assertThat(rm.get(i).get("scores").get(label).asDouble()).as(TEXTS.get(i) + " " + label)
                        .isCloseTo(ra.get(i).get("scores").get(label).asDouble(), org.assertj.core.data.Offset.offset(1e-5));
            }
        }
        assertThat(ra.get(0).get("label").asText()).isEqualTo("positive");
        assertThat(ra.get(1).get("label").asText()).isEqualTo("negative");
        // the merged model differs from the base: the adapter changed the attention weights
        Map<String, NDArray> mw = StateDicts.read(merged.resolve("model.safetensors"));
        Map<String, NDArray> bw = StateDicts.read(model.resolve("model.safetensors"));
        assertThat(Arrays.equals(mw.get("bert.encoder.layer.0.attention.self.query.weight").toFloatArray(),
                bw.get("encoder.layer.0.attention.self.query.weight").toFloatArray())).isFalse();
        assertThat(mw.get("bert.encoder.layer.0.attention.self.key.weight").toFloatArray())
                .isEqualTo(bw.get("encoder.layer.0.attention.self.key.weight").toFloatArray());
    }

    @Test
    void resumeRestoresTheAdapterAndBf16BaseTrains(@TempDir Path tmp) throws Exception {
        Path train = csv(tmp, "train.csv", 64, 2);
        Path out = tmp.resolve("a");
        String[] args = {"finetune", "--model", model.toString(), "--train", train.toString(), "--out", out.toString(), "--epochs", "1",
                "--lr", "1e-2", "--batch-size", "16", "--lora-r", "2", "--lora-dropout", "0.1", "--lora-targets", "query,key,value"};
        Run first = run(args);
        assertThat(first.code()).as(first.err()).isZero();
        Map<String, NDArray> trained = StateDicts.read(out.resolve("adapter_model.safetensors"));
        assertThat(trained.keySet()).anyMatch(k -> k.contains(".key.lora_A."));
        // resuming the finished run restores the checkpointed adapter and writes it out again unchanged
        List<String> again = new ArrayList<>(Arrays.asList(args));
        again.add("--resume");
        Run second = run(again.toArray(String[]::new));
        assertThat(second.code()).as(second.err()).isZero();
        Map<String, NDArray> resumed = StateDicts.read(out.resolve("adapter_model.safetensors"));
        assertThat(resumed.keySet()).isEqualTo(trained.keySet());
        for (String k : trained.keySet()) assertThat(resumed.get(k).toFloatArray()).as(k).isEqualTo(trained.get(k).toFloatArray());
        // the checkpoint is an adapter: resuming it without LoRA is an error
        List<String> noLora = new ArrayList<>(List.of("finetune", "--model", model.toString(), "--train", train.toString(), "--out",
                out.toString(), "--epochs", "1", "--lr", "1e-2", "--batch-size", "16", "--resume"));
        assertOneLineError(run(noLora.toArray(String[]::new)), "LoRA adapter");

        Path bf = tmp.resolve("bf16");
        Run b = run("finetune", "--model", model.toString(), "--train", train.toString(), "--out", bf.toString(), "--epochs", "1",
                "--lr", "1e-2", "--batch-size", "16", "--lora-r", "2", "--base-dtype", "bf16");
        assertThat(b.code()).as(b.err()).isZero();
        assertThat(b.err()).contains("BF16");
        Run c = run("classify", "--model", bf.toString(), "w7 good");
        assertThat(c.code()).as(c.err()).isZero();
        assertThat(c.lines()).hasSize(1);
    }

    @Test
    void badCombinationsExitTwo(@TempDir Path tmp) throws Exception {
        Path train = csv(tmp, "train.csv", 20, 1);
        Path out = tmp.resolve("out");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", train.toString(), "--out", out.toString(),
                "--base-dtype", "bf16"), "--base-dtype needs --lora-r");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", train.toString(), "--out", out.toString(),
                "--lora-alpha", "16"), "need --lora-r");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", train.toString(), "--out", out.toString(),
                "--lora-r", "4", "--base-dtype", "f8"), "--base-dtype must be bf16 or f32");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", train.toString(), "--out", out.toString(),
                "--lora-r", "0"), "--lora-r must be a positive integer");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", train.toString(), "--out", out.toString(),
                "--lora-r", "4", "--lora-targets", "q_proj"), "q_proj", "not found");
        assertOneLineError(run("finetune", "--model", model.toString(), "--train", train.toString(), "--out", out.toString(),
                "--lora-r", "4", "--lora-dropout", "1.5"), "lora_dropout");
        assertThat(out).doesNotExist();
        assertOneLineError(run("classify", "--model", model.toString(), "--adapter", model.toString(), "w7"), "not a peft adapter directory");
        assertOneLineError(run("merge", "--adapter", tmp.toString(), "--out", tmp.resolve("m").toString()), "not a peft adapter directory");
        Path noBase = tmp.resolve("nobase");
        Files.createDirectories(noBase);
        Files.writeString(noBase.resolve("adapter_config.json"), "{\"peft_type\":\"LORA\",\"r\":4,\"target_modules\":[\"query\"]}");
        assertOneLineError(run("classify", "--model", noBase.toString(), "w7"), "base_model_name_or_path");
    }
}
