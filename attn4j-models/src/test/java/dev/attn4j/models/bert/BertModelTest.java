package dev.attn4j.models.bert;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** BERT / RoBERTa / XLM-R / DistilBERT on random-weight checkpoints against a float64 reference. */
class BertModelTest {
    @TempDir
    Path tmp;

    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    private static final double TOL = 1e-4;

    @ParameterizedTest(name = "{0}, prefix ''{1}'', {2}")
    @CsvSource({"bert,'',F32", "bert,bert.,F16", "roberta,roberta.,F32", "xlm-roberta,'',BF16", "distilbert,distilbert.,F32",
            "distilbert,'',F16"})
    void matchesFloat64Reference(String type, String prefix, String dtype) throws Exception {
        BertConfig c = TinyEncoders.config(type);
        Path dir = TinyEncoders.write(tmp.resolve(type), c, TinyEncoders.weights(c, true, rng), prefix,
                SafetensorsDType.valueOf(dtype));
        Map<String, double[]> w = TinyEncoders.readBack(dir, prefix);
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {7, 11, 1, 4}, true);
        TinyEncoders.Ref ref = TinyEncoders.forward(c, w, in);
        try (EncoderModel m = BertModels.load(dir)) {
            assertThat(m).isInstanceOf(type.equals("distilbert") ? DistilBertModel.class : BertModel.class);
            assertThat(m.hasPooler()).as("seed %d", seed).isEqualTo(!type.equals("distilbert"));
            assertThat(m.loadReport().prefix()).isEqualTo(prefix);
            assertThat(m.loadReport().sourceDTypes()).containsExactly(dtype);
            EncoderOutput fused, full;
            try (var g = GradMode.noGrad()) {
                fused = m.forward(in);
                full = m.forward(in, true, true);
            }
            assertThat(fused.hiddenStates()).isNull();
            assertThat(fused.attentions()).isNull();
            assertClose("last_hidden_state (fused)", fused.lastHiddenState(), ref.hidden().getLast(), in);
            assertClose("last_hidden_state (weights)", full.lastHiddenState(), ref.hidden().getLast(), in);
            assertThat(full.hiddenStates()).hasSize(c.numHiddenLayers() + 1);
            for (int l = 0; l <= c.numHiddenLayers(); l++) {
                assertClose("hidden_states[" + l + "]", full.hiddenStates().get(l), ref.hidden().get(l), in);
            }
            assertThat(full.attentions()).hasSize(c.numHiddenLayers());
            for (int l = 0; l < c.numHiddenLayers(); l++) {
                Tensor a = full.attentions().get(l);                                    // [B, H, T, T]
                assertThat(a.shape().toArray()).containsExactly(in.batchSize(), c.numAttentionHeads(), in.length(), in.length());
                for (int b = 0; b < in.batchSize(); b++) {
                    for (int hd = 0; hd < c.numAttentionHeads(); hd++) {
                        for (int i = 0; i < in.realLength(b); i++) {
                            for (int j = 0; j < in.length(); j++) {
                                assertThat(a.data().getDouble(b, hd, i, j)).as("attentions[%d][%d,%d,%d,%d] seed %d", l, b, hd, i, j, seed)
                                        .isCloseTo(ref.attn().get(l)[b][hd][i][j], org.assertj.core.data.Offset.offset(1e-5));
                            }
                        }
                    }
                }
            }
            if (m.hasPooler()) {
                for (int b = 0; b < in.batchSize(); b++) {
                    for (int j = 0; j < c.hiddenSize(); j++) {
                        assertThat(fused.poolerOutput().data().getDouble(b, j)).as("pooler[%d,%d] seed %d", b, j, seed)
                                .isCloseTo(ref.pooled()[b][j], org.assertj.core.data.Offset.offset(TOL));
                    }
                }
            }
        }
    }

    private void assertClose(String what, Tensor actual, double[][][] expected, EncoderInput in) {
        assertThat(actual.shape().toArray()).containsExactly(in.batchSize(), in.length(), expected[0][0].length);
        double worst = 0;
        String where = "";
        for (int b = 0; b < in.batchSize(); b++) {
            for (int i = 0; i < in.realLength(b); i++) {
                for (int j = 0; j < expected[b][i].length; j++) {
                    double diff = Math.abs(actual.data().getDouble(b, i, j) - expected[b][i][j]);
                    if (!(diff <= worst)) {
                        worst = diff;
                        where = "[" + b + "," + i + "," + j + "]";
                    }
                }
            }
        }
        assertThat(worst).as("%s: max abs diff at %s, seed %d", what, where, seed).isLessThanOrEqualTo(TOL);
    }

    @Test
    void ignoresHeadsAndBuffersAndReportsThem() throws Exception {
        BertConfig c = TinyEncoders.config("bert");
        Map<String, NDArray> w = TinyEncoders.weights(c, false, rng);
        w.put("embeddings.position_ids", NDArray.arange(c.maxPositionEmbeddings()).reshape(1, -1));
        Path dir = TinyEncoders.write(tmp.resolve("m"), c, w, "bert.", SafetensorsDType.F32);
        // add task heads outside the encoder prefix
        Map<String, NDArray> all = new LinkedHashMap<>();
        dev.attn4j.nn.StateDicts.read(dir.resolve("model.safetensors")).forEach(all::put);
        all.put("cls.predictions.bias", TinyEncoders.normal(rng, 1, c.vocabSize()));
        all.put("cls.predictions.transform.dense.weight", TinyEncoders.normal(rng, 1, c.hiddenSize(), c.hiddenSize()));
        dev.attn4j.io.safetensors.SafetensorsWriter.write(dir.resolve("model.safetensors"), all);
        try (EncoderModel m = BertModels.load(dir)) {
            assertThat(m.hasPooler()).isFalse();
            assertThat(m.loadReport().ignoredKeys()).containsExactlyInAnyOrder("bert.embeddings.position_ids",
                    "cls.predictions.bias", "cls.predictions.transform.dense.weight");
            try (var g = GradMode.noGrad()) {
                assertThat(m.forward(TinyEncoders.batch(rng, c, new int[] {3}, false)).poolerOutput()).isNull();
            }
        }
    }

    @Test
    void badCheckpointsGiveErrorsNamingTheKeys() throws Exception {
        BertConfig c = TinyEncoders.config("bert");
        // missing key and unexpected key
        Map<String, NDArray> w = TinyEncoders.weights(c, true, rng);
        w.remove("encoder.layer.1.attention.self.key.bias");
        w.put("encoder.layer.7.attention.self.key.bias", NDArray.zeros(c.hiddenSize()));
        Path d1 = TinyEncoders.write(tmp.resolve("a"), c, w, "", SafetensorsDType.F32);
        assertThatThrownBy(() -> BertModels.load(d1)).isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining("missing keys [encoder.layer.1.attention.self.key.bias]")
                .hasMessageContaining("unexpected keys [encoder.layer.7.attention.self.key.bias]");
        // wrong shape
        Map<String, NDArray> w2 = TinyEncoders.weights(c, true, rng);
        w2.put("encoder.layer.0.intermediate.dense.weight", NDArray.zeros(c.intermediateSize() + 1, c.hiddenSize()));
        Path d2 = TinyEncoders.write(tmp.resolve("b"), c, w2, "", SafetensorsDType.F32);
        assertThatThrownBy(() -> BertModels.load(d2)).isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining("encoder.layer.0.intermediate.dense.weight: checkpoint has [24, 15] (F32), model expects [23, 15]");
        // unsupported model type / position embedding type
        Path d3 = TinyEncoders.write(tmp.resolve("c"), c, TinyEncoders.weights(c, true, rng), "", SafetensorsDType.F32);
        Files.writeString(d3.resolve("config.json"), Files.readString(d3.resolve("config.json")).replace("\"bert\"", "\"gpt2\""));
        assertThatThrownBy(() -> BertModels.load(d3)).isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining("config.json: unsupported model_type 'gpt2' (supported: bert, roberta");
        Files.writeString(d3.resolve("config.json"), Files.readString(d3.resolve("config.json"))
                .replace("\"gpt2\"", "\"bert\"").replace("\"absolute\"", "\"relative_key\""));
        assertThatThrownBy(() -> BertModels.load(d3)).hasMessageContaining("unsupported position_embedding_type 'relative_key'");
        // truncated weights
        Path d4 = TinyEncoders.write(tmp.resolve("d"), c, TinyEncoders.weights(c, true, rng), "", SafetensorsDType.F32);
        byte[] bytes = Files.readAllBytes(d4.resolve("model.safetensors"));
        Files.write(d4.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertThatThrownBy(() -> BertModels.load(d4)).isInstanceOf(IOException.class).hasMessageContaining("model.safetensors");
        // no weights at all
        Files.delete(d4.resolve("model.safetensors"));
        assertThatThrownBy(() -> BertModels.load(d4)).hasMessageContaining("missing model.safetensors");
        // not a BERT checkpoint
        Path d5 = tmp.resolve("e");
        Files.createDirectories(d5);
        Files.writeString(d5.resolve("config.json"), Files.readString(d1.resolve("config.json")));
        dev.attn4j.io.safetensors.SafetensorsWriter.write(d5.resolve("model.safetensors"), Map.of("wte.weight", NDArray.zeros(2, 2)));
        assertThatThrownBy(() -> BertModels.load(d5)).hasMessageContaining("no tensor 'embeddings.word_embeddings.weight'");
    }

    @Test
    void resultsDoNotDependOnBatchComposition() throws Exception {
        BertConfig c = TinyEncoders.config("bert");
        Path dir = TinyEncoders.write(tmp.resolve("m"), c, TinyEncoders.weights(c, true, rng), "", SafetensorsDType.F32);
        try (EncoderModel m = BertModels.load(dir); var g = GradMode.noGrad()) {
            EncoderInput batch = TinyEncoders.batch(rng, c, new int[] {29, 5, 33, 17}, true);
            EncoderInput alone = new EncoderInput(new int[][] {java.util.Arrays.copyOf(batch.inputIds()[1], 5)}, null,
                    new int[][] {java.util.Arrays.copyOf(batch.tokenTypeIds()[1], 5)});
            Tensor all = m.forward(batch).lastHiddenState(), one = m.forward(alone).lastHiddenState();
            double worst = 0;
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < c.hiddenSize(); j++) {
                    worst = Math.max(worst, Math.abs(all.data().getDouble(1, i, j) - one.data().getDouble(0, i, j)));
                }
            }
            assertThat(worst).as("seed %d", seed).isLessThanOrEqualTo(1e-5);
        }
    }

    @Test
    void trainsWithTheSameModules() {
        BertConfig c = TinyEncoders.config("bert");
        BertModel m = BertModel.random(c, rng);
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {6, 9}, true);
        m.eval();
        Tensor inference;
        try (var g = GradMode.noGrad()) {
            inference = m.forward(in).lastHiddenState();
        }
        EncoderOutput withGrad = m.forward(in);
        assertThat(withGrad.lastHiddenState().requiresGrad()).isTrue();
        assertThat(maxDiff(withGrad.lastHiddenState().data(), inference.data())).as("seed %d", seed).isLessThanOrEqualTo(1e-6);
        m.train();
        EncoderOutput a = m.forward(in), b = m.forward(in);
        assertThat(maxDiff(a.lastHiddenState().data(), b.lastHiddenState().data())).as("dropout is active in training, seed %d", seed)
                .isGreaterThan(1e-3);
        a.poolerOutput().sum().add(a.lastHiddenState().square().mean()).backward();
        for (var e : m.namedParameters().entrySet()) {
            assertThat(e.getValue().grad()).as("gradient of %s, seed %d", e.getKey(), seed).isNotNull();
        }
        assertThat(m.stateDict().keySet()).contains("embeddings.word_embeddings.weight", "encoder.layer.1.attention.self.query.weight",
                "encoder.layer.0.attention.output.LayerNorm.bias", "encoder.layer.1.output.dense.weight", "pooler.dense.bias");
        assertThat(DistilBertModel.random(TinyEncoders.config("distilbert"), rng).stateDict().keySet())
                .contains("transformer.layer.1.attention.q_lin.weight", "transformer.layer.0.sa_layer_norm.weight",
                        "transformer.layer.0.ffn.lin2.bias", "transformer.layer.1.output_layer_norm.bias")
                .noneMatch(k -> k.contains("token_type"));
    }

    @Test
    void rejectsBadInputs() {
        BertConfig c = TinyEncoders.config("bert");
        BertModel m = BertModel.random(c, rng);
        assertThatThrownBy(() -> m.forward(new EncoderInput(new int[][] {{1, 99}}, null, null)))
                .hasMessage("input_ids[0][1] = 99 is out of range [0, 41)");
        assertThatThrownBy(() -> m.forward(new EncoderInput(new int[][] {new int[40]}, null, null)))
                .hasMessage("sequence length 40 exceeds max_position_embeddings 33");
        assertThatThrownBy(() -> new EncoderInput(new int[][] {{1, 2}, {1}}, null, null))
                .hasMessageContaining("input_ids[1] has length 1, expected 2");
        assertThatThrownBy(() -> new EncoderInput(new int[][] {{1, 2}}, new int[][] {{1, 2}}, null))
                .hasMessageContaining("attention_mask[0][1] is 2");
    }

    private static double maxDiff(NDArray a, NDArray b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
        return worst;
    }

    @SuppressWarnings("unused")
    private static List<String> keys(Map<String, ?> m) {
        return List.copyOf(m.keySet());
    }
}
