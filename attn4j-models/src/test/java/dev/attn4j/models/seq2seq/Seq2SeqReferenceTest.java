package dev.attn4j.models.seq2seq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.CausalLM;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.GenerationResult;
import dev.attn4j.generate.Seq2SeqGenerator;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.Seq2SeqModels;
import dev.attn4j.models.bart.BartModel;
import dev.attn4j.models.t5.T5Model;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.attn4j.models.decoder.DecoderReferenceTest.assertAttentionClose;
import static dev.attn4j.models.decoder.DecoderReferenceTest.assertClose;
import static dev.attn4j.models.decoder.DecoderReferenceTest.longsAsArray;
import static dev.attn4j.models.decoder.DecoderReferenceTest.rows;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Marian, T5 (v1.0 and v1.1), BART and mBART against transformers 4.57.6 on tiny random-weight
 * checkpoints written by {@code scripts/make-seq2seq-references.py} into
 * {@code src/test/resources/seq2seq/<name>/}: the teacher-forced logits, both stacks' last hidden
 * states and last-layer attentions of a right-padded batch; cached decoding (one token at a time,
 * rows repeated as beams) against that forward; and every generate() call the script made
 * (greedy, beam 4 over the batch, length penalty, early stopping, no-repeat n-grams, bad words,
 * min length, forced BOS / EOS, returned sequences), token for token. marian-f16 is saved in
 * float16 (its linear weights and table stay 16-bit here; transformers reads them back in float32).
 */
class Seq2SeqReferenceTest {
    static final String[] NAMES = {"marian", "marian-separate-tables", "t5", "t5-v1_1", "bart", "mbart", "marian-f16"};

    static Path dir(String name) throws Exception {
        return Path.of(Seq2SeqReferenceTest.class.getResource("/seq2seq/" + name + "/config.json").toURI()).getParent();
    }

    /** Each row's real tokens (where the mask is 1). */
    static List<int[]> sources(int[][] ids, int[][] mask) {
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            int n = 0;
            while (n < mask[i].length && mask[i][n] == 1) n++;
            out.add(Arrays.copyOf(ids[i], n));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"marian", "marian-separate-tables", "t5", "t5-v1_1", "bart", "mbart", "marian-f16"})
    void forwardMatchesTransformers(String name) throws Exception {
        Path dir = dir(name);
        try (EncoderDecoderModel m = Seq2SeqModels.load(dir); SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(dir.resolve("reference.safetensors"));
             var g = GradMode.noGrad()) {
            assertThat(m).isInstanceOf(name.startsWith("t5") ? T5Model.class : BartModel.class);
            if (name.endsWith("f16")) {
                BartModel b = (BartModel) m;
                assertThat(b.model.encoder.layers.get(0).fc1.weight.dtype()).isEqualTo(dev.attn4j.tensor.DType.F16);
                assertThat(b.model.shared.weight.dtype()).isEqualTo(dev.attn4j.tensor.DType.F16);
            }
            int[][] ids = rows(longsAsArray(ref, "input_ids"));
            int[][] mask = rows(longsAsArray(ref, "attention_mask"));
            int[][] dec = rows(longsAsArray(ref, "decoder_input_ids"));
            Seq2SeqOutput o = m.forward(ids, mask, dec, true);
            assertClose(name + " logits", o.logits().data(), ref.getCopy("logits"), null);
            assertClose(name + " encoder_last_hidden_state", o.encoderLastHiddenState().data(), ref.getCopy("encoder_last_hidden_state"), mask);
            assertClose(name + " decoder_last_hidden_state", o.decoderLastHiddenState().data(), ref.getCopy("decoder_last_hidden_state"), null);
            int el = o.encoderAttentions().size() - 1, dl = o.crossAttentions().size() - 1;
            assertAttentionClose(name + " encoder_attentions." + el, o.encoderAttentions().get(el).data(),
                    ref.getCopy("encoder_attentions." + el), mask);
            assertAttentionClose(name + " cross_attentions." + dl, o.crossAttentions().get(dl).data(), ref.getCopy("cross_attentions." + dl), null);
            assertThat(o.decoderAttentions()).hasSize(m.decoderLayers());

            // cached decoding, rows grouped three per source as beams are, then reordered: the same logits
            CausalLM decoder = m.decoder(sources(ids, mask));
            int b = ids.length, t = dec[0].length, group = 3;
            var cache = decoder.newCache(b * group, t);
            NDArray expected = ref.getCopy("logits");                                  // [B, T, V]
            double worst = 0;
            for (int step = 0; step < t; step++) {
                int[][] tokens = new int[b * group][1];
                for (int r = 0; r < b * group; r++) tokens[r][0] = dec[r / group][step];
                float[][][] logits = decoder.forward(cache, tokens, null, false);
                for (int r = 0; r < b * group; r++) {
                    for (int v = 0; v < logits[r][0].length; v++) {
                        worst = Math.max(worst, Math.abs(logits[r][0][v] - expected.getFloat(r / group, step, v)));
                    }
                }
                // a beam reorder that keeps rows with their source (rotates each group)
                int[] order = new int[b * group];
                for (int r = 0; r < order.length; r++) order[r] = (r / group) * group + (r % group + 1) % group;
                cache = cache.select(order);
            }
            assertThat(worst).as(name + ": cached decoding against the forward").isLessThan(1e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"marian", "marian-separate-tables", "t5", "t5-v1_1", "bart", "mbart", "marian-f16"})
    void generateMatchesTransformers(String name) throws Exception {
        Path dir = dir(name);
        JsonNode calls = new ObjectMapper().readTree(dir.resolve("generate.json").toFile());
        try (EncoderDecoderModel m = Seq2SeqModels.load(dir); SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(dir.resolve("reference.safetensors"))) {
            List<int[]> sources = sources(rows(longsAsArray(ref, "input_ids")), rows(longsAsArray(ref, "attention_mask")));
            GenerationConfig defaults = GenerationConfig.from(ModelDirectory.of(dir));
            for (JsonNode call : calls) {
                GenerationConfig config = apply(defaults, call.get("kwargs"));
                List<GenerationResult> results = new Seq2SeqGenerator(m).generate(sources, config);
                JsonNode expected = call.get("sequences");
                assertThat(results).as(name + " " + call.get("name").asText() + " results").hasSize(expected.size());
                int start = Seq2SeqGenerator.decoderStartId(config), pad = config.padTokenId();
                for (int i = 0; i < expected.size(); i++) {
                    int[] want = new int[expected.get(i).size()];
                    for (int j = 0; j < want.length; j++) want[j] = expected.get(i).get(j).asInt();
                    int[] tokens = results.get(i).tokens();
                    int[] got = new int[Math.max(want.length, tokens.length + 1)];
                    Arrays.fill(got, pad);
                    got[0] = start;
                    System.arraycopy(tokens, 0, got, 1, tokens.length);
                    assertThat(got).as(name + " " + call.get("name").asText() + " row " + i + " (transformers: " + Arrays.toString(want)
                            + ", attn4j tokens " + Arrays.toString(tokens) + ")").containsExactly(want);
                    assertThat(results.get(i).prompt()).isEqualTo(i / config.numReturnSequences());
                }
            }
        }
    }

    /** The generate() keyword arguments the script passed, over the model's generation config. */
    static GenerationConfig apply(GenerationConfig defaults, JsonNode kwargs) {
        GenerationConfig.Builder b = defaults.toBuilder();
        kwargs.fields().forEachRemaining(e -> {
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                case "num_beams" -> b.numBeams(v.asInt());
                case "do_sample" -> b.doSample(v.asBoolean());
                case "max_new_tokens" -> b.maxNewTokens(v.asInt());
                case "max_length" -> b.maxLength(v.asInt());
                case "min_length" -> b.minLength(v.asInt());
                case "length_penalty" -> b.lengthPenalty(v.asDouble());
                case "early_stopping" -> b.earlyStopping(v.isBoolean() ? (v.asBoolean() ? GenerationConfig.EarlyStopping.TRUE
                        : GenerationConfig.EarlyStopping.FALSE) : GenerationConfig.EarlyStopping.NEVER);
                case "num_return_sequences" -> b.numReturnSequences(v.asInt());
                case "no_repeat_ngram_size" -> b.noRepeatNgramSize(v.asInt());
                case "forced_bos_token_id" -> b.forcedBosTokenId(v.asInt());
                case "bad_words_ids" -> {
                    int[][] w = new int[v.size()][];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = new int[v.get(i).size()];
                        for (int j = 0; j < w[i].length; j++) w[i][j] = v.get(i).get(j).asInt();
                    }
                    b.badWordsIds(w);
                }
                default -> throw new IllegalArgumentException("test: unhandled generate() argument " + e.getKey());
            }
        });
        return b.build();
    }

    @Test
    void everyReferenceDirectoryIsTested() throws Exception {
        Path root = dir("marian").getParent();
        try (var list = java.nio.file.Files.list(root)) {
            assertThat(list.map(p -> p.getFileName().toString()).sorted().toList()).containsExactlyInAnyOrder(NAMES);
        }
    }
}
