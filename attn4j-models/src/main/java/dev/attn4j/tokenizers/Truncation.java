package dev.attn4j.tokenizers;

/**
 * Truncation settings (tokenizer.json "truncation").
 *
 * @param maxLength total tokens kept, special tokens included
 * @param strategy  which sequence of a pair loses tokens
 * @param stride    overlap of overflowing pieces (kept for round-tripping; overflow is not returned)
 * @param direction which end is cut
 */
public record Truncation(int maxLength, Strategy strategy, int stride, Direction direction) {
    /** Which sequence of a pair is truncated. */
    public enum Strategy {
        /** Remove from the longer sequence first. */
        LONGEST_FIRST,
        /** Only truncate the first sequence. */
        ONLY_FIRST,
        /** Only truncate the second sequence. */
        ONLY_SECOND
    }

    /** Which end of a sequence is cut (or padded). */
    public enum Direction {
        /** Keep the start, cut (pad) at the end. */
        RIGHT,
        /** Keep the end, cut (pad) at the start. */
        LEFT
    }

    /** Checks the values. */
    public Truncation {
        if (maxLength < 0) {
            throw new IllegalArgumentException("truncation max_length must be >= 0, got " + maxLength);
        }
        if (stride < 0) {
            throw new IllegalArgumentException("truncation stride must be >= 0, got " + stride);
        }
        if (strategy == null || direction == null) {
            throw new IllegalArgumentException("truncation strategy and direction must be set");
        }
    }

    /** Longest-first, right-side truncation to {@code maxLength} tokens. */
    public static Truncation of(int maxLength) {
        return new Truncation(maxLength, Strategy.LONGEST_FIRST, 0, Direction.RIGHT);
    }
}
