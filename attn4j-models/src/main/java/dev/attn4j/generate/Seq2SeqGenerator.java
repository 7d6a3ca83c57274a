package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Generation for encoder-decoder models with transformers' {@code generate()} semantics: the
 * sources are encoded once; every output starts from {@code decoder_start_token_id} (else
 * {@code bos_token_id}), which counts as the decoder prompt ({@code max_length} includes it,
 * {@code max_new_tokens} does not); then greedy search, sampling, beam search or beam sampling run
 * exactly as for decoder-only models ({@link Generator}, {@link BeamSearch}), over the whole batch of
 * sources at once, with the logits processors of {@link LogitsProcessors#forConfig} (among them
 * {@code bad_words_ids}, {@code forced_bos_token_id}, {@code forced_eos_token_id}).
 */
public final class Seq2SeqGenerator {
    private final Seq2SeqLM model;
    private final IntFunction<String> tokenText;

    /** A generator without a token decoder: stop strings are then refused. */
    public Seq2SeqGenerator(Seq2SeqLM model) {
        this(model, null);
    }

    /** @param tokenText a token id's text, for stop strings; may be null */
    public Seq2SeqGenerator(Seq2SeqLM model, IntFunction<String> tokenText) {
        if (model == null) throw new IllegalArgumentException("generator: model is null");
        this.model = model;
        this.tokenText = tokenText;
    }

    /** The id every output starts from: {@code decoder_start_token_id}, else {@code bos_token_id}. */
    public static int decoderStartId(GenerationConfig config) {
        if (config.decoderStartTokenId() != null) return config.decoderStartTokenId();
        if (config.bosTokenId() != null) return config.bosTokenId();
        throw new IllegalArgumentException("`decoder_start_token_id` or `bos_token_id` has to be defined for encoder-decoder generation");
    }

    /**
     * Generates for every source; results in source order ({@code num_return_sequences} per source,
     * best first with beam search). {@link GenerationResult#tokens()} are the generated ids without
     * the decoder start token, with the final EOS when it stopped on one; {@code promptTokens} is
     * the source's length.
     */
    public List<GenerationResult> generate(List<int[]> sources, GenerationConfig config) {
        return generate(sources, config, null);
    }

    /** As {@link #generate(List, GenerationConfig)}, calling {@code listener} (may be null) for each new token. */
    public List<GenerationResult> generate(List<int[]> sources, GenerationConfig config, TokenListener listener) {
        if (sources == null || sources.isEmpty()) throw new IllegalArgumentException("generate: no source given");
        for (int i = 0; i < sources.size(); i++) {
            int[] s = sources.get(i);
            if (s == null || s.length == 0) throw new IllegalArgumentException("generate: source " + i + " is empty");
            if (s.length > model.maxSourcePositions()) {
                throw new IllegalArgumentException("generate: source " + i + " has " + s.length + " tokens, more than the model's "
                        + model.maxSourcePositions() + " positions");
            }
        }
        int start = decoderStartId(config);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) prompts.add(new int[] {start});
        CausalLM decoder = model.decoder(sources);
        List<GenerationResult> out = new Generator(decoder, tokenText).generate(prompts, config, listener);
        List<GenerationResult> results = new ArrayList<>(out.size());
        for (GenerationResult r : out) {
            results.add(new GenerationResult(r.prompt(), r.tokens(), r.stopReason(), r.stopString(), sources.get(r.prompt()).length,
                    r.score()));
        }
        return results;
    }
}
