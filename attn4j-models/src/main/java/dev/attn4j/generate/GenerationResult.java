package dev.attn4j.generate;

/**
 * One generated sequence.
 *
 * @param prompt       index of the prompt it continues
 * @param tokens       the new token ids (without the prompt; with the final EOS when it stopped on one)
 * @param stopReason   why it stopped
 * @param stopString   the stop string it ended with ({@link StopReason#STOP_STRING}), else null
 * @param promptTokens tokens in the prompt (without padding)
 * @param score        beam search: transformers' {@code sequences_scores}, the summed
 *                     log-probabilities (after the logits processors) divided by
 *                     {@code generated length ^ length_penalty}; greedy and sampling: the summed
 *                     log-probabilities of the chosen tokens under the processed scores
 */
public record GenerationResult(int prompt, int[] tokens, StopReason stopReason, String stopString, int promptTokens,
                               double score) {
    /** Number of new tokens. */
    public int newTokens() {
        return tokens.length;
    }
}
