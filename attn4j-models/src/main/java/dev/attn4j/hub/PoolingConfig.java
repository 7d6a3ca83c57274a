package dev.attn4j.hub;

import java.util.ArrayList;
import java.util.List;

/**
 * A sentence-transformers pooling configuration ({@code 1_Pooling/config.json}): which token
 * embeddings are combined into the sentence embedding. Flags absent from the file are false.
 *
 * @param wordEmbeddingDimension size of the token embeddings
 * @param clsToken               take the first ([CLS]) token
 * @param meanTokens             mean over non-padding tokens
 * @param maxTokens              element-wise max over non-padding tokens
 * @param meanSqrtLenTokens      sum divided by the square root of the length
 * @param weightedMeanTokens     position-weighted mean
 * @param lastToken              take the last non-padding token
 * @param includePrompt          whether prompt tokens take part in pooling (default true)
 */
public record PoolingConfig(int wordEmbeddingDimension, boolean clsToken, boolean meanTokens, boolean maxTokens,
                            boolean meanSqrtLenTokens, boolean weightedMeanTokens, boolean lastToken,
                            boolean includePrompt) {
    /** The modes switched on, in sentence-transformers' concatenation order: cls, max, mean, mean_sqrt_len, weightedmean, lasttoken. */
    public List<String> modes() {
        List<String> m = new ArrayList<>();
        if (clsToken) {
            m.add("cls");
        }
        if (maxTokens) {
            m.add("max");
        }
        if (meanTokens) {
            m.add("mean");
        }
        if (meanSqrtLenTokens) {
            m.add("mean_sqrt_len_tokens");
        }
        if (weightedMeanTokens) {
            m.add("weightedmean");
        }
        if (lastToken) {
            m.add("lasttoken");
        }
        return List.copyOf(m);
    }
}
