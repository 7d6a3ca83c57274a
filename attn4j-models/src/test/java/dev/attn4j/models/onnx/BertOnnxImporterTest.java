package dev.attn4j.models.onnx;

import dev.attn4j.io.safetensors.SafetensorsFile;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Imports the bundled all-MiniLM-L6-v2 ONNX file and compares it with the safetensors release of the same model. */
class BertOnnxImporterTest {
    static byte[] onnx;
    static OnnxModel model;
    static ImportedBert bert;

    static Path sharedModel() {
        return Path.of("").toAbsolutePath().getParent().resolve("../shared/models/all-MiniLM-L6-v2").normalize();
    }

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = BertOnnxImporterTest.class.getResourceAsStream(DefaultModel.ONNX_RESOURCE)) {
            assertThat(in).as("classpath resource " + DefaultModel.ONNX_RESOURCE).isNotNull();
            onnx = in.readAllBytes();
        }
        model = OnnxModel.parse(onnx, DefaultModel.ONNX_RESOURCE);
        bert = BertOnnxImporter.importBert(model, DefaultModel.ONNX_RESOURCE);
    }

    @Test
    void parsesTheModelHeader() {
        assertThat(model.producerName()).isEqualTo("pytorch");
        assertThat(model.irVersion()).isPositive();
        assertThat(model.opsets()).containsKey("");
        assertThat(model.graph().inputs()).contains("input_ids", "attention_mask", "token_type_ids");
        assertThat(model.graph().initializers()).hasSize(104);
    }

    @Test
    void derivesTheConfig() {
        BertConfigValues c = bert.config();
        assertThat(c).isEqualTo(new BertConfigValues(30522, 384, 6, 12, 1536, 512, 2, 1e-12, "gelu"));
        assertThat(bert.skipped()).singleElement().asString().startsWith("embeddings.position_ids");
        assertThat(bert.notes()).anyMatch(n -> n.contains("num_attention_heads 12: from the attention score scale"));
    }

    @Test
    void weightsEqualTheSafetensorsRelease() throws IOException {
        Path st = sharedModel().resolve("model.safetensors");
        assumeTrue(Files.isRegularFile(st), "shared model not present: " + st);
        try (SafetensorsFile f = SafetensorsFile.open(st)) {
            assertThat(new TreeSet<>(bert.stateDict().keySet())).isEqualTo(new TreeSet<>(f.names()));
            double worst = 0;
            String worstKey = "";
            for (String key : f.names()) {
                NDArray want = f.get(key);
                NDArray got = bert.stateDict().get(key);
                assertThat(got.shape()).as(key).isEqualTo(want.shape());
                float[] a = got.toFloatArray();
                float[] b = want.toFloatArray();
                double maxDiff = 0;
                for (int i = 0; i < a.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
                }
                if (maxDiff >= worst) {
                    worst = maxDiff;
                    worstKey = key;
                }
                assertThat(maxDiff).as("max |onnx - safetensors| for " + key).isLessThanOrEqualTo(1e-6);
            }
            System.out.println("ONNX import vs model.safetensors: " + f.names().size() + " keys, max abs diff "
                    + worst + " (" + worstKey + ")");
        }
    }
}
