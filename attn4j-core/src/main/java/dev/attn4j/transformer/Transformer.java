package dev.attn4j.transformer;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Init;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;
import java.util.SplittableRandom;

/**
 * The encoder-decoder Transformer of "Attention Is All You Need", as torch.nn.Transformer:
 * children {@code encoder} ({@link TransformerEncoder} with num_encoder_layers layers and a
 * final norm) and {@code decoder} ({@link TransformerDecoder}, num_decoder_layers layers, final
 * norm), so state-dict names are PyTorch's ({@code encoder.layers.0.self_attn.in_proj_weight},
 * {@code decoder.norm.bias}, ...). As in PyTorch, every parameter with more than one dimension
 * is re-initialised xavier_uniform after construction. No embeddings and no output projection:
 * inputs and outputs are d_model vectors.
 */
public final class Transformer extends Module {
    public final TransformerOptions options;
    public final TransformerEncoder encoder;
    public final TransformerDecoder decoder;

    public Transformer(TransformerOptions o, SplittableRandom rng) {
        if (o.numEncoderLayers() <= 0 || o.numDecoderLayers() <= 0) {
            throw new IllegalArgumentException("Transformer needs at least one encoder and one decoder layer, got "
                    + o.numEncoderLayers() + " and " + o.numDecoderLayers());
        }
        this.options = o;
        this.encoder = child("encoder", new TransformerEncoder(o, o.numEncoderLayers(), true, rng));
        this.decoder = child("decoder", new TransformerDecoder(o, o.numDecoderLayers(), true, rng));
        for (Tensor p : parameters()) {
            if (p.rank() > 1) p.data().copyFrom(Init.xavierUniform(rng, p.shape(), 1));
        }
    }

    /** Without masks. */
    public Tensor forward(Tensor src, Tensor tgt) {
        return forward(src, tgt, TransformerMasks.none());
    }

    /**
     * src [B, S, E] and tgt [B, T, E] (batch_first) or [S, B, E] and [T, B, E] -> [B, T, E] or
     * [T, B, E]: memory = encoder(src), output = decoder(tgt, memory).
     */
    public Tensor forward(Tensor src, Tensor tgt, TransformerMasks masks) {
        AttentionCalls.checkInput("Transformer src", src, options);
        AttentionCalls.checkInput("Transformer tgt", tgt, options);
        AttentionCalls.checkSameBatch(tgt, src, options);
        return decoder.forward(tgt, encode(src, masks), masks);
    }

    /** The encoder output (memory) for src. */
    public Tensor encode(Tensor src, TransformerMasks masks) {
        return encoder.forward(src, masks);
    }

    /** The decoder output for tgt given the memory. */
    public Tensor decode(Tensor tgt, Tensor memory, TransformerMasks masks) {
        return decoder.forward(tgt, memory, masks);
    }

    /**
     * As torch.nn.Transformer.generate_square_subsequent_mask: an F32 [n, n] float mask with
     * -infinity above the diagonal and 0 elsewhere; use it as {@code AttentionMask.additive(...)}.
     */
    public static NDArray generateSquareSubsequentMask(int n) {
        if (n < 0) throw new IllegalArgumentException("generateSquareSubsequentMask: size must be >= 0, got " + n);
        float[] m = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) m[i * n + j] = Float.NEGATIVE_INFINITY;
        }
        return NDArray.of(m, n, n);
    }

    /** The same mask as an {@link AttentionMask} (additive), ready for {@link TransformerMasks#tgtMask}. */
    public static AttentionMask squareSubsequentMask(int n) {
        return AttentionMask.additive(generateSquareSubsequentMask(n));
    }
}
