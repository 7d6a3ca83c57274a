package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * transformers' logits processors and warpers, each computed as {@code generation/logits_process.py}
 * computes it on float32 scores: the same comparisons (strict or not), the same tie rules (a stable
 * sort, equal values in index order), {@code min_tokens_to_keep}, {@code -Infinity} for removed
 * entries. Softmax probabilities are float32 values (computed in double, rounded), cumulative sums
 * accumulate in double and round each prefix to float32 as torch's CPU {@code cumsum} does.
 *
 * <p>{@link #forConfig} builds the list {@code GenerationMixin._get_logits_processor} builds, in its
 * order: repetition penalty, no-repeat n-gram, bad words, min length, min new tokens, forced BOS,
 * forced EOS, then (sampling only) temperature, top-k, top-p, min-p, typical-p.
 */
public final class LogitsProcessors {
    private LogitsProcessors() {
    }

    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    /** The processors generate applies for {@code config}, for prompts (padded) of {@code promptLength} tokens. */
    public static List<LogitsProcessor> forConfig(GenerationConfig config, int promptLength) {
        List<LogitsProcessor> out = new ArrayList<>();
        int[] eos = config.eosTokenId();
        if (config.repetitionPenalty() != 1.0) out.add(repetitionPenalty(config.repetitionPenalty()));
        if (config.noRepeatNgramSize() > 0) out.add(noRepeatNgram(config.noRepeatNgramSize()));
        if (config.badWordsIds() != null) out.add(noBadWords(config.badWordsIds(), eos));
        if (config.minLength() > 0 && eos.length > 0) out.add(minLength(config.minLength(), eos));
        if (config.minNewTokens() != null && config.minNewTokens() > 0 && eos.length > 0) {
            out.add(minNewTokens(promptLength, config.minNewTokens(), eos));
        }
        if (config.forcedBosTokenId() != null) out.add(forcedBos(config.forcedBosTokenId()));
        if (config.forcedEosTokenId() != null) out.add(forcedEos(config.maxLength(promptLength), config.forcedEosTokenId()));
        if (config.doSample()) {
            // beam methods keep one non-EOS token beyond the EOS ones
            int keep = config.numBeams() > 1 ? Math.max(eos.length, 1) + 1 : 1;
            if (config.temperature() != 1.0) out.add(temperature(config.temperature()));
            if (config.topK() != 0) out.add(topK(config.topK(), keep));
            if (config.topP() < 1.0) out.add(topP(config.topP(), keep));
            if (config.minP() != null) out.add(minP(config.minP(), keep));
            if (config.typicalP() < 1.0) out.add(typicalP(config.typicalP(), keep));
        }
        return List.copyOf(out);
    }

    /** Applies {@code processors} in order. */
    public static void apply(List<LogitsProcessor> processors, int[] inputIds, float[] scores) {
        for (LogitsProcessor p : processors) p.process(inputIds, scores);
    }

    /**
     * {@code RepetitionPenaltyLogitsProcessor}: every token present in {@code inputIds} (once per
     * token) has its score multiplied by {@code penalty} when negative, divided by it otherwise.
     */
    public static LogitsProcessor repetitionPenalty(double penalty) {
        if (!(penalty > 0) || Double.isInfinite(penalty)) {
            throw new IllegalArgumentException("repetition_penalty has to be a strictly positive float, but is " + penalty);
        }
        float p = (float) penalty;
        return (ids, scores) -> {
            boolean[] seen = new boolean[scores.length];
            for (int id : ids) {
                checkId(id, scores.length);
                if (seen[id]) continue;
                seen[id] = true;
                float s = scores[id];
                scores[id] = s < 0 ? s * p : s / p;
            }
        };
    }

    /**
     * {@code NoRepeatNGramLogitsProcessor}: bans ({@code -inf}) every token that would complete an
     * n-gram already present in {@code inputIds}.
     */
    public static LogitsProcessor noRepeatNgram(int ngramSize) {
        if (ngramSize <= 0) throw new IllegalArgumentException("no_repeat_ngram_size has to be a strictly positive integer, but is " + ngramSize);
        return (ids, scores) -> {
            int len = ids.length;
            if (len + 1 < ngramSize) return;
            // the n-1 tokens before the next one
            int start = len + 1 - ngramSize;
            for (int i = 0; i + ngramSize <= len; i++) {
                boolean match = true;
                for (int j = 0; j < ngramSize - 1 && match; j++) match = ids[i + j] == ids[start + j];
                if (match) {
                    int banned = ids[i + ngramSize - 1];
                    checkId(banned, scores.length);
                    scores[banned] = NEG_INF;
                }
            }
        };
    }

    /**
     * {@code NoBadWordsLogitsProcessor}: a one-token sequence is never generated; a longer one never
     * completed (its last token is {@code -inf} when the sequence ends with the others). Sequences
     * that are a single EOS id are dropped first, as transformers drops them.
     */
    public static LogitsProcessor noBadWords(int[][] badWordsIds, int[] eos) {
        List<int[]> words = new ArrayList<>();
        for (int[] w : badWordsIds) {
            if (w.length == 0) throw new IllegalArgumentException("bad_words_ids has to be a list of non-empty lists of token ids");
            for (int id : w) if (id < 0) throw new IllegalArgumentException("bad_words_ids holds a negative id: " + Arrays.toString(w));
            boolean isEos = false;
            if (w.length == 1) for (int e : eos) isEos |= w[0] == e;
            if (!isEos) words.add(w.clone());
        }
        return (ids, scores) -> {
            for (int[] w : words) {
                for (int id : w) {
                    if (id >= scores.length) {
                        throw new IllegalArgumentException("The model vocabulary size is " + scores.length
                                + ", but bad_words_ids holds token " + id);
                    }
                }
                int prefix = w.length - 1;
                if (w.length > ids.length && prefix > 0) continue;                 // longer than the context
                boolean match = true;
                for (int j = 0; j < prefix && match; j++) match = ids[ids.length - prefix + j] == w[j];
                if (match) scores[w[prefix]] = NEG_INF;
            }
        };
    }

    /** {@code ForcedBOSTokenLogitsProcessor}: at the first generated position (input length 1) only {@code bosId} is allowed (score 0). */
    public static LogitsProcessor forcedBos(int bosId) {
        if (bosId < 0) throw new IllegalArgumentException("forced_bos_token_id must be >= 0, got " + bosId);
        return (ids, scores) -> {
            if (ids.length == 1) force(scores, new int[] {bosId});
        };
    }

    /**
     * {@code ForcedEOSTokenLogitsProcessor}: when the next token is the last one {@code maxLength}
     * allows (input length {@code maxLength - 1}), only the EOS ids are allowed (score 0).
     */
    public static LogitsProcessor forcedEos(int maxLength, int[] eos) {
        for (int e : eos) if (e < 0) throw new IllegalArgumentException("`eos_token_id` has to be a list of positive integers, but is " + Arrays.toString(eos));
        int[] e = eos.clone();
        return (ids, scores) -> {
            if (ids.length == maxLength - 1) force(scores, e);
        };
    }

    /** Every score -inf except {@code allowed}, which get 0. */
    private static void force(float[] scores, int[] allowed) {
        for (int id : allowed) checkId(id, scores.length);
        Arrays.fill(scores, NEG_INF);
        for (int id : allowed) scores[id] = 0;
    }

    /** {@code MinLengthLogitsProcessor}: EOS scores are {@code -inf} while the sequence is shorter than {@code minLength}. */
    public static LogitsProcessor minLength(int minLength, int[] eos) {
        if (minLength < 0) throw new IllegalArgumentException("min_length has to be a non-negative integer, but is " + minLength);
        int[] e = eos.clone();
        return (ids, scores) -> {
            if (ids.length < minLength) maskEos(scores, e);
        };
    }

    /**
     * {@code MinNewTokensLengthLogitsProcessor}: EOS scores are {@code -inf} while fewer than
     * {@code minNewTokens} tokens follow the (padded) prompt of {@code promptLength}.
     */
    public static LogitsProcessor minNewTokens(int promptLength, int minNewTokens, int[] eos) {
        if (promptLength < 0 || minNewTokens < 0) {
            throw new IllegalArgumentException("prompt length and min_new_tokens have to be non-negative, got "
                    + promptLength + " and " + minNewTokens);
        }
        int[] e = eos.clone();
        return (ids, scores) -> {
            if (ids.length - promptLength < minNewTokens) maskEos(scores, e);
        };
    }

    private static void maskEos(float[] scores, int[] eos) {
        for (int id : eos) if (id >= 0 && id < scores.length) scores[id] = NEG_INF;
    }

    /** {@code TemperatureLogitsWarper}: scores / temperature. */
    public static LogitsProcessor temperature(double temperature) {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature (=" + temperature + ") has to be a strictly positive float");
        }
        float t = (float) temperature;
        return (ids, scores) -> {
            for (int i = 0; i < scores.length; i++) scores[i] = scores[i] / t;
        };
    }

    /**
     * {@code TopKLogitsWarper}: keeps the scores at least as large as the k-th largest
     * ({@code k = max(topK, minTokensToKeep)}; ties with it are all kept).
     */
    public static LogitsProcessor topK(int topK, int minTokensToKeep) {
        if (topK <= 0) throw new IllegalArgumentException("top_k has to be a strictly positive integer, but is " + topK);
        int k0 = Math.max(topK, minTokensToKeep);
        return (ids, scores) -> {
            int k = Math.min(k0, scores.length);
            float[] sorted = scores.clone();
            Arrays.sort(sorted);
            float threshold = sorted[sorted.length - k];
            for (int i = 0; i < scores.length; i++) if (scores[i] < threshold) scores[i] = NEG_INF;
        };
    }

    /**
     * {@code TopPLogitsWarper}: sorts ascending, removes the tokens whose cumulative probability is
     * {@code <= 1 - topP} (so the smallest set with mass above {@code topP} stays), always keeping
     * the {@code minTokensToKeep} largest.
     */
    public static LogitsProcessor topP(double topP, int minTokensToKeep) {
        if (!(topP >= 0 && topP <= 1)) throw new IllegalArgumentException("top_p has to be a float > 0 and <= 1, but is " + topP);
        checkKeep(minTokensToKeep);
        float limit = (float) (1 - topP);
        return (ids, scores) -> {
            int n = scores.length;
            int[] order = argsortAscending(scores);
            float[] sortedLogits = new float[n];
            for (int i = 0; i < n; i++) sortedLogits[i] = scores[order[i]];
            float[] cum = cumsum(softmax(sortedLogits));
            for (int i = 0; i < n - minTokensToKeep; i++) if (cum[i] <= limit) scores[order[i]] = NEG_INF;
        };
    }

    /**
     * {@code MinPLogitsWarper}: removes the tokens whose probability is below
     * {@code minP * max probability}, always keeping the {@code minTokensToKeep} largest.
     */
    public static LogitsProcessor minP(double minP, int minTokensToKeep) {
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min_p has to be a float in the [0, 1] interval, but is " + minP);
        checkKeep(minTokensToKeep);
        float mp = (float) minP;
        return (ids, scores) -> {
            float[] probs = softmax(scores);
            float top = 0;
            for (float p : probs) top = Math.max(top, p);
            float threshold = mp * top;
            int[] desc = argsortDescending(scores);
            for (int r = minTokensToKeep; r < desc.length; r++) {
                int i = desc[r];
                if (probs[i] < threshold) scores[i] = NEG_INF;
            }
        };
    }

    /**
     * {@code TypicalLogitsWarper} (locally typical sampling): orders tokens by
     * {@code |-log p - entropy|}, keeps those up to the first at which the cumulative probability
     * reaches {@code mass} (and all tying with it), at least {@code minTokensToKeep}.
     */
    public static LogitsProcessor typicalP(double mass, int minTokensToKeep) {
        if (!(mass > 0 && mass < 1)) throw new IllegalArgumentException("typical_p has to be a float > 0 and < 1, but is " + mass);
        checkKeep(minTokensToKeep);
        float m = (float) mass;
        return (ids, scores) -> {
            int n = scores.length;
            float[] logp = logSoftmax(scores);
            double ent = 0;
            for (float lp : logp) {
                double prod = (double) lp * (float) Math.exp(lp);
                if (!Double.isNaN(prod)) ent -= prod;                          // nansum: -inf * 0 is skipped
            }
            float entropy = (float) ent;
            float[] shifted = new float[n];
            for (int i = 0; i < n; i++) shifted[i] = Math.abs(-logp[i] - entropy);
            int[] order = argsortAscending(shifted);
            float[] sortedLogits = new float[n];
            for (int i = 0; i < n; i++) sortedLogits[i] = scores[order[i]];
            float[] cum = cumsum(softmax(sortedLogits));
            int lastInd = 0;
            for (float c : cum) if (c < m) lastInd++;
            lastInd = Math.min(lastInd, n - 1);
            float bound = shifted[order[lastInd]];
            for (int r = minTokensToKeep; r < n; r++) if (shifted[order[r]] > bound) scores[order[r]] = NEG_INF;
        };
    }

    // ------------------------------------------------------------------ helpers

    /** float32 softmax: exp(x - max) / sum, computed in double and rounded; -inf entries give 0. */
    public static float[] softmax(float[] x) {
        float max = NEG_INF;
        for (float v : x) max = Math.max(max, v);
        float[] out = new float[x.length];
        if (max == NEG_INF) {
            Arrays.fill(out, Float.NaN);                                       // as torch: all -inf gives NaN
            return out;
        }
        double sum = 0;
        double[] e = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            e[i] = Math.exp((double) x[i] - max);
            sum += e[i];
        }
        for (int i = 0; i < x.length; i++) out[i] = (float) (e[i] / sum);
        return out;
    }

    /** float32 log-softmax: x - max - log(sum exp(x - max)). */
    public static float[] logSoftmax(float[] x) {
        float max = NEG_INF;
        for (float v : x) max = Math.max(max, v);
        double sum = 0;
        for (float v : x) sum += Math.exp((double) v - max);
        double lse = max + Math.log(sum);
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (x[i] - lse);
        return out;
    }

    /** Prefix sums accumulated in double, each rounded to float32 (torch's CPU cumsum). */
    static float[] cumsum(float[] x) {
        float[] out = new float[x.length];
        double acc = 0;
        for (int i = 0; i < x.length; i++) {
            acc += x[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** Indices ordering {@code x} ascending, equal values in index order (a stable sort). */
    static int[] argsortAscending(float[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> Float.compare(x[a], x[b]));
        int[] out = new int[idx.length];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        return out;
    }

    /** Indices ordering {@code x} descending, equal values in index order (a stable sort). */
    static int[] argsortDescending(float[] x) {
        Integer[] idx = new Integer[x.length];
        for (int i = 0; i < idx.length; i++) idx[i] = i;
        Arrays.sort(idx, (a, b) -> Float.compare(x[b], x[a]));
        int[] out = new int[idx.length];
        for (int i = 0; i < out.length; i++) out[i] = idx[i];
        return out;
    }

    private static void checkKeep(int minTokensToKeep) {
        if (minTokensToKeep < 1) {
            throw new IllegalArgumentException("min_tokens_to_keep has to be a positive integer, but is " + minTokensToKeep);
        }
    }

    private static void checkId(int id, int vocab) {
        if (id < 0 || id >= vocab) {
            throw new IllegalArgumentException("token id " + id + " in input_ids is outside the vocabulary [0, " + vocab + ")");
        }
    }
}
