package dev.attn4j.attention;

import java.util.SplittableRandom;

/**
 * Optional arguments of {@link Attention#scaledDotProduct}: immutable, each {@code with}-style
 * method returns a modified copy. Start from {@link #defaults()}:
 * <pre>{@code
 * SdpaOptions.defaults().mask(AttentionMask.allowed(m)).causal(true).dropout(0.1, rng)
 * }</pre>
 *
 * @param mask          mask on the scores [..., L, S] (see {@link AttentionMask} for polarity)
 * @param keyPadding    mask of shape [B, S] applied to every query and head of batch element b
 *                      (scores [B, *, L, S]); built with the same factories, e.g.
 *                      {@code AttentionMask.blocked(padding)} for PyTorch's key_padding_mask
 * @param causal        adds the top-left causal mask (SDPA's is_causal); combines with the masks
 * @param scale         multiplier of Q K^T; null means 1 / sqrt(E)
 * @param dropoutP      probability of zeroing an attention weight (inverted dropout)
 * @param rng           generator for the dropout mask; needed when dropout is active
 * @param training      dropout is applied only when true (PyTorch's functional SDPA always
 *                      applies dropout_p, which is training = true, the default)
 * @param enableGqa     grouped-query attention: query heads (dim -3) Hq, key/value heads Hkv with
 *                      Hq % Hkv == 0; query head h uses key/value head h / (Hq / Hkv)
 * @param needWeights   also return the attention weights [..., L, S] (forces the reference path)
 * @param path          which implementation runs
 */
public record SdpaOptions(AttentionMask mask, AttentionMask keyPadding, boolean causal, Double scale, double dropoutP,
                          SplittableRandom rng, boolean training, boolean enableGqa, boolean needWeights, Path path) {

    /** Which implementation computes the attention. */
    public enum Path {
        /** FUSED when no weights are requested and dropout is inactive, else REFERENCE. */
        AUTO,
        /** Tiled online-softmax kernel: never materialises the L x S scores; no weights, no dropout. */
        FUSED,
        /** Materialised scores with ordinary differentiable ops. */
        REFERENCE
    }

    public SdpaOptions {
        if (mask == null) mask = AttentionMask.none();
        if (keyPadding == null) keyPadding = AttentionMask.none();
        if (path == null) path = Path.AUTO;
        if (!(dropoutP >= 0 && dropoutP <= 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + dropoutP);
        }
        if (scale != null && !Double.isFinite(scale)) throw new IllegalArgumentException("scale must be finite, got " + scale);
    }

    /** No mask, not causal, scale 1/sqrt(E), no dropout, no GQA, no weights, automatic path. */
    public static SdpaOptions defaults() {
        return new SdpaOptions(null, null, false, null, 0, null, true, false, false, Path.AUTO);
    }

    public SdpaOptions mask(AttentionMask m) {
        return new SdpaOptions(m, keyPadding, causal, scale, dropoutP, rng, training, enableGqa, needWeights, path);
    }

    public SdpaOptions keyPaddingMask(AttentionMask m) {
        return new SdpaOptions(mask, m, causal, scale, dropoutP, rng, training, enableGqa, needWeights, path);
    }

    public SdpaOptions causal(boolean c) {
        return new SdpaOptions(mask, keyPadding, c, scale, dropoutP, rng, training, enableGqa, needWeights, path);
    }

    public SdpaOptions scale(double s) {
        return new SdpaOptions(mask, keyPadding, causal, s, dropoutP, rng, training, enableGqa, needWeights, path);
    }

    /** Dropout on the attention weights with probability {@code p}, masks drawn from {@code generator}. */
    public SdpaOptions dropout(double p, SplittableRandom generator) {
        return new SdpaOptions(mask, keyPadding, causal, scale, p, generator, training, enableGqa, needWeights, path);
    }

    public SdpaOptions training(boolean t) {
        return new SdpaOptions(mask, keyPadding, causal, scale, dropoutP, rng, t, enableGqa, needWeights, path);
    }

    public SdpaOptions enableGqa(boolean g) {
        return new SdpaOptions(mask, keyPadding, causal, scale, dropoutP, rng, training, g, needWeights, path);
    }

    public SdpaOptions needWeights(boolean w) {
        return new SdpaOptions(mask, keyPadding, causal, scale, dropoutP, rng, training, enableGqa, w, path);
    }

    public SdpaOptions path(Path p) {
        return new SdpaOptions(mask, keyPadding, causal, scale, dropoutP, rng, training, enableGqa, needWeights, p);
    }

    /** Whether dropout will actually be applied. */
    public boolean dropoutActive() {
        return training && dropoutP > 0;
    }
}
