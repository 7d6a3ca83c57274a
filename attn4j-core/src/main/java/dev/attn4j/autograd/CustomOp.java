package dev.attn4j.autograd;

import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * A user-defined differentiable operation, like {@code torch.autograd.Function}: a forward on
 * arrays and a backward that returns one gradient per input (null where
 * {@link Context#needsInputGrad(int)} is false). Apply it with {@link Tensor#apply}. Check
 * the backward with {@link GradCheck}.
 */
public interface CustomOp {

    /** Computes the output from the input arrays; may save arrays in {@code ctx} for backward. */
    NDArray forward(Context ctx, NDArray... inputs);

    /** Gradients of the inputs (each of its input's shape and dtype) from the output gradient. */
    NDArray[] backward(Context ctx, NDArray gradOutput);

    /** Per-call state shared between forward and backward. */
    final class Context {
        private final boolean[] needsGrad;
        private final List<NDArray> saved = new ArrayList<>();

        Context(boolean[] needsGrad) {
            this.needsGrad = needsGrad;
        }

        /** Keeps arrays for backward (freed after backward ran). */
        public void save(NDArray... arrays) {
            saved.addAll(List.of(arrays));
        }

        /** The i-th saved array. */
        public NDArray saved(int i) {
            if (i < 0 || i >= saved.size()) {
                throw new IndexOutOfBoundsException("saved array " + i + " requested, " + saved.size() + " saved");
            }
            return saved.get(i);
        }

        /** Whether backward must produce a gradient for input i. */
        public boolean needsInputGrad(int i) {
            return needsGrad[i];
        }
    }
}
