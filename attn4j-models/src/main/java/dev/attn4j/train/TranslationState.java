package dev.attn4j.train;

import java.util.List;

/**
 * Where a translation run stands (trainer.json of its {@code last/} checkpoint).
 *
 * @param step          completed updates; the schedule and the next step's dropout seed follow from it
 * @param epoch         the epoch being trained (from 1); its batches are a function of (seed, epoch)
 * @param batchInEpoch  batches of that epoch already trained
 * @param trainSeconds  time spent in updates so far (validation excluded)
 * @param evalSeconds   time spent validating so far
 * @param sourceTokens  source tokens trained on
 * @param targetTokens  target tokens trained on (EOS included)
 * @param loss          smoothed training loss (-1: none yet)
 * @param bestBleu      best validation BLEU so far (-1: none yet)
 * @param bestStep      the update it was reached at
 * @param history       every validation so far
 * @param averaged      the updates whose weights are kept for averaging (oldest first)
 */
public record TranslationState(long step, long epoch, int batchInEpoch, double trainSeconds, double evalSeconds, long sourceTokens,
                               long targetTokens, double loss, double bestBleu, long bestStep, List<Validation> history,
                               List<Long> averaged) {
    public TranslationState {
        history = List.copyOf(history);
        averaged = List.copyOf(averaged);
    }

    /** One validation: loss (label-smoothed, as trained), NLL per target token, BLEU and its seconds. */
    public record Validation(long step, double epoch, double loss, double nll, double bleu, double seconds) {
    }

    public static TranslationState initial() {
        return new TranslationState(0, 1, 0, 0, 0, 0, 0, -1, -1, 0, List.of(), List.of());
    }
}
