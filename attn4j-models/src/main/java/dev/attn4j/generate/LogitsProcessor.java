package dev.attn4j.generate;

/**
 * transformers' {@code LogitsProcessor} / {@code LogitsWarper} for one row: rewrites the next-token
 * scores of a sequence in place. Filters set removed entries to {@code -Infinity} (transformers'
 * {@code filter_value}). Implementations are in {@link LogitsProcessors}.
 */
@FunctionalInterface
public interface LogitsProcessor {
    /**
     * @param inputIds the row's whole sequence so far (prompt, left padding included, as
     *                 transformers' {@code input_ids}); its length is transformers' {@code cur_len}
     * @param scores   the next-token scores, [V], rewritten in place
     */
    void process(int[] inputIds, float[] scores);
}
