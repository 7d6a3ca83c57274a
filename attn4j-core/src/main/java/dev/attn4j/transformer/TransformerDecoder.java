package dev.attn4j.transformer;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A stack of {@link TransformerDecoderLayer}s and an optional final LayerNorm, as
 * torch.nn.TransformerDecoder: children {@code layers.0 .. layers.N-1} and {@code norm}. Each
 * layer is initialised independently (PyTorch deep-copies one).
 */
public final class TransformerDecoder extends Module {
    public final ModuleList<TransformerDecoderLayer> layers;
    /** Null without a final norm. */
    public final LayerNorm norm;

    /** {@code numLayers} layers built from {@code o}; with {@code finalNorm} a LayerNorm(d_model, eps, bias) at the end. */
    public TransformerDecoder(TransformerOptions o, int numLayers, boolean finalNorm, SplittableRandom rng) {
        this(build(o, numLayers, rng), finalNorm ? new LayerNorm(new int[] {o.dModel()}, o.layerNormEps(), true, o.bias()) : null);
    }

    /** Given layers (at least one) and an optional final norm. */
    public TransformerDecoder(List<TransformerDecoderLayer> layers, LayerNorm norm) {
        if (layers.isEmpty()) throw new IllegalArgumentException("TransformerDecoder needs at least one layer");
        this.layers = child("layers", new ModuleList<>(layers));
        this.norm = norm == null ? null : child("norm", norm);
    }

    private static List<TransformerDecoderLayer> build(TransformerOptions o, int n, SplittableRandom rng) {
        if (n <= 0) throw new IllegalArgumentException("TransformerDecoder: num_layers must be positive, got " + n);
        List<TransformerDecoderLayer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(new TransformerDecoderLayer(o, rng));
        return out;
    }

    public Tensor forward(Tensor tgt, Tensor memory) {
        return forward(tgt, memory, TransformerMasks.none());
    }

    /** tgt and memory through every layer, then the norm; reads the tgt* and memory* masks. */
    public Tensor forward(Tensor tgt, Tensor memory, TransformerMasks masks) {
        Tensor x = tgt;
        for (TransformerDecoderLayer layer : layers) x = layer.forward(x, memory, masks);
        return norm == null ? x : norm.forward(x);
    }
}
