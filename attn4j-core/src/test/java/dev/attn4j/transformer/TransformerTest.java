package dev.attn4j.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.DefaultDType;
import dev.attn4j.nn.ParamGradCheck;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TransformerTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** The exact state-dict keys of torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16). */
    static final List<String> PYTORCH_KEYS = List.of(
            "encoder.layers.0.self_attn.in_proj_weight",
            "encoder.layers.0.self_attn.in_proj_bias",
            "encoder.layers.0.self_attn.out_proj.weight",
            "encoder.layers.0.self_attn.out_proj.bias",
            "encoder.layers.0.linear1.weight",
            "encoder.layers.0.linear1.bias",
            "encoder.layers.0.linear2.weight",
            "encoder.layers.0.linear2.bias",
            "encoder.layers.0.norm1.weight",
            "encoder.layers.0.norm1.bias",
            "encoder.layers.0.norm2.weight",
            "encoder.layers.0.norm2.bias",
            "encoder.norm.weight",
            "encoder.norm.bias",
            "decoder.layers.0.self_attn.in_proj_weight",
            "decoder.layers.0.self_attn.in_proj_bias",
            "decoder.layers.0.self_attn.out_proj.weight",
            "decoder.layers.0.self_attn.out_proj.bias",
            "decoder.layers.0.multihead_attn.in_proj_weight",
            "decoder.layers.0.multihead_attn.in_proj_bias",
            "decoder.layers.0.multihead_attn.out_proj.weight",
            "decoder.layers.0.multihead_attn.out_proj.bias",
            "decoder.layers.0.linear1.weight",
            "decoder.layers.0.linear1.bias",
            "decoder.layers.0.linear2.weight",
            "decoder.layers.0.linear2.bias",
            "decoder.layers.0.norm1.weight",
            "decoder.layers.0.norm1.bias",
            "decoder.layers.0.norm2.weight",
            "decoder.layers.0.norm2.bias",
            "decoder.layers.0.norm3.weight",
            "decoder.layers.0.norm3.bias",
            "decoder.norm.weight",
            "decoder.norm.bias");

    @Test
    void stateDictKeysAreExactlyPyTorchs() {
        TransformerOptions o = TransformerOptions.of(8, 2).numEncoderLayers(1).numDecoderLayers(1).dimFeedforward(16);
        Transformer t = new Transformer(o, rng);
        assertThat(List.copyOf(t.stateDict().keySet())).isEqualTo(PYTORCH_KEYS);
        Map<String, NDArray> sd = t.stateDict();
        assertThat(sd.get("encoder.layers.0.self_attn.in_proj_weight").shape()).isEqualTo(Shape.of(24, 8));
        assertThat(sd.get("encoder.layers.0.linear1.weight").shape()).isEqualTo(Shape.of(16, 8));
        assertThat(sd.get("decoder.layers.0.linear2.weight").shape()).isEqualTo(Shape.of(8, 16));
        // bias=False drops every bias, as in PyTorch
        Transformer nb = new Transformer(o.bias(false), rng);
        assertThat(nb.stateDict().keySet()).noneMatch(k -> k.endsWith("bias"));
        assertThat(nb.stateDict()).hasSize(PYTORCH_KEYS.size() - 17);
        // xavier_uniform on every matrix: bound sqrt(6 / (fan_in + fan_out))
        double bound = Math.sqrt(6.0 / (8 + 24));
        for (double v : sd.get("decoder.layers.0.self_attn.in_proj_weight").toDoubleArray()) assertThat(Math.abs(v)).isLessThanOrEqualTo(bound);
        // a second layer is named layers.1
        Transformer two = new Transformer(o.numEncoderLayers(2), rng);
        assertThat(two.stateDict()).containsKey("encoder.layers.1.norm2.bias");
    }

    /** A random [rows][cols] "blocked" pattern that never blocks column 0 of any row... or the diagonal when square. */
    private boolean[][] randomBlocked(int rows, int cols) {
        boolean[][] m = new boolean[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) m[i][j] = rng.nextDouble() < 0.3 && j != Math.min(i, cols - 1);
        }
        return m;
    }

    /** The same pattern through one of the three mask factories, chosen at random. */
    private AttentionMask asMask(boolean[][] blocked) {
        int rows = blocked.length, cols = blocked[0].length;
        float[] b = new float[rows * cols], a = new float[rows * cols], add = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                b[i * cols + j] = blocked[i][j] ? 1 : 0;
                a[i * cols + j] = blocked[i][j] ? 0 : 1;
                add[i * cols + j] = blocked[i][j] ? Float.NEGATIVE_INFINITY : 0;
            }
        }
        return switch (rng.nextInt(3)) {
            case 0 -> AttentionMask.blocked(NDArray.of(b, rows, cols));
            case 1 -> AttentionMask.allowed(NDArray.of(a, rows, cols));
            default -> AttentionMask.additive(NDArray.of(add, rows, cols));
        };
    }

    private static boolean[][] combine(boolean[][] mask, boolean[] padding, boolean causal) {
        int rows = mask.length, cols = mask[0].length;
        boolean[][] m = new boolean[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) m[i][j] = mask[i][j] || padding[j] || (causal && j > i);
        }
        return m;
    }

    /** x [B, T, E] as per-sequence arrays. */
    private static double[][] sequence(NDArray x, int b) {
        NDArray s = x.select(0, b);
        double[][] out = new double[s.dim(0)][];
        for (int t = 0; t < out.length; t++) out[t] = s.select(0, t).toDoubleArray();
        return out;
    }

    private void assertSequence(NDArray actual, int b, double[][] want, double tol, String what) {
        for (int t = 0; t < want.length; t++) {
            for (int c = 0; c < want[t].length; c++) {
                assertThat(actual.getDouble(b, t, c)).as("%s [%d, %d, %d], seed %d", what, b, t, c, seed).isCloseTo(want[t][c], offset(tol));
            }
        }
    }

    @Test
    void encoderLayerMatchesFloat64ReferencePostAndPreNorm() {
        for (boolean normFirst : new boolean[] {false, true}) {
            int heads = 1 + rng.nextInt(3), e = heads * (1 + rng.nextInt(4)), t = 1 + rng.nextInt(6), batch = 1 + rng.nextInt(3);
            boolean batchFirst = rng.nextBoolean(), causal = rng.nextBoolean();
            String act = rng.nextBoolean() ? "relu" : "gelu";
            TransformerOptions o = TransformerOptions.of(e, heads).dimFeedforward(1 + rng.nextInt(9)).activation(act)
                    .normFirst(normFirst).batchFirst(batchFirst).layerNormEps(1e-5 * (1 + rng.nextInt(10)));
            TransformerEncoderLayer layer = new TransformerEncoderLayer(o, rng);
            layer.eval();
            NDArray x = NDArray.uniform(rng, Shape.of(batch, t, e), -1, 1);                  // [B, T, E]
            boolean[][] mask = randomBlocked(t, t);
            boolean[][] padding = new boolean[batch][t];
            float[] pad = new float[batch * t];
            for (int b = 0; b < batch; b++) {
                for (int j = 1; j < t; j++) pad[b * t + j] = (padding[b][j] = rng.nextDouble() < 0.25) ? 1 : 0;
            }
            TransformerMasks masks = TransformerMasks.none().srcMask(asMask(mask))
                    .srcKeyPaddingMask(AttentionMask.blocked(NDArray.of(pad, batch, t))).srcIsCausal(causal);
            NDArray y;
            try (var g = GradMode.noGrad()) {
                NDArray in = batchFirst ? x : x.transpose(0, 1).contiguous();
                y = layer.forward(Tensor.of(in), masks).data();
                if (!batchFirst) y = y.transpose(0, 1);                                      // [B, T, E]
            }
            String what = "encoder layer normFirst " + normFirst + " batchFirst " + batchFirst + " causal " + causal + " " + act;
            for (int b = 0; b < batch; b++) {
                double[][] want = Reference.encoderLayer(layer.stateDict(), "", o, sequence(x, b), combine(mask, padding[b], causal));
                assertSequence(y, b, want, 2e-5, what);
            }
        }
    }

    @Test
    void decoderLayerAndStackMatchFloat64Reference() {
        for (boolean normFirst : new boolean[] {false, true}) {
            int heads = 2, e = 6, t = 1 + rng.nextInt(5), s = 1 + rng.nextInt(6), batch = 2;
            TransformerOptions o = TransformerOptions.of(e, heads).dimFeedforward(7).normFirst(normFirst).batchFirst(true)
                    .numEncoderLayers(1).numDecoderLayers(1);
            Transformer model = new Transformer(o, rng);
            model.eval();
            NDArray src = NDArray.uniform(rng, Shape.of(batch, s, e), -1, 1);
            NDArray tgt = NDArray.uniform(rng, Shape.of(batch, t, e), -1, 1);
            boolean[][] memMask = randomBlocked(t, s);
            TransformerMasks masks = TransformerMasks.none().tgtIsCausal(true).memoryMask(asMask(memMask));
            NDArray y;
            try (var g = GradMode.noGrad()) {
                y = model.forward(Tensor.of(src), Tensor.of(tgt), masks).data();           // [B, T, E]
            }
            Map<String, NDArray> sd = model.stateDict();
            boolean[][] none = new boolean[s][s];
            for (int b = 0; b < batch; b++) {
                double[][] mem = Reference.encoderLayer(sd, "encoder.layers.0.", o, sequence(src, b), none);
                mem = Reference.layerNorm(sd, "encoder.norm.", o.layerNormEps(), mem);
                double[][] out = Reference.decoderLayer(sd, "decoder.layers.0.", o, sequence(tgt, b), mem,
                        combine(new boolean[t][t], new boolean[t], true), memMask);
                out = Reference.layerNorm(sd, "decoder.norm.", o.layerNormEps(), out);
                assertSequence(y, b, out, 2e-5, "transformer normFirst " + normFirst);
            }
        }
    }

    @Test
    void decoderIsCausalFutureTargetsDoNotChangeEarlierOutputs() {
        TransformerOptions o = TransformerOptions.of(8, 2).dimFeedforward(12).numEncoderLayers(2).numDecoderLayers(2)
                .batchFirst(false).normFirst(rng.nextBoolean());
        Transformer model = new Transformer(o, rng);
        model.eval();
        int t = 7, s = 5, batch = 2, cut = 1 + rng.nextInt(t - 1);
        NDArray src = NDArray.uniform(rng, Shape.of(s, batch, 8), -1, 1);                     // [S, B, E]
        NDArray tgt = NDArray.uniform(rng, Shape.of(t, batch, 8), -1, 1);                     // [T, B, E]
        NDArray changed = tgt.copy();
        changed.narrow(0, cut, t - cut).copyFrom(NDArray.uniform(rng, Shape.of(t - cut, batch, 8), -3, 3));
        for (TransformerMasks masks : List.of(TransformerMasks.none().tgtIsCausal(true),
                TransformerMasks.none().tgtMask(Transformer.squareSubsequentMask(t)))) {
            try (var g = GradMode.noGrad()) {
                NDArray a = model.forward(Tensor.of(src), Tensor.of(tgt), masks).data();
                NDArray b = model.forward(Tensor.of(src), Tensor.of(changed), masks).data();
                assertThat(b.narrow(0, 0, cut).toFloatArray()).as("steps before %d, seed %d", cut, seed)
                        .isEqualTo(a.narrow(0, 0, cut).toFloatArray());
                assertThat(b.narrow(0, cut, t - cut).toFloatArray()).isNotEqualTo(a.narrow(0, cut, t - cut).toFloatArray());
            }
        }
        // without the causal mask the future leaks into the past
        try (var g = GradMode.noGrad()) {
            NDArray a = model.forward(Tensor.of(src), Tensor.of(tgt)).data();
            NDArray b = model.forward(Tensor.of(src), Tensor.of(changed)).data();
            assertThat(b.narrow(0, 0, cut).toFloatArray()).isNotEqualTo(a.narrow(0, 0, cut).toFloatArray());
        }
    }

    @Test
    void squareSubsequentMaskIsPyTorchs() {
        NDArray m = Transformer.generateSquareSubsequentMask(4);
        assertThat(m.dtype()).isEqualTo(DType.F32);
        float inf = Float.NEGATIVE_INFINITY;
        assertThat(m.toFloatArray()).containsExactly(0, inf, inf, inf, 0, 0, inf, inf, 0, 0, 0, inf, 0, 0, 0, 0);
    }

    @Test
    void gradientChecksOfLayersWithMasks() {
        try (var scope = DefaultDType.use(DType.F64)) {
            for (boolean normFirst : new boolean[] {false, true}) {
                TransformerOptions o = TransformerOptions.of(4, 2).dimFeedforward(5).dropout(0).normFirst(normFirst)
                        .batchFirst(true).activation(normFirst ? "gelu" : "relu");
                TransformerEncoderLayer enc = new TransformerEncoderLayer(o, rng);
                TransformerDecoderLayer dec = new TransformerDecoderLayer(o, rng);
                Tensor src = Tensor.param(NDArray.uniform(rng, Shape.of(2, 3, 4), -1, 1).to(DType.F64));
                Tensor tgt = Tensor.param(NDArray.uniform(rng, Shape.of(2, 2, 4), -1, 1).to(DType.F64));
                TransformerMasks masks = TransformerMasks.none()
                        .srcKeyPaddingMask(AttentionMask.blocked(NDArray.of(new float[] {0, 0, 1, 0, 0, 0}, 2, 3)))
                        .memoryKeyPaddingMask(AttentionMask.blocked(NDArray.of(new float[] {0, 1, 0, 0, 0, 0}, 2, 3)))
                        .tgtIsCausal(true);
                ParamGradCheck.check("encoder layer normFirst " + normFirst + " seed " + seed, enc, List.of(src),
                        () -> enc.forward(src, masks), 1e-6, 1e-6, 1e-4);
                ParamGradCheck.check("decoder layer normFirst " + normFirst + " seed " + seed, dec, List.of(tgt, src),
                        () -> dec.forward(tgt, src, masks), 1e-6, 1e-6, 1e-4);
            }
        }
    }

    @Test
    void badInputsAreNamed() {
        TransformerOptions o = TransformerOptions.of(8, 2).dimFeedforward(8).numEncoderLayers(1).numDecoderLayers(1).batchFirst(true);
        Transformer model = new Transformer(o, rng);
        assertThatThrownBy(() -> model.forward(Tensor.zeros(2, 3, 6), Tensor.zeros(2, 3, 8)))
                .hasMessageContaining("src").hasMessageContaining("[2, 3, 6]").hasMessageContaining("d_model 8");
        assertThatThrownBy(() -> model.forward(Tensor.zeros(2, 3, 8), Tensor.zeros(3, 3, 8)))
                .hasMessageContaining("batch");
        assertThatThrownBy(() -> TransformerOptions.of(10, 3)).hasMessageContaining("multiple of nhead");
        assertThatThrownBy(() -> TransformerOptions.of(8, 2).activation("swishy")).hasMessageContaining("unknown activation 'swishy'");
    }
}
