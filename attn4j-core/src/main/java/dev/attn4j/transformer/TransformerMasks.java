package dev.attn4j.transformer;

import dev.attn4j.attention.AttentionMask;

/**
 * The optional mask arguments of torch.nn.Transformer.forward, immutable; start from
 * {@link #none()} and add what you need. Every mask is an {@link AttentionMask}, whose factory
 * fixes the polarity: PyTorch's boolean masks here mean "true = masked out", so wrap them with
 * {@code AttentionMask.blocked(array)}; PyTorch's float masks (-inf blocks) with
 * {@code AttentionMask.additive(array)}, e.g. of {@link Transformer#generateSquareSubsequentMask}.
 *
 * @param srcMask              encoder self-attention mask [S, S] (or broadcastable to [B, H, S, S])
 * @param tgtMask              decoder self-attention mask [T, T]
 * @param memoryMask           decoder cross-attention mask [T, S]
 * @param srcKeyPaddingMask    [B, S]: source positions no query may attend to
 * @param tgtKeyPaddingMask    [B, T]
 * @param memoryKeyPaddingMask [B, S]
 * @param srcIsCausal          adds a causal mask to the encoder self-attention
 * @param tgtIsCausal          adds a causal mask to the decoder self-attention: target step t
 *                             sees steps 0..t only. Unlike PyTorch, where it is only a hint about
 *                             tgt_mask, here it applies the mask (combined with any tgtMask)
 * @param memoryIsCausal       adds a top-left causal mask to the cross-attention
 */
public record TransformerMasks(AttentionMask srcMask, AttentionMask tgtMask, AttentionMask memoryMask,
                               AttentionMask srcKeyPaddingMask, AttentionMask tgtKeyPaddingMask,
                               AttentionMask memoryKeyPaddingMask, boolean srcIsCausal, boolean tgtIsCausal,
                               boolean memoryIsCausal) {

    private static final TransformerMasks NONE = new TransformerMasks(null, null, null, null, null, null, false, false, false);

    /** Null masks become {@link AttentionMask#none()}. */
    public TransformerMasks {
        if (srcMask == null) srcMask = AttentionMask.none();
        if (tgtMask == null) tgtMask = AttentionMask.none();
        if (memoryMask == null) memoryMask = AttentionMask.none();
        if (srcKeyPaddingMask == null) srcKeyPaddingMask = AttentionMask.none();
        if (tgtKeyPaddingMask == null) tgtKeyPaddingMask = AttentionMask.none();
        if (memoryKeyPaddingMask == null) memoryKeyPaddingMask = AttentionMask.none();
    }

    /** No masks, nothing causal. */
    public static TransformerMasks none() {
        return NONE;
    }

    public TransformerMasks srcMask(AttentionMask m) { return new TransformerMasks(m, tgtMask, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask, srcIsCausal, tgtIsCausal, memoryIsCausal); }

    public TransformerMasks tgtMask(AttentionMask m) { return new TransformerMasks(srcMask, m, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask, srcIsCausal, tgtIsCausal, memoryIsCausal); }

    public TransformerMasks memoryMask(AttentionMask m) { return new TransformerMasks(srcMask, tgtMask, m, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask, srcIsCausal, tgtIsCausal, memoryIsCausal); }

    public TransformerMasks srcKeyPaddingMask(AttentionMask m) { return new TransformerMasks(srcMask, tgtMask, memoryMask, m, tgtKeyPaddingMask, memoryKeyPaddingMask, srcIsCausal, tgtIsCausal, memoryIsCausal); }

    public TransformerMasks tgtKeyPaddingMask(AttentionMask m) { return new TransformerMasks(srcMask, tgtMask, memoryMask, srcKeyPaddingMask, m, memoryKeyPaddingMask, srcIsCausal, tgtIsCausal, memoryIsCausal); }

    public TransformerMasks memoryKeyPaddingMask(AttentionMask m) { return new TransformerMasks(srcMask, tgtMask, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, m, srcIsCausal, tgtIsCausal, memoryIsCausal); }

    public TransformerMasks srcIsCausal(boolean c) { return new TransformerMasks(srcMask, tgtMask, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask, c, tgtIsCausal, memoryIsCausal); }

    public TransformerMasks tgtIsCausal(boolean c) { return new TransformerMasks(srcMask, tgtMask, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask, srcIsCausal, c, memoryIsCausal); }

    public TransformerMasks memoryIsCausal(boolean c) { return new TransformerMasks(srcMask, tgtMask, memoryMask, srcKeyPaddingMask, tgtKeyPaddingMask, memoryKeyPaddingMask, srcIsCausal, tgtIsCausal, c); }

    /** The encoder self-attention mask including the causal part. */
    AttentionMask srcSelfMask() {
        return srcIsCausal ? srcMask.and(AttentionMask.causal()) : srcMask;
    }

    /** The decoder self-attention mask including the causal part. */
    AttentionMask tgtSelfMask() {
        return tgtIsCausal ? tgtMask.and(AttentionMask.causal()) : tgtMask;
    }

    /** The decoder cross-attention mask including the causal part. */
    AttentionMask memoryCrossMask() {
        return memoryIsCausal ? memoryMask.and(AttentionMask.causal()) : memoryMask;
    }
}
