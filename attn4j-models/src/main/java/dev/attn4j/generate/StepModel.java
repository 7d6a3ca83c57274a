package dev.attn4j.generate;

import java.util.List;

/**
 * What greedy and beam search need from a sequence-to-sequence model: a decoder state for a
 * batch of sources, one decoding step, and row selection (to reorder or duplicate beams).
 *
 * @param <S> the model's decoder state (e.g. encoder output plus a key/value cache); {@link #step}
 *            may update it in place, {@link #select} returns a new one
 */
public interface StepModel<S> {
    /** Id of the token every output starts from (fed at the first step). */
    int bosId();

    /** Id of the token that ends an output. */
    int eosId();

    /** Number of tokens the log-probabilities range over. */
    int vocabSize();

    /** The decoder state for a batch of source sequences (token ids, no special tokens), before any step. */
    S start(List<int[]> sources);

    /**
     * Feeds one token per row ({@code tokens[b]}, BOS first) and returns the log-probabilities of
     * the next token, [B][V]; advances {@code state} by one position.
     */
    float[][] step(S state, int[] tokens);

    /** A state whose row i is row {@code rows[i]} of {@code state} (rows may repeat or be dropped). */
    S select(S state, int[] rows);
}
