package dev.attn4j.generate;

/**
 * One new token, as {@link Generator#stream} yields them.
 *
 * @param row        the prompt index
 * @param token      the token id
 * @param index      its position among the row's new tokens (0 first)
 * @param stopReason non-null when this token ends the row
 */
public record TokenEvent(int row, int token, int index, StopReason stopReason) {
}
