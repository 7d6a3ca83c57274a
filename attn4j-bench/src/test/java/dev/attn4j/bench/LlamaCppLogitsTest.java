package dev.attn4j.bench;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.generate.CausalLM;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.gguf.GgufDecoders;
import dev.attn4j.models.gguf.GgufExport;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.QuantType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * llama.cpp (the native library of {@code de.kherud:llama:4.1.0}, through {@link LlamaCpp})
 * against attn4j on the same GGUF file, written by attn4j from a random-weight Llama checkpoint
 * (grouped-query attention, so llama.cpp's q / k row order is exercised): the logits of every
 * position of a prompt and of a continuation, and the greedy tokens. The continuation is attn4j's
 * own greedy one, fed to both (teacher forcing), so that one near-tie cannot derail the rest; a
 * greedy token must agree wherever attn4j's top two logits are further apart than the format's
 * tolerance (a fraction of the logits' range) allows to flip. llama.cpp rounds the activations too
 * (to F16 for F16 weights, to 8-bit blocks for the quantized ones), attn4j does not; measured here:
 * logits cosine >= 0.99997 (F16), 0.9966 (Q8_0), 0.9928 (Q4_K), largest logit difference about
 * 0.4%, 4% and 8% of the logits' range. {@code -Dllamacpp.verbose=true} prints every position.
 */
class LlamaCppLogitsTest {
    private static final String CONFIG = "{\"model_type\": \"llama\", \"vocab_size\": 384, \"hidden_size\": 256, \"intermediate_size\": 512, "
            + "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"max_position_embeddings\": 256, "
            + "\"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, \"tie_word_embeddings\": false, \"bos_token_id\": 1, \"eos_token_id\": 2}";

    @ParameterizedTest(name = "{0}")
    @CsvSource({"f16, 0.99995, 0.005", "q8_0, 0.995, 0.04", "q4_k, 0.99, 0.08"})
    void llamaCppGivesAttn4jsLogitsOnTheSameFile(String type, double minCosine, double flipMargin, @TempDir Path tmp) throws Exception {
        assumeTrue(LlamaCpp.available(), "de.kherud:llama bundles llama.cpp for linux-x86_64 only");
        Path file = tmp.resolve("random-" + type + ".gguf");
        // weights of std 0.2 instead of 0.02, so that the logits have margins worth comparing
        try (CausalDecoder m = DecoderModels.random(DecoderModels.config(JsonMapper.builder().build().readTree(CONFIG), null), DType.F32, 7)) {
            try (var g = GradMode.noGrad()) {
                for (Tensor p : m.namedParameters().values()) {
                    if (p.data().shape().rank() != 2) continue;
                    float[] a = p.data().toFloatArray();
                    for (int i = 0; i < a.length; i++) a[i] *= 10f;
                    p.data().copyFrom(NDArray.of(a, p.data().shape().toArray()));
                }
            }
            GgufExport.write(m, type.equals("f16") ? null : QuantType.byName(type), null, true, file);
        }
        int[] prompt = {1, 17, 200, 33, 250, 7, 99, 300, 42, 128};
        int steps = 16;
        float[][] ours = new float[prompt.length + steps][];
        int[] tokens = new int[prompt.length + steps];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        try (CausalDecoder m = GgufDecoders.load(file); var g = GradMode.noGrad()) {
            CausalLM.KvCache cache = m.newCache(1, tokens.length);
            float[][] all = m.forward(cache, new int[][] {prompt}, null, true)[0];  // [T][V]
            System.arraycopy(all, 0, ours, 0, prompt.length);
            for (int s = 0; s < steps; s++) {
                int next = argmax(ours[prompt.length + s - 1]);
                tokens[prompt.length + s] = next;
                ours[prompt.length + s] = m.forward(cache, new int[][] {{next}}, null, false)[0][0];
            }
        }
        try (LlamaCpp llama = LlamaCpp.open(file, 64, 64, 2)) {
            assertThat(llama.vocabSize()).isEqualTo(384);
            int agreed = 0, decided = 0;
            double worst = 1;
            for (int t = 0; t < tokens.length; t++) {
                float[] theirs = llama.decode(tokens[t]);                          // one position at a time: every position's logits
                double cos = cosine(theirs, ours[t]);
                worst = Math.min(worst, cos);
                if (Boolean.getBoolean("llamacpp.verbose")) System.err.printf("%s pos %d cos %.7f margin/range %.4f maxdiff/range %.4f agree %s%n", type, t, cos,
                        margin(ours[t]) / range(ours[t]), maxAbsDiff(ours[t], theirs) / range(ours[t]), argmax(ours[t]) == argmax(theirs));
                if (!Boolean.getBoolean("llamacpp.verbose")) assertThat(cos).as(type + " logits cosine at position " + t).isGreaterThan(minCosine);
                if (!Boolean.getBoolean("llamacpp.verbose") && t >= prompt.length - 1 && margin(ours[t]) > flipMargin * range(ours[t])) {
                    decided++;
                    assertThat(argmax(theirs)).as(type + " greedy token after position " + t).isEqualTo(argmax(ours[t]));
                    agreed++;
                }
            }
            System.err.printf("%s: logits cosine vs llama.cpp >= %.7f over %d positions; %d greedy tokens decided, all agree%n", type, worst,
                    tokens.length, decided);
            assertThat(decided).as("positions whose greedy token is decided beyond the tolerance").isGreaterThanOrEqualTo(3);
            assertThat(agreed).isEqualTo(decided);
        }
    }

    static int argmax(float[] a) {
        int best = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
        return best;
    }

    /** Top logit minus the second. */
    static double margin(float[] a) {
        float first = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
        for (float x : a) {
            if (x > first) {
                second = first;
                first = x;
            } else if (x > second) {
                second = x;
            }
        }
        return first - second;
    }

    /** Largest logit minus the smallest. */
    static double range(float[] a) {
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (float x : a) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return hi - lo;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
