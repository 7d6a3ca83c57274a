package dev.attn4j.nn;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import java.util.SplittableRandom;

/**
 * Inverted dropout, as torch.nn.Dropout: in training, zeroes each element with probability p
 * and scales the rest by 1/(1-p); in eval mode the identity. Masks come from this module's own
 * seeded generator, so a run is reproducible from its seed.
 */
public final class Dropout extends Module implements Layer, Reseedable {
    public final double p;
    private SplittableRandom rng;

    public Dropout(double p, SplittableRandom rng) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("dropout probability must be in [0, 1], got " + p);
        this.p = p;
        this.rng = rng.split();
    }

    @Override
    public void reseed(long seed) {
        rng = new SplittableRandom(seed);
    }

    @Override
    public Tensor forward(Tensor x) {
        return F.dropout(x, p, isTraining(), rng);
    }
}
