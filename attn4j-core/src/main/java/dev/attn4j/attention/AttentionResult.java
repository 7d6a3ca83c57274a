package dev.attn4j.attention;

import dev.attn4j.autograd.Tensor;

/**
 * What an attention function returns.
 *
 * @param output  the attended values (context)
 * @param weights the attention weights (after dropout, i.e. as applied to the values), or null
 *                when they were not requested
 */
public record AttentionResult(Tensor output, Tensor weights) {
    public AttentionResult {
        if (output == null) throw new IllegalArgumentException("attention output is null");
    }
}
