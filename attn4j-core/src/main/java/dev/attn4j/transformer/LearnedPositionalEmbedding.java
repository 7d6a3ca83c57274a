package dev.attn4j.transformer;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Layer;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;

/**
 * Learned absolute positions: an embedding table over positions, parameter {@code weight}
 * [max_positions, d_model] initialised N(0, 1) as torch.nn.Embedding (register it as e.g.
 * {@code position_embeddings} or {@code wpe} to get BERT's or GPT-2's checkpoint names).
 * {@link #forward(Tensor, int)} adds rows offset .. offset + T - 1 to its input; input layout as
 * {@link SinusoidalPositionalEncoding}.
 */
public final class LearnedPositionalEmbedding extends Module implements Layer {
    public final int maxPositions;
    public final int dModel;
    public final boolean batchFirst;
    public final Tensor weight;

    public LearnedPositionalEmbedding(int maxPositions, int dModel, boolean batchFirst, SplittableRandom rng) {
        if (maxPositions <= 0 || dModel <= 0) {
            throw new IllegalArgumentException("LearnedPositionalEmbedding(" + maxPositions + ", " + dModel
                    + "): sizes must be positive");
        }
        this.maxPositions = maxPositions;
        this.dModel = dModel;
        this.batchFirst = batchFirst;
        this.weight = parameter("weight", NDArray.normal(rng, Shape.of(maxPositions, dModel), 0, 1));
    }

    /** Embeddings of positions offset .. offset + length - 1: [length, d_model]. */
    public Tensor embeddings(int offset, int length) {
        PositionLayout.checkRange(offset, length, maxPositions, "LearnedPositionalEmbedding");
        return weight.narrow(0, offset, length); // [T, D]
    }

    /** Embeddings of explicit positions (integer values, any shape [...]): [..., d_model]. */
    public Tensor embeddings(NDArray positionIds) {
        return F.embedding(weight, positionIds, null); // [..., D]
    }

    @Override
    public Tensor forward(Tensor x) {
        return forward(x, 0);
    }

    /** {@code x + weight[offset .. offset + T)}. */
    public Tensor forward(Tensor x, int offset) {
        int seqDim = PositionLayout.seqDim(x, batchFirst, dModel, "LearnedPositionalEmbedding");
        Tensor pos = embeddings(offset, x.dim(seqDim));             // [T, D]
        if (x.rank() == 3 && seqDim == 0) pos = pos.unsqueeze(1);    // [T, 1, D]
        return x.add(pos);
    }
}
