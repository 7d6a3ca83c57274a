package dev.attn4j.optim;

import dev.attn4j.autograd.Tensor;
import java.util.List;

/**
 * Stochastic gradient descent as torch.optim.SGD: with weight decay d = g + wd * w; with
 * momentum buf = momentum * buf + (1 - dampening) * d (buf = d on the first step), then
 * d = buf, or d + momentum * buf with Nesterov; w -= lr * d.
 */
public final class SGD extends Optimizer {
    private final double momentum;
    private final double dampening;
    private final double weightDecay;
    private final boolean nesterov;

    public SGD(List<Tensor> params, double lr) {
        this(params, lr, 0, 0, 0, false);
    }

    public SGD(List<Tensor> params, double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        super(params, lr);
        if (momentum < 0 || weightDecay < 0) throw new IllegalArgumentException("momentum and weight decay must be >= 0");
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("Nesterov momentum requires a momentum and zero dampening");
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    @Override
    protected void update(int index, float[] w, int wOff, float[] grad, int gOff, int n) {
        boolean first = !hasBuffer(index, "momentum_buffer");
        float[] buf = momentum != 0 ? buffer(index, "momentum_buffer", n) : null;
        for (int i = 0; i < n; i++) {
            float d = grad[gOff + i];
            if (weightDecay != 0) d += (float) weightDecay * w[wOff + i];
            if (buf != null) {
                buf[i] = first ? d : (float) (momentum * buf[i] + (1 - dampening) * d);
                d = nesterov ? (float) (d + momentum * buf[i]) : buf[i];
            }
            w[wOff + i] -= (float) (lr * d);
        }
    }
}
