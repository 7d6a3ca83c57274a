package dev.attn4j.models.bert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.models.CheckpointParams.Keep16;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Lora;
import dev.attn4j.nn.LoraConfig;
import dev.attn4j.nn.LoraLinear;
import dev.attn4j.nn.Module;
import dev.attn4j.optim.AdamW;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import dev.attn4j.tensor.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA over a BF16 base (issue 18's {@code --base-dtype bf16}): BertModel, {@link Params#linearsTo16}
 * on the frozen base (or a BF16 file kept mapped), {@link Lora#apply} with query/value adapters.
 * The adapters' gradients equal those of the F32 model whose linear weights were rounded to BF16
 * (the oracle: F32 autograd, itself checked against PyTorch elsewhere), training moves the loss
 * and the adapters, and the 16-bit base is left bit for bit as it was.
 */
class Bf16LoraTest {
    @TempDir
    Path tmp;

    static final LoraConfig LORA = LoraConfig.of(4, 8, List.of("query", "value"));

    /** sum(hidden * probe): a loss whose gradient reaches every position. */
    static Tensor loss(BertModel m, EncoderInput in, NDArray probe) {
        return m.forward(in).lastHiddenState().mul(Tensor.of(probe)).sum();
    }

    /** Applies LoRA with a fixed A and a non-zero B (so A gets gradients too), the same for every model. */
    static Map<String, LoraLinear> lora(BertModel m) {
        Map<String, LoraLinear> layers = Lora.apply(m, LORA, new SplittableRandom(5));
        SplittableRandom r = new SplittableRandom(6);
        for (LoraLinear l : layers.values()) l.loraB.weight.data().copyFrom(NDArray.normal(r, l.loraB.weight.shape(), 0, 0.1));
        return layers;
    }

    static Map<String, float[]> grads(Module m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Lora.trainableParameters(m).forEach((k, t) -> out.put(k, t.grad() == null ? null : t.grad().contiguous().toFloatArray()));
        return out;
    }

    @Test
    void loraOverBf16BaseHasTheGradientsOfTheF32ModelOnRoundedWeightsAndLeavesTheBaseAlone() throws IOException {
        SplittableRandom rng = new SplittableRandom(42);
        BertConfig c = TinyEncoders.config("bert");
        Map<String, NDArray> w = TinyEncoders.weights(c, true, rng);
        Path d32 = TinyEncoders.write(tmp.resolve("f32"), c, w, "", SafetensorsDType.F32);
        Map<String, NDArray> rounded = new LinkedHashMap<>(w);
        rounded.replaceAll((k, v) -> k.endsWith(".weight") && v.rank() == 2 && !k.startsWith("embeddings.")
                ? v.to(DType.BF16).to(DType.F32) : v);
        Path dr = TinyEncoders.write(tmp.resolve("rounded"), c, rounded, "", SafetensorsDType.F32);
        Path d16 = TinyEncoders.write(tmp.resolve("bf16"), c, w, "", SafetensorsDType.BF16);
        Map<String, NDArray> allRounded = new LinkedHashMap<>(w);                 // what the BF16 file holds, as F32
        allRounded.replaceAll((k, v) -> v.to(DType.BF16).to(DType.F32));
        Path dar = TinyEncoders.write(tmp.resolve("all-rounded"), c, allRounded, "", SafetensorsDType.F32);
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {7, 5, 2}, true);
        NDArray probe = NDArray.normal(rng, Shape.of(in.batchSize(), in.length(), c.hiddenSize()), 0, 1);
        try (SafetensorsCheckpoint c32 = SafetensorsCheckpoint.open(d32.resolve("model.safetensors"));
             SafetensorsCheckpoint cr = SafetensorsCheckpoint.open(dr.resolve("model.safetensors"));
             SafetensorsCheckpoint c16 = SafetensorsCheckpoint.open(d16.resolve("model.safetensors"));
             SafetensorsCheckpoint car = SafetensorsCheckpoint.open(dar.resolve("model.safetensors"))) {
            BertModel base16 = Bf16LinearsTest.build(c, c32, "", Keep16.NO);
            assertThat(Params.linearsTo16(base16, DType.BF16)).isEqualTo(13);
            BertModel mapped = Bf16LinearsTest.build(c, c16, "", Keep16.MAPPED);
            BertModel ref = Bf16LinearsTest.build(c, cr, "", Keep16.NO);
            BertModel refMapped = Bf16LinearsTest.build(c, car, "", Keep16.NO);   // the BF16 file rounds embeddings and norms too
            for (BertModel m : List.of(base16, mapped, ref, refMapped)) {
                lora(m);
                loss(m, in, probe).backward();
            }
            Map<String, float[]> want = grads(ref), got = grads(base16), gotMapped = grads(mapped), wantMapped = grads(refMapped);
            assertThat(got.keySet()).isEqualTo(want.keySet()).hasSize(4 * c.numHiddenLayers());
            for (String k : want.keySet()) {
                assertThat(want.get(k)).as(k).isNotNull();
                double scale = 0;
                for (float v : want.get(k)) scale = Math.max(scale, Math.abs(v));
                assertThat(scale).as(k + " has a non-zero gradient").isGreaterThan(1e-6);
                assertThat(Bf16LinearsTest.worst(got.get(k), want.get(k))).as("heap BF16 " + k).isLessThanOrEqualTo(1e-5 * scale);
                assertThat(Bf16LinearsTest.worst(gotMapped.get(k), wantMapped.get(k))).as("mapped BF16 " + k).isLessThanOrEqualTo(1e-5 * scale);
            }
            // the frozen 16-bit base gets no gradient and trainableParameters holds adapters alone
            for (Module m : base16.namedModules().values()) {
                if (m instanceof Linear l && l.weight.dtype().is16Bit()) assertThat(l.weight.grad()).isNull();
            }

            // a few AdamW steps: the loss falls, the adapters move, the 16-bit base keeps its bits
            Map<String, short[]> baseBits = new LinkedHashMap<>();
            base16.namedParameters().forEach((k, t) -> {
                if (t.dtype().is16Bit()) baseBits.put(k, bits(t.data()));
            });
            assertThat(baseBits).hasSize(13);
            List<Tensor> params = new ArrayList<>(Lora.trainableParameters(base16).values());
            float[] a0 = params.get(0).data().contiguous().toFloatArray();
            AdamW opt = new AdamW(params, 1e-2);
            double first = Double.NaN, last = Double.NaN;
            for (int step = 0; step < 8; step++) {
                opt.zeroGrad();
                Tensor l = loss(base16, in, probe);
                if (step == 0) first = l.item();
                last = l.item();
                l.backward();
                opt.step();
            }
            assertThat(last).isLessThan(first);
            assertThat(params.get(0).data().contiguous().toFloatArray()).isNotEqualTo(a0);
            base16.namedParameters().forEach((k, t) -> {
                if (baseBits.containsKey(k)) {
                    assertThat(t.dtype()).isEqualTo(DType.BF16);
                    assertThat(bits(t.data())).as(k).isEqualTo(baseBits.get(k));
                }
            });
        }
    }

    static short[] bits(NDArray a) {
        NDArray c = a.contiguous();
        Storage.Halfs h = (Storage.Halfs) c.storage();
        short[] out = new short[Math.toIntExact(c.numel())];
        for (int i = 0; i < out.length; i++) out[i] = h.getBits(c.offset() + i);
        return out;
    }
}
