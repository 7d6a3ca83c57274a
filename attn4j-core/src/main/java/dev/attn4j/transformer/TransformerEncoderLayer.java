package dev.attn4j.transformer;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.MultiHeadAttention;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Activation;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import java.util.SplittableRandom;

/**
 * Self-attention and feed-forward with residual connections and layer norms, as
 * torch.nn.TransformerEncoderLayer; children (state-dict names) self_attn, linear1, dropout,
 * linear2, norm1, norm2, dropout1, dropout2.
 *
 * <pre>
 * post-norm (default): x = norm1(x + sa(x));  x = norm2(x + ff(x))
 * pre-norm (norm_first): x = x + sa(norm1(x)); x = x + ff(norm2(x))
 * sa(x) = dropout1(self_attn(x, x, x, src_mask, src_key_padding_mask))
 * ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))
 * </pre>
 *
 * Input [B, T, E] with batch_first, else [T, B, E]. A query whose keys are all masked gets a
 * zero attention output (see {@link AttentionMask}), not NaN.
 */
public final class TransformerEncoderLayer extends Module {
    public final TransformerOptions options;
    public final MultiHeadAttention selfAttn;
    public final Linear linear1;
    public final Dropout dropout;
    public final Linear linear2;
    public final LayerNorm norm1;
    public final LayerNorm norm2;
    public final Dropout dropout1;
    public final Dropout dropout2;
    public final Activation activation;

    /** PyTorch's defaults for everything but d_model and nhead. */
    public TransformerEncoderLayer(int dModel, int nhead, SplittableRandom rng) {
        this(TransformerOptions.of(dModel, nhead), rng);
    }

    /** Uses every field of {@code o} except the layer counts. */
    public TransformerEncoderLayer(TransformerOptions o, SplittableRandom rng) {
        this.options = o;
        this.selfAttn = child("self_attn", AttentionCalls.create(o, rng));
        this.linear1 = child("linear1", new Linear(o.dModel(), o.dimFeedforward(), o.bias(), rng));
        this.dropout = child("dropout", new Dropout(o.dropout(), rng));
        this.linear2 = child("linear2", new Linear(o.dimFeedforward(), o.dModel(), o.bias(), rng));
        this.norm1 = child("norm1", new LayerNorm(new int[] {o.dModel()}, o.layerNormEps(), true, o.bias()));
        this.norm2 = child("norm2", new LayerNorm(new int[] {o.dModel()}, o.layerNormEps(), true, o.bias()));
        this.dropout1 = child("dropout1", new Dropout(o.dropout(), rng));
        this.dropout2 = child("dropout2", new Dropout(o.dropout(), rng));
        this.activation = Activation.byName(o.activation());
    }

    /** Without masks. */
    public Tensor forward(Tensor src) {
        return forward(src, TransformerMasks.none());
    }

    /** src [B, T, E] (batch_first) or [T, B, E]; reads srcMask, srcKeyPaddingMask and srcIsCausal of {@code masks}. */
    public Tensor forward(Tensor src, TransformerMasks masks) {
        AttentionCalls.checkInput("TransformerEncoderLayer src", src, options);
        AttentionMask mask = masks.srcSelfMask();
        AttentionMask padding = masks.srcKeyPaddingMask();
        Tensor x = src;                                                        // [B, T, E] or [T, B, E]
        if (options.normFirst()) {
            x = x.add(selfAttentionBlock(norm1.forward(x), mask, padding));
            x = x.add(feedForwardBlock(norm2.forward(x)));
        } else {
            x = norm1.forward(x.add(selfAttentionBlock(x, mask, padding)));
            x = norm2.forward(x.add(feedForwardBlock(x)));
        }
        return x;
    }

    private Tensor selfAttentionBlock(Tensor x, AttentionMask mask, AttentionMask padding) {
        return dropout1.forward(AttentionCalls.attend(selfAttn, x, x, mask, padding));
    }

    private Tensor feedForwardBlock(Tensor x) {
        return dropout2.forward(FeedForward.apply(linear1, activation, dropout, linear2, x));
    }
}
