package dev.attn4j.optim;

import dev.attn4j.autograd.Tensor;
import java.util.List;

/**
 * Adam (Kingma and Ba) as torch.optim.Adam, and with {@code decoupled} weight decay AdamW
 * (Loshchilov and Hutter) as torch.optim.AdamW.
 *
 * <pre>
 * Adam:  g += wd * w                       (L2 penalty through the gradient)
 * AdamW: w *= 1 - lr * wd                  (decoupled decay)
 * m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 * w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 */
public class Adam extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;

    public Adam(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0, false);
    }

    protected Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay,
                   boolean decoupled) {
        super(params, lr);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        if (!(eps >= 0) || !(weightDecay >= 0)) throw new IllegalArgumentException("eps and weight decay must be >= 0");
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    /** torch.optim.Adam(params, lr, betas=(beta1, beta2), eps, weight_decay). */
    public static Adam adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        return new Adam(params, lr, beta1, beta2, eps, weightDecay, false);
    }

    @Override
    protected void update(int index, float[] w, int wOff, float[] grad, int gOff, int n) {
        float[] m = buffer(index, "exp_avg", n);
        float[] v = buffer(index, "exp_avg_sq", n);
        long t = steps;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, t));
        float stepSize = (float) (lr / bc1);
        float b1 = (float) beta1, b2 = (float) beta2;
        float decay = (float) (1 - lr * weightDecay);
        float wd = (float) weightDecay;
        boolean decayW = weightDecay != 0 && decoupled, decayG = weightDecay != 0 && !decoupled;
        // element-wise, so chunks on the kernel threads give the same bits as one loop
        dev.attn4j.kernels.Parallel.forRange(n, 1 << 15, (from, to) -> {
            for (int i = from; i < to; i++) {
                float g = grad[gOff + i];
                if (decayW) w[wOff + i] *= decay;
                else if (decayG) g += wd * w[wOff + i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                float denom = (float) (Math.sqrt(v[i]) / bc2Sqrt + eps);
                w[wOff + i] -= stepSize * m[i] / denom;
            }
        });
    }
}
