package dev.attn4j.generate;

/**
 * One decoded output.
 *
 * @param tokens       generated ids, without BOS and EOS
 * @param logProb      the summed log-probability of the tokens (and of EOS when it ended with one)
 * @param score        the ranking score: {@code logProb / length^alpha} for beam search (see
 *                     {@link BeamSearch}), {@code logProb} for greedy
 * @param finished     whether the output ended with EOS (false: it hit the length limit)
 */
public record Hypothesis(int[] tokens, double logProb, double score, boolean finished) {
}
