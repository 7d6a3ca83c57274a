package dev.attn4j.generate;

import java.util.SplittableRandom;

/**
 * Draws a token from processed scores: softmax (float32, as transformers) then one multinomial
 * draw. Seeded: the same seed and the same scores give the same tokens. The random stream is
 * Java's {@link SplittableRandom}, not torch's generator, so a seed does not reproduce the tokens
 * transformers samples for the same {@code torch.manual_seed}; the distribution is the same.
 */
public final class Sampler {
    private final SplittableRandom random;

    public Sampler(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A sampler with {@code seed}, or a randomly seeded one when it is null. */
    public static Sampler of(Long seed) {
        return seed == null ? new Sampler(new SplittableRandom().nextLong()) : new Sampler(seed);
    }

    /** A token drawn with probability softmax(scores); {@code -inf} entries are never drawn. */
    public int sample(float[] scores) {
        float[] p = LogitsProcessors.softmax(scores);
        double total = 0;
        for (float x : p) {
            if (Float.isNaN(x)) throw new IllegalArgumentException("sampling: every score is -inf or NaN");
            total += x;
        }
        double u = random.nextDouble() * total;
        double acc = 0;
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] <= 0) continue;
            acc += p[i];
            last = i;
            if (u < acc) return i;
        }
        if (last < 0) throw new IllegalArgumentException("sampling: no token has a positive probability");
        return last;                                                          // rounding at the very end
    }

    /** The index of the largest score, the first of equal ones (torch's argmax). */
    public static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) if (scores[i] > scores[best] || Float.isNaN(scores[best]) && !Float.isNaN(scores[i])) best = i;
        return best;
    }
}
