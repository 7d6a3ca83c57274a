package dev.attn4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GRUTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    private static double sigmoid(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /** One float64 GRU step for one sequence element: x [in], h [H] -> h'. */
    static double[] refStep(double[] x, double[] h, NDArray wih, NDArray whh, NDArray bih, NDArray bhh) {
        int hidden = h.length;
        double[] gi = new double[3 * hidden], gh = new double[3 * hidden];
        for (int g = 0; g < 3 * hidden; g++) {
            double a = bih == null ? 0 : bih.getDouble(g), b = bhh == null ? 0 : bhh.getDouble(g);
            for (int i = 0; i < x.length; i++) a += wih.getDouble(g, i) * x[i];
            for (int i = 0; i < hidden; i++) b += whh.getDouble(g, i) * h[i];
            gi[g] = a;
            gh[g] = b;
        }
        double[] out = new double[hidden];
        for (int j = 0; j < hidden; j++) {
            double r = sigmoid(gi[j] + gh[j]);
            double z = sigmoid(gi[hidden + j] + gh[hidden + j]);
            double n = Math.tanh(gi[2 * hidden + j] + r * gh[2 * hidden + j]);
            out[j] = (1 - z) * n + z * h[j];
        }
        return out;
    }

    /** Float64 reference of a whole GRU from its state dict: input [T][B][in], h0 [L*D][B][H] -> {output [T][B][D*H], hN}. */
    static double[][][][] refGru(Map<String, NDArray> sd, int layers, boolean bidir, double[][][] input, double[][][] h0) {
        int steps = input.length, batch = input[0].length, dirs = bidir ? 2 : 1;
        int hidden = sd.get("weight_hh_l0").dim(1);
        double[][][] x = input;
        double[][][] hN = new double[layers * dirs][batch][];
        for (int l = 0; l < layers; l++) {
            double[][][] y = new double[steps][batch][dirs * hidden];
            for (int d = 0; d < dirs; d++) {
                String s = "_l" + l + (d == 1 ? "_reverse" : "");
                for (int b = 0; b < batch; b++) {
                    double[] h = h0 == null ? new double[hidden] : h0[l * dirs + d][b].clone();
                    for (int i = 0; i < steps; i++) {
                        int t = d == 0 ? i : steps - 1 - i;
                        h = refStep(x[t][b], h, sd.get("weight_ih" + s), sd.get("weight_hh" + s), sd.get("bias_ih" + s),
                                sd.get("bias_hh" + s));
                        System.arraycopy(h, 0, y[t][b], d * hidden, hidden);
                    }
                    hN[l * dirs + d][b] = h;
                }
            }
            x = y;
        }
        return new double[][][][] {x, hN};
    }

    private double[][][] random3(int a, int b, int c) {
        double[][][] r = new double[a][b][c];
        for (double[][] m : r) for (double[] v : m) for (int i = 0; i < c; i++) v[i] = 2 * rng.nextDouble() - 1;
        return r;
    }

    private static NDArray toArray(double[][][] v) {
        int a = v.length, b = v[0].length, c = v[0][0].length;
        float[] f = new float[a * b * c];
        for (int i = 0; i < a; i++) for (int j = 0; j < b; j++) for (int k = 0; k < c; k++) f[(i * b + j) * c + k] = (float) v[i][j][k];
        return NDArray.of(f, a, b, c);
    }

    private void assertClose(NDArray actual, double[][][] expected, double tol, String what) {
        int a = expected.length, b = expected[0].length, c = expected[0][0].length;
        assertThat(actual.shape()).as(what).isEqualTo(Shape.of(a, b, c));
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                for (int k = 0; k < c; k++) {
                    assertThat(actual.getDouble(i, j, k)).as("%s [%d, %d, %d], seed %d", what, i, j, k, seed)
                            .isCloseTo(expected[i][j][k], org.assertj.core.data.Offset.offset(tol));
                }
            }
        }
    }

    @Test
    void parameterNamesShapesAndInitMatchPyTorch() {
        GRU gru = new GRU(5, 3, 2, true, false, 0, true, rng);
        assertThat(gru.stateDict().keySet()).containsExactly(
                "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
                "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
                "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse");
        assertThat(gru.stateDict().get("weight_ih_l0").shape()).isEqualTo(Shape.of(9, 5));
        assertThat(gru.stateDict().get("weight_ih_l1").shape()).isEqualTo(Shape.of(9, 6));
        assertThat(gru.stateDict().get("weight_hh_l1_reverse").shape()).isEqualTo(Shape.of(9, 3));
        double bound = 1 / Math.sqrt(3);
        for (var e : gru.stateDict().entrySet()) {
            for (double v : e.getValue().toDoubleArray()) assertThat(Math.abs(v)).as(e.getKey()).isLessThanOrEqualTo(bound);
        }
        assertThat(new GRU(4, 2, 1, false, false, 0, false, rng).stateDict().keySet())
                .containsExactly("weight_ih_l0", "weight_hh_l0");
        assertThat(new GRUCell(4, 2, rng).stateDict().keySet()).containsExactly("weight_ih", "weight_hh", "bias_ih", "bias_hh");
    }

    @Test
    void matchesFloat64ReferenceInEveryConfiguration() {
        for (int layers = 1; layers <= 2; layers++) {
            for (boolean bidir : new boolean[] {false, true}) {
                for (boolean batchFirst : new boolean[] {false, true}) {
                    int in = 1 + rng.nextInt(6), hidden = 1 + rng.nextInt(7), steps = 1 + rng.nextInt(6), batch = 1 + rng.nextInt(3);
                    boolean bias = rng.nextBoolean();
                    GRU gru = new GRU(in, hidden, layers, bias, batchFirst, 0.5, bidir, rng);
                    gru.eval(); // dropout off
                    double[][][] x = random3(steps, batch, in);
                    double[][][] h0 = rng.nextBoolean() ? random3(layers * (bidir ? 2 : 1), batch, hidden) : null;
                    double[][][][] ref = refGru(gru.stateDict(), layers, bidir, x, h0);
                    NDArray xa = toArray(x);
                    if (batchFirst) xa = xa.transpose(0, 1).contiguous();
                    GRU.Output out;
                    try (var g = GradMode.noGrad()) {
                        out = gru.forward(Tensor.of(xa), h0 == null ? null : Tensor.of(toArray(h0)));
                    }
                    String what = "GRU layers " + layers + " bidir " + bidir + " batchFirst " + batchFirst + " bias " + bias;
                    NDArray y = batchFirst ? out.output().data().transpose(0, 1) : out.output().data();
                    assertClose(y, ref[0], 2e-5, what + " output");
                    assertClose(out.hN().data(), ref[1], 2e-5, what + " h_n");
                }
            }
        }
    }

    @Test
    void unbatchedInputAndCellMatchBatched() {
        GRU gru = new GRU(3, 4, 2, true, false, 0, true, rng);
        NDArray x = NDArray.uniform(rng, Shape.of(5, 3), -1, 1);
        NDArray h0 = NDArray.uniform(rng, Shape.of(4, 4), -1, 1);
        GRU.Output single = gru.forward(Tensor.of(x), Tensor.of(h0));
        GRU.Output batched = gru.forward(Tensor.of(x.unsqueeze(1)), Tensor.of(h0.unsqueeze(1)));
        assertThat(single.output().shape()).isEqualTo(Shape.of(5, 8));
        assertThat(single.hN().shape()).isEqualTo(Shape.of(4, 4));
        assertThat(single.output().data().toFloatArray()).isEqualTo(batched.output().data().toFloatArray());
        assertThat(single.hN().data().toFloatArray()).isEqualTo(batched.hN().data().toFloatArray());

        GRUCell cell = new GRUCell(3, 4, rng);
        NDArray xb = NDArray.uniform(rng, Shape.of(2, 3), -1, 1);
        NDArray hb = NDArray.uniform(rng, Shape.of(2, 4), -1, 1);
        NDArray out = cell.forward(Tensor.of(xb), Tensor.of(hb)).data();
        Map<String, NDArray> sd = cell.stateDict();
        for (int b = 0; b < 2; b++) {
            double[] ref = refStep(xb.select(0, b).toDoubleArray(), hb.select(0, b).toDoubleArray(), sd.get("weight_ih"),
                    sd.get("weight_hh"), sd.get("bias_ih"), sd.get("bias_hh"));
            for (int j = 0; j < 4; j++) {
                assertThat(out.getDouble(b, j)).as("cell [%d, %d], seed %d", b, j, seed)
                        .isCloseTo(ref[j], org.assertj.core.data.Offset.offset(1e-5));
            }
        }
        assertThat(cell.forward(Tensor.of(xb.select(0, 1)), Tensor.of(hb.select(0, 1))).data().toFloatArray())
                .isEqualTo(out.select(0, 1).toFloatArray());
        assertThat(cell.forward(Tensor.of(xb)).data().toFloatArray())
                .isEqualTo(cell.forward(Tensor.of(xb), Tensor.zeros(2, 4)).data().toFloatArray());
    }

    @Test
    void dropoutBetweenLayersOnlyInTraining() {
        GRU gru = new GRU(3, 6, 2, true, false, 0.5, false, rng);
        Tensor x = Tensor.of(NDArray.uniform(rng, Shape.of(4, 2, 3), -1, 1));
        float[] a = gru.forward(x).output().data().toFloatArray();
        float[] b = gru.forward(x).output().data().toFloatArray();
        assertThat(a).as("two training passes draw different masks, seed %d", seed).isNotEqualTo(b);
        gru.eval();
        assertThat(gru.forward(x).output().data().toFloatArray()).isEqualTo(gru.forward(x).output().data().toFloatArray());
    }

    @Test
    void gradientsOfEveryParameterInputAndInitialState() {
        try (var s = DefaultDType.use(DType.F64)) {
            GRU gru = new GRU(2, 3, 2, true, true, 0, true, rng);
            assertThat(gru.weightIh(0, false).dtype()).isEqualTo(DType.F64);
            Tensor x = Tensor.param(NDArray.uniform(rng, Shape.of(2, 3, 2), -1, 1).to(DType.F64)); // [B, T, in]
            Tensor h0 = Tensor.param(NDArray.uniform(rng, Shape.of(4, 2, 3), -1, 1).to(DType.F64));
            ParamGradCheck.check("GRU seed " + seed, gru, List.of(x, h0), () -> {
                GRU.Output o = gru.forward(x, h0);
                return dev.attn4j.autograd.F.concat(List.of(o.output().reshape(-1), o.hN().reshape(-1)), 0);
            });
            GRUCell cell = new GRUCell(3, 2, false, rng);
            Tensor xc = Tensor.param(NDArray.uniform(rng, Shape.of(2, 3), -1, 1).to(DType.F64));
            Tensor hc = Tensor.param(NDArray.uniform(rng, Shape.of(2, 2), -1, 1).to(DType.F64));
            ParamGradCheck.check("GRUCell seed " + seed, cell, List.of(xc, hc), () -> cell.forward(xc, hc));
        }
    }

    @Test
    void badShapesAreNamed() {
        GRU gru = new GRU(3, 4, 2, true, false, 0, false, rng);
        assertThatThrownBy(() -> gru.forward(Tensor.zeros(5, 2, 4))).hasMessageContaining("input_size 3").hasMessageContaining("[5, 2, 4]");
        assertThatThrownBy(() -> gru.forward(Tensor.zeros(5, 2, 3), Tensor.zeros(1, 2, 4))).hasMessageContaining("h0 must be [2, 2, 4]");
        assertThatThrownBy(() -> gru.forward(Tensor.zeros(0, 2, 3))).hasMessageContaining("no time steps");
        assertThatThrownBy(() -> new GRUCell(3, 4, rng).forward(Tensor.zeros(2, 3), Tensor.zeros(3, 4)))
                .hasMessageContaining("hidden state must be [2, 4]");
    }
}
