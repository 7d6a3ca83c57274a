package dev.attn4j.nn;

/** How a loss combines per-element values, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    NONE, MEAN, SUM
}
