package dev.attn4j.train;

import dev.attn4j.optim.LrSchedules;
import java.util.Locale;

/**
 * Settings of a translation training run (saved in its checkpoints as config.json's "train").
 *
 * @param seed            seeds the weights, each epoch's batch order and each step's dropout masks
 * @param maxTokens       batch size in padded tokens (fairseq's {@code --max-tokens}): pairs x the
 *                        longest source or target (with EOS) of the batch
 * @param schedule        "inverse-sqrt" (fairseq: linear warm-up from {@code warmupInitLr} to
 *                        {@code lr}, then lr x sqrt(warmup / step)) or "noam" ("Attention Is All
 *                        You Need": {@code lr} is the factor of factor x d_model^-0.5 x
 *                        min(step^-0.5, step x warmup^-1.5))
 * @param lr              peak learning rate (inverse-sqrt) or the Noam factor
 * @param warmupSteps     warm-up updates
 * @param warmupInitLr    inverse-sqrt: the learning rate warm-up starts from
 * @param labelSmoothing  label smoothing of the cross-entropy
 * @param weightDecay     AdamW decoupled weight decay
 * @param clipNorm        global gradient-norm clip (0: none)
 * @param adamBeta1       Adam beta1
 * @param adamBeta2       Adam beta2
 * @param adamEps         Adam epsilon
 * @param evalEvery       updates between validations (loss and BLEU) and checkpoints
 * @param evalBeam        beam size of the validation BLEU (1: greedy)
 * @param lengthPenalty   beam score = log p / length^lengthPenalty
 * @param maxLenA         decoding stops after maxLenA x source length + maxLenB tokens
 * @param maxLenB         see maxLenA
 * @param averageLast     average the last K weight snapshots at the end (0: off)
 * @param saveEvery       updates between the snapshots kept for averaging (the final weights are one too)
 * @param logEvery        updates between progress lines
 * @param maxSteps        stop after this many updates (0: no limit)
 * @param maxEpochs       stop after this many epochs (0: no limit)
 * @param trainSource     training source file
 * @param trainTarget     training target file
 * @param validSource     validation source file
 * @param validTarget     validation target file
 */
public record TranslationConfig(long seed, int maxTokens, String schedule, double lr, int warmupSteps, double warmupInitLr,
                                double labelSmoothing, double weightDecay, double clipNorm, double adamBeta1, double adamBeta2,
                                double adamEps, int evalEvery, int evalBeam, double lengthPenalty, double maxLenA, int maxLenB,
                                int averageLast, int saveEvery, int logEvery, long maxSteps, int maxEpochs, String trainSource, String trainTarget,
                                String validSource, String validTarget) {
    public static final String INVERSE_SQRT = "inverse-sqrt";
    public static final String NOAM = "noam";

    public TranslationConfig {
        if (maxTokens <= 0 || evalEvery <= 0 || evalBeam <= 0 || logEvery <= 0 || saveEvery <= 0 || warmupSteps < 0 || averageLast < 0
                || maxSteps < 0 || maxEpochs < 0 || maxLenB < 0 || !(maxLenA >= 0)) {
            throw new IllegalArgumentException("translation settings: maxTokens (" + maxTokens + "), evalEvery (" + evalEvery
                    + "), evalBeam (" + evalBeam + "), saveEvery (" + saveEvery + ") and logEvery (" + logEvery + ") must be positive; warmup (" + warmupSteps
                    + "), averageLast (" + averageLast + "), maxSteps, maxEpochs, maxLenA and maxLenB must be >= 0");
        }
        schedule = schedule == null ? INVERSE_SQRT : schedule.toLowerCase(Locale.ROOT);
        if (!schedule.equals(INVERSE_SQRT) && !schedule.equals(NOAM)) {
            throw new IllegalArgumentException("unknown schedule '" + schedule + "'; expected inverse-sqrt or noam");
        }
        if (schedule.equals(NOAM) && warmupSteps == 0) throw new IllegalArgumentException("the noam schedule needs warm-up steps > 0");
        if (!(lr > 0) || !(warmupInitLr >= 0) || !(labelSmoothing >= 0 && labelSmoothing < 1) || !(weightDecay >= 0)
                || !(clipNorm >= 0) || !(adamBeta1 >= 0 && adamBeta1 < 1) || !(adamBeta2 >= 0 && adamBeta2 < 1) || !(adamEps > 0)
                || !Double.isFinite(lengthPenalty)) {
            throw new IllegalArgumentException("translation settings: lr must be > 0, label smoothing in [0, 1), weight decay, clip norm "
                    + "and warm-up init lr >= 0, Adam betas in [0, 1), eps > 0, length penalty finite");
        }
    }

    /** Defaults (the settings chosen on Multi30k's validation set) for files and a seed. */
    public static TranslationConfig defaults(long seed, String trainSource, String trainTarget, String validSource, String validTarget) {
        return new TranslationConfig(seed, 4096, INVERSE_SQRT, 1e-3, 800, 0, 0.1, 0.0, 0.0, 0.9, 0.98, 1e-8, 500, 4, 1.0, 1.2, 10, 5,
                200, 50, 0, 0, trainSource, trainTarget, validSource, validTarget);
    }

    /** These settings with another step limit. */
    public TranslationConfig withMaxSteps(long steps) {
        return new TranslationConfig(seed, maxTokens, schedule, lr, warmupSteps, warmupInitLr, labelSmoothing, weightDecay, clipNorm, adamBeta1,
                adamBeta2, adamEps, evalEvery, evalBeam, lengthPenalty, maxLenA, maxLenB, averageLast, saveEvery, logEvery, steps, maxEpochs,
                trainSource, trainTarget, validSource, validTarget);
    }

    /** The learning rate of update {@code step} (from 1) for a model of width {@code dModel}. */
    public double lr(long step, int dModel) {
        if (schedule.equals(NOAM)) return LrSchedules.noam(dModel, warmupSteps, lr).lr(step);
        if (step < warmupSteps) return warmupInitLr + (lr - warmupInitLr) * step / warmupSteps;
        return warmupSteps == 0 ? lr : lr * Math.sqrt((double) warmupSteps / step);
    }

    /** The longest output decoding may produce for a source of {@code sourceLength} tokens. */
    public int maxOutputLength(int sourceLength, int modelLimit) {
        return (int) Math.max(1, Math.min(modelLimit, Math.floor(maxLenA * sourceLength) + maxLenB));
    }
}
