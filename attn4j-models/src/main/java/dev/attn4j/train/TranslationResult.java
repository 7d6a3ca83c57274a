package dev.attn4j.train;

/**
 * What a translation training run reports (the last JSON line of {@code attn4j train --task translation},
 * also written as {@code summary.json}).
 *
 * @param task            "translation"
 * @param arch            "transformer"
 * @param steps           updates (across resumes)
 * @param epochs          epochs trained (fractional)
 * @param validBleu       validation BLEU of the output model (the best checkpoint or the average)
 * @param bestBleu        the best validation BLEU of a single checkpoint
 * @param bestStep        the update it was reached at
 * @param averagedBleu    validation BLEU of the average of the last K checkpoints (null: not made)
 * @param chosen          which model the output directory holds: "best" or "averaged" (null: not finished)
 * @param validLoss       the last validation's label-smoothed loss per target token
 * @param validNll        the last validation's NLL per target token
 * @param lastBleu        the last validation's BLEU
 * @param tokensPerSecond source + target tokens per second of update time
 * @param trainSeconds    time in updates (across resumes)
 * @param evalSeconds     time validating (across resumes)
 * @param wallSeconds     wall time of this invocation
 * @param stopReason      "time", "max_steps" or "max_epochs"
 * @param loss            smoothed training loss at the end
 * @param parameters      model parameters
 * @param vocabSize       tokenizer vocabulary
 * @param checkpoint      the output directory
 * @param bleuSignature   sacreBLEU's signature of the BLEU figures
 * @param testBleu        BLEU of the output model on a test set (null: none given)
 * @param testOutputs     the file holding the test translations (null: none)
 */
public record TranslationResult(String task, String arch, long steps, double epochs, double validBleu, double bestBleu, long bestStep,
                                Double averagedBleu, String chosen, double validLoss, double validNll, double lastBleu,
                                double tokensPerSecond, double trainSeconds, double evalSeconds, double wallSeconds, String stopReason,
                                double loss, long parameters, int vocabSize, String checkpoint, String bleuSignature, Double testBleu,
                                String testOutputs) {
    /** This result with a test-set BLEU and the file of its translations. */
    public TranslationResult withTest(double bleu, String outputs) {
        return new TranslationResult(task, arch, steps, epochs, validBleu, bestBleu, bestStep, averagedBleu, chosen, validLoss, validNll,
                lastBleu, tokensPerSecond, trainSeconds, evalSeconds, wallSeconds, stopReason, loss, parameters, vocabSize, checkpoint,
                bleuSignature, bleu, outputs);
    }
}
