package dev.attn4j.tokenizers;

/**
 * Padding settings (tokenizer.json "padding").
 *
 * @param fixedLength   pad to this many tokens, or 0 to pad a batch to its longest member
 * @param direction     which side gets the padding
 * @param padToMultipleOf round the padded length up to a multiple of this (0 = off)
 * @param padId         id of the padding token
 * @param padTypeId     type id of padding tokens
 * @param padToken      string of the padding token
 */
public record Padding(int fixedLength, Truncation.Direction direction, int padToMultipleOf, int padId, int padTypeId,
        String padToken) {
    /** Checks the values. */
    public Padding {
        if (fixedLength < 0 || padToMultipleOf < 0) {
            throw new IllegalArgumentException("padding lengths must be >= 0, got fixed=" + fixedLength
                    + " pad_to_multiple_of=" + padToMultipleOf);
        }
        if (direction == null || padToken == null) {
            throw new IllegalArgumentException("padding direction and pad token must be set");
        }
    }

    /** Pads a batch to its longest member on the right with id 0 / "[PAD]". */
    public static Padding batchLongest() {
        return new Padding(0, Truncation.Direction.RIGHT, 0, 0, 0, "[PAD]");
    }

    /** Pads to {@code length} tokens on the right with the given pad id and token. */
    public static Padding fixed(int length, int padId, String padToken) {
        return new Padding(length, Truncation.Direction.RIGHT, 0, padId, 0, padToken);
    }

    /** Whether this pads to a fixed length (else to the longest of a batch). */
    public boolean isFixed() {
        return fixedLength > 0;
    }
}
