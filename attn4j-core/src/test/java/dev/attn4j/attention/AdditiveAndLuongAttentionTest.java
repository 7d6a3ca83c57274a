package dev.attn4j.attention;

import static dev.attn4j.attention.ScaledDotProductAttentionTest.assertClose;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.autograd.GradCheck;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Bahdanau and Luong attention against float64 loops, with masks of both polarities, and gradient checks. */
class AdditiveAndLuongAttentionTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    private NDArray rand(int... shape) {
        return NDArray.uniform(rng, Shape.of(shape), -1, 1);
    }

    interface ScoreFn {
        double at(int b, int t, int j);
    }

    /** Softmax over j of score(b, t, j) with allowed[b][j] (null = all), then weights . values: {context, weights}. */
    static double[][] reference(int B, int T, int S, NDArray values, NDArray allowedMask, ScoreFn score) {
        int Dv = values.dim(2);
        double[] ctx = new double[B * T * Dv], w = new double[B * T * S];
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                double[] s = new double[S];
                double mx = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < S; j++) {
                    s[j] = allowedMask == null || allowedMask.getDouble(b, j) != 0 ? score.at(b, t, j) : Double.NEGATIVE_INFINITY;
                    mx = Math.max(mx, s[j]);
                }
                if (mx == Double.NEGATIVE_INFINITY) continue;
                double sum = 0;
                for (int j = 0; j < S; j++) sum += s[j] = Math.exp(s[j] - mx);
                for (int j = 0; j < S; j++) {
                    w[(b * T + t) * S + j] = s[j] / sum;
                    for (int e = 0; e < Dv; e++) ctx[(b * T + t) * Dv + e] += s[j] / sum * values.getDouble(b, j, e);
                }
            }
        }
        return new double[][] {ctx, w};
    }

    private NDArray allowedBits(int B, int S) {
        NDArray m = NDArray.zeros(B, S);
        for (int b = 0; b < B; b++) {
            for (int j = 0; j < S; j++) m.set(rng.nextDouble() < 0.7 ? 1 : 0, b, j);
            if (b == 0) m.set(1, b, 0);
        }
        return m;
    }

    private static NDArray flip(NDArray m) {
        NDArray out = NDArray.zeros(m.shape());
        double[] v = m.toDoubleArray();
        for (int i = 0; i < v.length; i++) out.storage().setDouble(i, v[i] != 0 ? 0 : 1);
        return out;
    }

    private static double tanhScore(NDArray wq, NDArray wk, NDArray bk, NDArray v, NDArray q, NDArray k, int b, int t, int j,
                                    boolean single) {
        int H = wq.dim(0);
        double s = 0;
        for (int h = 0; h < H; h++) {
            double a = bk == null ? 0 : bk.getDouble(h);
            for (int d = 0; d < wq.dim(1); d++) a += wq.getDouble(h, d) * (single ? q.getDouble(b, d) : q.getDouble(b, t, d));
            for (int d = 0; d < wk.dim(1); d++) a += wk.getDouble(h, d) * k.getDouble(b, j, d);
            s += v.getDouble(0, h) * Math.tanh(a);
        }
        return s;
    }

    @Test
    void bahdanauMatchesFloat64ReferenceWithMasksOfBothPolarities() {
        for (boolean single : new boolean[] {true, false}) {
            int B = 2, T = single ? 1 : 3, S = 1 + rng.nextInt(7), Dq = 3, Dk = 4, Dv = 2, H = 5;
            AdditiveAttention a = new AdditiveAttention(Dq, Dk, H, rng);
            NDArray q = single ? rand(B, Dq) : rand(B, T, Dq), k = rand(B, S, Dk), vals = rand(B, S, Dv);
            NDArray allowed = allowedBits(B, S);
            double[][] ref = reference(B, T, S, vals, allowed, (b, t, j) -> tanhScore(a.queryProj.weight.data(),
                    a.keyProj.weight.data(), a.keyProj.bias.data(), a.v.weight.data(), q, k, b, t, j, single));
            for (AttentionMask m : new AttentionMask[] {AttentionMask.allowed(allowed), AttentionMask.blocked(flip(allowed))}) {
                AttentionResult r = a.forward(Tensor.of(q), Tensor.of(k), Tensor.of(vals), m);
                assertThat(r.output().shape()).isEqualTo(single ? Shape.of(B, Dv) : Shape.of(B, T, Dv));
                assertThat(r.weights().shape()).isEqualTo(single ? Shape.of(B, S) : Shape.of(B, T, S));
                assertClose("bahdanau context single=" + single + " seed " + seed, r.output().data().toDoubleArray(), ref[0], 1e-5);
                assertClose("bahdanau weights single=" + single + " seed " + seed, r.weights().data().toDoubleArray(), ref[1], 1e-5);
            }
        }
    }

    @Test
    void luongMatchesFloat64ReferenceForEveryScore() {
        for (LuongAttention.Score score : LuongAttention.Score.values()) {
            for (boolean single : new boolean[] {true, false}) {
                int B = 2, T = single ? 1 : 4, S = 1 + rng.nextInt(7), Dq = 3, Dk = score == LuongAttention.Score.DOT ? 3 : 5;
                LuongAttention a = new LuongAttention(score, Dq, Dk, 4, rng);
                NDArray q = single ? rand(B, Dq) : rand(B, T, Dq), k = rand(B, S, Dk), vals = rand(B, S, 2);
                NDArray allowed = allowedBits(B, S);
                ScoreFn fn = switch (score) {
                    case DOT -> (b, t, j) -> {
                        double s = 0;
                        for (int d = 0; d < Dq; d++) s += (single ? q.getDouble(b, d) : q.getDouble(b, t, d)) * k.getDouble(b, j, d);
                        return s;
                    };
                    case GENERAL -> (b, t, j) -> {
                        double s = 0;
                        for (int d = 0; d < Dq; d++) {
                            double wk = 0;
                            for (int e = 0; e < Dk; e++) wk += a.W.weight.data().getDouble(d, e) * k.getDouble(b, j, e);
                            s += (single ? q.getDouble(b, d) : q.getDouble(b, t, d)) * wk;
                        }
                        return s;
                    };
                    case CONCAT -> (b, t, j) -> tanhScore(a.W.weight.data().narrow(1, 0, Dq), a.W.weight.data().narrow(1, Dq, Dk),
                            null, a.v.weight.data(), q, k, b, t, j, single);
                };
                double[][] ref = reference(B, T, S, vals, allowed, fn);
                for (AttentionMask m : new AttentionMask[] {AttentionMask.allowed(allowed), AttentionMask.blocked(flip(allowed))}) {
                    AttentionResult r = a.forward(Tensor.of(q), Tensor.of(k), Tensor.of(vals), m);
                    String what = "luong " + score + " single=" + single + " seed " + seed;
                    assertClose(what, r.output().data().toDoubleArray(), ref[0], 1e-5);
                    assertClose(what + " weights", r.weights().data().toDoubleArray(), ref[1], 1e-5);
                }
                AttentionResult unmasked = a.forward(Tensor.of(q), Tensor.of(k), Tensor.of(vals), null);
                assertClose("luong unmasked " + score, unmasked.output().data().toDoubleArray(),
                        reference(B, T, S, vals, null, fn)[0], 1e-5);
            }
        }
    }

    @Test
    void gradientChecksOfTheFunctionalForms() {
        int B = 2, T = 2, S = 3, Dq = 2, Dk = 3, H = 2;
        NDArray allowed = allowedBits(B, S);
        AttentionMask m = AttentionMask.allowed(allowed);
        GradCheck.check(t -> AdditiveAttention.attend(t.get(0), t.get(1), t.get(2), m, t.get(3), t.get(4), t.get(5), t.get(6))
                .output(), rand(B, T, Dq), rand(B, S, Dk), rand(B, S, 2), rand(H, Dq), rand(H, Dk), rand(H), rand(1, H));
        GradCheck.check(t -> AdditiveAttention.attend(t.get(0), t.get(1), t.get(2), m, t.get(3), t.get(4), t.get(5), t.get(6))
                .weights(), rand(B, Dq), rand(B, S, Dk), rand(B, S, 2), rand(H, Dq), rand(H, Dk), rand(H), rand(1, H));
        GradCheck.check(t -> LuongAttention.attend(LuongAttention.Score.DOT, t.get(0), t.get(1), t.get(2), m, null, null).output(),
                rand(B, T, Dq), rand(B, S, Dq), rand(B, S, 2));
        GradCheck.check(t -> LuongAttention.attend(LuongAttention.Score.GENERAL, t.get(0), t.get(1), t.get(2), m, t.get(3), null)
                .output(), rand(B, T, Dq), rand(B, S, Dk), rand(B, S, 2), rand(Dq, Dk));
        GradCheck.check(t -> LuongAttention.attend(LuongAttention.Score.CONCAT, t.get(0), t.get(1), t.get(2), m, t.get(3),
                t.get(4)).output(), rand(B, Dq), rand(B, S, Dk), rand(B, S, 2), rand(H, Dq + Dk), rand(1, H));
    }

    @Test
    void parameterNamesAndErrors() {
        assertThat(new AdditiveAttention(3, 4, 5, rng).stateDict().keySet())
                .containsExactly("query_proj.weight", "key_proj.weight", "key_proj.bias", "v.weight");
        assertThat(new LuongAttention(LuongAttention.Score.GENERAL, 3, 4, 0, rng).stateDict().keySet()).containsExactly("W.weight");
        assertThat(new LuongAttention(LuongAttention.Score.CONCAT, 3, 4, 6, rng).stateDict().keySet())
                .containsExactly("W.weight", "v.weight");
        assertThat(new LuongAttention(LuongAttention.Score.DOT, 3, 3, 0, rng).stateDict()).isEmpty();
        assertThatThrownBy(() -> new LuongAttention(LuongAttention.Score.DOT, 3, 4, 0, rng)).hasMessageContaining("equal");
        AdditiveAttention a = new AdditiveAttention(3, 4, 5, rng);
        assertThatThrownBy(() -> a.forward(Tensor.of(rand(2, 3)), Tensor.of(rand(2, 5, 4)), Tensor.of(rand(3, 5, 2)), null))
                .hasMessageContaining("batch size");
        assertThatThrownBy(() -> a.forward(Tensor.of(rand(2, 3)), Tensor.of(rand(2, 5, 4)), Tensor.of(rand(2, 5, 2)),
                AttentionMask.allowed(NDArray.ones(2, 4)))).hasMessageContaining("key mask");
        assertThatThrownBy(() -> a.forward(Tensor.of(rand(2, 2)), Tensor.of(rand(2, 5, 4)), Tensor.of(rand(2, 5, 2)), null))
                .hasMessageContaining("query dim 3");
    }
}
