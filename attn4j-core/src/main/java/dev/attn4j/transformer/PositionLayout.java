package dev.attn4j.transformer;

import dev.attn4j.autograd.Tensor;

/** Shape checks shared by the additive positional modules. */
final class PositionLayout {
    private PositionLayout() {
    }

    /** The sequence dimension of x ([B, T, D] batch-first, [T, B, D] otherwise, or [T, D]); checks D. */
    static int seqDim(Tensor x, boolean batchFirst, int dModel, String who) {
        if ((x.rank() != 2 && x.rank() != 3) || x.dim(-1) != dModel) {
            throw new IllegalArgumentException(who + ": input must be " + (batchFirst ? "[batch, seq, " : "[seq, batch, ")
                    + dModel + "] or [seq, " + dModel + "], got " + x.shape());
        }
        return x.rank() == 3 && batchFirst ? 1 : 0;
    }

    static void checkRange(int offset, int steps, int maxLen, String who) {
        if (offset < 0 || (long) offset + steps > maxLen) {
            throw new IllegalArgumentException(who + ": positions [" + offset + ", " + ((long) offset + steps)
                    + ") are outside the table of " + maxLen + " positions (offset " + offset + ", " + steps + " steps)");
        }
    }
}
