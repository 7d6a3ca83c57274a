package dev.attn4j.models.bert;

import java.util.Arrays;

/**
 * The last hidden state of the real tokens of a batch (those with attention mask 1), input after
 * input with no padding rows: input b owns rows {@code offsets[b]} to {@code offsets[b + 1] - 1}
 * of {@code values} [N, C], in the order its real tokens appear.
 *
 * @param values     [N, C] row-major, N = offsets[B]
 * @param offsets    B + 1 row offsets: 0, then the running totals of the real lengths
 * @param hiddenSize C
 */
public record PackedHiddenStates(float[] values, int[] offsets, int hiddenSize) {
    public PackedHiddenStates {
        if (offsets.length < 1 || offsets[0] != 0 || (long) offsets[offsets.length - 1] * hiddenSize != values.length) {
            throw new IllegalArgumentException("packed hidden states: offsets " + Arrays.toString(offsets) + " do not fit "
                    + values.length + " values of width " + hiddenSize);
        }
        for (int b = 0; b + 1 < offsets.length; b++) {
            if (offsets[b + 1] < offsets[b]) {
                throw new IllegalArgumentException("packed hidden states: offsets decrease at " + (b + 1) + ": "
                        + Arrays.toString(offsets));
            }
        }
    }

    /** Number of inputs B. */
    public int batchSize() {
        return offsets.length - 1;
    }

    /** Real tokens of input b. */
    public int length(int b) {
        return offsets[b + 1] - offsets[b];
    }

    /** Index in {@link #values} of the first value of input b's first row. */
    public int valueOffset(int b) {
        return offsets[b] * hiddenSize;
    }
}
