package dev.attn4j.autograd;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Finite-difference checks of every differentiable operation, on random shapes, broadcasts and views. */
class GradCheckOpsTest {
    private final long seed = Long.getLong("attn4j.gradcheck.seed", System.nanoTime());
    private final SplittableRandom rng = new SplittableRandom(seed);

    private NDArray rnd(double lo, double hi, int... shape) {
        return NDArray.uniform(rng, Shape.of(shape), lo, hi).to(DType.F64);
    }

    private NDArray rnd(int... shape) {
        return rnd(-1, 1, shape);
    }

    /** Random values on the grid {@code offset + k/10}, k in [-10, 10]. */
    private NDArray onGrid(double offset, int... shape) {
        double[] v = rnd(shape).toDoubleArray();
        for (int i = 0; i < v.length; i++) v[i] = offset + Math.round(v[i] * 10) / 10.0;
        return NDArray.of(v, shape);
    }

    private int size() {
        return 1 + rng.nextInt(4);
    }

    private void gc(String what, Function<List<Tensor>, Tensor> f, NDArray... inputs) {
        try {
            GradCheck.check(f, inputs);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(what + " (seed " + seed + "): " + e.getMessage(), e);
        }
    }

    @Test
    void binaryOpsWithBroadcasting() {
        int[][][] pairs = {{{3, 1, 5}, {4, 1}}, {{2, 3}, {3}}, {{size(), size()}, {1}}, {{}, {2, 3}}, {{2, 1, 3}, {1, 4, 1}}};
        for (int[][] p : pairs) {
            String s = " " + Shape.of(p[0]) + " " + Shape.of(p[1]);
            gc("add" + s, t -> t.get(0).add(t.get(1)), rnd(p[0]), rnd(p[1]));
            gc("sub" + s, t -> t.get(0).sub(t.get(1)), rnd(p[0]), rnd(p[1]));
            gc("mul" + s, t -> t.get(0).mul(t.get(1)), rnd(p[0]), rnd(p[1]));
            gc("div" + s, t -> t.get(0).div(t.get(1)), rnd(p[0]), rnd(0.5, 2, p[1]));
            gc("pow" + s, t -> t.get(0).pow(t.get(1)), rnd(0.5, 2, p[0]), rnd(p[1]));
            // max/min have a kink where the operands tie: keep them at least 0.05 apart (0.1 grid, offset 0.05)
            gc("maximum" + s, t -> t.get(0).maximum(t.get(1)), onGrid(0.05, p[0]), onGrid(0, p[1]));
            gc("minimum" + s, t -> t.get(0).minimum(t.get(1)), onGrid(0.05, p[0]), onGrid(0, p[1]));
        }
        // operands that are views: transposed, narrowed, expanded
        gc("mul of views", t -> t.get(0).transpose(0, 1).mul(t.get(1).narrow(1, 1, 4)), rnd(4, 3), rnd(3, 6));
        gc("add expanded", t -> t.get(0).expand(3, 4).add(t.get(1)), rnd(1, 4), rnd(3, 4));
        gc("same tensor twice", t -> t.get(0).mul(t.get(0)).add(t.get(0)), rnd(size(), size()));
        gc("intermediate used three times", t -> {
            Tensor h = t.get(0).exp();
            return h.mul(h).add(h.sum());
        }, rnd(size(), size()));
    }

    @Test
    void scalarOps() {
        double s = 0.5 + rng.nextDouble();
        int[] sh = {size(), size()};
        gc("add s", t -> t.get(0).add(s), rnd(sh));
        gc("sub s", t -> t.get(0).sub(s), rnd(sh));
        gc("mul s", t -> t.get(0).mul(s), rnd(sh));
        gc("div s", t -> t.get(0).div(s), rnd(sh));
        gc("pow s", t -> t.get(0).pow(s), rnd(0.5, 2, sh));
        gc("pow -0.5", t -> t.get(0).pow(-0.5), rnd(0.5, 2, sh));
        gc("pow 0", t -> t.get(0).pow(0), rnd(sh));
        gc("rsub", t -> t.get(0).rsub(s), rnd(sh));
        gc("rdiv", t -> t.get(0).rdiv(s), rnd(0.5, 2, sh));
    }

    @Test
    void unaryOps() {
        int[] sh = {size(), size() + 2};
        gc("neg", t -> t.get(0).neg(), rnd(sh));
        gc("exp", t -> t.get(0).exp(), rnd(sh));
        gc("log", t -> t.get(0).log(), rnd(0.2, 3, sh));
        gc("tanh", t -> t.get(0).tanh(), rnd(-2, 2, sh));
        gc("sqrt", t -> t.get(0).sqrt(), rnd(0.2, 3, sh));
        gc("rsqrt", t -> t.get(0).rsqrt(), rnd(0.2, 3, sh));
        gc("reciprocal", t -> t.get(0).reciprocal(), rnd(0.5, 3, sh));
        gc("relu", t -> t.get(0).relu(), rnd(sh));
        gc("gelu", t -> t.get(0).gelu(), rnd(-3, 3, sh));
        gc("geluTanh", t -> t.get(0).geluTanh(), rnd(-3, 3, sh));
        gc("silu", t -> t.get(0).silu(), rnd(-3, 3, sh));
        gc("sigmoid", t -> t.get(0).sigmoid(), rnd(-3, 3, sh));
        gc("abs", t -> t.get(0).abs(), rnd(sh));
        gc("square", t -> t.get(0).square(), rnd(sh));
        gc("unary on transposed view", t -> t.get(0).transpose(0, 1).exp(), rnd(sh));
    }

    @Test
    void maskingAndWhere() {
        NDArray mask = NDArray.uniform(rng, Shape.of(4, 1), -1, 1);
        NDArray m01 = dev.attn4j.kernels.ArrayOps.map(mask, v -> v > 0 ? 1 : 0);
        gc("maskedFill broadcast mask", t -> t.get(0).maskedFill(m01, -3), rnd(2, 4, 3));
        gc("where broadcast", t -> F.where(m01, t.get(0), t.get(1)), rnd(2, 4, 3), rnd(3));
    }

    @Test
    void reductions() {
        NDArray x = rnd(3, 4, 5);
        // max has a kink where two candidates tie: a shuffle of 60 values 1/30 apart
        double[] shuffled = new double[60];
        for (int i = 0; i < 60; i++) {
            int j = rng.nextInt(i + 1);
            shuffled[i] = shuffled[j];
            shuffled[j] = (i - 30) / 30.0;
        }
        NDArray distinct = NDArray.of(shuffled, 3, 4, 5);
        gc("sum all", t -> t.get(0).sum(), x);
        for (int d = -3; d < 3; d++) {
            int dd = d;
            gc("sum dim " + d, t -> t.get(0).sum(dd, false), x);
            gc("sum keepdim " + d, t -> t.get(0).sum(dd, true), x);
            gc("mean dim " + d, t -> t.get(0).mean(dd, false), x);
            gc("max dim " + d, t -> t.get(0).max(dd, false), distinct);
            gc("max keepdim " + d, t -> t.get(0).max(dd, true), distinct);
        }
        gc("sum dims {0,2}", t -> t.get(0).sum(new int[] {0, 2}, false), x);
        gc("mean dims {1,2} keep", t -> t.get(0).mean(new int[] {1, 2}, true), x);
        gc("mean all", t -> t.get(0).mean(), x);
        gc("sum of transposed", t -> t.get(0).transpose(0, 2).sum(1, false), x);
    }

    @Test
    void matmulAllForms() {
        int m = size(), k = size() + 1, n = size();
        gc("2d", t -> t.get(0).matmul(t.get(1)), rnd(m, k), rnd(k, n));
        gc("batched broadcast", t -> t.get(0).matmul(t.get(1)), rnd(2, 1, m, k), rnd(3, k, n));
        gc("batched x 2d", t -> t.get(0).matmul(t.get(1)), rnd(2, m, k), rnd(k, n));
        gc("vec x vec", t -> t.get(0).matmul(t.get(1)), rnd(k), rnd(k));
        gc("vec x mat", t -> t.get(0).matmul(t.get(1)), rnd(k), rnd(2, k, n));
        gc("mat x vec", t -> t.get(0).matmul(t.get(1)), rnd(2, m, k), rnd(k));
        gc("transposed operands", t -> t.get(0).transpose(0, 1).matmul(t.get(1).transpose(-1, -2)), rnd(k, m), rnd(2, n, k));
    }

    @Test
    void viewsAndShapes() {
        NDArray x = rnd(2, 3, 4);
        gc("reshape", t -> t.get(0).reshape(4, -1), x);
        gc("reshape of transposed (copy)", t -> t.get(0).transpose(0, 2).reshape(-1), x);
        gc("view", t -> t.get(0).view(6, 4), x);
        gc("transpose", t -> t.get(0).transpose(0, 2), x);
        gc("permute", t -> t.get(0).permute(2, 0, 1), x);
        gc("narrow", t -> t.get(0).narrow(2, 1, 2), x);
        gc("select", t -> t.get(0).select(1, 2), x);
        gc("expand", t -> t.get(0).expand(5, 3, -1), rnd(3, 1));
        gc("unsqueeze", t -> t.get(0).unsqueeze(1), x);
        gc("squeeze", t -> t.get(0).squeeze(1), rnd(2, 1, 3));
        gc("contiguous", t -> t.get(0).transpose(0, 1).contiguous(), x);
        gc("chain of views", t -> t.get(0).permute(1, 2, 0).narrow(0, 1, 2).select(1, 3).unsqueeze(0).mul(2), x);
    }

    @Test
    void softmaxFamilies() {
        NDArray x = rnd(-3.0, 3.0, 2, 3, 5);
        for (int d = -3; d < 3; d++) {
            int dd = d;
            gc("softmax " + d, t -> t.get(0).softmax(dd), x);
            gc("logSoftmax " + d, t -> t.get(0).logSoftmax(dd), x);
        }
        gc("softmax of view", t -> t.get(0).transpose(0, 2).softmax(-1), x);
    }

    @Test
    void functions() {
        int d = 3 + rng.nextInt(3);
        NDArray x = rnd(2, 3, d);
        gc("layerNorm w+b", t -> F.layerNorm(t.get(0), new int[] {d}, t.get(1), t.get(2), 1e-5), x, rnd(d), rnd(d));
        gc("layerNorm plain", t -> F.layerNorm(t.get(0), new int[] {d}, null, null, 1e-5), x);
        gc("layerNorm bias only", t -> F.layerNorm(t.get(0), new int[] {d}, null, t.get(1), 1e-5), x, rnd(d));
        gc("layerNorm 2 dims", t -> F.layerNorm(t.get(0), new int[] {3, d}, t.get(1), t.get(2), 1e-5), x, rnd(3, d), rnd(3, d));
        gc("layerNorm of view", t -> F.layerNorm(t.get(0).transpose(0, 1), new int[] {d}, t.get(1), null, 1e-5), x, rnd(d));
        gc("rmsNorm w", t -> F.rmsNorm(t.get(0), new int[] {d}, t.get(1), 1e-6), x, rnd(d));
        gc("rmsNorm plain 2 dims", t -> F.rmsNorm(t.get(0), new int[] {3, d}, null, 1e-6), x);
        NDArray idx = NDArray.of(new float[] {0, 4, 2, 2, 1, 4}, 2, 3);
        gc("embedding", t -> F.embedding(t.get(0), idx, null), rnd(5, d));
        gc("concat", t -> F.concat(List.of(t.get(0), t.get(1).transpose(0, 1), t.get(0)), 1), rnd(2, 3), rnd(4, 2));
        gc("split", t -> {
            List<Tensor> parts = F.split(t.get(0), 2, 1);
            return parts.get(0).mul(2).sub(parts.get(2).sum(1, true)).add(parts.get(1).narrow(1, 0, 1));
        }, rnd(3, 5));
        gc("chunk", t -> {
            List<Tensor> c = F.chunk(t.get(0), 3, -1);
            return c.get(0).mul(c.get(1)).add(c.get(2));
        }, rnd(2, 6));
        long dseed = rng.nextLong();
        gc("dropout", t -> F.dropout(t.get(0), 0.3, true, new SplittableRandom(dseed)), rnd(4, 5));
        gc("linear", t -> F.linear(t.get(0), t.get(1), t.get(2)), rnd(2, 3, 4), rnd(5, 4), rnd(5));
        gc("linear 1-D no bias", t -> F.linear(t.get(0), t.get(1), null), rnd(4), rnd(5, 4));
        gc("linear 2-D", t -> F.linear(t.get(0), t.get(1), t.get(2)), rnd(3, 4), rnd(2, 4), rnd(2));
    }

    @Test
    void composedModelLikeGraph() {
        gc("attention-like", t -> {
            Tensor q = t.get(0), k = t.get(1), v = t.get(2);
            NDArray causal = NDArray.zeros(4, 4);
            for (int i = 0; i < 4; i++) for (int j = i + 1; j < 4; j++) causal.set(1, i, j);
            Tensor att = q.matmul(k.transpose(-1, -2)).mul(0.5).maskedFill(causal, Double.NEGATIVE_INFINITY).softmax(-1);
            return F.layerNorm(att.matmul(v), new int[] {3}, null, null, 1e-5).gelu();
        }, rnd(2, 4, 3), rnd(2, 4, 3), rnd(2, 4, 3));
    }

    /** A custom op computing x^3 whose backward can be made wrong. */
    private static CustomOp cube(double factor) {
        return new CustomOp() {
            @Override
            public NDArray forward(Context ctx, NDArray... in) {
                ctx.save(in[0]);
                return dev.attn4j.kernels.ArrayOps.map(in[0], v -> v * v * v);
            }

            @Override
            public NDArray[] backward(Context ctx, NDArray g) {
                return new NDArray[] {dev.attn4j.kernels.ArrayOps.zip(g, ctx.saved(0), (gg, v) -> gg * factor * v * v)};
            }
        };
    }

    @Test
    void gradCheckAcceptsCorrectAndRejectsWrongCustomBackward() {
        NDArray x = rnd(3, 4);
        gc("custom cube", t -> Tensor.apply("cube", cube(3), t.get(0)), x);
        assertThatThrownBy(() -> GradCheck.check(t -> Tensor.apply("cube", cube(2.9), t.get(0)), x))
                .isInstanceOf(AssertionError.class).hasMessageContaining("input 0").hasMessageContaining("analytic")
                .hasMessageContaining("numeric");
        // a "gradient" that ignores an input is caught as well
        assertThatThrownBy(() -> GradCheck.check(t -> t.get(0).detach().mul(t.get(1)), x, rnd(3, 4)))
                .isInstanceOf(AssertionError.class).hasMessageContaining("input 0").hasMessageContaining("no gradient");
    }
}
