package dev.attn4j.explain;

import java.util.List;

/**
 * Why a sequence classifier chose a label, one score per token of the input (padding left out,
 * special tokens such as {@code [CLS]} and {@code [SEP]} kept and marked).
 *
 * @param tokens           the tokens, as the tokenizer wrote them
 * @param offsets          [n][2] {start, end} of each token in the input text, in code points as the
 *                         tokenizer reports them ({0, 0} for special tokens)
 * @param special          whether each token was added by the tokenizer's post-processor
 * @param label            the explained label's index (the predicted one unless another was asked for)
 * @param labelName        its name from the model's {@code id2label}
 * @param logit            the model's logit of that label
 * @param gradientXInput   signed gradient x input per token: the sum over the hidden dimension of the
 *                         token's word embedding times the gradient of the label's logit with respect
 *                         to it (positive: the token pushes towards the label)
 * @param attentionRollout attention rollout per token: the first token's row of the rolled-out
 *                         attention matrix (non-negative, summing to 1 over the tokens)
 */
public record Explanation(List<String> tokens, int[][] offsets, boolean[] special, int label, String labelName, double logit,
                          double[] gradientXInput, double[] attentionRollout) {
    public Explanation {
        tokens = List.copyOf(tokens);
        int n = tokens.size();
        if (offsets.length != n || special.length != n || gradientXInput.length != n || attentionRollout.length != n) {
            throw new IllegalArgumentException("explanation arrays must have one entry per token (" + n + "): offsets "
                    + offsets.length + ", special " + special.length + ", gradientXInput " + gradientXInput.length
                    + ", attentionRollout " + attentionRollout.length);
        }
    }

    /** Number of tokens. */
    public int length() {
        return tokens.size();
    }
}
