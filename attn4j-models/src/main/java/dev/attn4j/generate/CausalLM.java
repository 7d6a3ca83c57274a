package dev.attn4j.generate;

/**
 * What decoder-only generation, scoring and serving need from a causal language model
 * (transformers' {@code *ForCausalLM}): a key/value cache per batch and a forward pass that
 * appends tokens to it. Implemented by the decoder families in {@code dev.attn4j.models}.
 */
public interface CausalLM extends AutoCloseable {
    /** Number of logits per position. */
    int vocabSize();

    /** Most positions one sequence may hold (the model's context, e.g. max_position_embeddings). */
    int maxPositions();

    /** An empty key/value cache for {@code batch} rows of up to {@code capacity} positions each. */
    KvCache newCache(int batch, int capacity);

    /**
     * Feeds {@code tokens[b]} (the same count T for every row) after what {@code cache} holds and
     * appends their keys and values to it. {@code attentionMask[b]} covers every position of the row
     * so far, past and new ({@code cache.length() + T} entries, 1 = real token, 0 = padding, as
     * transformers' {@code attention_mask}); null means every position is real. Position ids follow
     * transformers' generate: {@code cumsum(mask) - 1}, so left-padded rows start at position 0.
     *
     * @return next-token logits, [B][T][V] when {@code allPositions}, else [B][1][V] for the last
     *         fed position only
     */
    float[][][] forward(KvCache cache, int[][] tokens, int[][] attentionMask, boolean allPositions);

    @Override
    default void close() {
    }

    /** A model's key/value cache: rows of equal length (left padding keeps them aligned). */
    interface KvCache {
        /** Positions held per row. */
        int length();

        /** Number of rows. */
        int batchSize();

        /** A cache whose row i is row {@code rows[i]} of this one (rows may repeat; beam search). */
        KvCache select(int[] rows);
    }
}
