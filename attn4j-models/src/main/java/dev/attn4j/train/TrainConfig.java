package dev.attn4j.train;

import dev.attn4j.models.seq2seq.Arch;

/**
 * Training settings (saved in checkpoints).
 *
 * @param arch             the model architecture
 * @param seed             seeds the initial weights and every training batch (batch k is drawn from
 *                         a generator seeded by (seed, k), so a resumed run sees the same data)
 * @param batchSize        examples per step
 * @param peakLr           learning rate after warm-up
 * @param warmupSteps      linear warm-up steps
 * @param maxSteps         the step limit; the cosine decay reaches {@code peakLr / 10} there
 * @param evalEvery        steps between held-out evaluations (and checkpoints)
 * @param evalSize         examples in the periodic held-out evaluation
 * @param finalEvalSize    examples in the final held-out evaluation (another seed)
 * @param targetExactMatch stop early once a periodic evaluation reaches this exact-match rate
 * @param labelSmoothing   cross-entropy label smoothing
 * @param weightDecay      AdamW decoupled weight decay
 * @param clipNorm         global gradient-norm clip (0: none)
 * @param logEvery         steps between progress lines
 */
public record TrainConfig(Arch arch, long seed, int batchSize, double peakLr, int warmupSteps, int maxSteps, int evalEvery,
                          int evalSize, int finalEvalSize, double targetExactMatch, double labelSmoothing, double weightDecay,
                          double clipNorm, int logEvery) {
    public TrainConfig {
        if (arch == null) throw new IllegalArgumentException("train config: arch is missing");
        if (batchSize <= 0 || maxSteps <= 0 || evalEvery <= 0 || evalSize <= 0 || finalEvalSize <= 0 || logEvery <= 0) {
            throw new IllegalArgumentException("train config: batchSize (" + batchSize + "), maxSteps (" + maxSteps + "), evalEvery ("
                    + evalEvery + "), evalSize (" + evalSize + "), finalEvalSize (" + finalEvalSize + ") and logEvery (" + logEvery
                    + ") must be positive");
        }
        if (warmupSteps < 0 || warmupSteps > maxSteps) {
            throw new IllegalArgumentException("train config: warmupSteps " + warmupSteps + " must be in [0, maxSteps " + maxSteps + "]");
        }
        if (!(peakLr > 0) || !(labelSmoothing >= 0 && labelSmoothing < 1) || !(weightDecay >= 0) || !(clipNorm >= 0)) {
            throw new IllegalArgumentException("train config: peakLr must be > 0, labelSmoothing in [0, 1), weightDecay and clipNorm >= 0");
        }
    }

    /** The defaults for the dates task, per architecture. */
    public static TrainConfig defaults(Arch arch, long seed) {
        return switch (arch) {
            case TRANSFORMER -> new TrainConfig(arch, seed, 64, 1.5e-3, 150, 1400, 200, 500, 1000, 0.995, 0.1, 0.01, 1.0, 25);
            case GRU_BAHDANAU, GRU_LUONG -> new TrainConfig(arch, seed, 64, 3e-3, 100, 1200, 200, 500, 1000, 0.995, 0.1, 0.0, 1.0, 25);
        };
    }

    public TrainConfig withSteps(int maxSteps, int warmupSteps, int evalEvery, int logEvery) {
        return new TrainConfig(arch, seed, batchSize, peakLr, warmupSteps, maxSteps, evalEvery, evalSize, finalEvalSize,
                targetExactMatch, labelSmoothing, weightDecay, clipNorm, logEvery);
    }

    public TrainConfig withBatch(int batchSize, double peakLr) {
        return new TrainConfig(arch, seed, batchSize, peakLr, warmupSteps, maxSteps, evalEvery, evalSize, finalEvalSize,
                targetExactMatch, labelSmoothing, weightDecay, clipNorm, logEvery);
    }

    public TrainConfig withEval(int evalSize, int finalEvalSize, double targetExactMatch) {
        return new TrainConfig(arch, seed, batchSize, peakLr, warmupSteps, maxSteps, evalEvery, evalSize, finalEvalSize,
                targetExactMatch, labelSmoothing, weightDecay, clipNorm, logEvery);
    }

    /** The learning rate at {@code step} (from 1): linear warm-up, then cosine down to peakLr / 10 at maxSteps. */
    public double lr(long step) {
        if (step <= warmupSteps) return peakLr * step / Math.max(1, warmupSteps);
        double p = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, maxSteps - warmupSteps));
        double floor = peakLr / 10;
        return floor + (peakLr - floor) * 0.5 * (1 + Math.cos(Math.PI * p));
    }

    /** Seed of the periodic held-out set (never a training batch's). */
    public long periodicEvalSeed() {
        return seed ^ 0x0E7A1_5EEDL;
    }

    /** Seed of the final held-out set, different from the periodic one. */
    public long finalEvalSeed() {
        return seed ^ 0xF1A1_0E7A1_5EEDL;
    }
}
