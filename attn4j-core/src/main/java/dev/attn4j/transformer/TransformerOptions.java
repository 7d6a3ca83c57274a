package dev.attn4j.transformer;

import dev.attn4j.nn.Activation;

/**
 * The constructor options of torch.nn.Transformer (and of its encoder/decoder layers), immutable;
 * each {@code with}-style method returns a modified copy.
 *
 * @param dModel           d_model: width of every token vector
 * @param nhead            nhead: attention heads (d_model % nhead == 0)
 * @param numEncoderLayers num_encoder_layers (only {@link Transformer} reads it)
 * @param numDecoderLayers num_decoder_layers (only {@link Transformer} reads it)
 * @param dimFeedforward   dim_feedforward: hidden width of the feed-forward block
 * @param dropout          dropout probability after attention, inside and after the feed-forward block
 * @param activation       "relu" or "gelu" (exact erf form), or another {@link Activation#byName} name
 * @param layerNormEps     layer_norm_eps
 * @param batchFirst       inputs [B, T, E] when true, else [T, B, E]
 * @param normFirst        pre-norm (LayerNorm before attention and feed-forward) when true, else post-norm
 * @param bias             biases in the Linear layers, attention projections and LayerNorms
 */
public record TransformerOptions(int dModel, int nhead, int numEncoderLayers, int numDecoderLayers, int dimFeedforward,
                                 double dropout, String activation, double layerNormEps, boolean batchFirst,
                                 boolean normFirst, boolean bias) {

    public TransformerOptions {
        if (dModel <= 0 || nhead <= 0 || dModel % nhead != 0) {
            throw new IllegalArgumentException("d_model (" + dModel + ") must be a positive multiple of nhead (" + nhead + ")");
        }
        if (numEncoderLayers < 0 || numDecoderLayers < 0 || dimFeedforward <= 0) {
            throw new IllegalArgumentException("layer counts must be >= 0 and dim_feedforward > 0, got num_encoder_layers "
                    + numEncoderLayers + ", num_decoder_layers " + numDecoderLayers + ", dim_feedforward " + dimFeedforward);
        }
        if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException("dropout must be in [0, 1], got " + dropout);
        if (!(layerNormEps > 0)) throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        Activation.byName(activation); // fails on unknown names
    }

    /** PyTorch's defaults: d_model 512, nhead 8, 6 + 6 layers, dim_feedforward 2048, dropout 0.1, relu, eps 1e-5, sequence-first, post-norm, bias. */
    public static TransformerOptions defaults() {
        return new TransformerOptions(512, 8, 6, 6, 2048, 0.1, "relu", 1e-5, false, false, true);
    }

    /** PyTorch's defaults with the given width and heads. */
    public static TransformerOptions of(int dModel, int nhead) {
        return new TransformerOptions(dModel, nhead, 6, 6, 2048, 0.1, "relu", 1e-5, false, false, true);
    }

    public TransformerOptions dModel(int v) { return new TransformerOptions(v, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias); }

    public TransformerOptions nhead(int v) { return new TransformerOptions(dModel, v, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias); }

    public TransformerOptions numEncoderLayers(int v) { return new TransformerOptions(dModel, nhead, v, numDecoderLayers, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias); }

    public TransformerOptions numDecoderLayers(int v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, v, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, bias); }

    public TransformerOptions dimFeedforward(int v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, numDecoderLayers, v, dropout, activation, layerNormEps, batchFirst, normFirst, bias); }

    public TransformerOptions dropout(double v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, v, activation, layerNormEps, batchFirst, normFirst, bias); }

    public TransformerOptions activation(String v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, v, layerNormEps, batchFirst, normFirst, bias); }

    public TransformerOptions layerNormEps(double v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, activation, v, batchFirst, normFirst, bias); }

    public TransformerOptions batchFirst(boolean v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, activation, layerNormEps, v, normFirst, bias); }

    public TransformerOptions normFirst(boolean v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, activation, layerNormEps, batchFirst, v, bias); }

    public TransformerOptions bias(boolean v) { return new TransformerOptions(dModel, nhead, numEncoderLayers, numDecoderLayers, dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, v); }
}
