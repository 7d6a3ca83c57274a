package dev.attn4j.generate;

/** Streaming: called for each new token, in generation order (rows of one step in row order). */
@FunctionalInterface
public interface TokenListener {
    /**
     * @param row   the row: the prompt index, or with {@code num_return_sequences} n, prompt * n + copy
     * @param token the new token id (also the final EOS, never the padding of finished rows)
     */
    void onToken(int row, int token);
}
