package dev.attn4j.transformer;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Activation;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Layer;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import java.util.SplittableRandom;

/**
 * The position-wise feed-forward block of a Transformer layer: linear2(dropout(activation(
 * linear1(x)))) with children linear1 [dim_feedforward, d_model], dropout, linear2 [d_model,
 * dim_feedforward] (the names torch.nn.TransformerEncoderLayer gives the same modules).
 */
public final class FeedForward extends Module implements Layer {
    public final Linear linear1;
    public final Dropout dropout;
    public final Linear linear2;
    public final Activation activation;

    /** With bias; {@code activation} "relu" or "gelu" (or any name {@link Activation#byName} knows). */
    public FeedForward(int dModel, int dimFeedforward, double dropout, String activation, SplittableRandom rng) {
        this(dModel, dimFeedforward, dropout, Activation.byName(activation), true, rng);
    }

    public FeedForward(int dModel, int dimFeedforward, double dropout, Activation activation, boolean bias, SplittableRandom rng) {
        this.linear1 = child("linear1", new Linear(dModel, dimFeedforward, bias, rng));
        this.dropout = child("dropout", new Dropout(dropout, rng));
        this.linear2 = child("linear2", new Linear(dimFeedforward, dModel, bias, rng));
        this.activation = activation;
    }

    /** x [..., d_model] -> [..., d_model]. */
    @Override
    public Tensor forward(Tensor x) {
        return apply(linear1, activation, dropout, linear2, x);
    }

    static Tensor apply(Linear linear1, Activation activation, Dropout dropout, Linear linear2, Tensor x) {
        Tensor h = activation.forward(linear1.forward(x)); // [..., F]
        return linear2.forward(dropout.forward(h));        // [..., D]
    }
}
