package dev.attn4j.optim;

import dev.attn4j.autograd.Tensor;
import java.util.List;

/** Adam with decoupled weight decay, as torch.optim.AdamW (default weight_decay 0.01). */
public final class AdamW extends Adam {
    public AdamW(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0.01);
    }

    public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        super(params, lr, beta1, beta2, eps, weightDecay, true);
    }
}
