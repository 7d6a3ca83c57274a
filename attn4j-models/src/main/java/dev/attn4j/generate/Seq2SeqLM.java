package dev.attn4j.generate;

import java.util.List;

/**
 * What generation needs from an encoder-decoder model (transformers' {@code *ForConditionalGeneration}):
 * the sources encoded once, and a decoder over them that generation drives as it drives a
 * {@link CausalLM}. Implemented by the families in {@code dev.attn4j.models} (Marian, T5, BART, mBART).
 */
public interface Seq2SeqLM extends AutoCloseable {
    /** Number of logits per decoder position. */
    int vocabSize();

    /** Longest source the encoder takes ({@code Integer.MAX_VALUE}: no limit, e.g. T5's relative positions). */
    int maxSourcePositions();

    /**
     * Encodes {@code sources} (token ids as the tokenizer gives them, EOS included; padded here with
     * the model's pad id and masked, as a right-padded batch with its {@code attention_mask}) and
     * returns the decoder bound to them, seen as a causal LM whose prompts are the decoder inputs
     * ({@code decoder_input_ids}). Its {@link CausalLM#newCache newCache(rows, capacity)} takes
     * rows that are a multiple m of the number of sources: row r decodes source r / m
     * (transformers' {@code expand} of the encoder outputs for beams and returned sequences).
     */
    CausalLM decoder(List<int[]> sources);

    @Override
    default void close() {
    }
}
