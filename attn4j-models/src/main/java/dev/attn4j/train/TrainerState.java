package dev.attn4j.train;

/**
 * Where training stands (trainer.json in a checkpoint).
 *
 * @param step             completed optimizer steps; the learning-rate schedule position and the
 *                         next batch's generator (seeded by (seed, step + 1)) follow from it
 * @param seed             the run's seed
 * @param trainSeconds     seconds spent in training steps so far (evaluations excluded)
 * @param sourceTokens     source tokens trained on so far
 * @param targetTokens     target tokens (EOS included) trained on so far
 * @param lastLoss         smoothed training loss at the last step (-1: none yet)
 * @param lastExactMatch   the last periodic held-out exact-match rate (-1: none yet)
 * @param batchRng         how batch generators are derived (for readers of the file)
 */
public record TrainerState(long step, long seed, double trainSeconds, long sourceTokens, long targetTokens, double lastLoss,
                           double lastExactMatch, String batchRng) {
    public static final String BATCH_RNG = "SplittableRandom(seed * 0x9E3779B97F4A7C15 + step) per step, step from 1";

    public static TrainerState initial(long seed) {
        return new TrainerState(0, seed, 0, 0, 0, -1, -1, BATCH_RNG);
    }
}
