package dev.attn4j.models.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.models.CheckpointParams;
import dev.attn4j.models.CheckpointParams.Keep16;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Storage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BERT encoders whose linear weights stay in BF16 (or F16): loaded from a 16-bit checkpoint with
 * {@link CheckpointParams#keep16} (heap copy or memory-mapped), or rounded in place with
 * {@link Params#linearsTo16}. The output must be the F32 model's on the same rounded weights, bit
 * for bit where both take the same GEMM layout, and the float64 reference's (TinyEncoders, on the
 * weights read back from the file) within float error; the weights' heap bytes are halved (heap)
 * or gone (mapped).
 */
class Bf16LinearsTest {
    @TempDir
    Path tmp;

    final long seed = System.nanoTime();
    final SplittableRandom rng = new SplittableRandom(seed);

    /** Heap bytes of the distinct arrays behind the linear weights of {@code m}. */
    static long linearWeightHeapBytes(Module m) {
        Set<Storage> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        long bytes = 0;
        for (Module sub : m.namedModules().values()) {
            if (!(sub instanceof Linear lin)) continue;
            Storage s = lin.weight.data().storage();
            if (!seen.add(s)) continue;
            if (s instanceof Storage.Floats f) bytes += 4L * f.array().length;
            else if (s instanceof Storage.Halfs h && h.isHeap()) bytes += 2L * h.size();
        }
        return bytes;
    }

    static BertModel build(BertConfig c, SafetensorsCheckpoint ckpt, String prefix, Keep16 keep) {
        CheckpointParams p = new CheckpointParams(ckpt, prefix).keep16(keep);
        BertModel m = new BertModel(c, p, p.at("pooler").at("dense").has("weight"), new SplittableRandom(1));
        assertThat(p.problems(Set.of("embeddings.position_ids"))).isNull();
        m.eval();
        return m;
    }

    /** Last hidden state on the module path (under autograd, which keeps it off the fused inference path). */
    static float[] moduleOutput(BertModel m, EncoderInput in) {
        return m.forward(in).lastHiddenState().data().toFloatArray();
    }

    /** Last hidden state on the fused inference path (no gradients recorded: {@link BertInference}). */
    static float[] fastOutput(BertModel m, EncoderInput in) {
        try (var g = GradMode.noGrad()) {
            return m.forward(in).lastHiddenState().data().toFloatArray();
        }
    }

    static double worst(float[] a, float[] b) {
        double w = 0;
        for (int i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
        return w;
    }

    @Test
    void tinyBf16CheckpointKeptIn16BitsMatchesF32AndTheFloat64Reference() throws IOException {
        for (SafetensorsDType fileType : new SafetensorsDType[] {SafetensorsDType.BF16, SafetensorsDType.F16}) {
            BertConfig c = TinyEncoders.config("bert");
            Path dir = TinyEncoders.write(tmp.resolve(fileType.name()), c, TinyEncoders.weights(c, true, rng), "", fileType);
            EncoderInput in = TinyEncoders.batch(rng, c, new int[] {7, 11, 1, 4}, true);
            TinyEncoders.Ref ref = TinyEncoders.forward(c, TinyEncoders.readBack(dir, ""), in);
            try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"))) {
                BertModel f32 = build(c, ckpt, "", Keep16.NO), heap = build(c, ckpt, "", Keep16.HEAP),
                        mapped = build(c, ckpt, "", Keep16.MAPPED);
                DType want = fileType == SafetensorsDType.BF16 ? DType.BF16 : DType.F16;
                BertSelfAttention sa = heap.encoder.layer.get(1).attention.self;
                assertThat(sa.value.weight.dtype()).isEqualTo(want);
                assertThat(sa.value.weight.requiresGrad()).isFalse();
                assertThat(heap.embeddings.wordEmbeddings.weight.dtype()).isEqualTo(DType.F32);
                assertThat(sa.value.bias.dtype()).isEqualTo(DType.F32);
                assertThat(((Storage.Halfs) mapped.encoder.layer.get(0).output.dense.weight.data().storage()).segment().isMapped()).isTrue();
                float[] o32 = moduleOutput(f32, in), o16 = moduleOutput(heap, in), oMap = moduleOutput(mapped, in);
                assertThat(o16).as("heap %s: same bits as F32 on the rounded weights (seed %d)", fileType, seed).containsExactly(o32);
                assertClose(oMap, ref.hidden().getLast(), in, c, "mapped " + fileType);
                assertClose(o16, ref.hidden().getLast(), in, c, "heap " + fileType);
                float[] f16 = fastOutput(heap, in), fMap = fastOutput(mapped, in);      // the fused path over 16-bit weights
                assertClose(f16, ref.hidden().getLast(), in, c, "heap, fused path " + fileType);
                assertClose(fMap, ref.hidden().getLast(), in, c, "mapped, fused path " + fileType);
                assertThat(linearWeightHeapBytes(heap) * 2).isEqualTo(linearWeightHeapBytes(f32));
                assertThat(linearWeightHeapBytes(mapped)).isZero();
                // dX still flows through the frozen 16-bit weights
                Tensor x = Tensor.of(NDArray.normal(rng, dev.attn4j.tensor.Shape.of(2, 3, c.hiddenSize()), 0, 1)).requiresGrad(true);
                heap.encoder.layer.get(0).intermediate.dense.forward(x).sum().backward();
                assertThat(x.grad()).isNotNull();
                assertThatThrownBy(() -> sa.query.weight.requiresGrad(true)).hasMessageContaining(want.name());
            }
        }
    }

    /** {@link Params#linearsTo16} on an F32 model: the same output as loading the BF16-rounded checkpoint as F32. */
    @Test
    void linearsTo16RoundsInPlace() throws IOException {
        BertConfig c = TinyEncoders.config("bert");
        Map<String, NDArray> w = TinyEncoders.weights(c, true, rng);
        Path d32 = TinyEncoders.write(tmp.resolve("f32"), c, w, "", SafetensorsDType.F32);
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {9, 3}, true);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(d32.resolve("model.safetensors"))) {
            BertModel m = build(c, ckpt, "", Keep16.NO);
            long before = linearWeightHeapBytes(m);
            int linears = Params.linearsTo16(m, DType.BF16);
            assertThat(linears).isEqualTo(2 * 6 + 1);                               // 6 per layer, the pooler
            assertThat(linearWeightHeapBytes(m) * 2).isEqualTo(before);
            assertThat(m.encoder.layer.get(0).attention.self.key.weight.requiresGrad()).isFalse();
            // reference: every linear weight rounded to BF16 in the file, the rest F32 (as in the model)
            Map<String, NDArray> rounded = new java.util.LinkedHashMap<>(w);
            rounded.replaceAll((k, v) -> k.endsWith(".weight") && v.rank() == 2 && !k.startsWith("embeddings.")
                    ? v.to(DType.BF16).to(DType.F32) : v);
            Path dr = TinyEncoders.write(tmp.resolve("rounded"), c, rounded, "", SafetensorsDType.F32);
            try (SafetensorsCheckpoint ck2 = SafetensorsCheckpoint.open(dr.resolve("model.safetensors"))) {
                BertModel r = build(c, ck2, "", Keep16.NO);
                assertThat(moduleOutput(m, in)).as("seed %d", seed).containsExactly(moduleOutput(r, in));
            }
        }
    }

    /**
     * all-MiniLM-L6-v2 (../shared) written as BF16 and loaded with 16-bit linears: the F32 model on
     * the rounded weights, bit for bit (heap) or within float error (mapped), and half the heap.
     */
    @Test
    void miniLmBf16() throws IOException {
        Path src = Path.of("../shared/models/all-MiniLM-L6-v2");
        if (!Files.exists(src)) src = Path.of("../../shared/models/all-MiniLM-L6-v2");
        assumeTrue(Files.exists(src.resolve("model.safetensors")), "../shared/models/all-MiniLM-L6-v2 not present");
        Path dir = tmp.resolve("minilm-bf16");
        Files.createDirectories(dir);
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), StateDicts.read(src.resolve("model.safetensors")), Map.of("format", "pt"),
                SafetensorsDType.BF16);
        BertConfig c = BertConfig.fromJson(new com.fasterxml.jackson.databind.ObjectMapper().readTree(dir.resolve("config.json").toFile()),
                dir.resolve("config.json"));
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir.resolve("model.safetensors"))) {
            String prefix = BertModels.findPrefix(ckpt, dir);
            BertModel f32 = build(c, ckpt, prefix, Keep16.NO), heap = build(c, ckpt, prefix, Keep16.HEAP),
                    mapped = build(c, ckpt, prefix, Keep16.MAPPED);
            int[][] ids = {{101, 7592, 1010, 2026, 3899, 2003, 10140, 102}, {101, 1037, 2460, 6251, 102}};
            EncoderInput in = EncoderInput.padded(java.util.List.of(ids), null, c.padTokenId());
            float[] o32 = moduleOutput(f32, in), o16 = moduleOutput(heap, in), oMap = moduleOutput(mapped, in);
            assertThat(o16).containsExactly(o32);
            double worst = 0;
            for (int i = 0; i < o32.length; i++) worst = Math.max(worst, Math.abs(oMap[i] - o32[i]));
            assertThat(worst).isLessThan(1e-4);
            long b32 = linearWeightHeapBytes(f32), b16 = linearWeightHeapBytes(heap), bMap = linearWeightHeapBytes(mapped);
            System.out.printf("all-MiniLM-L6-v2 linear weights on the heap: F32 %,d bytes, BF16 heap %,d, BF16 mapped %,d%n", b32, b16, bMap);
            assertThat(b16 * 2).isEqualTo(b32);
            assertThat(bMap).isZero();
            // the fused inference path, F32 and 16-bit weights, agrees within float error
            float[] fused32 = fastOutput(f32, in), fused16 = fastOutput(heap, in), fusedMap = fastOutput(mapped, in);
            assertThat(worst(fused32, o16)).isLessThan(1e-4);
            assertThat(worst(fused16, fused32)).isLessThan(1e-4);
            assertThat(worst(fusedMap, fused32)).isLessThan(1e-4);
        }
    }

    static void assertClose(float[] got, double[][][] want, EncoderInput in, BertConfig c, String what) {
        int t = in.length(), h = c.hiddenSize();
        double worst = 0;
        for (int b = 0; b < in.batchSize(); b++) {
            for (int i = 0; i < in.realLength(b); i++) {
                for (int j = 0; j < h; j++) worst = Math.max(worst, Math.abs(got[(b * t + i) * h + j] - want[b][i][j]));
            }
        }
        assertThat(worst).as("%s: worst difference from the float64 reference", what).isLessThanOrEqualTo(1e-4);
    }
}
