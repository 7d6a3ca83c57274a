package dev.attn4j.models.bert;

import dev.attn4j.attention.Attention;
import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.SdpaOptions;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fused training attention against the unfused path (same dropout draws): output and q, k, v gradients. */
class TrainingAttentionTest {
    @Test
    void matchesTheUnfusedPathWithDropoutAndPadding() {
        SplittableRandom init = new SplittableRandom(3);
        int b = 3, h = 2, t = 7, d = 5;
        NDArray q = NDArray.normal(init, Shape.of(b, h, t, d), 0, 1), k = NDArray.normal(init, Shape.of(b, h, t, d), 0, 1),
                v = NDArray.normal(init, Shape.of(b, h, t, d), 0, 1), g = NDArray.normal(init, Shape.of(b, h, t, d), 0, 1);
        float[] m = new float[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) m[i * t + j] = j < t - 2 * i ? 0 : -Float.MAX_VALUE;
        NDArray mask = NDArray.of(m, b, t);
        Tensor q1 = Tensor.param(q.copy()), k1 = Tensor.param(k.copy()), v1 = Tensor.param(v.copy());
        Tensor ref = Attention.scaledDotProduct(q1, k1, v1, SdpaOptions.defaults().keyPaddingMask(AttentionMask.additive(mask.copy()))
                .dropout(0.3, new SplittableRandom(11)).training(true)).output();
        ref.backward(g);
        Tensor q2 = Tensor.param(q.copy()), k2 = Tensor.param(k.copy()), v2 = Tensor.param(v.copy());
        Tensor ours = TrainingAttention.apply(q2, k2, v2, mask, 0.3, new SplittableRandom(11));
        ours.backward(g);
        close(ref.data(), ours.data(), "output");
        close(q1.grad(), q2.grad(), "dq");
        close(k1.grad(), k2.grad(), "dk");
        close(v1.grad(), v2.grad(), "dv");
        double zeros = 0;
        for (double x : ours.data().toDoubleArray()) if (x == 0) zeros++;
        assertTrue(zeros < ours.numel() / 10.0, "dropout zeroes weights, not outputs");
    }

    /**
     * As in BertSelfAttention: q, k, v are heads split from [B, T, C] projections (strided views),
     * the output is merged back to [B, T, C] and the gradient arrives as [B, T, C]; the projections'
     * gradients (through the op's heads-last outputs) match the unfused path.
     */
    @Test
    void headsSplitFromProjectionsMatchTheUnfusedPath() {
        for (int t : new int[] {9, 32}) headsSplitFromProjections(t);           // 32: rows whose mask bits fill whole vectors
    }

    private static void headsSplitFromProjections(int t) {
        SplittableRandom init = new SplittableRandom(5);
        int b = 2, h = 3, d = 4, c = h * d;
        NDArray q = NDArray.normal(init, Shape.of(b, t, c), 0, 1), k = NDArray.normal(init, Shape.of(b, t, c), 0, 1),
                v = NDArray.normal(init, Shape.of(b, t, c), 0, 1), g = NDArray.normal(init, Shape.of(b, t, c), 0, 1);
        float[] m = new float[b * t];
        for (int j = 0; j < t; j++) m[t + j] = j < t - 3 ? 0 : -Float.MAX_VALUE;
        NDArray mask = NDArray.of(m, b, t);
        Tensor[] ref = {Tensor.param(q.copy()), Tensor.param(k.copy()), Tensor.param(v.copy())};
        Tensor[] ours = {Tensor.param(q.copy()), Tensor.param(k.copy()), Tensor.param(v.copy())};
        Tensor[] refHeads = new Tensor[3], ourHeads = new Tensor[3];
        for (int i = 0; i < 3; i++) {
            refHeads[i] = ref[i].view(b, t, h, d).permute(0, 2, 1, 3);                         // [B, H, T, D]
            ourHeads[i] = ours[i].view(b, t, h, d).permute(0, 2, 1, 3);
        }
        Tensor r = Attention.scaledDotProduct(refHeads[0], refHeads[1], refHeads[2], SdpaOptions.defaults()
                .keyPaddingMask(AttentionMask.additive(mask.copy())).dropout(0.2, new SplittableRandom(13)).training(true)).output()
                .permute(0, 2, 1, 3).reshape(b, t, c);
        r.backward(g);
        Tensor o = TrainingAttention.apply(ourHeads[0], ourHeads[1], ourHeads[2], mask, 0.2, new SplittableRandom(13))
                .permute(0, 2, 1, 3).reshape(b, t, c);
        o.backward(g);
        close(r.data(), o.data(), "output");
        String[] names = {"dq", "dk", "dv"};
        for (int i = 0; i < 3; i++) close(ref[i].grad(), ours[i].grad(), names[i]);
    }

    static void close(NDArray want, NDArray got, String what) {
        double[] a = want.contiguous().toDoubleArray(), c = got.contiguous().toDoubleArray();
        assertEquals(a.length, c.length);
        for (int i = 0; i < a.length; i++) assertEquals(a[i], c[i], 1e-5 + 1e-5 * Math.abs(a[i]), what + "[" + i + "]");
    }
}
