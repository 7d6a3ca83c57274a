package dev.attn4j.transformer;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import dev.attn4j.tensor.NDArray;
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

    /**
     * A cache for incremental decoding over {@code memory} (the encoder output, this module's
     * layout); {@code memoryPadding} [N, S] marks padded memory positions with nonzero values
     * (nullable). Projects the memory for every layer's cross-attention once.
     */
    public DecoderCache startCache(Tensor memory, NDArray memoryPadding) {
        if (memory.rank() != 3) throw new IllegalArgumentException("startCache: memory must be 3-D, got " + memory.shape());
        int n = layers.get(0).options.batchFirst() ? memory.dim(0) : memory.dim(1);
        int s = layers.get(0).options.batchFirst() ? memory.dim(1) : memory.dim(0);
        if (memoryPadding != null && !memoryPadding.shape().equals(dev.attn4j.tensor.Shape.of(n, s))) {
            throw new IllegalArgumentException("startCache: memory padding " + memoryPadding.shape() + " must be [" + n + ", " + s
                    + "] for memory " + memory.shape());
        }
        int count = layers.size();
        var cross = new dev.attn4j.attention.MultiHeadAttention.ProjectedKeyValue[count];
        for (int i = 0; i < count; i++) cross[i] = layers.get(i).multiheadAttn.projectKeyValue(memory, memory);
        return new DecoderCache(new dev.attn4j.attention.MultiHeadAttention.ProjectedKeyValue[count], cross, memoryPadding, n, 0);
    }

    /**
     * Decodes one more target position: {@code tgtStep} [N, 1, E] (batch_first, else [1, N, E]) is
     * the input at position {@code cache.length()}; returns the output at that position (after the
     * final norm), equal to the last position of {@link #forward} on the whole prefix with a causal
     * target mask and the cache's memory padding. Advances the cache.
     */
    public Tensor forwardStep(Tensor tgtStep, DecoderCache cache) {
        if (cache.layers() != layers.size()) {
            throw new IllegalArgumentException("forwardStep: cache has " + cache.layers() + " layers, decoder has " + layers.size());
        }
        Tensor x = tgtStep;
        for (int i = 0; i < layers.size(); i++) x = layers.get(i).forwardStep(x, cache, i);
        cache.length++;
        return norm == null ? x : norm.forward(x);
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
