package dev.attn4j.nn;

/**
 * Marks a module that reads the weights of its child {@link Linear}s directly (passing
 * {@code linear.weight} to a kernel) instead of calling their forward. {@link Lora#apply} refuses
 * to wrap such a child, since the adapter's term would be left out without a word.
 */
public interface ReadsLinearWeights {
}
