package dev.attn4j.attention;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ReadsLinearWeights;

import java.util.SplittableRandom;

/**
 * Multiplicative (Luong) attention with the paper's three score functions:
 * <ul>
 * <li>{@link Score#DOT}: {@code q . k} (needs Dq == Dk; no parameters)</li>
 * <li>{@link Score#GENERAL}: {@code q^T W k}, parameter {@code W.weight [Dq, Dk]}</li>
 * <li>{@link Score#CONCAT}: {@code v^T tanh(W [q; k])}, parameters {@code W.weight [hidden, Dq + Dk]}
 *     and {@code v.weight [1, hidden]}</li>
 * </ul>
 * No biases, as in the paper. Shapes and masks as {@link AdditiveAttention}: query [B, Dq] or
 * [B, T, Dq], keys [B, S, Dk], values [B, S, Dv], key mask over [B, S]; returns context and weights.
 */
public final class LuongAttention extends Module implements ReadsLinearWeights {
    /** The score function. */
    public enum Score { DOT, GENERAL, CONCAT }

    public final Score score;
    public final int queryDim;
    public final int keyDim;
    /** Null for DOT. */
    public final Linear W;
    /** Only for CONCAT. */
    public final Linear v;

    /** {@code hiddenDim} is used by CONCAT only. */
    public LuongAttention(Score score, int queryDim, int keyDim, int hiddenDim, SplittableRandom rng) {
        if (score == null) throw new IllegalArgumentException("LuongAttention: score is null");
        if (score == Score.DOT && queryDim != keyDim) {
            throw new IllegalArgumentException("LuongAttention DOT needs equal query and key dims, got " + queryDim + " and " + keyDim);
        }
        this.score = score;
        this.queryDim = queryDim;
        this.keyDim = keyDim;
        W = switch (score) {
            case DOT -> null;
            case GENERAL -> child("W", new Linear(keyDim, queryDim, false, rng));
            case CONCAT -> child("W", new Linear(queryDim + keyDim, hiddenDim, false, rng));
        };
        v = score == Score.CONCAT ? child("v", new Linear(hiddenDim, 1, false, rng)) : null;
    }

    public AttentionResult forward(Tensor query, Tensor keys, Tensor values, AttentionMask keyMask) {
        return attend(score, query, keys, values, keyMask, W == null ? null : W.weight, v == null ? null : v.weight);
    }

    /** The functional form with explicit weights: W as in the class doc (null for DOT), v [1, hidden] for CONCAT. */
    public static AttentionResult attend(Score score, Tensor query, Tensor keys, Tensor values, AttentionMask keyMask,
                                         Tensor w, Tensor v) {
        int dq = query.dim(-1), dk = keys.rank() == 3 ? keys.dim(2) : -1;
        if (score != Score.DOT && w == null) throw new IllegalArgumentException("LuongAttention " + score + " needs W");
        if (score == Score.GENERAL && (w.dim(0) != dq || w.dim(1) != dk)) {
            throw new IllegalArgumentException("LuongAttention GENERAL: W " + w.shape() + " must be [Dq, Dk] = [" + dq + ", " + dk + "]");
        }
        if (score == Score.CONCAT && (w.dim(1) != dq + dk || v == null || v.dim(1) != w.dim(0))) {
            throw new IllegalArgumentException("LuongAttention CONCAT: W " + w.shape() + " must be [hidden, " + (dq + dk)
                    + "] and v [1, hidden]");
        }
        AdditiveAttention.Shapes s = AdditiveAttention.Shapes.check("LuongAttention " + score, query, keys, values, dq,
                score == Score.DOT ? dq : dk);
        Tensor q = s.query();                                                         // [B, T, Dq]
        Tensor scores = switch (score) {
            case DOT -> q.matmul(keys.transpose(1, 2));                                // [B, T, S]
            case GENERAL -> q.matmul(F.linear(keys, w, null).transpose(1, 2));         // [B, T, Dq] x [B, Dq, S]
            case CONCAT -> {
                Tensor qp = F.linear(q, w.narrow(1, 0, dq), null).unsqueeze(2);       // [B, T, 1, H]
                Tensor kp = F.linear(keys, w.narrow(1, dq, dk), null).unsqueeze(1);   // [B, 1, S, H]
                yield F.linear(qp.add(kp).tanh(), v, null).squeeze(-1);               // [B, T, S]
            }
        };
        return AdditiveAttention.Shapes.finish(s, scores, values, keyMask);
    }
}
