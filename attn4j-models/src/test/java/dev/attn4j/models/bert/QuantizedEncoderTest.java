package dev.attn4j.models.bert;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Quants;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import dev.attn4j.tensor.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Encoders with their linear weights quantized on load ({@link BertModels#quantize}): the output
 * is the same model's with each weight replaced by its dequantized F32 values (to float rounding),
 * on the fast inference path (fused q/k/v, padded and packed), the matrix-vector path (fewer than
 * four rows) and the module path; no F32 copy of a quantized weight is kept.
 */
class QuantizedEncoderTest {
    /** C = 64 (4 heads of 16), I = 96: rows of whole 32-value blocks. */
    static BertConfig config(String type, int hidden, int inter) {
        boolean roberta = type.equals("roberta"), distil = type.equals("distilbert");
        return new BertConfig(type, 50, hidden, 2, 4, inter, "gelu", 0.1, 0.1, roberta ? 40 : 36, distil ? 0 : roberta ? 1 : 2, 1e-12,
                roberta ? 1 : 0, 0.02);
    }

    /** Two copies of a random model from the same seed, in eval mode. */
    static BertModel[] twins(BertConfig c, long seed) {
        BertModel a = BertModel.random(c, new SplittableRandom(seed));
        BertModel b = BertModel.random(c, new SplittableRandom(seed));
        // larger weights than initializer_range so the layers do more than pass the embeddings on
        for (BertModel m : List.of(a, b)) {
            SplittableRandom rng = new SplittableRandom(seed + 1);
            for (Module mod : m.namedModules().values()) {
                if (mod instanceof Linear lin) {
                    NDArray w = lin.weight.data();
                    NDArray r = NDArray.normal(rng, w.shape(), 0, 0.15);
                    w.copyFrom(r);
                }
            }
            m.eval();
        }
        return new BertModel[] {a, b};
    }

    /** Replaces every quantized linear weight of {@code quantized} by its F32 values in the same linear of {@code plain}. */
    static int dequantizeInto(EncoderModel quantized, EncoderModel plain) {
        Map<String, Module> q = quantized.namedModules(), p = plain.namedModules();
        int n = 0;
        for (var e : q.entrySet()) {
            if (!(e.getValue() instanceof Linear lq) || lq.weight.dtype() != DType.QUANTIZED) continue;
            QuantizedMatrix m = ((Storage.Quantized) lq.weight.data().storage()).matrix();
            Linear lp = (Linear) p.get(e.getKey());
            lp.weight.setData(NDArray.of(Quants.dequantize(m), m.rows(), m.cols()));     // [out, in] F32
            n++;
        }
        return n;
    }

    static float[] values(Tensor t) {
        return t.data().contiguous().toFloatArray();
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertThat(actual).as(what + " length").hasSameSizeAs(expected);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        assertThat(worst).as(what + ": max abs difference").isLessThanOrEqualTo(tol);
    }

    @ParameterizedTest
    @EnumSource(value = QuantType.class, names = {"Q8_0", "Q4_0", "Q4_K"})
    void quantizedEncoderMatchesTheDequantizedWeightsInF32(QuantType type) {
        // q4_k needs rows of 256 values: C = 256, I = 512
        BertConfig c = type.isK() ? config("bert", 256, 512) : config("bert", 64, 96);
        BertModel[] m = twins(c, 7);
        BertModel q = m[0], f = m[1];
        assertThat(BertModels.quantize(q, type)).isEqualTo(2 * 6);                       // q, k, v, o, intermediate, output per layer
        assertThat(dequantizeInto(q, f)).isEqualTo(12);
        assertThat(q.pooler.dense.weight.dtype()).isEqualTo(DType.F32);
        SplittableRandom rng = new SplittableRandom(3);
        try (var g = GradMode.noGrad()) {
            for (int[] lengths : new int[][] {{9, 4, 7}, {3}, {1, 2}}) {                // 20 rows; 3 and 2 rows: matrix-vector
                EncoderInput in = TinyEncoders.batch(rng, c, lengths, true);
                String what = type + " lengths " + java.util.Arrays.toString(lengths);
                assertThat(BertInference.applies(q)).isTrue();
                EncoderOutput fast = q.forward(in, true, false);
                EncoderOutput ref = f.forward(in, true, false);
                float[] expected = values(ref.lastHiddenState());
                assertClose(expected, values(fast.lastHiddenState()), 2e-5, what + " fast path");
                assertClose(values(ref.poolerOutput()), values(fast.poolerOutput()), 2e-5, what + " pooler");
                for (int l = 0; l < ref.hiddenStates().size(); l++) {
                    assertClose(values(ref.hiddenStates().get(l)), values(fast.hiddenStates().get(l)), 2e-5, what + " hidden " + l);
                }
                EncoderOutput module = q.forward(in, false, true);                          // weights asked for: the module path
                assertClose(expected, values(module.lastHiddenState()), 2e-5, what + " module path");
                PackedHiddenStates packed = q.forwardPacked(in), packedRef = f.forwardPacked(in);
                assertClose(packedRef.values(), packed.values(), 2e-5, what + " packed");
            }
        }
    }

    @Test
    void quantizingChangesTheOutputAndTheDequantizedTwinDoesNot() {
        // guards the test above: the two models differ before dequantizeInto, agree after
        BertConfig c = config("roberta", 64, 96);
        BertModel[] m = twins(c, 11);
        EncoderInput in = TinyEncoders.batch(new SplittableRandom(5), c, new int[] {6, 5}, false);
        try (var g = GradMode.noGrad()) {
            float[] before = values(m[1].forward(in, false, false).lastHiddenState());
            BertModels.quantize(m[0], QuantType.Q4_0);
            float[] after = values(m[0].forward(in, false, false).lastHiddenState());
            double worst = 0;
            for (int i = 0; i < before.length; i++) worst = Math.max(worst, Math.abs(before[i] - after[i]));
            assertThat(worst).as("q4_0 moves the output").isGreaterThan(1e-3);
            dequantizeInto(m[0], m[1]);
            assertClose(values(m[1].forward(in, false, false).lastHiddenState()), after, 2e-5, "dequantized twin");
        }
    }

    @Test
    void quantizedModelKeepsNoF32CopyOfItsLinearWeights() {
        BertConfig c = config("bert", 64, 96);
        BertModel q = twins(c, 13)[0];
        BertModels.quantize(q, QuantType.Q8_0);
        List<String> quantized = new ArrayList<>(), f32 = new ArrayList<>();
        for (var e : q.namedParameters().entrySet()) {
            (e.getValue().dtype() == DType.QUANTIZED ? quantized : f32).add(e.getKey());
            if (e.getValue().dtype() == DType.QUANTIZED) {
                assertThat(e.getValue().data().storage()).isInstanceOf(Storage.Quantized.class);
                assertThat(e.getValue().requiresGrad()).as(e.getKey() + " frozen").isFalse();
            }
        }
        for (String k : f32) {
            // what stays float: embeddings, LayerNorms, biases, the pooler
            assertThat(k.startsWith("embeddings.") || k.contains("LayerNorm") || k.endsWith(".bias") || k.startsWith("pooler."))
                    .as(k + " stayed F32").isTrue();
        }
        assertThat(quantized).hasSize(12).allMatch(k -> k.startsWith("encoder.layer.") && k.endsWith(".weight"));
        // F32 storage left: embeddings, norms, biases and the pooler, nothing the size of a linear weight
        long f32Floats = 0;
        java.util.Set<Storage> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Tensor t : q.parameters()) {
            Storage s = t.data().storage();
            if (s instanceof Storage.Floats && seen.add(s)) f32Floats += s.size();
        }
        long expected = (long) (c.vocabSize() + c.maxPositionEmbeddings() + c.typeVocabSize()) * 64 + 2 * 64    // embeddings
                + 2L * (3 * 64 + 64 + 2 * 64 + 96 + 64 + 2 * 64)                                                  // biases, norms
                + 64 * 64 + 64;                                                                                    // pooler
        assertThat(f32Floats).isEqualTo(expected);
        // q, k and v are consecutive slices of one array (one product at inference)
        BertSelfAttention sa = q.encoder.layer.get(0).attention.self;
        assertThat(BertInference.jointQuantized(List.of(sa.query, sa.key, sa.value))).isNotNull();
        assertThat(BertModels.quantize(q, QuantType.Q8_0)).as("quantized weights are left as they are").isZero();
    }

    @Test
    void distilBertQuantizedMatchesItsDequantizedTwin() {
        BertConfig c = config("distilbert", 64, 96);
        DistilBertModel q = new DistilBertModel(c, dev.attn4j.models.Params.random(new SplittableRandom(3), 0.15), new SplittableRandom(1));
        DistilBertModel f = new DistilBertModel(c, dev.attn4j.models.Params.random(new SplittableRandom(3), 0.15), new SplittableRandom(1));
        q.eval();
        f.eval();
        assertThat(BertModels.quantize(q, QuantType.Q8_0)).isEqualTo(2 * 6);              // q_lin, k_lin, v_lin, out_lin, lin1, lin2
        assertThat(dequantizeInto(q, f)).isEqualTo(12);
        EncoderInput in = TinyEncoders.batch(new SplittableRandom(4), c, new int[] {7, 3}, false);
        try (var g = GradMode.noGrad()) {
            assertClose(values(f.forward(in, false, false).lastHiddenState()), values(q.forward(in, false, false).lastHiddenState()),
                    2e-5, "distilbert q8_0");
        }
    }

    @Test
    void classifierOptionsRejectQuantizingATrainableModel() {
        assertThatThrownBy(() -> new EncoderClassifiers.Options(null, null, true, 1, null, QuantType.Q8_0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("frozen");
        assertThat(EncoderClassifiers.Options.inference().withQuantize(QuantType.Q4_0).quantize()).isEqualTo(QuantType.Q4_0);
        assertThat(EncoderClassifiers.Options.inference().quantize()).isNull();
    }

    @Test
    void blockSizeThatDoesNotDivideTheRowsLeavesThoseWeightsInF32() {
        BertConfig c = config("bert", 64, 96);                                           // q4_k needs 256-value rows
        BertModel q = twins(c, 17)[0];
        assertThat(BertModels.quantize(q, QuantType.Q4_K)).isZero();
        assertThat(q.encoder.layer.get(0).intermediate.dense.weight.dtype()).isEqualTo(DType.F32);
    }
}
