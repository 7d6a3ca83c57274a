package dev.attn4j.models.decoder;

import dev.attn4j.attention.AttentionResult;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.RMSNorm;

/**
 * Self-attention of the Llama-style families ({@code self_attn}): q, k, v projections
 * ({@code q_proj}, {@code k_proj}, {@code v_proj}, or Phi-3's fused {@code qkv_proj}), optional
 * biases, optional RMSNorm over each head of q and k (Qwen3's {@code q_norm}, {@code k_norm}),
 * optional clamping (OLMo's {@code clip_qkv}), rotary positions, grouped-query attention with an
 * optional sliding window, and {@code o_proj}.
 */
public final class DecoderAttention extends Module {
    public final int layerIdx;
    public final int numHeads;
    public final int numKeyValueHeads;
    public final int headDim;
    /** Null when {@link #qkvProj} is used. */
    public final Linear qProj;
    public final Linear kProj;
    public final Linear vProj;
    /** Phi-3's fused projection [(H + 2 Hkv) D, C], or null. */
    public final Linear qkvProj;
    public final Linear oProj;
    /**
     * Whether q_proj's / k_proj's rows are stored per head in llama.cpp's rotary-pair order (a
     * GGUF file of the llama family, {@link Params#rowsInRopePairs}): their outputs are reordered
     * to the Hugging Face order before the rotation.
     */
    public final boolean qInRopePairs;
    public final boolean kInRopePairs;
    /** Qwen3's per-head norms, or null. */
    public final RMSNorm qNorm;
    public final RMSNorm kNorm;
    private final Double clipQkv;

    public DecoderAttention(DecoderConfig c, Params p, int layerIdx) {
        this.layerIdx = layerIdx;
        this.numHeads = c.numAttentionHeads();
        this.numKeyValueHeads = c.numKeyValueHeads();
        this.headDim = c.headDim();
        int hidden = c.hiddenSize(), qOut = numHeads * headDim, kvOut = numKeyValueHeads * headDim;
        if (c.fusedQkv()) {
            qkvProj = child("qkv_proj", Layers.linear(p, "qkv_proj", hidden, qOut + 2 * kvOut, c.qkvBias()));
            qProj = kProj = vProj = null;
            qInRopePairs = kInRopePairs = false;
        } else {
            qkvProj = null;
            qProj = child("q_proj", Layers.linear(p, "q_proj", hidden, qOut, c.qkvBias()));
            kProj = child("k_proj", Layers.linear(p, "k_proj", hidden, kvOut, c.qkvBias()));
            vProj = child("v_proj", Layers.linear(p, "v_proj", hidden, kvOut, c.qkvBias()));
            qInRopePairs = p.rowsInRopePairs("q_proj");
            kInRopePairs = p.rowsInRopePairs("k_proj");
        }
        oProj = child("o_proj", Layers.linear(p, "o_proj", qOut, hidden, c.oBias()));
        if (c.qkNorm()) {
            qNorm = child("q_norm", (RMSNorm) Layers.norm(p, "q_norm", c, headDim));
            kNorm = child("k_norm", (RMSNorm) Layers.norm(p, "k_norm", c, headDim));
        } else {
            qNorm = kNorm = null;
        }
        this.clipQkv = c.clipQkv();
    }

    /** x [B, T, C] -> [B, T, C] and, when asked for, the weights [B, H, T, S]. */
    public AttentionResult forward(Tensor x, DecoderStep step, boolean needWeights) {
        int b = x.dim(0), t = x.dim(1), qOut = numHeads * headDim, kvOut = numKeyValueHeads * headDim;
        Tensor q, k, v;
        if (qkvProj != null) {
            Tensor qkv = qkvProj.forward(x);                                        // [B, T, (H + 2 Hkv) D]
            q = qkv.narrow(-1, 0, qOut);
            k = qkv.narrow(-1, qOut, kvOut);
            v = qkv.narrow(-1, qOut + kvOut, kvOut);
        } else {
            q = qProj.forward(x);                                                   // [B, T, H D]
            k = kProj.forward(x);                                                   // [B, T, Hkv D]
            v = vProj.forward(x);                                                   // [B, T, Hkv D]
            if (qInRopePairs) q = fromRopePairs(q, numHeads);
            if (kInRopePairs) k = fromRopePairs(k, numKeyValueHeads);
        }
        if (clipQkv != null) {
            Tensor lo = Tensor.scalar(-clipQkv), hi = Tensor.scalar(clipQkv);
            q = q.maximum(lo).minimum(hi);
            k = k.maximum(lo).minimum(hi);
            v = v.maximum(lo).minimum(hi);
        }
        q = q.reshape(b, t, numHeads, headDim);                                     // [B, T, H, D]
        k = k.reshape(b, t, numKeyValueHeads, headDim);                             // [B, T, Hkv, D]
        v = v.reshape(b, t, numKeyValueHeads, headDim);                             // [B, T, Hkv, D]
        if (qNorm != null) {
            q = qNorm.forward(q);
            k = kNorm.forward(k);
        }
        q = step.rotate(q.permute(0, 2, 1, 3));                                     // [B, H, T, D]
        k = step.rotate(k.permute(0, 2, 1, 3)).contiguous();                       // [B, Hkv, T, D]
        v = v.permute(0, 2, 1, 3).contiguous();                                     // [B, Hkv, T, D]
        AttentionResult r = step.attend(layerIdx, q, k, v, needWeights);            // [B, T, H D]
        return new AttentionResult(oProj.forward(r.output()), r.weights());         // [B, T, C]
    }

    /**
     * x [B, T, H D] with each head's features in llama.cpp's rotary order (feature 2j + s holds the
     * Hugging Face feature s D/2 + j) -> the Hugging Face order, [B, T, H D].
     */
    private Tensor fromRopePairs(Tensor x, int heads) {
        int b = x.dim(0), t = x.dim(1);
        return x.reshape(b, t, heads, headDim / 2, 2).transpose(3, 4).contiguous().reshape(b, t, heads * headDim);
    }
}
