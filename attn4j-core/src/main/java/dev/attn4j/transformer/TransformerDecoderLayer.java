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
 * Self-attention, cross-attention over the encoder output (memory) and feed-forward, as
 * torch.nn.TransformerDecoderLayer; children (state-dict names) self_attn, multihead_attn,
 * linear1, dropout, linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3.
 *
 * <pre>
 * post-norm: x = norm1(x + sa(x)); x = norm2(x + mha(x, mem)); x = norm3(x + ff(x))
 * pre-norm:  x = x + sa(norm1(x)); x = x + mha(norm2(x), mem); x = x + ff(norm3(x))
 * </pre>
 *
 * tgt [B, T, E] and memory [B, S, E] with batch_first, else [T, B, E] and [S, B, E].
 */
public final class TransformerDecoderLayer extends Module {
    public final TransformerOptions options;
    public final MultiHeadAttention selfAttn;
    public final MultiHeadAttention multiheadAttn;
    public final Linear linear1;
    public final Dropout dropout;
    public final Linear linear2;
    public final LayerNorm norm1;
    public final LayerNorm norm2;
    public final LayerNorm norm3;
    public final Dropout dropout1;
    public final Dropout dropout2;
    public final Dropout dropout3;
    public final Activation activation;

    /** PyTorch's defaults for everything but d_model and nhead. */
    public TransformerDecoderLayer(int dModel, int nhead, SplittableRandom rng) {
        this(TransformerOptions.of(dModel, nhead), rng);
    }

    /** Uses every field of {@code o} except the layer counts. */
    public TransformerDecoderLayer(TransformerOptions o, SplittableRandom rng) {
        this.options = o;
        this.selfAttn = child("self_attn", AttentionCalls.create(o, rng));
        this.multiheadAttn = child("multihead_attn", AttentionCalls.create(o, rng));
        this.linear1 = child("linear1", new Linear(o.dModel(), o.dimFeedforward(), o.bias(), rng));
        this.dropout = child("dropout", new Dropout(o.dropout(), rng));
        this.linear2 = child("linear2", new Linear(o.dimFeedforward(), o.dModel(), o.bias(), rng));
        this.norm1 = child("norm1", new LayerNorm(new int[] {o.dModel()}, o.layerNormEps(), true, o.bias()));
        this.norm2 = child("norm2", new LayerNorm(new int[] {o.dModel()}, o.layerNormEps(), true, o.bias()));
        this.norm3 = child("norm3", new LayerNorm(new int[] {o.dModel()}, o.layerNormEps(), true, o.bias()));
        this.dropout1 = child("dropout1", new Dropout(o.dropout(), rng));
        this.dropout2 = child("dropout2", new Dropout(o.dropout(), rng));
        this.dropout3 = child("dropout3", new Dropout(o.dropout(), rng));
        this.activation = Activation.byName(o.activation());
    }

    /** Without masks. */
    public Tensor forward(Tensor tgt, Tensor memory) {
        return forward(tgt, memory, TransformerMasks.none());
    }

    /** Reads the tgt* and memory* fields of {@code masks}. */
    public Tensor forward(Tensor tgt, Tensor memory, TransformerMasks masks) {
        AttentionCalls.checkInput("TransformerDecoderLayer tgt", tgt, options);
        AttentionCalls.checkInput("TransformerDecoderLayer memory", memory, options);
        AttentionCalls.checkSameBatch(tgt, memory, options);
        AttentionMask selfMask = masks.tgtSelfMask(), selfPadding = masks.tgtKeyPaddingMask();
        AttentionMask crossMask = masks.memoryCrossMask(), crossPadding = masks.memoryKeyPaddingMask();
        Tensor x = tgt;                                                        // [B, T, E] or [T, B, E]
        if (options.normFirst()) {
            Tensor h = norm1.forward(x);
            x = x.add(dropout1.forward(AttentionCalls.attend(selfAttn, h, h, selfMask, selfPadding)));
            x = x.add(dropout2.forward(AttentionCalls.attend(multiheadAttn, norm2.forward(x), memory, crossMask, crossPadding)));
            x = x.add(feedForwardBlock(norm3.forward(x)));
        } else {
            x = norm1.forward(x.add(dropout1.forward(AttentionCalls.attend(selfAttn, x, x, selfMask, selfPadding))));
            x = norm2.forward(x.add(dropout2.forward(AttentionCalls.attend(multiheadAttn, x, memory, crossMask, crossPadding))));
            x = norm3.forward(x.add(feedForwardBlock(x)));
        }
        return x;
    }

    /**
     * One incremental step of layer {@code index} of a decoder: {@code x} [N, 1, E] (batch_first,
     * else [1, N, E]) is this layer's input at the next position; its self-attention keys/values
     * join {@code cache}, which holds the earlier positions and the projected memory. Returns the
     * layer output at that position (as {@link #forward} with a causal target mask would).
     */
    public Tensor forwardStep(Tensor x, DecoderCache cache, int index) {
        AttentionCalls.checkInput("TransformerDecoderLayer step", x, options);
        if (x.dim(options.batchFirst() ? 1 : 0) != 1) {
            throw new IllegalArgumentException("forwardStep: input must hold one position, got " + x.shape());
        }
        if (x.dim(options.batchFirst() ? 0 : 1) != cache.batch) {
            throw new IllegalArgumentException("forwardStep: input " + x.shape() + " has a different batch size than the cache ("
                    + cache.batch + ")");
        }
        if (options.normFirst()) {
            x = x.add(dropout1.forward(selfAttendStep(norm1.forward(x), cache, index)));
            x = x.add(dropout2.forward(crossAttendStep(norm2.forward(x), cache, index)));
            x = x.add(feedForwardBlock(norm3.forward(x)));
        } else {
            x = norm1.forward(x.add(dropout1.forward(selfAttendStep(x, cache, index))));
            x = norm2.forward(x.add(dropout2.forward(crossAttendStep(x, cache, index))));
            x = norm3.forward(x.add(feedForwardBlock(x)));
        }
        return x;
    }

    private Tensor selfAttendStep(Tensor h, DecoderCache cache, int index) {
        MultiHeadAttention.ProjectedKeyValue now = selfAttn.projectKeyValue(h, h);          // [N, H, 1, hd]
        MultiHeadAttention.ProjectedKeyValue all = cache.self[index] == null ? now : cache.self[index].append(now);
        cache.self[index] = all;                                                            // [N, H, t+1, hd]
        return selfAttn.attendProjected(h, all, null, null, false).output();                // [N, 1, E]
    }

    private Tensor crossAttendStep(Tensor h, DecoderCache cache, int index) {
        var r = multiheadAttn.attendProjected(h, cache.cross[index], null, cache.memoryPaddingMask,
                cache.recordCrossWeights);                                                  // [N, 1, E]
        if (cache.recordCrossWeights) cache.crossWeights[index] = r.weights();              // [N, H, 1, S]
        return r.output();
    }

    private Tensor feedForwardBlock(Tensor x) {
        return dropout3.forward(FeedForward.apply(linear1, activation, dropout, linear2, x));
    }
}
