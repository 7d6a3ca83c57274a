package dev.attn4j.train;

import java.util.List;

/**
 * Settings of a classification fine-tuning run, named and defaulted as transformers'
 * {@code TrainingArguments} (lr 5e-5, 3 epochs, batch 8, no warm-up, no weight decay, clipping
 * at 1.0, linear schedule, seed 42) except where said.
 *
 * @param lr                    peak learning rate
 * @param epochs                epochs (fractions allowed, as num_train_epochs)
 * @param maxSteps              optimizer steps, overriding {@code epochs} when positive (the schedule runs over them)
 * @param batchSize             examples per forward pass
 * @param maxLength             tokens per example (longer ones are truncated)
 * @param warmupRatio           share of the steps spent warming up (ceil(ratio * steps) steps)
 * @param weightDecay           AdamW decoupled weight decay (not on biases and LayerNorm weights)
 * @param seed                  seeds the data order, new head weights and dropout
 * @param gradAccum             forward passes per optimizer step
 * @param maxGradNorm           global gradient-norm clipping (0: off)
 * @param schedule              {@code linear} or {@code cosine} decay after the warm-up
 * @param evalSteps             evaluate every this many steps; 0: at the end of each epoch
 * @param bestMetric            {@code accuracy}, {@code macro_f1} or {@code loss}: which evaluation is kept as best
 * @param earlyStoppingPatience stop after this many evaluations without improvement (0: never)
 * @param dropoutOff            train with dropout off (the model's config keeps its values)
 * @param shuffle               seeded shuffling each epoch; off: the file's order, no length grouping
 * @param groupByLength         batches of similar lengths (transformers' LengthGroupedSampler; on by default,
 *                              unlike TrainingArguments, because padding less is faster on a CPU)
 * @param logEvery              a progress line every this many steps
 */
public record FineTuneConfig(double lr, double epochs, long maxSteps, int batchSize, int maxLength, double warmupRatio,
                             double weightDecay, long seed, int gradAccum, double maxGradNorm, String schedule, long evalSteps,
                             String bestMetric, int earlyStoppingPatience, boolean dropoutOff, boolean shuffle,
                             boolean groupByLength, int logEvery) {
    public static final List<String> METRICS = List.of("accuracy", "macro_f1", "loss");

    public FineTuneConfig {
        if (!(lr > 0)) throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        if (!(epochs > 0) && maxSteps <= 0) throw new IllegalArgumentException("epochs must be > 0, got " + epochs);
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be > 0, got " + batchSize);
        if (maxLength < 2) throw new IllegalArgumentException("max length must be >= 2, got " + maxLength);
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) throw new IllegalArgumentException("warm-up ratio must be in [0, 1], got " + warmupRatio);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        if (gradAccum <= 0) throw new IllegalArgumentException("gradient accumulation steps must be > 0, got " + gradAccum);
        if (!(maxGradNorm >= 0)) throw new IllegalArgumentException("max grad norm must be >= 0, got " + maxGradNorm);
        if (!List.of("linear", "cosine").contains(schedule)) throw new IllegalArgumentException("schedule must be linear or cosine, got " + schedule);
        if (evalSteps < 0) throw new IllegalArgumentException("eval steps must be >= 0, got " + evalSteps);
        if (!METRICS.contains(bestMetric)) throw new IllegalArgumentException("best metric must be one of " + METRICS + ", got " + bestMetric);
        if (earlyStoppingPatience < 0) throw new IllegalArgumentException("early-stopping patience must be >= 0");
        if (logEvery <= 0) throw new IllegalArgumentException("log interval must be > 0");
    }

    /** transformers' defaults (see the class comment). */
    public static FineTuneConfig defaults() {
        return new FineTuneConfig(5e-5, 3, -1, 8, 128, 0, 0, 42, 1, 1.0, "linear", 0, "accuracy", 0, false, true, true, 10);
    }

    public FineTuneConfig withLr(double v) {
        return new FineTuneConfig(v, epochs, maxSteps, batchSize, maxLength, warmupRatio, weightDecay, seed, gradAccum, maxGradNorm,
                schedule, evalSteps, bestMetric, earlyStoppingPatience, dropoutOff, shuffle, groupByLength, logEvery);
    }

    public FineTuneConfig withEpochs(double v, long steps) {
        return new FineTuneConfig(lr, v, steps, batchSize, maxLength, warmupRatio, weightDecay, seed, gradAccum, maxGradNorm,
                schedule, evalSteps, bestMetric, earlyStoppingPatience, dropoutOff, shuffle, groupByLength, logEvery);
    }

    public FineTuneConfig withBatch(int batch, int maxLen, int accum) {
        return new FineTuneConfig(lr, epochs, maxSteps, batch, maxLen, warmupRatio, weightDecay, seed, accum, maxGradNorm,
                schedule, evalSteps, bestMetric, earlyStoppingPatience, dropoutOff, shuffle, groupByLength, logEvery);
    }

    public FineTuneConfig withRegularisation(double warmup, double decay, double clip, String sched) {
        return new FineTuneConfig(lr, epochs, maxSteps, batchSize, maxLength, warmup, decay, seed, gradAccum, clip,
                sched, evalSteps, bestMetric, earlyStoppingPatience, dropoutOff, shuffle, groupByLength, logEvery);
    }

    public FineTuneConfig withEvaluation(long everySteps, String metric, int patience) {
        return new FineTuneConfig(lr, epochs, maxSteps, batchSize, maxLength, warmupRatio, weightDecay, seed, gradAccum, maxGradNorm,
                schedule, everySteps, metric, patience, dropoutOff, shuffle, groupByLength, logEvery);
    }

    public FineTuneConfig withData(long seedValue, boolean dropoutOffValue, boolean shuffleValue, boolean grouped, int logEveryValue) {
        return new FineTuneConfig(lr, epochs, maxSteps, batchSize, maxLength, warmupRatio, weightDecay, seedValue, gradAccum,
                maxGradNorm, schedule, evalSteps, bestMetric, earlyStoppingPatience, dropoutOffValue, shuffleValue, grouped,
                logEveryValue);
    }
}
