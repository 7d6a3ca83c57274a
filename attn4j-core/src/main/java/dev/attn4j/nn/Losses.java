package dev.attn4j.nn;

import dev.attn4j.autograd.CustomOp;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.BinaryOp;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.tensor.DType;
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
        int[] cls = new int[n];
        int counted = 0;
        for (int i = 0; i < n; i++) {
            int c = (int) t[i];
            if (c != t[i]) throw new IllegalArgumentException("cross_entropy: target " + t[i] + " at position " + i + " is not an integer");
            cls[i] = c;
            if (c == ignoreIndex) continue;
            if (c < 0 || c >= classes) {
                throw new IllegalArgumentException("cross_entropy: target " + c + " at position " + i
                        + " is out of range for " + classes + " classes (ignore_index is " + ignoreIndex + ")");
            }
            counted++;
        }
        Tensor perPosition; // [N]
        if (rows.dtype() == DType.F32) {
            perPosition = Tensor.apply("cross_entropy", new FusedCrossEntropy(cls, ignoreIndex, labelSmoothing), rows);
        } else {
            // composite form (F64 gradient checks): weights[i, c] = how much -log p[i, c] counts
            NDArray weights = NDArray.zeros(rows.dtype(), Shape.of(n, classes)); // [N, C]
            var w = weights.storage(); // contiguous [N, C] from offset 0
            for (int i = 0; i < n; i++) {
                if (cls[i] == ignoreIndex) continue;
                if (labelSmoothing > 0) {
                    for (int c = 0; c < classes; c++) w.setDouble((long) i * classes + c, labelSmoothing / classes);
                }
                w.setDouble((long) i * classes + cls[i], 1 - labelSmoothing + labelSmoothing / classes);
            }
            perPosition = rows.logSoftmax(1).mul(Tensor.of(weights)).sum(1, false).neg();
        }
        return switch (reduction) {
            case NONE -> perPosition.reshape(target.shape().toArray());
            case SUM -> perPosition.sum();
            case MEAN -> perPosition.sum().div(counted); // 0 / 0 = NaN when every target is ignored
        };
    }

    /**
     * Label-smoothed cross-entropy of F32 logit rows [N, C] in one pass per row: the loss of row i
     * is (1 - eps) * (lse - x[t]) + eps * (lse - mean(x)), 0 for ignored rows; the gradient is
     * g_i * (softmax(x_i) - w_i) with w_i = eps / C everywhere plus 1 - eps at the target. No
     * [N, C] array besides the gradient is made.
     */
    private static final class FusedCrossEntropy implements CustomOp {
        private final int[] target;
        private final int ignore;
        private final double eps;

        FusedCrossEntropy(int[] target, int ignore, double eps) {
            this.target = target;
            this.ignore = ignore;
            this.eps = eps;
        }

        @Override
        public NDArray forward(Context ctx, NDArray... inputs) {
            NDArray x = inputs[0].isDenseHeapF32() ? inputs[0] : inputs[0].contiguous();      // [N, C]
            int n = x.dim(0), c = x.dim(1);
            float[] xa = x.floatArray();
            int xo = x.offset();
            float[] loss = new float[n];
            Kernels k = Kernels.get();
            Parallel.forRange(n, Math.max(1, (1 << 15) / Math.max(1, c)), (from, to) -> {
                float[] lp = new float[c];
                for (int i = from; i < to; i++) {
                    if (target[i] == ignore) continue;
                    k.logSoftmax(xa, xo + i * c, lp, 0, c);
                    double l = -(1 - eps) * lp[target[i]];
                    if (eps > 0) l -= eps * k.sum(lp, 0, c) / c;
                    loss[i] = (float) l;
                }
            });
            ctx.save(x);
            return NDArray.of(loss, n);
        }

        @Override
        public NDArray[] backward(Context ctx, NDArray gradOutput) {
            NDArray x = ctx.saved(0);
            int n = x.dim(0), c = x.dim(1);
            float[] xa = x.floatArray();
            int xo = x.offset();
            NDArray g = gradOutput.isDenseHeapF32() ? gradOutput : gradOutput.contiguous();
            float[] ga = g.floatArray();
            int go = g.offset();
            NDArray grad = NDArray.zeros(Shape.of(n, c));
            float[] out = grad.floatArray();
            Kernels k = Kernels.get();
            Parallel.forRange(n, Math.max(1, (1 << 15) / Math.max(1, c)), (from, to) -> {
                for (int i = from; i < to; i++) {
                    if (target[i] == ignore) continue;
                    float gi = ga[go + i];
                    int row = i * c;
                    k.softmax(xa, xo + i * c, out, row, c);
                    k.binaryScalar(BinaryOp.MUL, out, row, gi, out, row, c);
                    if (eps > 0) k.binaryScalar(BinaryOp.SUB, out, row, (float) (gi * eps / c), out, row, c);
                    out[row + target[i]] -= (float) (gi * (1 - eps));
                }
            });
            return new NDArray[] {grad};
        }
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
