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
