package dev.attn4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.io.safetensors.SafetensorsFile;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BF16 / F16 arrays and Linear layers with 16-bit weights, against torch (reference files from
 * scripts/gen-half16-refs.py: rounding bits, and F.linear on the rounded weight in float64 with
 * its input gradient) and against the F32 path on the widened weight (same bits).
 */
class Half16Test {
    static JsonNode resource(String name) throws IOException {
        try (InputStream in = Half16Test.class.getResourceAsStream("/half16/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource half16/" + name);
            return JsonMapper.builder().build().readTree(in);
        }
    }

    static float[] floats(JsonNode arr) {
        float[] out = new float[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) arr.get(i).asDouble();
        return out;
    }

    static double[] doubles(JsonNode arr) {
        double[] out = new double[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).asDouble();
        return out;
    }

    @Test
    void roundingMatchesTorch() throws IOException {
        JsonNode r = resource("rounding.json");
        int n = r.get("f32_bits").size();
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = Float.intBitsToFloat((int) r.get("f32_bits").get(i).asLong());
        NDArray a = NDArray.of(x, n);
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            JsonNode want = r.get(t == DType.BF16 ? "bf16_bits" : "f16_bits");
            NDArray h = a.to(t);                                                  // [n] 16-bit
            assertThat(h.dtype()).isEqualTo(t);
            Storage.Halfs s = (Storage.Halfs) h.storage();
            NDArray back = h.to(DType.F32);
            for (int i = 0; i < n; i++) {
                short got = s.getBits(i), exp = (short) want.get(i).asInt();
                if (Float.isNaN(x[i])) {                                          // torch writes one canonical NaN
                    assertThat(t.widen(got)).as("%s of NaN", t).isNaN();
                    continue;
                }
                if (got != exp) {
                    fail(t + " of " + x[i] + " (bits 0x" + Integer.toHexString(Float.floatToRawIntBits(x[i])) + ") = 0x"
                            + Integer.toHexString(got & 0xFFFF) + ", torch gives 0x" + Integer.toHexString(exp & 0xFFFF));
                }
                assertThat(Float.floatToRawIntBits(back.getFloat(i))).isEqualTo(Float.floatToRawIntBits(t.widen(exp)));
            }
        }
    }

    @Test
    void viewsCopiesAndClearErrorsForOtherOps() {
        NDArray w = NDArray.normal(new SplittableRandom(1), dev.attn4j.tensor.Shape.of(6, 10), 0, 1);
        NDArray h = w.to(DType.BF16);                                             // [6, 10]
        assertThat(h.storage()).isInstanceOf(Storage.Halfs.class);
        assertThat(((Storage.Halfs) h.storage()).isHeap()).isTrue();
        NDArray view = h.transpose(0, 1).narrow(0, 2, 5);                         // [5, 6] view
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 6; j++) {
                float want = DType.BF16.widen(DType.BF16.roundBits(w.getFloat(j, i + 2)));
                assertThat(view.getFloat(i, j)).isEqualTo(want);
            }
        }
        assertThat(view.to(DType.F32).toFloatArray()).containsExactly(view.toFloatArray());
        assertThat(view.copy().dtype()).isEqualTo(DType.BF16);
        assertThatThrownBy(() -> ArrayOps.exp(h)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("exp").hasMessageContaining("BF16");
        assertThatThrownBy(() -> ArrayOps.add(h, w)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("add").hasMessageContaining("BF16");
        assertThatThrownBy(() -> ArrayOps.sum(h.to(DType.F16))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("sum").hasMessageContaining("F16");
        assertThatThrownBy(() -> ArrayOps.softmax(h, -1)).hasMessageContaining("softmax");
        assertThatThrownBy(() -> ArrayOps.matmul(h, w.transpose(0, 1))).hasMessageContaining("matmul").hasMessageContaining("BF16");
        assertThatThrownBy(() -> Tensor.param(h)).hasMessageContaining("BF16").hasMessageContaining("no gradient");
    }

    /** A Linear over the torch reference's weight rounded to 16 bits, forward and input gradient. */
    @Test
    void linearMatchesTorchAndTheF32PathOnTheWidenedWeight() throws IOException {
        JsonNode r = resource("linear.json");
        float[] x = floats(r.get("x")), w = floats(r.get("weight")), b = floats(r.get("bias")), dy = floats(r.get("dy"));
        for (DType t : new DType[] {DType.BF16, DType.F16}) {
            String tag = t == DType.BF16 ? "bf16" : "f16";
            NDArray w32 = NDArray.of(w, 20, 70);
            NDArray w16 = w32.to(t);                                               // [20, 70]
            // in Params.linear's layout too: [out, in] viewed over [in, out] storage
            NDArray w16t = w32.transpose(0, 1).to(t).transpose(0, 1);
            for (NDArray weight : new NDArray[] {w16, w16t}) {
                Linear lin = new Linear(weight, NDArray.of(b.clone(), 20));
                assertThat(lin.weight.dtype()).isEqualTo(t);
                assertThat(lin.weight.requiresGrad()).isFalse();
                NDArray wide = weight.stride(0) == 1 ? weight.transpose(0, 1).to(DType.F32).transpose(0, 1) : weight.to(DType.F32);
                Linear ref = new Linear(wide, NDArray.of(b.clone(), 20));              // widened, F32, same layout
                ref.weight.requiresGrad(false);

                Tensor xt = Tensor.of(NDArray.of(x.clone(), 2, 3, 70)).requiresGrad(true);
                Tensor y = lin.forward(xt);                                         // [2, 3, 20]
                y.backward(NDArray.of(dy.clone(), 2, 3, 20));
                Tensor xr = Tensor.of(NDArray.of(x.clone(), 2, 3, 70)).requiresGrad(true);
                Tensor yr = ref.forward(xr);
                yr.backward(NDArray.of(dy.clone(), 2, 3, 20));

                assertThat(y.data().toFloatArray()).as("forward, same bits as F32 on the widened weight").containsExactly(yr.data().toFloatArray());
                assertThat(xt.grad().toFloatArray()).as("dX, same bits").containsExactly(xr.grad().toFloatArray());
                assertThat(lin.weight.grad()).isNull();
                close(y.data().toFloatArray(), doubles(r.get("y_" + tag)), 70, "y " + t);
                close(xt.grad().toFloatArray(), doubles(r.get("dx_" + tag)), 20, "dx " + t);
                try (var ng = GradMode.noGrad()) {
                    Tensor y1 = lin.forward(Tensor.of(NDArray.of(x.clone(), 6, 70).narrow(0, 2, 1)));   // [1, 70]: M = 1
                    float[] want = yr.data().reshape(6, 20).narrow(0, 2, 1).toFloatArray();
                    close(y1.data().toFloatArray(), toDoubles(want), 70, "M = 1 " + t);
                }
                assertThatThrownBy(() -> lin.weight.requiresGrad(true)).isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining(t.name());
            }
        }
    }

    static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    static void close(float[] got, double[] want, int k, String what) {
        assertThat(got).hasSize(want.length);
        for (int i = 0; i < got.length; i++) {
            double tol = (k + 4) * 0x1p-24 * (Math.abs(want[i]) + 1) * 4;
            if (!(Math.abs(got[i] - want[i]) <= tol)) fail(what + "[" + i + "] = " + got[i] + ", torch gives " + want[i]);
        }
    }

    @Test
    void mappedBf16TensorsAreZeroCopyAndFeedTheGemm(@TempDir Path dir) throws IOException {
        SplittableRandom rng = new SplittableRandom(7);
        NDArray w = NDArray.normal(rng, dev.attn4j.tensor.Shape.of(300, 130), 0, 0.1);   // [out, in]
        Map<String, NDArray> state = new LinkedHashMap<>();
        state.put("a.weight", w);
        state.put("b.weight", w.narrow(0, 0, 3));
        Path file = dir.resolve("w.safetensors");
        SafetensorsWriter.write(file, state, Map.of(), SafetensorsDType.BF16);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            NDArray mapped = f.get16("a.weight");                                   // [300, 130] BF16, zero-copy
            assertThat(mapped.dtype()).isEqualTo(DType.BF16);
            assertThat(((Storage.Halfs) mapped.storage()).segment().isMapped()).isTrue();
            assertThat(f.get16Copy("a.weight").toFloatArray()).containsExactly(mapped.toFloatArray());
            assertThat(mapped.toFloatArray()).containsExactly(w.to(DType.BF16).toFloatArray());
            assertThatThrownBy(() -> f.get16("missing")).hasMessageContaining("missing");
            Linear lin = new Linear(mapped, null);
            Linear ref = new Linear(mapped.to(DType.F32), null);
            for (int rows : new int[] {1, 2, 40}) {
                NDArray x = NDArray.normal(rng, dev.attn4j.tensor.Shape.of(rows, 130), 0, 1);
                try (var ng = GradMode.noGrad()) {
                    assertThat(lin.forward(Tensor.of(x)).data().toFloatArray()).as("rows " + rows)
                            .containsExactly(ref.forward(Tensor.of(x)).data().toFloatArray());
                }
            }
        }
    }
}
