package dev.attn4j.transformer;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A stack of {@link TransformerEncoderLayer}s and an optional final LayerNorm, as
 * torch.nn.TransformerEncoder: children {@code layers.0 .. layers.N-1} and {@code norm} (absent
 * when there is none). PyTorch deep-copies one layer N times (identical initial weights); here
 * each layer is initialised independently.
 */
public final class TransformerEncoder extends Module {
    public final ModuleList<TransformerEncoderLayer> layers;
    /** Null without a final norm. */
    public final LayerNorm norm;

    /** {@code numLayers} layers built from {@code o}; with {@code finalNorm} a LayerNorm(d_model, eps, bias) at the end. */
    public TransformerEncoder(TransformerOptions o, int numLayers, boolean finalNorm, SplittableRandom rng) {
        this(build(o, numLayers, rng), finalNorm ? new LayerNorm(new int[] {o.dModel()}, o.layerNormEps(), true, o.bias()) : null);
    }

    /** Given layers (at least one) and an optional final norm. */
    public TransformerEncoder(List<TransformerEncoderLayer> layers, LayerNorm norm) {
        if (layers.isEmpty()) throw new IllegalArgumentException("TransformerEncoder needs at least one layer");
        this.layers = child("layers", new ModuleList<>(layers));
        this.norm = norm == null ? null : child("norm", norm);
    }

    private static List<TransformerEncoderLayer> build(TransformerOptions o, int n, SplittableRandom rng) {
        if (n <= 0) throw new IllegalArgumentException("TransformerEncoder: num_layers must be positive, got " + n);
        List<TransformerEncoderLayer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new TransformerEncoderLayer(o, rng));
        return out;
    }

    public Tensor forward(Tensor src) {
        return forward(src, TransformerMasks.none());
    }

    /** src [B, S, E] (batch_first) or [S, B, E] through every layer, then the norm; reads the src* masks. */
    public Tensor forward(Tensor src, TransformerMasks masks) {
        Tensor x = src;
        for (TransformerEncoderLayer layer : layers) x = layer.forward(x, masks);
        return norm == null ? x : norm.forward(x);
    }
}
