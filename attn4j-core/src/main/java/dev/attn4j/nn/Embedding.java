package dev.attn4j.nn;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;

/**
 * A lookup table, as torch.nn.Embedding: weight [num_embeddings, embedding_dim] initialised
 * N(0, 1); the row at {@code padding_idx} (if any) starts at zero and receives no gradient.
 */
public final class Embedding extends Module {
    public final int numEmbeddings;
    public final int embeddingDim;
    /** Null when there is no padding index. */
    public final Integer paddingIdx;
    public final Tensor weight;

    public Embedding(int numEmbeddings, int embeddingDim, SplittableRandom rng) {
        this(numEmbeddings, embeddingDim, null, rng);
    }

    public Embedding(int numEmbeddings, int embeddingDim, Integer paddingIdx, SplittableRandom rng) {
        if (numEmbeddings <= 0 || embeddingDim <= 0) {
            throw new IllegalArgumentException("Embedding(" + numEmbeddings + ", " + embeddingDim + "): sizes must be positive");
        }
        if (paddingIdx != null && paddingIdx < 0) paddingIdx += numEmbeddings; // PyTorch accepts negative padding_idx
        if (paddingIdx != null && (paddingIdx < 0 || paddingIdx >= numEmbeddings)) {
            throw new IllegalArgumentException("padding_idx " + paddingIdx + " out of range for " + numEmbeddings + " embeddings");
        }
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        this.paddingIdx = paddingIdx;
        NDArray w = NDArray.normal(rng, Shape.of(numEmbeddings, embeddingDim), 0, 1);
        if (paddingIdx != null) w.select(0, paddingIdx).fill(0);
        this.weight = parameter("weight", w);
    }

    /**
     * Wraps an existing [num_embeddings, embedding_dim] array as the weight (not copied unless
     * its dtype differs from {@link DefaultDType#get()}); the padding row is left as it is.
     */
    public Embedding(NDArray weight, Integer paddingIdx) {
        if (weight == null || weight.rank() != 2 || weight.dim(0) <= 0 || weight.dim(1) <= 0) {
            throw new IllegalArgumentException("Embedding: weight must be a non-empty [num_embeddings, embedding_dim] array, got "
                    + (weight == null ? "null" : weight.shape()));
        }
        int n = weight.dim(0);
        if (paddingIdx != null && paddingIdx < 0) paddingIdx += n;
        if (paddingIdx != null && (paddingIdx < 0 || paddingIdx >= n)) {
            throw new IllegalArgumentException("padding_idx " + paddingIdx + " out of range for " + n + " embeddings");
        }
        this.numEmbeddings = n;
        this.embeddingDim = weight.dim(1);
        this.paddingIdx = paddingIdx;
        this.weight = parameter("weight", weight);
    }

    /** indices [...] (integer values) -> [..., embedding_dim]. */
    public Tensor forward(NDArray indices) {
        return F.embedding(weight, indices, paddingIdx);
    }
}
