package dev.attn4j.generate;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.IntFunction;

/**
 * Decoder-only generation over a {@link CausalLM} with transformers' {@code generate()} semantics:
 * greedy search, multinomial sampling ({@code do_sample}), beam search ({@code num_beams > 1}) or
 * beam sampling (both; see {@link BeamSearch}), for a batch of prompts of different lengths.
 *
 * <ul>
 * <li>prompts are left-padded with {@code pad_token_id} (else the first EOS id) to the longest,
 *     the attention mask marks the padding 0 and grows by a 1 for every new token of every row,
 *     and the model derives position ids from it ({@code cumsum(mask) - 1});</li>
 * <li>each step the next-token scores of every row pass the {@link LogitsProcessors#forConfig
 *     logits processors} (which see the padded rows, as transformers' {@code input_ids}), then the
 *     token is the argmax (the first of equal maxima) or a draw of the {@link Sampler};</li>
 * <li>a row stops on an EOS id (kept as its last token), on a stop string (needs a token decoder),
 *     or at {@code max_new_tokens} / {@code max_length} (which counts the padded prompt); finished
 *     rows are fed {@code pad_token_id} while the others go on (transformers'
 *     {@code unfinished_sequences}), and are not reported.</li>
 * </ul>
 * Streaming: {@link #generate(List, GenerationConfig, TokenListener)} calls back for every new token;
 * {@link #stream} yields them as an {@link Iterator}, computing a step only when its tokens are asked for.
 */
public final class Generator {
    private final CausalLM model;
    private final IntFunction<String> tokenText;

    /** A generator without a token decoder: stop strings are then refused. */
    public Generator(CausalLM model) {
        this(model, null);
    }

    /**
     * @param tokenText a token id's text, for stop strings (e.g. a tokenizer's decode of one id); may be null
     */
    public Generator(CausalLM model, IntFunction<String> tokenText) {
        if (model == null) throw new IllegalArgumentException("generator: model is null");
        this.model = model;
        this.tokenText = tokenText;
    }

    /** Generates for one prompt: its {@code num_return_sequences} results (best first with beam search). */
    public List<GenerationResult> generate(int[] prompt, GenerationConfig config) {
        return generate(List.of(prompt), config, null);
    }

    /** Generates for every prompt; results in prompt order ({@code num_return_sequences} per prompt). */
    public List<GenerationResult> generate(List<int[]> prompts, GenerationConfig config) {
        return generate(prompts, config, null);
    }

    /**
     * As {@link #generate(List, GenerationConfig)}, calling {@code listener} (may be null) for each new
     * token as it is produced. With beam search, the listener receives the returned sequences' tokens at
     * the end (beams change until the search ends).
     */
    public List<GenerationResult> generate(List<int[]> prompts, GenerationConfig config, TokenListener listener) {
        if (config.numBeams() > 1) {
            List<GenerationResult> out = BeamSearch.generate(model, prompts, config, stopStrings(config));
            if (listener != null) {
                for (int i = 0; i < out.size(); i++) for (int t : out.get(i).tokens()) listener.onToken(i, t);
            }
            return out;
        }
        Run run = new Run(prompts, config);
        while (run.hasNext()) {
            TokenEvent e = run.next();
            if (listener != null) listener.onToken(e.row(), e.token());
        }
        return run.results();
    }

    /**
     * The new tokens as an iterator (greedy and sampling only): each {@code next()} returns one token
     * event, running a model step when the previous step's tokens are used up. Rows are the expanded
     * rows ({@code num_return_sequences} per prompt, prompt-major).
     */
    public Iterator<TokenEvent> stream(List<int[]> prompts, GenerationConfig config) {
        if (config.numBeams() > 1) throw new IllegalArgumentException("streaming is not available with beam search (num_beams > 1)");
        return new Run(prompts, config);
    }

    private StopStrings stopStrings(GenerationConfig config) {
        if (config.stopStrings().isEmpty()) return null;
        if (tokenText == null) {
            throw new IllegalArgumentException("stop_strings " + config.stopStrings()
                    + " need a token decoder: build the Generator with one (token id -> text)");
        }
        return new StopStrings(config.stopStrings(), tokenText);
    }

    /** Checks prompts and computes the padding shared by greedy, sampling and beam search. */
    static int[][] checkPrompts(List<int[]> prompts, int vocab) {
        if (prompts == null || prompts.isEmpty()) throw new IllegalArgumentException("generate: no prompt given");
        int[][] out = new int[prompts.size()][];
        for (int i = 0; i < out.length; i++) {
            int[] p = prompts.get(i);
            if (p == null || p.length == 0) throw new IllegalArgumentException("generate: prompt " + i + " is empty");
            for (int j = 0; j < p.length; j++) {
                if (p[j] < 0 || p[j] >= vocab) {
                    throw new IllegalArgumentException("generate: prompt " + i + " token " + j + " is id " + p[j]
                            + ", outside the model's vocabulary [0, " + vocab + ")");
                }
            }
            out[i] = p.clone();
        }
        return out;
    }

    /** transformers' padding id: pad_token_id, else the first EOS id, else -1 (none). */
    static int padId(GenerationConfig config) {
        if (config.padTokenId() != null) return config.padTokenId();
        int[] eos = config.eosTokenId();
        return eos.length > 0 ? eos[0] : -1;
    }

    /** The longest row, checked against the prompt and the model. */
    static int maxLength(GenerationConfig config, int paddedPrompt, CausalLM model) {
        int max = config.maxLength(paddedPrompt);
        if (paddedPrompt >= max) {
            throw new IllegalArgumentException("generate: the (padded) prompt has " + paddedPrompt + " tokens but max_length is "
                    + max + "; set max_new_tokens");
        }
        if (max > model.maxPositions()) {
            throw new IllegalArgumentException("generate: max length " + max + " (prompt " + paddedPrompt
                    + " + new tokens) exceeds the model's " + model.maxPositions() + " positions");
        }
        return max;
    }

    /** One greedy or sampling run, advanced a step at a time. */
    private final class Run implements Iterator<TokenEvent> {
        private final GenerationConfig config;
        private final int rows;
        private final int[] promptOf;
        private final int[] promptTokens;
        private final int padded;
        private final int maxLength;
        private final int pad;
        private final int vocab;
        private final int[][] seqs;                                           // [B][maxLength], padded rows
        private final int[][] mask;                                           // [B][maxLength]
        private final List<LogitsProcessor> processors;
        private final Sampler sampler;
        private final StopStrings stops;
        private final boolean[] unfinished;
        private final StopReason[] reasons;
        private final String[] stopStringHit;
        private final int[] newTokens;
        private final double[] logProbs;
        private final ArrayDeque<TokenEvent> pending = new ArrayDeque<>();
        private CausalLM.KvCache cache;
        private float[][][] logits;
        private int curLen;
        private int active;

        Run(List<int[]> prompts, GenerationConfig config) {
            this.config = config;
            this.vocab = model.vocabSize();
            int[][] checked = checkPrompts(prompts, vocab);
            int copies = config.numReturnSequences();
            rows = checked.length * copies;
            promptOf = new int[rows];
            promptTokens = new int[rows];
            int longest = 0;
            for (int[] p : checked) longest = Math.max(longest, p.length);
            padded = longest;
            maxLength = Generator.maxLength(config, padded, model);
            pad = padId(config);
            boolean needPad = false;
            for (int[] p : checked) needPad |= p.length < longest;
            if (needPad && pad < 0) {
                throw new IllegalArgumentException("generate: prompts of different lengths need pad_token_id (or an eos_token_id)");
            }
            if (pad >= vocab) throw new IllegalArgumentException("generate: pad id " + pad + " is outside the vocabulary [0, " + vocab + ")");
            seqs = new int[rows][maxLength];
            mask = new int[rows][maxLength];
            for (int r = 0; r < rows; r++) {
                int[] p = checked[r / copies];
                promptOf[r] = r / copies;
                promptTokens[r] = p.length;
                int off = longest - p.length;
                Arrays.fill(seqs[r], 0, off, pad);
                System.arraycopy(p, 0, seqs[r], off, p.length);
                Arrays.fill(mask[r], off, longest, 1);
            }
            curLen = longest;
            processors = LogitsProcessors.forConfig(config, padded);
            sampler = config.doSample() ? Sampler.of(config.seed()) : null;
            stops = stopStrings(config);
            if ((config.eosTokenId().length > 0 || stops != null) && pad < 0) {
                throw new IllegalArgumentException("generate: stop strings need pad_token_id (or an eos_token_id) to pad finished rows");
            }
            unfinished = new boolean[rows];
            Arrays.fill(unfinished, true);
            active = rows;
            reasons = new StopReason[rows];
            stopStringHit = new String[rows];
            newTokens = new int[rows];
            logProbs = new double[rows];
        }

        @Override
        public boolean hasNext() {
            while (pending.isEmpty() && active > 0) step();
            return !pending.isEmpty();
        }

        @Override
        public TokenEvent next() {
            if (!hasNext()) throw new NoSuchElementException("generation finished");
            return pending.poll();
        }

        private void step() {
            if (cache == null) {
                cache = model.newCache(rows, maxLength);
                int[][] tokens = new int[rows][];
                int[][] m = new int[rows][];
                for (int r = 0; r < rows; r++) {
                    tokens[r] = Arrays.copyOf(seqs[r], curLen);
                    m[r] = Arrays.copyOf(mask[r], curLen);
                }
                logits = checkLogits(model.forward(cache, tokens, m, false), rows, vocab);
            }
            int[] next = new int[rows];
            for (int r = 0; r < rows; r++) {
                if (!unfinished[r]) {
                    next[r] = pad;
                    continue;
                }
                float[] scores = logits[r][logits[r].length - 1].clone();   // [V]
                LogitsProcessors.apply(processors, Arrays.copyOf(seqs[r], curLen), scores);
                int token = sampler != null ? sampler.sample(scores) : Sampler.argmax(scores);
                logProbs[r] += LogitsProcessors.logSoftmax(scores)[token];
                next[r] = token;
            }
            for (int r = 0; r < rows; r++) {
                seqs[r][curLen] = next[r];
                mask[r][curLen] = 1;
            }
            curLen++;
            for (int r = 0; r < rows; r++) {
                if (!unfinished[r]) continue;
                int index = newTokens[r]++;
                StopReason reason = null;
                if (config.isEos(next[r])) {
                    reason = StopReason.EOS;
                } else if (stops != null && (stopStringHit[r] = matchStop(r)) != null) {
                    reason = StopReason.STOP_STRING;
                } else if (curLen >= maxLength) {
                    reason = StopReason.LENGTH;
                }
                if (reason != null) {
                    unfinished[r] = false;
                    reasons[r] = reason;
                    active--;
                }
                pending.add(new TokenEvent(r, next[r], index, reason));
            }
            if (active > 0) {
                int[][] tokens = new int[rows][1];
                int[][] m = new int[rows][];
                for (int r = 0; r < rows; r++) {
                    tokens[r][0] = next[r];
                    m[r] = Arrays.copyOf(mask[r], curLen);
                }
                logits = checkLogits(model.forward(cache, tokens, m, false), rows, vocab);
            }
        }

        /** The stop string row r (without its left padding) ends with, or null. */
        private String matchStop(int r) {
            int[] real = Arrays.copyOfRange(seqs[r], padded - promptTokens[r], curLen);
            return stops.match(real, real.length);
        }

        List<GenerationResult> results() {
            while (hasNext()) next();
            List<GenerationResult> out = new ArrayList<>(rows);
            for (int r = 0; r < rows; r++) {
                int[] tokens = Arrays.copyOfRange(seqs[r], padded, padded + newTokens[r]);
                out.add(new GenerationResult(promptOf[r], tokens, reasons[r], stopStringHit[r], promptTokens[r], logProbs[r]));
            }
            return out;
        }
    }

    static float[][][] checkLogits(float[][][] logits, int rows, int vocab) {
        if (logits == null || logits.length != rows) {
            throw new IllegalStateException("model returned logits for " + (logits == null ? "no" : logits.length) + " rows, expected " + rows);
        }
        for (float[][] row : logits) {
            if (row.length == 0 || row[row.length - 1].length != vocab) {
                throw new IllegalStateException("model returned logits of width " + (row.length == 0 ? 0 : row[row.length - 1].length)
                        + ", expected the vocabulary size " + vocab);
            }
        }
        return logits;
    }
}
