package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

/** Loss functions with torch.nn.functional's semantics, built from differentiable ops. */
public final class Losses {
    /** PyTorch's default ignore_index. */
    public static final int IGNORE_INDEX = -100;

    private Losses() {
    }

    /** Cross-entropy with mean reduction, ignore_index -100 and no label smoothing. */
    public static Tensor crossEntropy(Tensor logits, NDArray target) {
        return crossEntropy(logits, target, IGNORE_INDEX, 0.0, Reduction.MEAN);
    }

    /**
     * Cross-entropy of unnormalised {@code logits} [N, C] (or [N, C, d1, ...], class dimension 1 as
     * in PyTorch) against class indices {@code target} [N] (or [N, d1, ...]).
     *
     * <p>Positions whose target equals {@code ignoreIndex} contribute nothing and are not
     * counted by the mean (all ignored: the mean is NaN, as in PyTorch). With label smoothing
     * {@code eps}, a position's loss is (1 - eps) * -log p[target] + eps * mean over classes of
     * -log p[c].
     */
    public static Tensor crossEntropy(Tensor logits, NDArray target, int ignoreIndex, double labelSmoothing,
                                      Reduction reduction) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("label_smoothing must be in [0, 1], got " + labelSmoothing);
        }
        if (logits.rank() < 2) {
            throw new IllegalArgumentException("cross_entropy expects logits [N, C] or [N, C, d1, ...], got " + logits.shape());
        }
        int classes = logits.dim(1);
        int[] expectedTarget = new int[logits.rank() - 1];
        expectedTarget[0] = logits.dim(0);
        for (int i = 2; i < logits.rank(); i++) expectedTarget[i - 1] = logits.dim(i);
        if (!target.shape().equals(expectedTarget)) {
            throw new IllegalArgumentException("cross_entropy: target shape " + target.shape() + " does not match logits "
                    + logits.shape() + " (expected " + Shape.of(expectedTarget) + ")");
        }
        Tensor rows = logits; // [N, C]
        if (logits.rank() > 2) {
            int[] order = new int[logits.rank()];
            order[0] = 0;
            for (int i = 2; i < order.length; i++) order[i - 1] = i;
            order[order.length - 1] = 1;
            rows = logits.permute(order).reshape(-1, classes); // [N * d1 * ..., C]
        }
        double[] t = target.toDoubleArray();
        int n = t.length;
        // weights[i, c]: how much -log p[i, c] contributes to position i's loss
        NDArray weights = NDArray.zeros(rows.dtype(), Shape.of(n, classes)); // [N, C]
        int counted = 0;
        for (int i = 0; i < n; i++) {
            int cls = (int) t[i];
            if (cls != t[i]) throw new IllegalArgumentException("cross_entropy: target " + t[i] + " at position " + i + " is not an integer");
            if (cls == ignoreIndex) continue;
            if (cls < 0 || cls >= classes) {
                throw new IllegalArgumentException("cross_entropy: target " + cls + " at position " + i
                        + " is out of range for " + classes + " classes (ignore_index is " + ignoreIndex + ")");
            }
            counted++;
            var w = weights.storage(); // contiguous [N, C] from offset 0
            if (labelSmoothing > 0) {
                for (int c = 0; c < classes; c++) w.setDouble((long) i * classes + c, labelSmoothing / classes);
            }
            w.setDouble((long) i * classes + cls, 1 - labelSmoothing + labelSmoothing / classes);
        }
        Tensor perPosition = rows.logSoftmax(1).mul(Tensor.of(weights)).sum(1, false).neg(); // [N]
        return switch (reduction) {
            case NONE -> perPosition.reshape(target.shape().toArray());
            case SUM -> perPosition.sum();
            case MEAN -> perPosition.sum().div(counted); // 0 / 0 = NaN when every target is ignored
        };
    }

    /** Mean squared error, mean reduction. */
    public static Tensor mse(Tensor input, Tensor target) {
        return mse(input, target, Reduction.MEAN);
    }

    /** (input - target)^2, reduced; shapes must be equal (PyTorch warns on broadcasting; we refuse). */
    public static Tensor mse(Tensor input, Tensor target, Reduction reduction) {
        if (!input.shape().equals(target.shape())) {
            throw new IllegalArgumentException("mse_loss: input " + input.shape() + " and target " + target.shape() + " differ");
        }
        Tensor sq = input.sub(target).square();
        return switch (reduction) {
            case NONE -> sq;
            case SUM -> sq.sum();
            case MEAN -> sq.mean();
        };
    }
}
