package dev.attn4j.transformer;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.MultiHeadAttention;
import dev.attn4j.autograd.Tensor;
import java.util.SplittableRandom;

/** How the Transformer layers build and call {@link MultiHeadAttention}, and their input checks. */
final class AttentionCalls {
    private AttentionCalls() {
    }

    /** nn.MultiheadAttention(d_model, nhead, dropout, bias, batch_first) as the layers create it. */
    static MultiHeadAttention create(TransformerOptions o, SplittableRandom rng) {
        return new MultiHeadAttention(MultiHeadAttention.Options.of(o.dModel(), o.nhead())
                .dropout(o.dropout()).bias(o.bias()).batchFirst(o.batchFirst()), rng);
    }

    /** The attention output for queries {@code q} over {@code kv} (same layout as q), without weights. */
    static Tensor attend(MultiHeadAttention mha, Tensor q, Tensor kv, AttentionMask mask, AttentionMask keyPadding) {
        return mha.forward(q, kv, kv, MultiHeadAttention.Call.defaults().needWeights(false).attnMask(mask)
                .keyPaddingMask(keyPadding)).output();
    }

    /** x must be [B, T, E] (batch_first) or [T, B, E] with E = d_model. */
    static void checkInput(String what, Tensor x, TransformerOptions o) {
        if (x.rank() != 3 || x.dim(-1) != o.dModel()) {
            throw new IllegalArgumentException(what + " must be " + (o.batchFirst() ? "[batch, seq, " : "[seq, batch, ")
                    + o.dModel() + "] (d_model " + o.dModel() + ", batch_first " + o.batchFirst() + "), got " + x.shape());
        }
    }

    /** tgt and memory/src must have the same batch size. */
    static void checkSameBatch(Tensor tgt, Tensor src, TransformerOptions o) {
        int d = o.batchFirst() ? 0 : 1;
        if (tgt.dim(d) != src.dim(d)) {
            throw new IllegalArgumentException("the batch size of tgt " + tgt.shape() + " and src/memory " + src.shape()
                    + " must be equal (batch dimension " + d + ", batch_first " + o.batchFirst() + ")");
        }
    }
}
