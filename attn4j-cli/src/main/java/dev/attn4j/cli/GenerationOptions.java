package dev.attn4j.cli;

import dev.attn4j.generate.GenerationConfig;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * The decoding options of {@code generate} and {@code chat}, each overriding the field of the
 * model's generation_config.json that carries transformers' name ({@code --top-p} for
 * {@code top_p}, ...). Any sampling option turns {@code do_sample} on; {@code --greedy} turns it
 * off (and excludes them); otherwise the model's {@code do_sample} decides.
 */
final class GenerationOptions {
    /** Used when neither the option nor the model's generation config sets max_new_tokens. */
    static final int DEFAULT_MAX_NEW_TOKENS = 128;

    @Option(names = "--max-new-tokens", paramLabel = "N",
            description = "Tokens to generate at most (default: the model's max_new_tokens, else " + DEFAULT_MAX_NEW_TOKENS + ").")
    Integer maxNewTokens;
    @Option(names = "--min-new-tokens", paramLabel = "N", description = "EOS is masked until N tokens are generated.")
    Integer minNewTokens;
    @Option(names = "--greedy", description = "Greedy decoding (do_sample=False), whatever the model's generation config says.")
    boolean greedy;
    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature.")
    Double temperature;
    @Option(names = "--top-k", paramLabel = "K", description = "Sample among the K most likely tokens (0: all).")
    Integer topK;
    @Option(names = "--top-p", paramLabel = "P", description = "Nucleus sampling: the smallest set of tokens with probability >= P.")
    Double topP;
    @Option(names = "--min-p", paramLabel = "P", description = "Drop tokens less likely than P times the most likely one.")
    Double minP;
    @Option(names = "--typical-p", paramLabel = "P", description = "Locally typical sampling mass.")
    Double typicalP;
    @Option(names = "--seed", paramLabel = "S", description = "Seed of the sampler: the same seed gives the same text.")
    Long seed;
    @Option(names = "--repetition-penalty", paramLabel = "R", description = "Penalty on tokens already in the sequence (1: none).")
    Double repetitionPenalty;
    @Option(names = "--no-repeat-ngram-size", paramLabel = "N", description = "No n-gram of this size occurs twice.")
    Integer noRepeatNgramSize;
    @Option(names = {"--num-beams", "--beam"}, paramLabel = "B", description = "Beam search with B beams when B > 1 (--beam: the same).")
    Integer numBeams;
    @Option(names = "--length-penalty", paramLabel = "L", description = "Beam search: scores divided by length^L.")
    Double lengthPenalty;
    @Option(names = "--early-stopping", paramLabel = "true|false|never", arity = "0..1", fallbackValue = "true",
            description = "Beam search's early_stopping (the flag alone: true).")
    String earlyStopping;
    @Option(names = "--eos-token-id", paramLabel = "ID", split = ",", description = "EOS ids (comma-separated or repeated).")
    List<Integer> eosTokenId;
    @Option(names = "--stop", paramLabel = "TEXT", description = "Stop when the text ends with TEXT (repeatable; needs a tokenizer).")
    List<String> stop;

    /** Whether a sampling option was given. */
    private boolean samplingOption() {
        return temperature != null || topK != null || topP != null || minP != null || typicalP != null || seed != null;
    }

    /** The model's defaults overridden by the options given; bad combinations and values are one-line errors. */
    GenerationConfig apply(GenerationConfig defaults) {
        return apply(defaults, true);
    }

    /**
     * As {@link #apply(GenerationConfig)}; with {@code defaultMaxNewTokens} false a model without
     * max_new_tokens keeps its max_length (transformers' rule, what encoder-decoders' configs set).
     */
    GenerationConfig apply(GenerationConfig defaults, boolean defaultMaxNewTokens) {
        if (greedy && samplingOption()) {
            throw new IllegalArgumentException("--greedy excludes the sampling options --temperature, --top-k, --top-p, --min-p, --typical-p, --seed");
        }
        if (greedy && numBeams != null && numBeams > 1) throw new IllegalArgumentException("--greedy and --num-beams " + numBeams + " exclude each other");
        if (maxNewTokens != null && maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens);
        if (numBeams != null && numBeams < 1) throw new IllegalArgumentException("--num-beams must be >= 1, got " + numBeams);
        if (temperature != null && !(temperature > 0)) throw new IllegalArgumentException("--temperature must be > 0, got " + temperature);
        GenerationConfig.Builder b = defaults.toBuilder();
        if (maxNewTokens != null) b.maxNewTokens(maxNewTokens);
        else if (defaults.maxNewTokens() == null && defaultMaxNewTokens) b.maxNewTokens(DEFAULT_MAX_NEW_TOKENS);
        if (minNewTokens != null) b.minNewTokens(minNewTokens);
        if (greedy) b.doSample(false);
        if (samplingOption()) b.doSample(true);
        if (temperature != null) b.temperature(temperature);
        if (topK != null) b.topK(topK);
        if (topP != null) b.topP(topP);
        if (minP != null) b.minP(minP);
        if (typicalP != null) b.typicalP(typicalP);
        if (seed != null) b.seed(seed);
        if (repetitionPenalty != null) b.repetitionPenalty(repetitionPenalty);
        if (noRepeatNgramSize != null) b.noRepeatNgramSize(noRepeatNgramSize);
        if (numBeams != null) b.numBeams(numBeams);
        if (lengthPenalty != null) b.lengthPenalty(lengthPenalty);
        if (earlyStopping != null) {
            switch (earlyStopping) {
                case "true" -> b.earlyStopping(GenerationConfig.EarlyStopping.TRUE);
                case "false" -> b.earlyStopping(GenerationConfig.EarlyStopping.FALSE);
                case "never" -> b.earlyStopping(GenerationConfig.EarlyStopping.NEVER);
                default -> throw new IllegalArgumentException("--early-stopping takes true, false or never, got '" + earlyStopping + "'");
            }
        }
        if (eosTokenId != null) b.eosTokenId(eosTokenId.stream().mapToInt(Integer::intValue).toArray());
        if (stop != null) {
            List<String> all = new ArrayList<>(defaults.stopStrings());
            all.addAll(stop);
            b.stopStrings(all);
        }
        b.numReturnSequences(1);
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("generation options: " + e.getMessage(), e);
        }
    }
}
