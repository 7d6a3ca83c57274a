package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam search with transformers' semantics (4.57's {@code _beam_search}), one implementation for
 * sequence-to-sequence {@link StepModel}s and decoder-only {@link CausalLM}s:
 *
 * <ul>
 * <li>every item of the batch runs {@code num_beams} beams, all starting from its prompt (the first
 *     with score 0, the others -1e9, so the first step expands one beam); each step adds the
 *     (processed) next-token log-probabilities to the beam scores and keeps the best
 *     {@code max(2, 1 + number of EOS ids) * num_beams} candidates;</li>
 * <li>a candidate that ends in an EOS id, completes a stop string or reaches {@code max_length}
 *     "hits a stopping criterion": if it ranks among the first {@code num_beams}, it becomes a
 *     finished hypothesis scored {@code logProb / generated_length ^ length_penalty} (the generated
 *     length counts the final token; for seq2seq, the decoder start token is the prompt); the best
 *     {@code num_beams} finished hypotheses are kept;</li>
 * <li>the best {@code num_beams} candidates that hit nothing are the next beams;</li>
 * <li>an item is done when {@code num_beams} hypotheses are finished and the best beam cannot
 *     improve on the worst of them: its score over {@code (cur_len - prompt_len) ^ length_penalty}
 *     ({@code early_stopping=false}, the default), or over {@code (max_length - prompt_len) ^
 *     length_penalty} when {@code early_stopping="never"} and {@code length_penalty > 0}; with
 *     {@code early_stopping=true} as soon as {@code num_beams} are finished. Search ends when every
 *     item is done, or when every candidate hits a criterion (at {@code max_length}).</li>
 * </ul>
 * With {@code do_sample} the candidates are drawn without replacement from the softmax of those
 * scores instead of taken best first (transformers' beam sampling; the warpers keep at least
 * {@code 1 + number of EOS ids} tokens). Sums are kept in double (transformers: float32); candidates
 * with equal scores rank by beam, then token. A positive length penalty favours longer outputs, a
 * negative one shorter ones.
 */
public final class BeamSearch {
    private BeamSearch() {
    }

    private static final double NEG = -1.0e9;

    /** What the search needs from a model: next-token log-probabilities for the running rows, and reordering. */
    interface BeamModel {
        /**
         * Log-probabilities of the next token for every running row, [rows][V].
         *
         * @param sequences the rows' whole sequences (prompt included), each {@code curLen} long
         */
        float[][] logProbs(int[][] sequences, int curLen);

        /** After a step: new row i continues old row {@code rows[i]}. */
        void reorder(int[] rows);
    }

    /** Tests a candidate sequence for a stop string: item, sequence, length; the matched string or null. */
    interface StopCheck {
        String match(int item, int[] sequence, int length);
    }

    /** One finished hypothesis of the core search. */
    record Beam(int[] sequence, double logProb, double score, StopReason reason, String stopString) {
    }

    /** The search settings shared by both kinds of model. */
    record Settings(int numBeams, double lengthPenalty, GenerationConfig.EarlyStopping earlyStopping, int maxLength,
                    int[] eos, List<LogitsProcessor> processors, StopCheck stops, Sampler sampler) {
    }

    // ------------------------------------------------------------------ seq2seq (StepModel)

    /** The best hypothesis for one source. */
    public static <S> Hypothesis best(StepModel<S> model, int[] source, int beamSize, double lengthPenalty, int maxLength) {
        return decode(model, source, beamSize, lengthPenalty, maxLength).get(0);
    }

    /**
     * Up to {@code beamSize} hypotheses for {@code source}, best score first, with
     * {@code early_stopping=False}; {@code maxLength} counts generated tokens (EOS included).
     */
    public static <S> List<Hypothesis> decode(StepModel<S> model, int[] source, int beamSize, double lengthPenalty,
                                              int maxLength) {
        return decode(model, source, beamSize, lengthPenalty, GenerationConfig.EarlyStopping.FALSE, maxLength);
    }

    /** As {@link #decode(StepModel, int[], int, double, int)} with transformers' {@code early_stopping}. */
    public static <S> List<Hypothesis> decode(StepModel<S> model, int[] source, int beamSize, double lengthPenalty,
                                              GenerationConfig.EarlyStopping earlyStopping, int maxLength) {
        if (beamSize < 1) throw new IllegalArgumentException("beam search: beam size must be >= 1, got " + beamSize);
        if (maxLength < 1) throw new IllegalArgumentException("beam search: maxLength must be >= 1, got " + maxLength);
        if (!Double.isFinite(lengthPenalty)) throw new IllegalArgumentException("beam search: length penalty must be finite");
        int eos = model.eosId();
        BeamModel adapter = new BeamModel() {
            private S state = model.select(model.start(List.of(source)), new int[beamSize]);

            @Override
            public float[][] logProbs(int[][] sequences, int curLen) {
                int[] last = new int[sequences.length];
                for (int i = 0; i < last.length; i++) last[i] = sequences[i][curLen - 1];
                return model.step(state, last);                                // already log-probabilities
            }

            @Override
            public void reorder(int[] rows) {
                state = model.select(state, rows);
            }
        };
        Settings s = new Settings(beamSize, lengthPenalty, earlyStopping, 1 + maxLength, new int[] {eos}, List.of(), null, null);
        List<Beam> beams = search(adapter, new int[][] {{model.bosId()}}, 1, s).get(0);
        List<Hypothesis> out = new ArrayList<>(beams.size());
        for (Beam b : beams) {
            boolean finished = b.reason() == StopReason.EOS;
            int[] tokens = Arrays.copyOfRange(b.sequence(), 1, b.sequence().length - (finished ? 1 : 0));
            out.add(new Hypothesis(tokens, b.logProb(), b.score(), finished));
        }
        return out;
    }

    /**
     * The best hypothesis of each of {@code sources}, searched as one batch ({@code beamSize} rows
     * per source, one model step for all of them), with {@code early_stopping=False}: per source
     * the same result as {@link #best}, up to the rounding of batched arithmetic.
     */
    public static <S> List<Hypothesis> bestOfEach(StepModel<S> model, List<int[]> sources, int beamSize, double lengthPenalty,
                                                  int maxLength) {
        if (beamSize < 1) throw new IllegalArgumentException("beam search: beam size must be >= 1, got " + beamSize);
        if (maxLength < 1) throw new IllegalArgumentException("beam search: maxLength must be >= 1, got " + maxLength);
        if (!Double.isFinite(lengthPenalty)) throw new IllegalArgumentException("beam search: length penalty must be finite");
        int batch = sources.size();
        if (batch == 0) return List.of();
        int[] expand = new int[batch * beamSize];
        for (int r = 0; r < expand.length; r++) expand[r] = r / beamSize;
        BeamModel adapter = new BeamModel() {
            private S state = model.select(model.start(sources), expand);

            @Override
            public float[][] logProbs(int[][] sequences, int curLen) {
                int[] last = new int[sequences.length];
                for (int i = 0; i < last.length; i++) last[i] = sequences[i][curLen - 1];
                return model.step(state, last);
            }

            @Override
            public void reorder(int[] rows) {
                state = model.select(state, rows);
            }
        };
        int[][] initial = new int[batch][];
        for (int b = 0; b < batch; b++) initial[b] = new int[] {model.bosId()};
        Settings s = new Settings(beamSize, lengthPenalty, GenerationConfig.EarlyStopping.FALSE, 1 + maxLength, new int[] {model.eosId()},
                List.of(), null, null);
        List<List<Beam>> found = search(adapter, initial, 1, s);
        List<Hypothesis> out = new ArrayList<>(batch);
        for (List<Beam> beams : found) {
            Beam b = beams.get(0);
            boolean finished = b.reason() == StopReason.EOS;
            out.add(new Hypothesis(Arrays.copyOfRange(b.sequence(), 1, b.sequence().length - (finished ? 1 : 0)), b.logProb(), b.score(),
                    finished));
        }
        return out;
    }

    /** transformers' length normalisation: {@code logProb / length^alpha}. */
    public static double normalise(double logProb, int length, double alpha) {
        return logProb / Math.pow(length, alpha);
    }

    // ------------------------------------------------------------------ decoder-only (CausalLM)

    /**
     * Beam search over a causal LM for left-padded prompts; per prompt the best
     * {@code num_return_sequences} sequences, best first (results prompt-major).
     *
     * @param stops stop strings (on the prompt's real tokens and the new ones), or null
     */
    public static List<GenerationResult> generate(CausalLM model, List<int[]> prompts, GenerationConfig config, StopStrings stops) {
        int vocab = model.vocabSize();
        int[][] checked = Generator.checkPrompts(prompts, vocab);
        int k = config.numBeams();
        int batch = checked.length;
        int longest = 0;
        for (int[] p : checked) longest = Math.max(longest, p.length);
        int padded = longest;
        int maxLength = Generator.maxLength(config, padded, model);
        int pad = Generator.padId(config);
        boolean needPad = false;
        for (int[] p : checked) needPad |= p.length < longest;
        if (needPad && pad < 0) throw new IllegalArgumentException("generate: prompts of different lengths need pad_token_id (or an eos_token_id)");
        int[][] initial = new int[batch][longest];
        int[][] promptMask = new int[batch][longest];
        for (int b = 0; b < batch; b++) {
            int off = longest - checked[b].length;
            Arrays.fill(initial[b], 0, off, Math.max(pad, 0));
            System.arraycopy(checked[b], 0, initial[b], off, checked[b].length);
            Arrays.fill(promptMask[b], off, longest, 1);
        }
        BeamModel adapter = new BeamModel() {
            private CausalLM.KvCache cache;

            @Override
            public float[][] logProbs(int[][] sequences, int curLen) {
                int rows = sequences.length;
                float[][][] logits;
                if (cache == null) {
                    // the prompts once, then each row repeated num_beams times
                    CausalLM.KvCache first = model.newCache(batch, maxLength);
                    float[][][] once = Generator.checkLogits(model.forward(first, initial, promptMask, false), batch, vocab);
                    int[] repeat = new int[rows];
                    for (int r = 0; r < rows; r++) repeat[r] = r / k;
                    cache = first.select(repeat);
                    logits = new float[rows][][];
                    for (int r = 0; r < rows; r++) logits[r] = once[r / k];
                } else {
                    int[][] tokens = new int[rows][1];
                    int[][] mask = new int[rows][curLen];
                    for (int r = 0; r < rows; r++) {
                        tokens[r][0] = sequences[r][curLen - 1];
                        System.arraycopy(promptMask[r / k], 0, mask[r], 0, padded);
                        Arrays.fill(mask[r], padded, curLen, 1);
                    }
                    logits = Generator.checkLogits(model.forward(cache, tokens, mask, false), rows, vocab);
                }
                float[][] out = new float[rows][];
                for (int r = 0; r < rows; r++) out[r] = LogitsProcessors.logSoftmax(logits[r][logits[r].length - 1]);
                return out;
            }

            @Override
            public void reorder(int[] rows) {
                cache = cache.select(rows);
            }
        };
        StopCheck check = stops == null ? null : (item, seq, len) -> {
            int off = padded - checked[item].length;
            return stops.match(Arrays.copyOfRange(seq, off, len), len - off);
        };
        Settings s = new Settings(k, config.lengthPenalty(), config.earlyStopping(), maxLength, config.eosTokenId(),
                LogitsProcessors.forConfig(config, padded), check, config.doSample() ? Sampler.of(config.seed()) : null);
        List<List<Beam>> found = search(adapter, initial, padded, s);
        List<GenerationResult> out = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            List<Beam> beams = found.get(b);
            for (int i = 0; i < Math.min(config.numReturnSequences(), beams.size()); i++) {
                Beam beam = beams.get(i);
                int[] tokens = Arrays.copyOfRange(beam.sequence(), padded, beam.sequence().length);
                out.add(new GenerationResult(b, tokens, beam.reason(), beam.stopString(), checked[b].length, beam.score()));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ the search

    private record Candidate(int beam, int token, double score) {
    }

    /**
     * Runs the search for {@code initial.length} items of equal (padded) prompt length
     * {@code promptLen}; per item up to {@code num_beams} finished beams, best first.
     */
    static List<List<Beam>> search(BeamModel model, int[][] initial, int promptLen, Settings s) {
        int batch = initial.length;
        int k = s.numBeams();
        int rows = batch * k;
        int keep = Math.max(2, 1 + s.eos().length) * k;
        int[][] seqs = new int[rows][];
        double[] runScore = new double[rows];
        for (int r = 0; r < rows; r++) {
            seqs[r] = initial[r / k].clone();
            runScore[r] = r % k == 0 ? 0 : NEG;
        }
        List<List<Beam>> finished = new ArrayList<>();
        boolean[] improvable = new boolean[batch];                             // is_early_stop_heuristic_unsatisfied
        boolean[] done = new boolean[batch];
        for (int b = 0; b < batch; b++) {
            finished.add(new ArrayList<>());
            improvable[b] = true;
        }
        int curLen = promptLen;
        while (true) {
            float[][] logp = model.logProbs(seqs, curLen);                     // [rows][V]
            if (logp.length != rows) throw new IllegalStateException("model returned " + logp.length + " rows, expected " + rows);
            for (int r = 0; r < rows; r++) LogitsProcessors.apply(s.processors(), seqs[r], logp[r]);
            int[][] nextSeqs = new int[rows][];
            double[] nextScore = new double[rows];
            int[] source = new int[rows];
            boolean allHit = true;
            for (int b = 0; b < batch; b++) {
                Candidate[] top = s.sampler() == null ? topCandidates(logp, runScore, b * k, k, keep)
                        : sampledCandidates(logp, runScore, b * k, k, keep, s.sampler());
                boolean[] hit = new boolean[top.length];
                int[][] candSeq = new int[top.length][];
                StopReason[] why = new StopReason[top.length];
                String[] hitString = new String[top.length];
                for (int c = 0; c < top.length; c++) {
                    int[] prev = seqs[b * k + top[c].beam()];
                    int[] ext = Arrays.copyOf(prev, curLen + 1);
                    ext[curLen] = top[c].token();
                    candSeq[c] = ext;
                    if (isEos(s.eos(), top[c].token())) {
                        why[c] = StopReason.EOS;
                    } else if (s.stops() != null && (hitString[c] = s.stops().match(b, ext, curLen + 1)) != null) {
                        why[c] = StopReason.STOP_STRING;
                    } else if (curLen + 1 >= s.maxLength()) {
                        why[c] = StopReason.LENGTH;
                    }
                    hit[c] = why[c] != null;
                    allHit &= hit[c];
                }
                if (top.length < keep) allHit = false;
                // the next running beams: the best candidates that hit nothing, then the others (transformers
                // adds -1e9 to those); sampled candidates come in draw order, so rank them by score here
                Integer[] rank = new Integer[top.length];
                for (int c = 0; c < rank.length; c++) rank[c] = c;
                Arrays.sort(rank, (x, y) -> Double.compare(top[y].score(), top[x].score()));
                int filled = 0;
                for (int pass = 0; pass < 2 && filled < k; pass++) {
                    for (int c : rank) {
                        if (filled >= k) break;
                        if (hit[c] != (pass == 1)) continue;
                        int r = b * k + filled++;
                        nextSeqs[r] = candSeq[c];
                        nextScore[r] = top[c].score() + (hit[c] ? NEG : 0);
                        source[r] = b * k + top[c].beam();
                    }
                }
                for (; filled < k; filled++) {                                 // fewer candidates than beams
                    int r = b * k + filled;
                    nextSeqs[r] = Arrays.copyOf(seqs[b * k], curLen + 1);
                    nextSeqs[r][curLen] = nextSeqs[r][curLen - 1];
                    nextScore[r] = 2 * NEG;
                    source[r] = b * k;
                }
                // finished hypotheses: the first num_beams candidates that hit a criterion
                List<Beam> fin = finished.get(b);
                boolean full = fin.size() >= k;
                if (improvable[b] && !(full && s.earlyStopping() == GenerationConfig.EarlyStopping.TRUE)) {
                    double norm = Math.pow(curLen + 1 - promptLen, s.lengthPenalty());
                    for (int c = 0; c < Math.min(k, top.length); c++) {
                        if (!hit[c]) continue;
                        add(fin, new Beam(candSeq[c], top[c].score(), top[c].score() / norm, why[c], hitString[c]), k);
                    }
                }
            }
            seqs = nextSeqs;
            runScore = nextScore;
            curLen++;
            boolean allDone = true;
            for (int b = 0; b < batch; b++) {
                List<Beam> fin = finished.get(b);
                boolean full = fin.size() >= k;
                if (improvable[b] && full) {
                    int bestLen = s.earlyStopping() == GenerationConfig.EarlyStopping.NEVER && s.lengthPenalty() > 0
                            ? s.maxLength() - promptLen : curLen - promptLen;
                    double best = runScore[b * k] / Math.pow(bestLen, s.lengthPenalty());
                    improvable[b] = best > fin.get(fin.size() - 1).score();
                }
                done[b] = !improvable[b] || (full && s.earlyStopping() == GenerationConfig.EarlyStopping.TRUE);
                allDone &= done[b];
            }
            if (allDone || allHit || curLen >= s.maxLength()) break;
            model.reorder(source);
        }
        for (int b = 0; b < batch; b++) {
            if (finished.get(b).isEmpty()) throw new IllegalStateException("beam search produced no hypothesis for item " + b);
        }
        return finished;
    }

    private static boolean isEos(int[] eos, int token) {
        for (int e : eos) if (e == token) return true;
        return false;
    }

    /** Keeps {@code list} sorted by score (best first, earlier entries first among equals) and at most {@code k} long. */
    private static void add(List<Beam> list, Beam h, int k) {
        if (list.size() >= k && h.score() <= list.get(list.size() - 1).score()) return;
        int at = 0;
        while (at < list.size() && list.get(at).score() >= h.score()) at++;
        list.add(at, h);
        if (list.size() > k) list.remove(list.size() - 1);
    }

    /**
     * Beam sampling (transformers' {@code do_sample} with {@code num_beams > 1}): {@code want}
     * (beam, token) pairs drawn without replacement with probability softmax(running score +
     * log-probability) over all of the item's pairs, in draw order.
     */
    private static Candidate[] sampledCandidates(float[][] logp, double[] sums, int first, int k, int want, Sampler sampler) {
        int v = logp[first].length;
        float[] acc = new float[k * v];
        for (int b = 0; b < k; b++) {
            for (int t = 0; t < v; t++) acc[b * v + t] = (float) (sums[first + b] + logp[first + b][t]);
        }
        List<Candidate> out = new ArrayList<>(want);
        for (int i = 0; i < want; i++) {
            boolean any = false;
            for (float x : acc) any |= x != Float.NEGATIVE_INFINITY;
            if (!any) break;
            int pick = sampler.sample(acc);
            out.add(new Candidate(pick / v, pick % v, (double) sums[first + pick / v] + logp[first + pick / v][pick % v]));
            acc[pick] = Float.NEGATIVE_INFINITY;                               // without replacement
        }
        return out.toArray(new Candidate[0]);
    }

    /**
     * The {@code want} best (beam, token) pairs of one item's beams {@code first .. first + k} by
     * running score + log-probability, best first (ties: lower beam, then lower token); pairs with a
     * -inf or NaN score are left out.
     */
    private static Candidate[] topCandidates(float[][] logp, double[] sums, int first, int k, int want) {
        java.util.Comparator<Candidate> order = java.util.Comparator.comparingDouble(Candidate::score).reversed()
                .thenComparingInt(Candidate::beam).thenComparingInt(Candidate::token);
        java.util.PriorityQueue<Candidate> heap = new java.util.PriorityQueue<>(want + 1, order.reversed());
        for (int b = 0; b < k; b++) {
            float[] row = logp[first + b];
            for (int v = 0; v < row.length; v++) {
                double s = sums[first + b] + row[v];
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
