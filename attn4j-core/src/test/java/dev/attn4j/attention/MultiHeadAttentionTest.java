package dev.attn4j.attention;

import static dev.attn4j.attention.ScaledDotProductAttentionTest.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.autograd.GradCheck;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** nn.MultiheadAttention semantics against a float64 reference written out by hand, plus gradient checks. */
class MultiHeadAttentionTest {
    private final long seed = Long.getLong("attn4j.seed", System.nanoTime()); // -Dattn4j.seed=N replays a failure
    private final SplittableRandom rng = new SplittableRandom(seed);

    private NDArray rand(int... shape) {
        return NDArray.uniform(rng, Shape.of(shape), -1, 1);
    }

    private NDArray bits(double pOne, int... shape) {
        NDArray a = NDArray.zeros(shape);
        float[] d = a.floatArray();
        for (int i = 0; i < d.length; i++) d[i] = rng.nextDouble() < pOne ? 1 : 0;
        return a;
    }

    /** Output [N, L, E] and per-head weights [N, H, L, S'] following F.multi_head_attention_forward step by step. */
    record Ref(double[] out, double[] weights, int sTotal) {
    }

    /**
     * x* inputs batch-first (N, L, E) etc. attnBlocked: PyTorch boolean attn_mask (true = masked),
     * shape (L, S) or (N*H, L, S), or null; kpmBlocked (N, S) or null.
     */
    static Ref reference(MultiHeadAttention m, NDArray xq, NDArray xk, NDArray xv, NDArray attnBlocked, NDArray kpmBlocked,
                         boolean causal) {
        MultiHeadAttention.Options o = m.options;
        Map<String, NDArray> sd = m.stateDict();
        int E = o.embedDim(), H = o.numHeads(), hd = E / H, N = xq.dim(0), L = xq.dim(1), S = xk.dim(1);
        double[][] wq = new double[E][], wk = new double[E][], wv = new double[E][];
        for (int r = 0; r < E; r++) {
            wq[r] = row(o.qkvSameEmbedDim() ? sd.get("in_proj_weight") : sd.get("q_proj_weight"), r);
            wk[r] = row(o.qkvSameEmbedDim() ? sd.get("in_proj_weight") : sd.get("k_proj_weight"), o.qkvSameEmbedDim() ? E + r : r);
            wv[r] = row(o.qkvSameEmbedDim() ? sd.get("in_proj_weight") : sd.get("v_proj_weight"), o.qkvSameEmbedDim() ? 2 * E + r : r);
        }
        NDArray bias = sd.get("in_proj_bias");
        int sTotal = S + (o.addBiasKv() ? 1 : 0) + (o.addZeroAttn() ? 1 : 0);
        double[] out = new double[N * L * E], weights = new double[N * H * L * sTotal];
        for (int n = 0; n < N; n++) {
            double[][] q = new double[L][E], k = new double[sTotal][E], v = new double[sTotal][E];
            for (int i = 0; i < L; i++) q[i] = project(wq, bias, 0, xq, n, i);
            for (int j = 0; j < S; j++) {
                k[j] = project(wk, bias, E, xk, n, j);
                v[j] = project(wv, bias, 2 * E, xv, n, j);
            }
            if (o.addBiasKv()) {
                for (int e = 0; e < E; e++) {
                    k[S][e] = sd.get("bias_k").getDouble(0, 0, e);
                    v[S][e] = sd.get("bias_v").getDouble(0, 0, e);
                }
            }   // the zero-attention key/value stays all zeros
            double[] merged = new double[L * E];
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < L; i++) {
                    double[] s = new double[sTotal];
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < sTotal; j++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += q[i][h * hd + d] * k[j][h * hd + d];
                        s[j] = dot / Math.sqrt(hd);
                        if (j < S) {   // appended keys are never masked
                            boolean blocked = causal && j > i;
                            if (attnBlocked != null) {
                                blocked |= (attnBlocked.rank() == 2 ? attnBlocked.getDouble(i, j)
                                        : attnBlocked.getDouble(n * H + h, i, j)) != 0;
                            }
                            if (kpmBlocked != null) blocked |= kpmBlocked.getDouble(n, j) != 0;
                            if (blocked) s[j] = Double.NEGATIVE_INFINITY;
                        }
                        mx = Math.max(mx, s[j]);
                    }
                    if (mx == Double.NEGATIVE_INFINITY) continue;
                    double sum = 0;
                    for (int j = 0; j < sTotal; j++) sum += s[j] = Math.exp(s[j] - mx);
                    for (int j = 0; j < sTotal; j++) {
                        double w = s[j] / sum;
                        weights[((n * H + h) * L + i) * sTotal + j] = w;
                        for (int d = 0; d < hd; d++) merged[i * E + h * hd + d] += w * v[j][h * hd + d];
                    }
                }
            }
            NDArray ow = sd.get("out_proj.weight"), ob = sd.get("out_proj.bias");
            for (int i = 0; i < L; i++) {
                for (int r = 0; r < E; r++) {
                    double acc = ob == null ? 0 : ob.getDouble(r);
                    for (int c = 0; c < E; c++) acc += ow.getDouble(r, c) * merged[i * E + c];
                    out[(n * L + i) * E + r] = acc;
                }
            }
        }
        return new Ref(out, weights, sTotal);
    }

    private static double[] row(NDArray w, int r) {
        double[] out = new double[w.dim(1)];
        for (int c = 0; c < out.length; c++) out[c] = w.getDouble(r, c);
        return out;
    }

    private static double[] project(double[][] w, NDArray bias, int biasOff, NDArray x, int n, int t) {
        double[] y = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double acc = bias == null ? 0 : bias.getDouble(biasOff + r);
            for (int c = 0; c < w[r].length; c++) acc += w[r][c] * x.getDouble(n, t, c);
            y[r] = acc;
        }
        return y;
    }

    /** Averages per-head reference weights [N, H, L, S] over heads. */
    private static double[] average(double[] w, int N, int H, int L, int S) {
        double[] out = new double[N * L * S];
        for (int n = 0; n < N; n++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < L * S; i++) out[n * L * S + i] += w[(n * H + h) * L * S + i] / H;
        return out;
    }

    private static Tensor layout(NDArray batchFirst, boolean toBatchFirst) {
        return Tensor.of(toBatchFirst ? batchFirst : batchFirst.transpose(0, 1).copy());
    }

    private static double[] outBatchFirst(Tensor out, boolean batchFirst) {
        return (batchFirst ? out.data() : out.data().transpose(0, 1)).toDoubleArray();
    }

    @Test
    void matchesHandWrittenReferenceAcrossOptionsMasksAndLayouts() {
        for (int variant = 0; variant < 8; variant++) {
            boolean batchFirst = variant % 2 == 0, cross = variant >= 2, kvDims = variant >= 4 && variant < 6;
            boolean biasKv = variant >= 4, zeroAttn = variant >= 6 || variant == 5, causal = variant == 3 || variant == 7;
            int H = 1 + rng.nextInt(3), E = H * (1 + rng.nextInt(3)), N = 1 + rng.nextInt(3), L = 1 + rng.nextInt(6);
            int S = cross ? 1 + rng.nextInt(7) : L;
            MultiHeadAttention.Options o = MultiHeadAttention.Options.of(E, H).batchFirst(batchFirst).addBiasKv(biasKv)
                    .addZeroAttn(zeroAttn).bias(variant != 6);
            if (kvDims) o = o.kdim(E + 1).vdim(E + 2);
            MultiHeadAttention m = new MultiHeadAttention(o, rng);
            // perturb the zero-initialised biases so they take part in the comparison
            for (Tensor p : m.parameters()) {
                float[] d = p.data().floatArray();
                for (int i = 0; i < d.length; i++) d[i] += (float) (0.1 * (rng.nextDouble() - 0.5));
            }
            NDArray xq = rand(N, L, E), xk = cross ? rand(N, S, o.kdim()) : xq, xv = cross ? rand(N, S, o.vdim()) : xq;
            NDArray attn = variant % 3 == 0 ? null : variant % 3 == 1 ? bits(0.3, L, S) : bits(0.3, N * H, L, S);
            NDArray kpm = variant % 2 == 1 ? bits(0.3, N, S) : null;
            Ref ref = reference(m, xq, xk, xv, attn, kpm, causal);
            String what = "variant " + variant + " " + o + " N=" + N + " L=" + L + " S=" + S + " seed=" + seed;
            MultiHeadAttention.Call call = MultiHeadAttention.Call.defaults().isCausal(causal)
                    .attnMask(attn == null ? null : AttentionMask.blocked(attn))
                    .keyPaddingMask(kpm == null ? null : AttentionMask.blocked(kpm));
            Tensor q = layout(xq, batchFirst), k = cross ? layout(xk, batchFirst) : q, v = cross ? layout(xv, batchFirst) : q;
            AttentionResult avg = m.forward(q, k, v, call);
            assertThat(avg.output().shape()).as(what).isEqualTo(batchFirst ? Shape.of(N, L, E) : Shape.of(L, N, E));
            assertClose("output " + what, outBatchFirst(avg.output(), batchFirst), ref.out, 1e-4);
            assertClose("averaged weights " + what, avg.weights().data().toDoubleArray(),
                    average(ref.weights, N, H, L, ref.sTotal), 1e-5);
            AttentionResult perHead = m.forward(q, k, v, call.averageAttnWeights(false));
            assertThat(perHead.weights().shape()).isEqualTo(Shape.of(N, H, L, ref.sTotal));
            assertClose("per-head weights " + what, perHead.weights().data().toDoubleArray(), ref.weights, 1e-5);
            // the same masks with the other polarity, and the fused path (no weights)
            MultiHeadAttention.Call flipped = MultiHeadAttention.Call.defaults().isCausal(causal).needWeights(false)
                    .attnMask(attn == null ? null : AttentionMask.allowed(flip(attn)))
                    .keyPaddingMask(kpm == null ? null : AttentionMask.allowed(flip(kpm)));
            AttentionResult fused = m.forward(q, k, v, flipped);
            assertThat(fused.weights()).isNull();
            assertClose("allowed-polarity fused " + what, outBatchFirst(fused.output(), batchFirst), ref.out, 1e-4);
        }
    }

    private static NDArray flip(NDArray m) {
        NDArray out = NDArray.zeros(m.shape());
        double[] v = m.toDoubleArray();
        for (int i = 0; i < v.length; i++) out.storage().setDouble(i, v[i] != 0 ? 0 : 1);
        return out;
    }

    @Test
    void unbatchedInputMatchesBatchOfOne() {
        int E = 6, H = 2, L = 4, S = 5;
        MultiHeadAttention m = new MultiHeadAttention(MultiHeadAttention.Options.of(E, H).addBiasKv(true), rng);
        NDArray q = rand(L, E), k = rand(S, E), v = rand(S, E);
        NDArray kpm = bits(0.3, S);
        AttentionResult un = m.forward(Tensor.of(q), Tensor.of(k), Tensor.of(v), MultiHeadAttention.Call.defaults()
                .keyPaddingMask(AttentionMask.blocked(kpm)));
        AttentionResult one = m.forward(Tensor.of(q.unsqueeze(1)), Tensor.of(k.unsqueeze(1)), Tensor.of(v.unsqueeze(1)),
                MultiHeadAttention.Call.defaults().keyPaddingMask(AttentionMask.blocked(kpm.unsqueeze(0))));
        assertThat(un.output().shape()).isEqualTo(Shape.of(L, E));
        assertThat(un.weights().shape()).isEqualTo(Shape.of(L, S + 1));
        assertThat(un.output().data().toDoubleArray()).containsExactly(one.output().data().squeeze(1).toDoubleArray());
        assertThat(un.weights().data().toDoubleArray()).containsExactly(one.weights().data().toDoubleArray());
    }

    @Test
    void stateDictNamesShapesAndInitialisationFollowPyTorch() {
        MultiHeadAttention m = new MultiHeadAttention(MultiHeadAttention.Options.of(8, 2).addBiasKv(true), rng);
        Map<String, NDArray> sd = m.stateDict();
        assertThat(new ArrayList<>(sd.keySet())).containsExactly("in_proj_weight", "in_proj_bias", "bias_k", "bias_v",
                "out_proj.weight", "out_proj.bias");
        assertThat(sd.get("in_proj_weight").shape()).isEqualTo(Shape.of(24, 8));
        assertThat(sd.get("bias_k").shape()).isEqualTo(Shape.of(1, 1, 8));
        assertThat(sd.get("in_proj_bias").toDoubleArray()).containsOnly(0.0);
        assertThat(sd.get("out_proj.bias").toDoubleArray()).containsOnly(0.0);
        double bound = Math.sqrt(6.0 / (8 + 24));                                     // xavier_uniform on [3E, E]
        double maxAbs = 0;
        for (double x : sd.get("in_proj_weight").toDoubleArray()) maxAbs = Math.max(maxAbs, Math.abs(x));
        assertThat(maxAbs).isLessThanOrEqualTo(bound).isGreaterThan(bound * 0.8);
        MultiHeadAttention sep = new MultiHeadAttention(MultiHeadAttention.Options.of(8, 4).kdim(3).vdim(5).bias(false), rng);
        Map<String, NDArray> sd2 = sep.stateDict();
        assertThat(new ArrayList<>(sd2.keySet())).containsExactly("q_proj_weight", "k_proj_weight", "v_proj_weight",
                "out_proj.weight");
        assertThat(sd2.get("k_proj_weight").shape()).isEqualTo(Shape.of(8, 3));
        assertThat(sd2.get("v_proj_weight").shape()).isEqualTo(Shape.of(8, 5));
        // a state dict round trip by name
        MultiHeadAttention copy = new MultiHeadAttention(MultiHeadAttention.Options.of(8, 2).addBiasKv(true), new SplittableRandom(1));
        copy.loadStateDict(sd, true);
        NDArray x = rand(3, 2, 8);
        assertThat(copy.forward(Tensor.of(x), Tensor.of(x), Tensor.of(x)).output().data().toDoubleArray())
                .containsExactly(m.forward(Tensor.of(x), Tensor.of(x), Tensor.of(x)).output().data().toDoubleArray());
    }

    @Test
    void gradientCheckThroughTheFunctionalFormWithFloat64Weights() {
        for (int variant = 0; variant < 3; variant++) {
            int E = 4, H = 2, N = 2, L = 3, S = variant == 0 ? 3 : 4;
            MultiHeadAttention.Options o = MultiHeadAttention.Options.of(E, H).batchFirst(true);
            if (variant == 1) o = o.kdim(3).vdim(2).addZeroAttn(true);
            if (variant == 2) o = o.addBiasKv(true);
            MultiHeadAttention m = new MultiHeadAttention(o, rng);
            MultiHeadAttention.Options opts = o;
            List<String> names = new ArrayList<>(m.stateDict().keySet());
            List<NDArray> inputs = new ArrayList<>();
            inputs.add(rand(N, L, E));
            inputs.add(rand(N, S, o.kdim()));
            inputs.add(rand(N, S, o.vdim()));
            for (String name : names) {
                NDArray p = m.stateDict().get(name).copy();
                float[] d = p.floatArray();
                for (int i = 0; i < d.length; i++) d[i] += (float) (0.2 * (rng.nextDouble() - 0.5));
                inputs.add(p);
            }
            NDArray kpm = bits(0.3, N, S);
            MultiHeadAttention.Call call = MultiHeadAttention.Call.defaults().isCausal(variant != 1)
                    .keyPaddingMask(AttentionMask.blocked(kpm));
            for (SdpaOptions.Path path : new SdpaOptions.Path[] {SdpaOptions.Path.REFERENCE, SdpaOptions.Path.FUSED}) {
                try {
                    GradCheck.check(t -> {
                        Map<String, Tensor> p = new java.util.HashMap<>();
                        for (int i = 0; i < names.size(); i++) p.put(names.get(i), t.get(3 + i));
                        MultiHeadAttention.Weights w = new MultiHeadAttention.Weights(p.get("in_proj_weight"),
                                p.get("q_proj_weight"), p.get("k_proj_weight"), p.get("v_proj_weight"), p.get("in_proj_bias"),
                                p.get("bias_k"), p.get("bias_v"), p.get("out_proj.weight"), p.get("out_proj.bias"));
                        return MultiHeadAttention.forward(opts, w, t.get(0), t.get(1), t.get(2),
                                call.path(path).needWeights(path == SdpaOptions.Path.REFERENCE), false, null).output();
                    }, inputs, 1e-6, 1e-6, 1e-4);
                } catch (AssertionError e) {
                    throw new AssertionError("variant " + variant + " " + path + " seed " + seed + ": " + e.getMessage(), e);
                }
            }
        }
    }

    @Test
    void dropoutOnlyInTraining() {
        MultiHeadAttention m = new MultiHeadAttention(MultiHeadAttention.Options.of(4, 2).dropout(0.5), rng);
        NDArray x = rand(5, 2, 4);
        m.eval();
        double[] a = m.forward(Tensor.of(x), Tensor.of(x), Tensor.of(x)).output().data().toDoubleArray();
        double[] b = m.forward(Tensor.of(x), Tensor.of(x), Tensor.of(x)).output().data().toDoubleArray();
        assertThat(a).containsExactly(b);
        m.train();
        double[] c = m.forward(Tensor.of(x), Tensor.of(x), Tensor.of(x)).output().data().toDoubleArray();
        assertThat(c).as("dropout changes the training output, seed " + seed).isNotEqualTo(a);
    }

    @Test
    void badShapesGiveClearErrors() {
        assertThatThrownBy(() -> new MultiHeadAttention(5, 2, rng)).hasMessageContaining("divisible");
        MultiHeadAttention m = new MultiHeadAttention(4, 2, rng);
        Tensor x = Tensor.of(rand(3, 2, 4));
        assertThatThrownBy(() -> m.forward(Tensor.of(rand(3, 2, 5)), x, x)).hasMessageContaining("embed_dim 4");
        assertThatThrownBy(() -> m.forward(x, Tensor.of(rand(3, 4)), x)).hasMessageContaining("3-D");
        assertThatThrownBy(() -> m.forward(x, x, x, MultiHeadAttention.Call.defaults()
                .attnMask(AttentionMask.blocked(NDArray.zeros(5, 3, 3))))).hasMessageContaining("(N * num_heads, L, S)");
        assertThatThrownBy(() -> m.forward(x, x, x, MultiHeadAttention.Call.defaults()
                .keyPaddingMask(AttentionMask.blocked(NDArray.zeros(2, 4))))).hasMessageContaining("key_padding_mask");
    }
}
