package dev.attn4j.autograd;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * F.dropout's one-op F32 path (draws written straight into the output, mask kept as bits) against
 * the general path (a float mask times x), which F64 and strided inputs take: with the same seed
 * both draw the same elements, so outputs and gradients agree exactly (x * 2 in F32 either way).
 */
class DropoutF32Test {
    @Test
    void sameDrawsValuesAndGradientsAsTheMaskPath() {
        SplittableRandom data = new SplittableRandom(3);
        NDArray x = NDArray.uniform(data, Shape.of(3, 5, 67), -1, 1), r = NDArray.uniform(data, Shape.of(3, 5, 67), -1, 1);
        for (double p : new double[] {0.1, 0.5, 0.9}) {
            Tensor x32 = Tensor.param(x), x64 = Tensor.param(x.to(DType.F64));
            Tensor y32 = F.dropout(x32, p, true, new SplittableRandom(11));
            Tensor y64 = F.dropout(x64, p, true, new SplittableRandom(11));
            assertEquals("dropout", y32.gradFnName());
            assertArrayEquals(y64.data().to(DType.F32).toFloatArray(), y32.data().toFloatArray(), 1e-6f, "y, p " + p);
            y32.mul(Tensor.of(r)).sum().backward();
            y64.mul(Tensor.of(r.to(DType.F64))).sum().backward();
            assertArrayEquals(x64.grad().to(DType.F32).toFloatArray(), x32.grad().toFloatArray(), 1e-6f, "dx, p " + p);
            int zeros = 0;
            for (float v : y32.data().toFloatArray()) if (v == 0) zeros++;
            double frac = zeros / (double) x.numel();
            assertTrue(Math.abs(frac - p) < 0.06, "fraction dropped " + frac + " for p " + p);
        }
        // a strided input takes the mask path and draws the same elements as its dense copy
        Tensor xt = Tensor.param(x.transpose(1, 2));
        Tensor yt = F.dropout(xt, 0.3, true, new SplittableRandom(5));
        Tensor yc = F.dropout(Tensor.param(x.transpose(1, 2).contiguous()), 0.3, true, new SplittableRandom(5));
        assertArrayEquals(yt.data().toFloatArray(), yc.data().toFloatArray(), 0f);
    }
}
