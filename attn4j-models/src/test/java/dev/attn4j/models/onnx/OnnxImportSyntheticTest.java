package dev.attn4j.models.onnx;

import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The importer on small hand-built BertModel-style ONNX graphs with random weights. */
class OnnxImportSyntheticTest {

    private static ImportedBert importTiny(TinyBertOnnx tiny) throws Exception {
        return BertOnnxImporter.importBert(OnnxModel.parse(tiny.build(), "tiny.onnx"), "tiny.onnx");
    }

    private static void assertSameAsHf(TinyBertOnnx tiny, ImportedBert bert, long seed) {
        assertThat(bert.stateDict().keySet()).as("seed " + seed).containsExactlyInAnyOrderElementsOf(tiny.hf.keySet());
        for (Map.Entry<String, float[]> e : tiny.hf.entrySet()) {
            NDArray got = bert.stateDict().get(e.getKey());
            assertThat(got.shape().toArray()).as(e.getKey() + " shape, seed " + seed).isEqualTo(tiny.hfShape.get(e.getKey()));
            assertThat(got.toFloatArray()).as(e.getKey() + ", seed " + seed).isEqualTo(e.getValue());
        }
    }

    @Test
    void matchesTransposedMatMulWeightsThroughTheGraph() throws Exception {
        long seed = Long.getLong("attn4j.seed", System.nanoTime());
        TinyBertOnnx tiny = new TinyBertOnnx(seed);
        ImportedBert bert = importTiny(tiny);
        assertSameAsHf(tiny, bert, seed);
        assertThat(bert.config()).as("seed " + seed)
                .isEqualTo(new BertConfigValues(11, 6, 2, 3, 10, 7, 2, 1e-12, "gelu"));
        assertThat(bert.skipped()).anyMatch(s -> s.startsWith("embeddings.position_ids"));
    }

    @Test
    void readsPackedDimsTypedFloatDataAndGemmWeights() throws Exception {
        long seed = Long.getLong("attn4j.seed", System.nanoTime());
        TinyBertOnnx tiny = new TinyBertOnnx(seed);
        tiny.packedDims = true;
        tiny.typedData = true;
        tiny.poolerAsGemm = true;
        assertSameAsHf(tiny, importTiny(tiny), seed);
    }

    @Test
    void headsCanBeGivenAndMustDivideTheWidth() throws Exception {
        TinyBertOnnx tiny = new TinyBertOnnx(System.nanoTime());
        OnnxModel m = OnnxModel.parse(tiny.build(), "tiny.onnx");
        assertThat(BertOnnxImporter.importBert(m, "tiny.onnx", 2).config().numAttentionHeads()).isEqualTo(2);
        assertThatThrownBy(() -> BertOnnxImporter.importBert(m, "tiny.onnx", 4))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("tiny.onnx").hasMessageContaining("not a multiple of num_attention_heads 4");
    }

    @Test
    void weightWithoutNamedBiasIsAnErrorNamingIt() {
        TinyBertOnnx tiny = new TinyBertOnnx(System.nanoTime());
        tiny.dropQueryBias = true;
        assertThatThrownBy(() -> importTiny(tiny))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("tiny.onnx: 1 initializer(s) match no BertModel parameter")
                .hasMessageContaining("'onnx::MatMul_100' FLOAT [6, 6]")
                .hasMessageContaining("feeds no Add with a named '.bias' initializer of length 6");
    }

    @Test
    void unusedInitializerIsAnErrorNamingIt() {
        TinyBertOnnx tiny = new TinyBertOnnx(System.nanoTime());
        tiny.extraUnusedMatrix = true;
        assertThatThrownBy(() -> importTiny(tiny))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("'onnx::MatMul_999' FLOAT [3, 4]: no node reads it");
    }

    @Test
    void truncatedOrCorruptBytesGiveFormatErrorsWithOffsets() {
        long seed = Long.getLong("attn4j.seed", System.nanoTime());
        java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
        byte[] good = new TinyBertOnnx(seed).build();
        for (int trial = 0; trial < 200; trial++) {
            byte[] bad;
            if (trial % 2 == 0) {
                bad = Arrays.copyOf(good, 1 + rng.nextInt(good.length - 1));
            } else {
                bad = good.clone();
                for (int k = 0; k < 3; k++) bad[rng.nextInt(bad.length)] = (byte) rng.nextInt(256);
            }
            try {
                OnnxModel m = OnnxModel.parse(bad, "bad.onnx");
                BertOnnxImporter.importBert(m, "bad.onnx");
            } catch (OnnxFormatException | OnnxImportException expected) {
                assertThat(expected.getMessage()).as("seed " + seed + " trial " + trial).startsWith("bad.onnx: ");
            } catch (IllegalArgumentException expected) {
                // a corrupt size that the NDArray/config checks reject, with a message
                assertThat(expected.getMessage()).as("seed " + seed + " trial " + trial).isNotBlank();
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + " trial " + trial + ": unexpected " + e, e);
            }
        }
    }

    @Test
    void truncationInsideATensorNamesTheOffset() {
        byte[] good = new TinyBertOnnx(System.nanoTime()).build();
        byte[] bad = Arrays.copyOf(good, good.length / 2);
        assertThatThrownBy(() -> OnnxModel.parse(bad, "half.onnx"))
                .isInstanceOf(OnnxFormatException.class)
                .hasMessageMatching("half\\.onnx: at byte offset \\d+: .*(truncated or corrupt file).*");
        assertThatThrownBy(() -> OnnxModel.parse(new byte[0], "empty.onnx"))
                .hasMessageContaining("empty.onnx: at byte offset 0: empty file");
        assertThatThrownBy(() -> OnnxModel.parse("{\"not\": \"onnx\"}".getBytes(), "x.json"))
                .isInstanceOf(OnnxFormatException.class).hasMessageStartingWith("x.json");
    }

    @Test
    void externalDataIsRefusedClearly() throws Exception {
        ProtoWriter t = new ProtoWriter().varint(1, 2).varint(1, 2).varint(2, 1).string(8, "w")
                .message(13, new ProtoWriter().string(1, "location").string(2, "w.bin")).varint(14, 1);
        ProtoWriter g = new ProtoWriter().message(5, t);
        OnnxModel m = OnnxModel.parse(ProtoWriter.model(g), "ext.onnx");
        OnnxTensor w = m.graph().initializers().get("w");
        assertThat(w.isExternal()).isTrue();
        assertThatThrownBy(w::floats).isInstanceOf(OnnxFormatException.class)
                .hasMessageContaining("ext.onnx").hasMessageContaining("'w' keeps its data in an external file");
    }
}
