package dev.attn4j.attention;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ReadsLinearWeights;
import dev.attn4j.tensor.NDArray;

import java.util.SplittableRandom;

/**
 * Additive (Bahdanau) attention: {@code score(q, k) = v^T tanh(W_q q + W_k k + b)}, weights =
 * softmax over the keys, context = weights . values.
 *
 * <p>Parameters (state-dict names): {@code query_proj.weight [hidden, Dq]} (W_q, no bias),
 * {@code key_proj.weight [hidden, Dk]} and {@code key_proj.bias [hidden]} (W_k with the one bias
 * inside the tanh; the paper has none, a second bias on W_q would be redundant),
 * {@code v.weight [1, hidden]} (no bias: a constant shift does not change the softmax).
 *
 * <p>Shapes: query [B, Dq] or [B, T, Dq], keys [B, S, Dk], values [B, S, Dv]; the optional key
 * mask is an {@link AttentionMask} over [B, S] (e.g. {@code AttentionMask.allowed(lengthsMask)}).
 * Returns context [B, (T,) Dv] and weights [B, (T,) S]; a query with every key masked gets zeros.
 */
public final class AdditiveAttention extends Module implements ReadsLinearWeights {
    public final Linear queryProj;
    public final Linear keyProj;
    public final Linear v;

    public AdditiveAttention(int queryDim, int keyDim, int hiddenDim, SplittableRandom rng) {
        queryProj = child("query_proj", new Linear(queryDim, hiddenDim, false, rng));
        keyProj = child("key_proj", new Linear(keyDim, hiddenDim, true, rng));
        v = child("v", new Linear(hiddenDim, 1, false, rng));
    }

    /** Context and weights for {@code query} over {@code keys}/{@code values}; mask may be null. */
    public AttentionResult forward(Tensor query, Tensor keys, Tensor values, AttentionMask keyMask) {
        return attend(query, keys, values, keyMask, queryProj.weight, keyProj.weight, keyProj.bias, v.weight);
    }

    /**
     * The key projection {@code W_k k + b} [B, S, hidden] for {@link #forwardProjected}: lets a
     * decoder that attends over the same keys at every step project them once.
     */
    public Tensor projectKeys(Tensor keys) {
        if (keys.rank() != 3 || keys.dim(2) != keyProj.inFeatures) {
            throw new IllegalArgumentException("AdditiveAttention: keys must be [B, S, " + keyProj.inFeatures + "], got " + keys.shape());
        }
        return F.linear(keys, keyProj.weight, keyProj.bias);                          // [B, S, H]
    }

    /**
     * As {@link #forward} with the keys already projected by {@link #projectKeys}
     * ({@code projectedKeys} [B, S, hidden]); same result.
     */
    public AttentionResult forwardProjected(Tensor query, Tensor projectedKeys, Tensor values, AttentionMask keyMask) {
        if (projectedKeys.rank() != 3 || projectedKeys.dim(2) != keyProj.outFeatures) {
            throw new IllegalArgumentException("AdditiveAttention: projected keys must be [B, S, " + keyProj.outFeatures + "], got "
                    + projectedKeys.shape());
        }
        Shapes s = Shapes.check("AdditiveAttention", query, projectedKeys, values, queryProj.inFeatures, keyProj.outFeatures);
        Tensor qp = F.linear(s.query(), queryProj.weight, null).unsqueeze(2);       // [B, T, 1, H]
        Tensor scores = F.linear(qp.add(projectedKeys.unsqueeze(1)).tanh(), v.weight, null).squeeze(-1); // [B, T, S]
        return Shapes.finish(s, scores, values, keyMask);
    }

    /** The functional form with explicit weights (any dtype): W_q [H, Dq], W_k [H, Dk], b [H] (nullable), v [1, H]. */
    public static AttentionResult attend(Tensor query, Tensor keys, Tensor values, AttentionMask keyMask, Tensor wq, Tensor wk,
                                         Tensor bk, Tensor v) {
        Shapes s = Shapes.check("AdditiveAttention", query, keys, values, wq.dim(1), wk.dim(1));
        Tensor qp = F.linear(s.query(), wq, null).unsqueeze(2);                      // [B, T, 1, H]
        Tensor kp = F.linear(keys, wk, bk).unsqueeze(1);                              // [B, 1, S, H]
        Tensor scores = F.linear(qp.add(kp).tanh(), v, null).squeeze(-1);             // [B, T, S]
        return Shapes.finish(s, scores, values, keyMask);
    }

    /** Shared shape checks and the masked softmax + weighted sum of the score-based attentions. */
    record Shapes(Tensor query, boolean single, int batch, int queries, int keys) {
        static Shapes check(String who, Tensor query, Tensor keys, Tensor values, int dq, int dk) {
            if (query.rank() != 2 && query.rank() != 3) {
                throw new IllegalArgumentException(who + ": query must be [B, Dq] or [B, T, Dq], got " + query.shape());
            }
            if (keys.rank() != 3 || values.rank() != 3) {
                throw new IllegalArgumentException(who + ": keys and values must be [B, S, D], got " + keys.shape() + " and "
                        + values.shape());
            }
            boolean single = query.rank() == 2;
            Tensor q = single ? query.unsqueeze(1) : query;                           // [B, T, Dq]
            int b = q.dim(0);
            if (keys.dim(0) != b || values.dim(0) != b || keys.dim(1) != values.dim(1)) {
                throw new IllegalArgumentException(who + ": query " + query.shape() + ", keys " + keys.shape() + " and values "
                        + values.shape() + " disagree in batch size or number of keys");
            }
            if (q.dim(2) != dq || keys.dim(2) != dk) {
                throw new IllegalArgumentException(who + ": expected query dim " + dq + " and key dim " + dk + ", got query "
                        + query.shape() + " and keys " + keys.shape());
            }
            return new Shapes(q, single, b, q.dim(1), keys.dim(1));
        }

        static AttentionResult finish(Shapes s, Tensor scores, Tensor values, AttentionMask keyMask) {
            if (keyMask != null && !keyMask.isEmpty()) {
                AttentionMask m = keyMask.asKeyPadding(3);                             // [B, S] -> [B, 1, S]
                m.checkFits("key mask [B, S]", scores.shape());
                NDArray bias = m.toAdditive(scores.dtype(), s.queries, s.keys);
                scores = scores.add(Tensor.of(bias));                                  // [B, T, S]
            }
            Tensor w = Attention.maskedSoftmax(scores);                                // [B, T, S]
            Tensor ctx = w.matmul(values);                                             // [B, T, Dv]
            return s.single ? new AttentionResult(ctx.squeeze(1), w.squeeze(1)) : new AttentionResult(ctx, w);
        }
    }
}
