package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Beam search with Hugging Face's semantics ({@code num_beams}, {@code length_penalty},
 * {@code max_length}, {@code early_stopping=False}):
 *
 * <ul>
 * <li>each step extends every live beam by every token and keeps the best {@code 2 * beamSize}
 *     candidates by summed log-probability; a candidate ending in EOS among the first
 *     {@code beamSize} of them becomes a finished hypothesis, the others fill the next
 *     {@code beamSize} live beams;</li>
 * <li>a hypothesis scores {@code logProb / length^lengthPenalty} where {@code length} is the
 *     length of HF's {@code input_ids} for it: the decoder start token (BOS) plus the generated
 *     tokens, EOS not counted (so 1 + {@code tokens().length});</li>
 * <li>search stops when {@code beamSize} hypotheses are finished and the best live beam's
 *     {@code logProb / length^lengthPenalty} cannot beat the worst of them, or after
 *     {@code maxLength} generated tokens, when the live beams join the candidates unfinished.</li>
 * </ul>
 * lengthPenalty &gt; 0 favours longer outputs, &lt; 0 shorter ones (log-probabilities are negative).
 */
public final class BeamSearch {
    private BeamSearch() {
    }

    /** The best hypothesis for one source. */
    public static <S> Hypothesis best(StepModel<S> model, int[] source, int beamSize, double lengthPenalty, int maxLength) {
        return decode(model, source, beamSize, lengthPenalty, maxLength).get(0);
    }

    /** Up to {@code beamSize} hypotheses for {@code source}, best score first. */
    public static <S> List<Hypothesis> decode(StepModel<S> model, int[] source, int beamSize, double lengthPenalty,
                                              int maxLength) {
        return decode(model, source, beamSize, lengthPenalty, maxLength, false);
    }

    /**
     * With {@code generatedLengthAtEnd} (decoder-only models, transformers 4.57's vectorised beam
     * search), the beams alive after {@code maxLength} steps finish as the step's stopping criterion
     * makes them: only those among the step's best {@code beamSize} candidates, each scored by its
     * generated length ({@code tokens().length}) rather than 1 + that.
     */
    static <S> List<Hypothesis> decode(StepModel<S> model, int[] source, int beamSize, double lengthPenalty, int maxLength,
                                       boolean generatedLengthAtEnd) {
        if (beamSize < 1) throw new IllegalArgumentException("beam search: beam size must be >= 1, got " + beamSize);
        if (maxLength < 1) throw new IllegalArgumentException("beam search: maxLength must be >= 1, got " + maxLength);
        if (!Double.isFinite(lengthPenalty)) throw new IllegalArgumentException("beam search: length penalty must be finite");
        int eos = model.eosId();
        S state = model.start(List.of(source));
        List<int[]> beams = new ArrayList<>(List.of(new int[0]));            // generated tokens per live beam
        double[] sums = {0};
        int[] last = {model.bosId()};
        List<Hypothesis> finished = new ArrayList<>();
        boolean done = false;
        List<Integer> ranks = List.of(0);
        for (int t = 0; t < maxLength && !done; t++) {
            float[][] logp = model.step(state, last);                          // [beams][V]
            int want = Math.min(2 * beamSize, beams.size() * logp[0].length);
            Candidate[] top = topCandidates(logp, sums, want);
            List<Candidate> next = new ArrayList<>(beamSize);
            List<Integer> nextRanks = new ArrayList<>(beamSize);
            for (int rank = 0; rank < top.length && next.size() < beamSize; rank++) {
                Candidate c = top[rank];
                if (c.token == eos) {
                    if (rank >= beamSize) continue;
                    int[] tokens = beams.get(c.beam);
                    add(finished, new Hypothesis(tokens, c.score, normalise(c.score, 1 + tokens.length, lengthPenalty), true),
                            beamSize);
                } else {
                    next.add(c);
                    nextRanks.add(rank);
                }
            }
            if (next.isEmpty()) {
                beams = List.of();
                break;
            }
            int[] rows = new int[next.size()];
            List<int[]> nextBeams = new ArrayList<>(next.size());
            double[] nextSums = new double[next.size()];
            int[] nextLast = new int[next.size()];
            for (int i = 0; i < rows.length; i++) {
                Candidate c = next.get(i);
                rows[i] = c.beam;
                int[] prev = beams.get(c.beam);
                int[] ext = Arrays.copyOf(prev, prev.length + 1);
                ext[prev.length] = c.token;
                nextBeams.add(ext);
                nextSums[i] = c.score;
                nextLast[i] = c.token;
            }
            beams = nextBeams;
            sums = nextSums;
            last = nextLast;
            ranks = nextRanks;
            if (finished.size() >= beamSize) {
                double bestAlive = normalise(sums[0], 1 + t, lengthPenalty);   // HF: current input_ids length
                done = finished.get(finished.size() - 1).score() >= bestAlive;
            }
            if (!done && t + 1 < maxLength) state = model.select(state, rows);
        }
        if (!done) {
            for (int i = 0; i < beams.size(); i++) {
                int[] tokens = beams.get(i);
                if (generatedLengthAtEnd && ranks.get(i) >= beamSize) continue;
                int length = generatedLengthAtEnd ? tokens.length : 1 + tokens.length;
                add(finished, new Hypothesis(tokens, sums[i], normalise(sums[i], length, lengthPenalty), false), beamSize);
            }
        }
        if (finished.isEmpty()) throw new IllegalStateException("beam search produced no hypothesis");
        return List.copyOf(finished);
    }

    /** HF's length normalisation: {@code logProb / length^alpha}. */
    public static double normalise(double logProb, int length, double alpha) {
        return logProb / Math.pow(length, alpha);
    }

    /** Keeps {@code list} sorted by score (best first) and at most {@code k} long. */
    private static void add(List<Hypothesis> list, Hypothesis h, int k) {
        if (list.size() >= k && h.score() <= list.get(list.size() - 1).score()) return;
        int at = 0;
        while (at < list.size() && list.get(at).score() >= h.score()) at++;
        list.add(at, h);
        if (list.size() > k) list.remove(list.size() - 1);
    }

    private record Candidate(int beam, int token, double score) {
    }

    /** The {@code want} best (beam, token) pairs by running sum + log-probability, best first (ties: lower beam, token). */
    private static Candidate[] topCandidates(float[][] logp, double[] sums, int want) {
        Comparator<Candidate> order = Comparator.comparingDouble(Candidate::score).reversed()
                .thenComparingInt(Candidate::beam).thenComparingInt(Candidate::token);
        java.util.PriorityQueue<Candidate> heap = new java.util.PriorityQueue<>(want + 1, order.reversed());
        for (int b = 0; b < logp.length; b++) {
            for (int v = 0; v < logp[b].length; v++) {
                double s = sums[b] + logp[b][v];
                if (s == Double.NEGATIVE_INFINITY || Double.isNaN(s)) continue;
                if (heap.size() < want) {
                    heap.add(new Candidate(b, v, s));
                } else if (order.compare(new Candidate(b, v, s), heap.peek()) < 0) {
                    heap.poll();
                    heap.add(new Candidate(b, v, s));
                }
            }
        }
        Candidate[] out = heap.toArray(new Candidate[0]);
        Arrays.sort(out, order);
        return out;
    }
}
