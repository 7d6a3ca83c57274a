package dev.attn4j.tensor;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Quants;
import dev.attn4j.nn.Linear;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Quantized weights as a storage type: a Linear over a QUANTIZED weight gives the F32 Linear on the
 * dequantized weight (decode rows and prefill panels), lookups and to(F32) dequantize, other ops
 * and writes are refused with one clear error.
 */
class QuantizedArrayTest {

    @ParameterizedTest
    @EnumSource(QuantType.class)
    void linearOverQuantizedWeightsIsTheLinearOverTheirDequantization(QuantType type) {
        SplittableRandom rng = new SplittableRandom(5);
        int out = 40, in = type.blockSize() * 3;
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        QuantizedMatrix q = Quants.quantize(type, w, 0, out, in);
        NDArray wq = NDArray.of(q);
        assertThat(wq.dtype()).isEqualTo(DType.QUANTIZED);
        NDArray deq = wq.to(DType.F32);                                              // [out, in]
        assertThat(deq.toFloatArray()).containsExactly(Quants.dequantize(q));
        assertThat(wq.getFloat(3, 17)).isEqualTo(deq.getFloat(3, 17));
        NDArray bias = NDArray.of(new float[out], out);
        Linear lq = new Linear(wq, bias), lf = new Linear(deq, bias);
        assertThat(lq.weight.requiresGrad()).isFalse();
        for (int t : new int[] {1, 2, 7}) {
            float[] x = new float[2 * t * in];
            for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
            Tensor xt = Tensor.of(NDArray.of(x, 2, t, in));
            float[] yq = lq.forward(xt).data().toFloatArray(), yf = lf.forward(xt).data().toFloatArray();
            for (int i = 0; i < yq.length; i++) assertThat(yq[i]).as("%s T=%d [%d]", type, t, i).isCloseTo(yf[i], within(1e-3f));
        }
        NDArray rows = dev.attn4j.kernels.ArrayOps.embedding(wq, NDArray.of(new float[] {5, 0, 39}, 3));
        assertThat(rows.dtype()).isEqualTo(DType.F32);
        assertThat(rows.select(0, 0).toFloatArray()).containsExactly(deq.select(0, 5).toFloatArray());
        assertThat(rows.select(0, 2).toFloatArray()).containsExactly(deq.select(0, 39).toFloatArray());
        // the weight used as an untransposed right operand (dY W): dequantized, still right
        float[] g = new float[out];
        for (int i = 0; i < out; i++) g[i] = (float) rng.nextGaussian();
        NDArray dx = dev.attn4j.kernels.ArrayOps.matmul(NDArray.of(g, 1, out), wq), dxf = dev.attn4j.kernels.ArrayOps.matmul(NDArray.of(g, 1, out), deq);
        for (int i = 0; i < in; i++) assertThat(dx.getFloat(0, i)).isCloseTo(dxf.getFloat(0, i), within(1e-4f));
    }

    @ParameterizedTest
    @EnumSource(value = QuantType.class, names = "Q8_0")
    void otherOpsAndWritesAreRefused(QuantType type) {
        NDArray wq = NDArray.of(Quants.quantize(type, new float[64], 0, 2, 32));
        assertThatThrownBy(() -> wq.set(1f, 0, 0)).hasMessageContaining("read-only");
        assertThatThrownBy(() -> wq.copyFrom(NDArray.zeros(2, 32))).hasMessageContaining("read-only");
        assertThatThrownBy(() -> Tensor.of(wq).add(1.0)).hasMessageContaining("quantized weights");
        assertThatThrownBy(() -> NDArray.zeros(DType.QUANTIZED, Shape.of(2))).hasMessageContaining("QUANTIZED");
        assertThatThrownBy(() -> Tensor.of(wq).requiresGrad(true)).hasMessageContaining("QUANTIZED");
        assertThat(F.linear(Tensor.of(NDArray.zeros(1, 32)), Tensor.of(wq), null).shape().toArray()).containsExactly(1, 2);
    }
}
