package dev.attn4j.train;

/**
 * What a training run reports (the last JSON line of {@code attn4j train}).
 *
 * @param arch              architecture name
 * @param steps             total optimizer steps (across resumes)
 * @param exactMatch        exact match on the final held-out set
 * @param evalSize          size of the final held-out set
 * @param tokensPerSecond   source + target tokens per second of training-step time
 * @param trainSeconds      training-step time, total across resumes
 * @param wallSeconds       wall time of this invocation (training, evaluations, checkpoints)
 * @param stopReason        "target" (periodic evaluation reached the target), "time" or "max_steps"
 * @param loss              smoothed training loss at the end
 * @param parameters        number of model parameters
 * @param checkpoint        the checkpoint directory
 */
public record TrainResult(String arch, long steps, double exactMatch, int evalSize, double tokensPerSecond, double trainSeconds,
                          double wallSeconds, String stopReason, double loss, long parameters, String checkpoint) {
}
