package dev.attn4j.autograd;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * F.linear's one-op F32 path (forward GEMM with the bias, backward writing dW and db into the
 * leaves' gradients) against the same computation in F64, which takes the composite path
 * (matmul of the transposed weight view, broadcast add): values and gradients, accumulation over
 * two backward passes, a weight shared by two layers, a computed (non-leaf) weight, a gradient
 * set by the user in another layout, and inputs that are views.
 */
class LinearF32Test {
    private final SplittableRandom rng = new SplittableRandom(7);

    private NDArray rnd(int... shape) {
        return NDArray.uniform(rng, Shape.of(shape), -1, 1);
    }

    private static void close(NDArray want64, NDArray got32, String what) {
        assertEquals(DType.F32, got32.dtype(), what + " dtype");
        assertEquals(want64.shape(), got32.shape(), what + " shape");
        double[] e = want64.toDoubleArray(), a = got32.toDoubleArray();
        double scale = 0;
        for (double v : e) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < e.length; i++) {
            if (Math.abs(e[i] - a[i]) > 1e-5 * Math.max(1, scale)) {
                throw new AssertionError(what + "[" + i + "]: expected " + e[i] + ", got " + a[i]);
            }
        }
    }

    /** loss = sum(linear(x, w, b) * r) for fixed r: its gradients are r pushed back through the layer. */
    private static Tensor lossOf(Tensor x, Tensor w, Tensor b, NDArray r) {
        Tensor y = F.linear(x, w, b);
        return y.mul(Tensor.of(r.to(y.dtype()))).sum();
    }

    /**
     * Gradients that meet, as in attention (one input to the query, key and value layers and a
     * residual): the F32 layers' input gradients are summed in place into one of them
     * ({@code Backward.fresh}); the input, its parent and the leaves match the F64 composite, over two
     * backward passes, in every arrival order (the residual first, in the middle, last, twice).
     */
    @Test
    void gradientsThatMeetMatchF64() {
        for (int order = 0; order < 4; order++) {
            NDArray x = rnd(3, 4, 8), w1 = rnd(8, 8), w2 = rnd(8, 8), w3 = rnd(8, 8), b1 = rnd(8), r = rnd(3, 4, 8);
            Tensor[] p32 = {Tensor.param(x), Tensor.param(w1), Tensor.param(w2), Tensor.param(w3), Tensor.param(b1)};
            Tensor[] p64 = new Tensor[p32.length];
            for (int i = 0; i < p32.length; i++) p64[i] = Tensor.param(p32[i].data().to(DType.F64));
            for (int pass = 0; pass < 2; pass++) {
                for (Tensor[] p : new Tensor[][] {p32, p64}) {
                    Tensor h = p[0].mul(Tensor.of(NDArray.full(p[0].dtype(), Shape.of(3, 4, 8), 2.0)));   // a non-leaf input: [3, 4, 8]
                    Tensor q = F.linear(h, p[1], p[4]), k = F.linear(h, p[2], null), v = F.linear(h, p[3], p[4]);
                    Tensor rr = Tensor.of(r.to(p[0].dtype()));
                    Tensor res = h.mul(rr);
                    Tensor y = switch (order) {
                        case 0 -> res.add(q).add(k).add(v);
                        case 1 -> q.add(res).add(k.mul(v));
                        case 2 -> q.mul(k).add(v).add(res);
                        default -> q.add(res).add(v).add(k).add(res);
                    };
                    y.mul(rr).sum().backward();
                }
                String s = " order " + order + " pass " + pass;
                close(p64[0].grad(), p32[0].grad(), "dx" + s);
                for (int i = 1; i < p32.length; i++) close(p64[i].grad(), p32[i].grad(), "param " + i + s);
            }
        }
    }

    @Test
    void valuesAndGradientsMatchF64Composite() {
        int[][] xShapes = {{5, 7}, {2, 3, 7}, {1, 1, 7}, {4, 2, 3, 7}};
        for (int[] xs : xShapes) {
            for (boolean withBias : new boolean[] {true, false}) {
                int out = 6;
                NDArray x = rnd(xs), w = rnd(out, 7), b = rnd(out);
                int[] ys = xs.clone();
                ys[ys.length - 1] = out;
                NDArray r = rnd(ys);
                Tensor x32 = Tensor.param(x), w32 = Tensor.param(w), b32 = withBias ? Tensor.param(b) : null;
                Tensor x64 = Tensor.param(x.to(DType.F64)), w64 = Tensor.param(w.to(DType.F64));
                Tensor b64 = withBias ? Tensor.param(b.to(DType.F64)) : null;
                Tensor y32 = F.linear(x32, w32, b32);
                assertEquals("linear", y32.gradFnName());
                close(F.linear(x64, w64, b64).data(), y32.data(), "y " + Shape.of(xs));
                lossOf(x32, w32, b32, r).backward();
                lossOf(x64, w64, b64, r).backward();
                String s = " " + Shape.of(xs) + (withBias ? "" : " no bias");
                close(x64.grad(), x32.grad(), "dx" + s);
                close(w64.grad(), w32.grad(), "dw" + s);
                if (withBias) close(b64.grad(), b32.grad(), "db" + s);
                // a second backward accumulates (beta 1 into the kept arrays)
                NDArray wGrad = w32.grad();
                lossOf(x32, w32, b32, r).backward();
                lossOf(x64, w64, b64, r).backward();
                assertTrue(wGrad == w32.grad(), "dw accumulated in place");
                close(x64.grad(), x32.grad(), "dx twice" + s);
                close(w64.grad(), w32.grad(), "dw twice" + s);
                if (withBias) close(b64.grad(), b32.grad(), "db twice" + s);
            }
        }
    }

    @Test
    void sharedWeightNonLeafWeightAndViews() {
        NDArray x = rnd(7, 3, 5), w = rnd(4, 5), b = rnd(4), r = rnd(3, 7, 4), r2 = rnd(2, 4);
        NDArray x2 = rnd(2, 5);
        Tensor w32 = Tensor.param(w), b32 = Tensor.param(b), xa32 = Tensor.param(x), xb32 = Tensor.param(x2);
        Tensor w64 = Tensor.param(w.to(DType.F64)), b64 = Tensor.param(b.to(DType.F64));
        Tensor xa64 = Tensor.param(x.to(DType.F64)), xb64 = Tensor.param(x2.to(DType.F64));
        for (boolean f32 : new boolean[] {true, false}) {
            Tensor wt = f32 ? w32 : w64, bt = f32 ? b32 : b64, xa = f32 ? xa32 : xa64, xb = f32 ? xb32 : xb64;
            Tensor scaled = wt.mul(2.0);                                   // a computed weight: its gradient flows back through mul
            Tensor l1 = lossOf(xa.transpose(0, 1), wt, bt, r);             // x [3, 7, 5] is a strided view
            Tensor l2 = lossOf(xb, scaled, bt, r2);
            Tensor l3 = lossOf(xb, wt, null, r2);                          // the same leaf weight in a second layer
            l1.add(l2).add(l3).backward();
        }
        close(w64.grad(), w32.grad(), "dw shared");
        close(b64.grad(), b32.grad(), "db shared");
        close(xa64.grad(), xa32.grad(), "dx view");
        close(xb64.grad(), xb32.grad(), "dx shared input");
    }

    @Test
    void gradientSetInAnotherLayoutIsAddedTo() {
        NDArray x = rnd(3, 5), w = rnd(4, 5), r = rnd(3, 4);
        NDArray start = rnd(5, 4);
        Tensor w32 = Tensor.param(w), w64 = Tensor.param(w.to(DType.F64));
        w32.setGrad(start.transpose(0, 1));                                // [4, 5], not contiguous
        w64.setGrad(start.to(DType.F64).transpose(0, 1));
        lossOf(Tensor.of(x), w32, null, r).backward();
        lossOf(Tensor.of(x.to(DType.F64)), w64, null, r).backward();
        close(w64.grad(), w32.grad(), "dw added to a strided gradient");
    }

    @Test
    void frozenWeightGetsNoGradient() {
        NDArray x = rnd(2, 3, 5), w = rnd(4, 5), b = rnd(4), r = rnd(2, 3, 4);
        Tensor w32 = Tensor.of(w), b32 = Tensor.param(b), x32 = Tensor.param(x);
        lossOf(x32, w32, b32, r).backward();
        assertNull(w32.grad());
        Tensor x64 = Tensor.param(x.to(DType.F64)), b64 = Tensor.param(b.to(DType.F64));
        lossOf(x64, Tensor.of(w.to(DType.F64)), b64, r).backward();
        close(x64.grad(), x32.grad(), "dx frozen weight");
        close(b64.grad(), b32.grad(), "db frozen weight");
    }

    @Test
    void embeddingGradientAccumulatesInPlace() {
        NDArray w = rnd(10, 3), ids = NDArray.of(new float[] {1, 4, 4, 0, 9, 1}, 2, 3), r = rnd(2, 3, 3);
        Tensor w32 = Tensor.param(w), w64 = Tensor.param(w.to(DType.F64));
        for (int pass = 0; pass < 2; pass++) {
            F.embedding(w32, ids, 0).mul(Tensor.of(r)).sum().backward();
            F.embedding(w64, ids, 0).mul(Tensor.of(r.to(DType.F64))).sum().backward();
            close(w64.grad(), w32.grad(), "embedding grad pass " + pass);
        }
        assertEquals(0.0, w32.grad().select(0, 0).toDoubleArray()[0], "padding row");
    }
}
