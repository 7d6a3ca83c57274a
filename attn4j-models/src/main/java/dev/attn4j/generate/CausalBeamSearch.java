package dev.attn4j.generate;

import java.util.Arrays;
import java.util.List;

/**
 * Beam search over a {@link CausalLM}, as transformers' {@code generate(num_beams=k,
 * do_sample=False)} with {@code early_stopping=False}: {@link BeamSearch}'s rules (2k candidates
 * per step, EOS among the first k finishes a hypothesis, score / generated length^length_penalty)
 * on one prompt at a time; beams alive after {@code maxNewTokens} finish scored by their generated
 * length, as transformers 4.57 scores them. The prompt but its last token runs in one forward (prefill); the last
 * prompt token is the first token fed at step 0, so the beams then decode against the key/value
 * cache, whose rows are reordered with {@link CausalLM.KvCache#select} after each step.
 */
public final class CausalBeamSearch {
    private CausalBeamSearch() {
    }

    /** Up to {@code beams} hypotheses (new tokens, EOS excluded), best first. {@code eosId} &lt; 0: none. */
    public static List<Hypothesis> decode(CausalLM model, int[] prompt, int beams, double lengthPenalty, int maxNewTokens, int eosId) {
        if (prompt.length == 0) throw new IllegalArgumentException("beam search: empty prompt");
        return BeamSearch.decode(new Adapter(model, prompt, maxNewTokens, eosId), prompt, beams, lengthPenalty, maxNewTokens, true);
    }

    /** The best hypothesis's new tokens. */
    public static int[] best(CausalLM model, int[] prompt, int beams, double lengthPenalty, int maxNewTokens, int eosId) {
        return decode(model, prompt, beams, lengthPenalty, maxNewTokens, eosId).get(0).tokens();
    }

    /** A causal LM seen as a {@link StepModel} whose "BOS" is the prompt's last token. */
    private record Adapter(CausalLM model, int[] prompt, int maxNewTokens, int eosId) implements StepModel<CausalLM.KvCache[]> {
        @Override
        public int bosId() {
            return prompt[prompt.length - 1];
        }

        @Override
        public int eosId() {
            return eosId;
        }

        @Override
        public int vocabSize() {
            return model.vocabSize();
        }

        @Override
        public CausalLM.KvCache[] start(List<int[]> sources) {
            CausalLM.KvCache cache = model.newCache(1, prompt.length + maxNewTokens);
            if (prompt.length > 1) model.forward(cache, new int[][] {Arrays.copyOf(prompt, prompt.length - 1)}, null, false);
            return new CausalLM.KvCache[] {cache};
        }

        @Override
        public float[][] step(CausalLM.KvCache[] state, int[] tokens) {
            int[][] feed = new int[tokens.length][];
            for (int i = 0; i < tokens.length; i++) feed[i] = new int[] {tokens[i]};
            float[][][] logits = model.forward(state[0], feed, null, false);   // [beams][1][V]
            float[][] out = new float[tokens.length][];
            for (int i = 0; i < tokens.length; i++) out[i] = logSoftmax(logits[i][0]);
            return out;
        }

        @Override
        public CausalLM.KvCache[] select(CausalLM.KvCache[] state, int[] rows) {
            return new CausalLM.KvCache[] {state[0].select(rows)};
        }
    }

    static float[] logSoftmax(float[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : x) max = Math.max(max, v);
        double sum = 0;
        for (float v : x) sum += Math.exp(v - max);
        double log = max + Math.log(sum);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (x[i] - log);
        return out;
    }
}
