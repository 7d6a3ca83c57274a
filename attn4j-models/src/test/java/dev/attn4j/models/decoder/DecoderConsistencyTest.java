package dev.attn4j.models.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Losses;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Properties every family must have, on random weights (no reference needed): cached incremental
 * decoding equals the uncached forward, a left-padded row equals the same row unpadded, and the
 * autograd forward gives every parameter a gradient. Comparison with transformers is in
 * {@link DecoderReferenceTest}.
 */
class DecoderConsistencyTest {
    static final String COMMON = "\"vocab_size\": 50, \"hidden_size\": 32, \"intermediate_size\": 40, \"num_hidden_layers\": 2, "
            + "\"num_attention_heads\": 4, \"max_position_embeddings\": 64, ";

    static DecoderConfig config(String family) throws Exception {
        String extra = switch (family) {
            case "llama" -> "\"model_type\": \"llama\", \"num_key_value_heads\": 2, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, "
                    + "\"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 16}";
            case "mistral" -> "\"model_type\": \"mistral\", \"num_key_value_heads\": 2, \"sliding_window\": 3";
            case "qwen2" -> "\"model_type\": \"qwen2\", \"num_key_value_heads\": 1, \"tie_word_embeddings\": true";
            case "qwen3" -> "\"model_type\": \"qwen3\", \"num_key_value_heads\": 2, \"head_dim\": 16";
            case "phi3" -> "\"model_type\": \"phi3\", \"num_key_value_heads\": 2, \"partial_rotary_factor\": 0.5";
            case "gemma" -> "\"model_type\": \"gemma\", \"num_key_value_heads\": 1, \"head_dim\": 16";
            case "olmo" -> "\"model_type\": \"olmo\", \"clip_qkv\": 0.3";
            case "gpt2" -> "\"model_type\": \"gpt2\", \"n_embd\": 32, \"n_layer\": 2, \"n_head\": 4, \"n_positions\": 64, \"scale_attn_by_inverse_layer_idx\": true";
            default -> throw new IllegalArgumentException(family);
        };
        JsonNode n = new ObjectMapper().readTree("{" + COMMON + extra + "}");
        return DecoderConfig.fromJson(n);
    }

    static CausalDecoder random(String family, long seed) throws Exception {
        CausalDecoder m = DecoderModels.create(config(family), Params.random(new SplittableRandom(seed), 0.2));
        m.eval();
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "mistral", "qwen2", "qwen3", "phi3", "gemma", "olmo", "gpt2"})
    void cachedDecodingEqualsUncachedForwardAndPaddingIsInvisible(String family) throws Exception {
        CausalDecoder m = random(family, 7);
        SplittableRandom rng = new SplittableRandom(11);
        int b = 3, t = 9;
        int[] real = {9, 6, 2};
        int[][] ids = new int[b][t], mask = new int[b][t];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < t; j++) {
                boolean pad = j < t - real[i];
                ids[i][j] = pad ? 0 : 1 + rng.nextInt(49);
                mask[i][j] = pad ? 0 : 1;
            }
        }
        try (var g = GradMode.noGrad()) {
            Tensor full = m.forward(ids, mask, false, false).logits();             // [B, T, V]
            // cached: 4 tokens, then 2, then one at a time
            DecoderCache cache = m.newCache(b, t);
            int fed = 0;
            for (int chunk : new int[] {4, 2, 1, 1, 1}) {
                int[][] part = new int[b][chunk], pm = new int[b][fed + chunk];
                for (int i = 0; i < b; i++) {
                    part[i] = Arrays.copyOfRange(ids[i], fed, fed + chunk);
                    pm[i] = Arrays.copyOf(mask[i], fed + chunk);
                }
                Tensor logits = m.forward(cache, part, pm, true, false, false).logits();   // [B, chunk, V]
                for (int i = 0; i < b; i++) {
                    for (int j = 0; j < chunk; j++) {
                        if (mask[i][fed + j] == 0) continue;
                        for (int v = 0; v < m.vocabSize(); v++) {
                            assertThat(logits.data().getDouble(i, j, v)).as("%s cached [%d,%d,%d]", family, i, fed + j, v)
                                    .isCloseTo(full.data().getDouble(i, fed + j, v), org.assertj.core.data.Offset.offset(1e-4));
                        }
                    }
                }
                fed += chunk;
            }
            assertThat(cache.length()).isEqualTo(t);
            // a sliding-window layer keeps a ring of window slots, a full-attention layer every position
            assertThat(cache.slots(0)).isEqualTo(family.equals("mistral") ? 3 : t);
            // each padded row alone, unpadded
            for (int i = 0; i < b; i++) {
                int[][] alone = {Arrays.copyOfRange(ids[i], t - real[i], t)};
                Tensor one = m.forward(alone, null, false, false).logits();         // [1, real, V]
                for (int j = 0; j < real[i]; j++) {
                    for (int v = 0; v < m.vocabSize(); v++) {
                        assertThat(full.data().getDouble(i, t - real[i] + j, v)).as("%s padded row %d pos %d", family, i, j)
                                .isCloseTo(one.data().getDouble(0, j, v), org.assertj.core.data.Offset.offset(1e-4));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen3", "phi3", "gemma", "olmo", "gpt2"})
    void autogradForwardReachesEveryParameter(String family) throws Exception {
        CausalDecoder m = random(family, 3);
        m.train();
        int[][] ids = {{1, 5, 9, 2, 7}, {3, 3, 8, 1, 4}};
        Tensor logits = m.forward(ids, null, false, false).logits();                // [2, 5, V]
        float[] targets = {5, 9, 2, 7, 1, 3, 8, 1, 4, 2};
        Tensor loss = Losses.crossEntropy(logits.reshape(10, m.vocabSize()), dev.attn4j.tensor.NDArray.of(targets, 10));
        loss.backward();
        m.namedParameters().forEach((name, p) -> {
            assertThat(p.grad()).as("%s: gradient of %s", family, name).isNotNull();
            double sum = 0;
            for (double x : p.grad().toDoubleArray()) sum += Math.abs(x);
            assertThat(sum).as("%s: gradient of %s", family, name).isGreaterThan(0).isFinite();
        });
    }
}
