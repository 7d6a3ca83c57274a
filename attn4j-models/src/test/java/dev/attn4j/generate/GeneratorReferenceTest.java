package dev.attn4j.generate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Greedy and beam search against transformers' generate() on the same table model (generation/generate.json). */
class GeneratorReferenceTest {
    private static final JsonNode REF = References.load("generate.json");

    /** The first table model of the reference file. */
    static TableCausalLM model() {
        return model(0);
    }

    static TableCausalLM model(int index) {
        int v = REF.get("vocab_size").intValue();
        JsonNode m = REF.get("models").get(index);
        JsonNode t = m.get("table");
        float[][][] table = new float[v + 1][v][];
        for (int a = 0; a <= v; a++) for (int b = 0; b < v; b++) table[a][b] = References.floats(t.get(a).get(b));
        return new TableCausalLM(v, table, References.floats(m.get("slope")), 64);
    }

    static GenerationConfig config(JsonNode c, int pad) {
        GenerationConfig.Builder b = GenerationConfig.builder().padTokenId(pad);
        if (c.has("max_new_tokens")) b.maxNewTokens(c.get("max_new_tokens").intValue());
        if (c.has("max_length")) b.maxLength(c.get("max_length").intValue());
        if (c.has("min_new_tokens")) b.minNewTokens(c.get("min_new_tokens").intValue());
        if (c.has("eos_token_id")) b.eosTokenId(References.ints(c.get("eos_token_id")));
        if (c.has("repetition_penalty")) b.repetitionPenalty(c.get("repetition_penalty").doubleValue());
        if (c.has("no_repeat_ngram_size")) b.noRepeatNgramSize(c.get("no_repeat_ngram_size").intValue());
        if (c.has("num_beams")) b.numBeams(c.get("num_beams").intValue());
        if (c.has("num_return_sequences")) b.numReturnSequences(c.get("num_return_sequences").intValue());
        if (c.has("length_penalty")) b.lengthPenalty(c.get("length_penalty").doubleValue());
        if (c.has("early_stopping")) {
            JsonNode e = c.get("early_stopping");
            b.earlyStopping(e.isTextual() ? GenerationConfig.EarlyStopping.NEVER
                    : e.booleanValue() ? GenerationConfig.EarlyStopping.TRUE : GenerationConfig.EarlyStopping.FALSE);
        }
        return b.build();
    }

    @Test
    void greedyAndBeamSearchGiveTransformersTokens() {
        int runs = 0;
        int beamRuns = 0;
        for (JsonNode run : REF.get("runs")) {
            GenerationConfig cfg = config(run.get("config"), run.get("pad_token_id").intValue());
            List<int[]> prompts = new ArrayList<>();
            for (JsonNode p : run.get("prompts")) prompts.add(References.ints(p));
            int padded = prompts.stream().mapToInt(p -> p.length).max().orElseThrow();
            List<GenerationResult> got = new Generator(model(run.get("model").intValue())).generate(prompts, cfg);
            int[][] want = References.ints2(run.get("sequences"));
            assertThat(got).as("%s", run.get("config")).hasSize(want.length);
            for (int i = 0; i < want.length; i++) {
                int[] expected = Arrays.copyOfRange(want[i], padded, want[i].length);
                int cut = expected.length;
                for (int j = 0; j < expected.length; j++) {
                    if (cfg.isEos(expected[j])) {
                        cut = j + 1;
                        break;
                    }
                }
                expected = Arrays.copyOf(expected, cut);
                GenerationResult r = got.get(i);
                assertThat(r.tokens()).as("model %s %s prompts %s row %d", run.get("model"), run.get("config"), run.get("prompts"), i).containsExactly(expected);
                boolean endsOnEos = expected.length > 0 && cfg.isEos(expected[expected.length - 1]);
                assertThat(r.stopReason()).as("%s row %d", run.get("config"), i).isEqualTo(endsOnEos ? StopReason.EOS : StopReason.LENGTH);
                assertThat(r.prompt()).isEqualTo(i / cfg.numReturnSequences());
                if (run.has("sequences_scores")) {
                    double s = run.get("sequences_scores").get(i).doubleValue();
                    assertThat(r.score()).as("%s row %d score", run.get("config"), i)
                            .isCloseTo(s, org.assertj.core.data.Offset.offset(1e-5 * Math.max(1, Math.abs(s))));
                }
            }
            runs++;
            if (cfg.numBeams() > 1) beamRuns++;
        }
        assertThat(runs).isGreaterThanOrEqualTo(140);
        assertThat(beamRuns).isGreaterThanOrEqualTo(100);
    }

    /**
     * Sampling (and beam sampling: the best sequence) against transformers' own: the joint frequencies
     * of the first two new tokens over 4,000 rows agree within 5 standard deviations (different random streams, same distribution).
     */
    @Test
    void samplingFrequenciesAgreeWithTransformers() {
        for (JsonNode sample : REF.get("samples")) {
            JsonNode c = sample.get("config");
            GenerationConfig.Builder b = GenerationConfig.builder().doSample(true).maxNewTokens(2).padTokenId(0).seed(12345L);
            if (c.has("temperature")) b.temperature(c.get("temperature").doubleValue());
            if (c.has("top_k")) b.topK(c.get("top_k").intValue());
            if (c.has("top_p")) b.topP(c.get("top_p").doubleValue());
            if (c.has("min_p")) b.minP(c.get("min_p").doubleValue());
            if (c.has("typical_p")) b.typicalP(c.get("typical_p").doubleValue());
            if (c.has("repetition_penalty")) b.repetitionPenalty(c.get("repetition_penalty").doubleValue());
            if (c.has("num_beams")) b.numBeams(c.get("num_beams").intValue());
            if (c.has("eos_token_id")) b.eosTokenId(References.ints(c.get("eos_token_id")));
            int n = sample.get("rows").intValue();
            int[] prompt = References.ints(sample.get("prompt"));
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < n; i++) prompts.add(prompt);
            java.util.Map<String, Integer> ours = new java.util.HashMap<>();
            for (GenerationResult r : new Generator(model(sample.get("model").intValue())).generate(prompts, b.build())) {
                // transformers pads a sequence that ended on EOS with EOS (pad id 0 is falsy there)
                int second = r.tokens().length > 1 ? r.tokens()[1] : r.tokens()[0];
                ours.merge(r.tokens()[0] + "," + second, 1, Integer::sum);
            }
            java.util.Set<String> keys = new java.util.TreeSet<>(ours.keySet());
            sample.get("pair_counts").fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                int mine = ours.getOrDefault(k, 0);
                int theirs = sample.get("pair_counts").has(k) ? sample.get("pair_counts").get(k).intValue() : 0;
                double p = (mine + theirs) / (2.0 * n);
                double sd = Math.sqrt(2 * n * p * (1 - p));
                assertThat((double) mine).as("%s pair %s: attn4j %d, transformers %d of %d", c, k, mine, theirs, n)
                        .isCloseTo(theirs, org.assertj.core.data.Offset.offset(5 * sd + 3));
            }
        }
    }
}
