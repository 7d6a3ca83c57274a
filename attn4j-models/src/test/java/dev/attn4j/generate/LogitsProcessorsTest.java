package dev.attn4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The processors against transformers' own classes (generation/processors.json). */
class LogitsProcessorsTest {
    private static final JsonNode REF = References.load("processors.json");

    private static LogitsProcessor of(String name, JsonNode p) {
        String base = name.contains("/") ? name.substring(0, name.indexOf('/')) : name;
        int keep = p.has("min_tokens_to_keep") ? p.get("min_tokens_to_keep").intValue() : 1;
        return switch (base) {
            case "repetition_penalty" -> LogitsProcessors.repetitionPenalty(p.get("penalty").doubleValue());
            case "no_repeat_ngram" -> LogitsProcessors.noRepeatNgram(p.get("ngram_size").intValue());
            case "temperature" -> LogitsProcessors.temperature(p.get("temperature").doubleValue());
            case "top_k" -> LogitsProcessors.topK(p.get("top_k").intValue(), keep);
            case "top_p" -> LogitsProcessors.topP(p.get("top_p").doubleValue(), keep);
            case "min_p" -> LogitsProcessors.minP(p.get("min_p").doubleValue(), keep);
            case "typical_p" -> LogitsProcessors.typicalP(p.get("typical_p").doubleValue(), keep);
            case "min_length" -> LogitsProcessors.minLength(p.get("min_length").intValue(), References.ints(p.get("eos_token_id")));
            case "min_new_tokens" -> LogitsProcessors.minNewTokens(p.get("prompt_length").intValue(),
                    p.get("min_new_tokens").intValue(), References.ints(p.get("eos_token_id")));
            case "bad_words" -> LogitsProcessors.noBadWords(References.ints2(p.get("bad_words_ids")), References.ints(p.get("eos_token_id")));
            case "forced_bos" -> LogitsProcessors.forcedBos(p.get("bos_token_id").intValue());
            case "forced_eos" -> LogitsProcessors.forcedEos(p.get("max_length").intValue(), References.ints(p.get("eos_token_id")));
            default -> throw new IllegalArgumentException("unknown case " + name);
        };
    }

    @Test
    void eachProcessorMatchesTransformers() {
        int cases = 0;
        for (JsonNode c : REF.get("cases")) {
            String name = c.get("name").asText() + " " + c.get("params");
            LogitsProcessor proc = of(c.get("name").asText(), c.get("params"));
            check(name, List.of(proc), References.ints2(c.get("input_ids")), References.floats2(c.get("scores")),
                    References.floats2(c.get("expected")));
            cases++;
        }
        assertThat(cases).isGreaterThan(50);
    }

    @Test
    void pipelinesFromAGenerationConfigMatchTransformers() {
        for (JsonNode c : REF.get("pipelines")) {
            JsonNode cfg = c.get("config");
            GenerationConfig.Builder b = GenerationConfig.builder();
            if (cfg.has("do_sample")) b.doSample(cfg.get("do_sample").booleanValue());
            if (cfg.has("temperature")) b.temperature(cfg.get("temperature").doubleValue());
            if (cfg.has("top_k")) b.topK(cfg.get("top_k").intValue());
            if (cfg.has("top_p")) b.topP(cfg.get("top_p").doubleValue());
            if (cfg.has("min_p")) b.minP(cfg.get("min_p").doubleValue());
            if (cfg.has("typical_p")) b.typicalP(cfg.get("typical_p").doubleValue());
            if (cfg.has("repetition_penalty")) b.repetitionPenalty(cfg.get("repetition_penalty").doubleValue());
            if (cfg.has("no_repeat_ngram_size")) b.noRepeatNgramSize(cfg.get("no_repeat_ngram_size").intValue());
            if (cfg.has("min_new_tokens")) b.minNewTokens(cfg.get("min_new_tokens").intValue());
            if (cfg.has("min_length")) b.minLength(cfg.get("min_length").intValue());
            if (cfg.has("num_beams")) b.numBeams(cfg.get("num_beams").intValue());
            if (cfg.has("max_length")) b.maxLength(cfg.get("max_length").intValue());
            if (cfg.has("bad_words_ids")) b.badWordsIds(References.ints2(cfg.get("bad_words_ids")));
            if (cfg.has("forced_bos_token_id")) b.forcedBosTokenId(cfg.get("forced_bos_token_id").intValue());
            if (cfg.has("forced_eos_token_id")) b.forcedEosTokenId(References.ints(cfg.get("forced_eos_token_id")));
            JsonNode eos = cfg.get("eos_token_id");
            if (eos != null) b.eosTokenId(eos.isArray() ? References.ints(eos) : new int[] {eos.intValue()});
            GenerationConfig config = b.build();
            List<LogitsProcessor> procs = LogitsProcessors.forConfig(config, c.get("prompt_length").intValue());
            assertThat(procs).as("%s", cfg).hasSize(c.get("processors").size());
            check(cfg + " " + c.get("processors"), procs, References.ints2(c.get("input_ids")),
                    References.floats2(c.get("scores")), References.floats2(c.get("expected")));
        }
    }

    private static void check(String name, List<LogitsProcessor> procs, int[][] ids, float[][] scores, float[][] expected) {
        for (int r = 0; r < ids.length; r++) {
            float[] s = scores[r].clone();
            LogitsProcessors.apply(procs, ids[r], s);
            List<Integer> wrongInf = new ArrayList<>();
            for (int v = 0; v < s.length; v++) {
                boolean expInf = expected[r][v] == Float.NEGATIVE_INFINITY;
                if (expInf != (s[v] == Float.NEGATIVE_INFINITY)) wrongInf.add(v);
            }
            assertThat(wrongInf).as("%s row %d: entries whose -inf differs (got %s, want %s)", name, r,
                    java.util.Arrays.toString(s), java.util.Arrays.toString(expected[r])).isEmpty();
            for (int v = 0; v < s.length; v++) {
                if (expected[r][v] == Float.NEGATIVE_INFINITY) continue;
                assertThat((double) s[v]).as("%s row %d token %d", name, r, v)
                        .isCloseTo(expected[r][v], org.assertj.core.data.Offset.offset(1e-6 * Math.max(1, Math.abs(expected[r][v]))));
            }
        }
    }

    @Test
    void invalidArgumentsAreRejectedWithTheirName() {
        assertThatThrownBy(() -> LogitsProcessors.temperature(0)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> LogitsProcessors.topK(0, 1)).hasMessageContaining("top_k");
        assertThatThrownBy(() -> LogitsProcessors.topP(1.5, 1)).hasMessageContaining("top_p");
        assertThatThrownBy(() -> LogitsProcessors.minP(-0.1, 1)).hasMessageContaining("min_p");
        assertThatThrownBy(() -> LogitsProcessors.typicalP(1.0, 1)).hasMessageContaining("typical_p");
        assertThatThrownBy(() -> LogitsProcessors.repetitionPenalty(0)).hasMessageContaining("repetition_penalty");
        assertThatThrownBy(() -> LogitsProcessors.noRepeatNgram(0)).hasMessageContaining("no_repeat_ngram_size");
        assertThatThrownBy(() -> LogitsProcessors.repetitionPenalty(1.2).process(new int[] {7}, new float[3]))
                .hasMessageContaining("token id 7");
    }
}
