package dev.attn4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

class GeneratorTest {
    /** A model whose next-token logits are fixed: the same distribution at every step. */
    static final class FixedLM implements CausalLM {
        final float[] logits;

        FixedLM(float... logits) {
            this.logits = logits;
        }

        @Override public int vocabSize() { return logits.length; }

        @Override public int maxPositions() { return 1 << 20; }

        @Override
        public KvCache newCache(int batch, int capacity) {
            return new KvCache() {
                int len;

                @Override public int length() { return len; }

                @Override public int batchSize() { return batch; }

                @Override public KvCache select(int[] rows) { return this; }
            };
        }

        @Override
        public float[][][] forward(KvCache cache, int[][] tokens, int[][] attentionMask, boolean allPositions) {
            float[][][] out = new float[tokens.length][1][];
            for (int b = 0; b < tokens.length; b++) out[b][0] = logits.clone();
            return out;
        }
    }

    private static final float[] LOGITS = {0.3f, -1.0f, 1.2f, 0.8f, -0.4f, 2.0f, 0.0f, -2.5f, 1.5f, 0.6f};

    /** Sampled one-token frequencies follow the processed distribution (checked against transformers separately). */
    @Test
    void samplingFrequenciesFollowTheProcessedDistribution() {
        GenerationConfig cfg = GenerationConfig.builder().doSample(true).temperature(0.8).topK(6).topP(0.9)
                .maxNewTokens(1).seed(42L).build();
        float[] processed = LOGITS.clone();
        LogitsProcessors.apply(LogitsProcessors.forConfig(cfg, 1), new int[] {0}, processed);
        float[] p = LogitsProcessors.softmax(processed);
        int n = 20_000;
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) prompts.add(new int[] {0});
        List<GenerationResult> out = new Generator(new FixedLM(LOGITS)).generate(prompts, cfg);
        int[] counts = new int[LOGITS.length];
        for (GenerationResult r : out) counts[r.tokens()[0]]++;
        int kept = 0;
        for (int v = 0; v < LOGITS.length; v++) {
            if (processed[v] == Float.NEGATIVE_INFINITY) {
                assertThat(counts[v]).as("filtered token %d", v).isZero();
                continue;
            }
            kept++;
            double expected = n * p[v];
            double sd = Math.sqrt(n * p[v] * (1 - p[v]));
            assertThat((double) counts[v]).as("token %d (p=%f)", v, p[v]).isCloseTo(expected, org.assertj.core.data.Offset.offset(5 * sd + 1));
        }
        assertThat(kept).isBetween(2, 6);
    }

    @Test
    void aSeedReproducesSamples() {
        GenerationConfig.Builder b = GenerationConfig.builder().doSample(true).topK(0).maxNewTokens(30).padTokenId(0);
        List<int[]> prompts = List.of(new int[] {1, 2}, new int[] {3});
        Generator g = new Generator(new FixedLM(LOGITS));
        List<GenerationResult> a = g.generate(prompts, b.seed(7L).build());
        List<GenerationResult> again = g.generate(prompts, b.seed(7L).build());
        List<GenerationResult> other = g.generate(prompts, b.seed(8L).build());
        for (int i = 0; i < 2; i++) assertThat(again.get(i).tokens()).containsExactly(a.get(i).tokens());
        assertThat(Arrays.equals(a.get(0).tokens(), other.get(0).tokens()) && Arrays.equals(a.get(1).tokens(), other.get(1).tokens()))
                .isFalse();
    }

    @Test
    void streamingYieldsTheSameTokensAsGenerate() {
        TableCausalLM model = GeneratorReferenceTest.model();
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(9).eosTokenId(2).padTokenId(0).build();
        List<int[]> prompts = List.of(new int[] {3, 4, 5, 6, 7}, new int[] {8, 1}, new int[] {4, 4, 9});
        List<GenerationResult> all = new Generator(model).generate(prompts, cfg);
        List<List<Integer>> heard = new ArrayList<>();
        for (int i = 0; i < 3; i++) heard.add(new ArrayList<>());
        new Generator(GeneratorReferenceTest.model()).generate(prompts, cfg, (row, token) -> heard.get(row).add(token));
        List<List<Integer>> streamed = new ArrayList<>();
        for (int i = 0; i < 3; i++) streamed.add(new ArrayList<>());
        TableCausalLM lazy = GeneratorReferenceTest.model();
        Iterator<TokenEvent> it = new Generator(lazy).stream(prompts, cfg);
        assertThat(lazy.forwards).isZero();                                  // nothing runs before it is asked for
        int last = -1;
        while (it.hasNext()) {
            TokenEvent e = it.next();
            assertThat(e.index()).isEqualTo(streamed.get(e.row()).size());
            streamed.get(e.row()).add(e.token());
            if (e.stopReason() != null) assertThat(e.stopReason()).isEqualTo(all.get(e.row()).stopReason());
            last = e.row();
        }
        assertThat(last).isGreaterThanOrEqualTo(0);
        for (int i = 0; i < 3; i++) {
            int[] tokens = all.get(i).tokens();
            assertThat(heard.get(i)).containsExactly(Arrays.stream(tokens).boxed().toArray(Integer[]::new));
            assertThat(streamed.get(i)).containsExactly(Arrays.stream(tokens).boxed().toArray(Integer[]::new));
            assertThat(all.get(i).newTokens()).isEqualTo(tokens.length);
        }
        assertThat(all.get(1).promptTokens()).isEqualTo(2);
    }

    @Test
    void stopStringsEndRowsWithTheirReason() {
        // tokens 0..9 decode to letters; the table model's greedy output for prompt [3,4,5,6,7] without EOS is 2 6 4 4 ...
        String letters = "abcdefghij";
        TableCausalLM model = GeneratorReferenceTest.model();
        GenerationConfig plain = GenerationConfig.builder().maxNewTokens(8).padTokenId(0).build();
        int[] prompt = {3, 4, 5, 6, 7};
        int[] free = new Generator(model).generate(List.of(prompt), plain).get(0).tokens();
        StringBuilder text = new StringBuilder();
        for (int t : free) text.append(letters.charAt(t));
        String stop = text.substring(1, 3);                                   // completed by the third new token
        GenerationConfig cfg = plain.toBuilder().stopStrings(stop).build();
        GenerationResult r = new Generator(GeneratorReferenceTest.model(), id -> String.valueOf(letters.charAt(id)))
                .generate(List.of(prompt), cfg).get(0);
        assertThat(r.stopReason()).isEqualTo(StopReason.STOP_STRING);
        assertThat(r.stopString()).isEqualTo(stop);
        assertThat(r.tokens()).containsExactly(Arrays.copyOf(free, 3));
        assertThatThrownBy(() -> new Generator(GeneratorReferenceTest.model()).generate(List.of(prompt), cfg))
                .hasMessageContaining("token decoder");
    }

    @Test
    void badInputsGetOneClearError() {
        Generator g = new Generator(new FixedLM(LOGITS));
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(3).build();
        assertThatThrownBy(() -> g.generate(List.of(new int[] {1, 12}), cfg)).hasMessageContaining("prompt 0 token 1 is id 12");
        assertThatThrownBy(() -> g.generate(List.of(new int[0]), cfg)).hasMessageContaining("prompt 0 is empty");
        assertThatThrownBy(() -> g.generate(List.of(new int[] {1}, new int[] {1, 2}), cfg)).hasMessageContaining("pad_token_id");
        assertThatThrownBy(() -> g.generate(List.of(new int[] {1, 2, 3}), GenerationConfig.builder().maxLength(3).build()))
                .hasMessageContaining("max_length is 3");
        TableCausalLM small = new TableCausalLM(10, new float[11][10][10], new float[10], 8);
        assertThatThrownBy(() -> new Generator(small).generate(List.of(new int[] {1}), GenerationConfig.builder().maxNewTokens(20).build()))
                .hasMessageContaining("exceeds the model's 8 positions");
    }

    @Test
    void minNewTokensAndSeveralEosIds() {
        // EOS ids 5 and 2 are the two likeliest tokens: without min_new_tokens greedy stops at once
        GenerationConfig cfg = GenerationConfig.builder().maxNewTokens(6).eosTokenId(5, 2).padTokenId(0).build();
        GenerationResult r = new Generator(new FixedLM(LOGITS)).generate(List.of(new int[] {1}), cfg).get(0);
        assertThat(r.tokens()).containsExactly(5);
        assertThat(r.stopReason()).isEqualTo(StopReason.EOS);
        GenerationResult later = new Generator(new FixedLM(LOGITS)).generate(List.of(new int[] {1}),
                cfg.toBuilder().minNewTokens(3).build()).get(0);
        assertThat(later.tokens()).containsExactly(8, 8, 8, 5);
        GenerationResult cut = new Generator(new FixedLM(LOGITS)).generate(List.of(new int[] {1}),
                cfg.toBuilder().eosTokenId().minNewTokens(null).build()).get(0);
        assertThat(cut.tokens()).hasSize(6);
        assertThat(cut.stopReason()).isEqualTo(StopReason.LENGTH);
    }
}
