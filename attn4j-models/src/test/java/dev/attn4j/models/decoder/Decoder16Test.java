package dev.attn4j.models.decoder;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.CheckpointParams.Keep16;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Decoders with 16-bit weights (linear weights and embedding tables kept BF16 / F16, widened in the
 * GEMM's packing and in the lookup): the same logits as the F32 model whose weights were rounded
 * the same way (that F32 model is the one {@link DecoderReferenceTest} checks against
 * transformers), cached decoding equal to the uncached forward, half the heap for the weights.
 */
class Decoder16Test {
    static final int[][] TOKENS = {{1, 5, 9, 3, 17, 2, 30, 11}, {4, 4, 8, 21, 6, 13, 7, 19}};

    static float[] logits(CausalDecoder m, int[][] tokens) {
        try (var g = GradMode.noGrad()) {
            return m.forward(tokens, null, false, false).logits().data().contiguous().toFloatArray();   // [B, T, V]
        }
    }

    /** Rounds every linear weight and embedding table of the F32 model to {@code dtype} and back, keeping F32 and the layout. */
    static void roundInF32(CausalDecoder m, DType dtype) {
        for (Module mod : m.namedModules().values()) {
            Tensor w = mod instanceof Linear l ? l.weight : mod instanceof Embedding e ? e.weight : null;
            if (w == null) continue;
            NDArray d = w.data();                                                     // [out, in] (maybe a transposed view) or [V, C]
            boolean transposed = d.stride(0) == 1 && d.stride(1) >= d.dim(0) && d.dim(0) > 1;
            NDArray r = transposed ? d.transpose(0, 1).to(dtype).to(DType.F32).transpose(0, 1) : d.to(dtype).to(DType.F32);
            w.setData(r);
        }
    }

    static void assertClose(float[] actual, float[] expected, String what) {
        assertThat(actual).hasSameSizeAs(expected);
        double maxAbs = 0, maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
        }
        assertThat(maxAbs).as(what + ": logits must not be all zero").isGreaterThan(1e-3);
        assertThat(maxDiff).as(what + ": max |diff| over max |logit| " + maxAbs).isLessThanOrEqualTo(1e-5 * Math.max(1, maxAbs));
    }

    /** Heap bytes of the parameters' storages (each storage once); mapped storages count nothing. */
    static long heapBytes(Module m) {
        Map<Object, Boolean> seen = new IdentityHashMap<>();
        long bytes = 0;
        for (Tensor t : m.namedParameters().values()) {
            Storage s = t.data().storage();
            if (seen.put(s, Boolean.TRUE) != null) continue;
            if (s instanceof Storage.Halfs h) bytes += h.isHeap() ? h.segment().byteSize() : 0;
            else if (s instanceof Storage.Floats f) bytes += 4L * f.array().length;
        }
        return bytes;
    }

    static long count16(Module m) {
        return m.namedParameters().values().stream().filter(t -> t.dtype().is16Bit()).count();
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-bias-tied-linear", "mistral-swa", "qwen2", "gemma", "phi3-longrope", "olmo-clip"})
    void roundedToBf16GivesTheLogitsOfTheF32ModelOnRoundedWeights(String name) throws Exception {
        for (DType dtype : new DType[] {DType.BF16, DType.F16}) {
            try (CausalDecoder m16 = DecoderModels.load(DecoderReferenceTest.dir(name));
                 CausalDecoder ref = DecoderModels.load(DecoderReferenceTest.dir(name))) {
                long f32Bytes = heapBytes(m16);
                assertThat(count16(m16)).as("an F32 checkpoint loads as F32").isZero();
                int n = DecoderModels.to16(m16, dtype);
                assertThat(n).isEqualTo(count16(m16)).isGreaterThan(0);
                roundInF32(ref, dtype);
                float[] want = logits(ref, TOKENS), got = logits(m16, TOKENS);
                assertClose(got, want, name + " " + dtype);
                System.out.printf("%s %s: %d tensors to 16 bits, bit-identical logits: %s, parameter heap %d -> %d bytes%n",
                        name, dtype, n, Arrays.equals(got, want), f32Bytes, heapBytes(m16));
                assertThat(((DecoderModel) m16).model.embedTokens.weight.dtype()).isEqualTo(dtype);
            }
        }
    }

    @Test
    void bf16CheckpointStaysBf16OnHeapOrMappedAndEqualsTheWidenedModel() throws Exception {
        var dir = DecoderReferenceTest.dir("qwen3-bf16");
        try (CausalDecoder wide = DecoderModels.load(dir, Keep16.NO);
             CausalDecoder heap = DecoderModels.load(dir);
             CausalDecoder mapped = DecoderModels.load(dir, Keep16.MAPPED)) {
            assertThat(count16(wide)).isZero();
            DecoderModel h = (DecoderModel) heap;
            assertThat(h.model.embedTokens.weight.dtype()).isEqualTo(DType.BF16);
            assertThat(h.model.layers.get(0).selfAttn.qProj.weight.dtype()).isEqualTo(DType.BF16);
            assertThat(h.model.layers.get(0).mlp.downProj.weight.dtype()).isEqualTo(DType.BF16);
            assertThat(((Storage.Halfs) h.model.layers.get(0).mlp.downProj.weight.data().storage()).isHeap()).isTrue();
            DecoderModel mm = (DecoderModel) mapped;
            assertThat(((Storage.Halfs) mm.model.layers.get(0).mlp.downProj.weight.data().storage()).isHeap()).isFalse();
            float[] want = logits(wide, TOKENS);
            assertClose(logits(heap, TOKENS), want, "heap");
            assertClose(logits(mapped, TOKENS), want, "mapped");
            long wideBytes = heapBytes(wide), heapBytes = heapBytes(heap), mappedBytes = heapBytes(mapped);
            System.out.printf("qwen3-bf16 parameter heap: F32 %d, BF16 heap %d, BF16 mapped %d bytes%n", wideBytes, heapBytes, mappedBytes);
            assertThat(heapBytes).isLessThan(wideBytes * 6 / 10);
            assertThat(mappedBytes).isLessThan(heapBytes);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"qwen3-bf16", "llama", "mistral-swa", "phi3-longrope"})
    void cachedDecodingEqualsUncachedWith16BitWeights(String name) throws Exception {
        try (CausalDecoder m = DecoderModels.load(DecoderReferenceTest.dir(name))) {
            if (count16(m) == 0) DecoderModels.to16(m, DType.BF16);
            int[] ids = TOKENS[0];
            int t = ids.length, v = m.vocabSize();
            float[] full = logits(m, new int[][] {ids});                              // [1, T, V]
            try (var g = GradMode.noGrad()) {
                DecoderCache cache = m.newCache(1, t);
                int fed = 0;
                for (int chunk : new int[] {3, 1, 2, 1, 1}) {
                    int[][] part = {Arrays.copyOfRange(ids, fed, fed + chunk)};
                    float[] l = m.forward(cache, part, null, true, false, false).logits().data().contiguous().toFloatArray();
                    float[] want = Arrays.copyOfRange(full, fed * v, (fed + chunk) * v);
                    assertClose(l, want, name + " cached at " + fed);
                    fed += chunk;
                }
            }
        }
    }

    @Test
    void randomFactoryDrawsTheSameWeightsIn16BitsAsRoundingTheF32Draw() throws Exception {
        DecoderConfig c = DecoderConsistencyTest.config("llama");
        CausalDecoder b16 = DecoderModels.random(c, DType.BF16, 5);
        CausalDecoder f32 = DecoderModels.random(c, DType.F32, 5);
        assertThat(count16(f32)).isZero();
        DecoderModels.to16(f32, DType.BF16);
        var sb = b16.stateDict();
        var sf = f32.stateDict();
        assertThat(sb.keySet()).isEqualTo(sf.keySet());
        for (String k : sb.keySet()) {
            assertThat(sb.get(k).dtype()).as(k).isEqualTo(sf.get(k).dtype());
            assertThat(sb.get(k).contiguous().toFloatArray()).as(k).isEqualTo(sf.get(k).contiguous().toFloatArray());
        }
        assertThat(count16(b16)).isGreaterThan(0);
        assertThat(logits(b16, TOKENS)).isEqualTo(logits(f32, TOKENS));
        CausalDecoder other = DecoderModels.random(c, DType.BF16, 6);
        assertThat(logits(other, TOKENS)).isNotEqualTo(logits(b16, TOKENS));
    }
}
