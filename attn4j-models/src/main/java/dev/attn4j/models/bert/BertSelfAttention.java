package dev.attn4j.models.bert;

import dev.attn4j.attention.Attention;
import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.AttentionResult;
import dev.attn4j.attention.SdpaOptions;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;

import java.util.SplittableRandom;

/**
 * Multi-head self-attention with separate {@code query}, {@code key}, {@code value} projections
 * (transformers' {@code BertSelfAttention}): softmax(Q K^T / sqrt(D) + mask) V per head. Runs the
 * fused kernel (no [T, T] weights materialised) unless weights are requested or attention
 * dropout is active.
 */
public final class BertSelfAttention extends Module {
    public final int numHeads;
    public final Linear query;
    public final Linear key;
    public final Linear value;
    public final double dropoutP;
    private final SplittableRandom rng;

    public BertSelfAttention(BertConfig config, Params p, SplittableRandom rng) {
        int c = config.hiddenSize();
        this.numHeads = config.numAttentionHeads();
        // Side by side in memory, so inference projects q, k, v in one GEMM (BertInference).
        java.util.List<Linear> qkv = p.fusedLinears(c, c, "query", "key", "value");
        this.query = child("query", qkv.get(0));
        this.key = child("key", qkv.get(1));
        this.value = child("value", qkv.get(2));
        this.dropoutP = config.attentionProbsDropoutProb();
        this.rng = rng.split();
    }

    /** x [B, T, C] -> context [B, T, C] and, when {@code needWeights}, weights [B, H, T, T]. */
    public AttentionResult forward(Tensor x, AttentionMask keyPadding, boolean needWeights) {
        return attend(query.forward(x), key.forward(x), value.forward(x), numHeads, keyPadding, dropoutP, isTraining(), rng,
                needWeights);
    }

    /**
     * Scaled dot-product attention of projected q, k, v [B, T, C] split into {@code heads} heads:
     * output [B, T, C], weights [B, H, T, S] when asked for. {@code keyPadding} is a [B, S] mask.
     */
    static AttentionResult attend(Tensor q, Tensor k, Tensor v, int heads, AttentionMask keyPadding, double dropoutP,
                                  boolean training, SplittableRandom rng, boolean needWeights) {
        int b = q.dim(0), t = q.dim(1), s = k.dim(1), c = q.dim(2), d = c / heads;
        Tensor qh = q.view(b, t, heads, d).permute(0, 2, 1, 3);                    // [B, H, T, D] (strided view)
        Tensor kh = k.view(b, s, heads, d).permute(0, 2, 1, 3);                    // [B, H, S, D]
        Tensor vh = v.view(b, s, heads, d).permute(0, 2, 1, 3);                    // [B, H, S, D]
        if (training && dropoutP > 0 && !needWeights && dev.attn4j.autograd.GradMode.isEnabled()) {
            NDArray bias = keyPadding.toAdditive(dev.attn4j.tensor.DType.F32, t, s);   // [B, S] or null
            if (bias == null || (bias.rank() == 2 && bias.dim(0) == b && bias.dim(1) == s)) {
                Tensor out = TrainingAttention.apply(qh, kh, vh, bias, dropoutP, rng);  // [B, H, T, D]
                return new AttentionResult(out.permute(0, 2, 1, 3).reshape(b, t, c), null);
            }
        }
        SdpaOptions o = SdpaOptions.defaults().keyPaddingMask(keyPadding).needWeights(needWeights).training(training);
        if (dropoutP > 0) o = o.dropout(dropoutP, rng).training(training);
        AttentionResult r = Attention.scaledDotProduct(qh, kh, vh, o);             // [B, H, T, D], [B, H, T, S]
        Tensor out = r.output().permute(0, 2, 1, 3).reshape(b, t, c);              // [B, T, H, D] -> [B, T, C]
        return new AttentionResult(out, r.weights());
    }
}
