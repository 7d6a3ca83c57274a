package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;

/** A module with one input and one output, the kind {@link Sequential} chains. */
public interface Layer {
    Tensor forward(Tensor x);
}
