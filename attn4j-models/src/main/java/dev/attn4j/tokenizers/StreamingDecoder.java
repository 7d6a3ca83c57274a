package dev.attn4j.tokenizers;

import java.util.Arrays;

/**
 * Decodes token ids one at a time as a model generates them, returning the text each id
 * completes. Bytes of a UTF-8 sequence that is not complete yet (a byte-level BPE token holding
 * the first bytes of an emoji, a SentencePiece {@code <0xE2>} byte-fallback piece) are held back
 * until the sequence completes, so every piece is whole characters; the model's decoder runs as
 * {@link Tokenizer#decode} does (SentencePiece's {@code ▁} as a space, no leading space at the
 * start), and the concatenation of all pieces and {@link #flush()} equals {@code decode} of all
 * the ids.
 *
 * <p>It decodes a sliding window of ids, as Hugging Face's text-generation-inference does: the
 * text of the window up to the last emitted id is compared with the text including the new ids,
 * and the difference is returned once it no longer ends in U+FFFD (an incomplete sequence).
 * Not thread-safe: one instance per generated sequence.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private int[] ids = new int[64];
    private int size;
    /** Start of the window: ids before it are decoded for good. */
    private int prefixOffset;
    /** End of the ids whose text has been returned. */
    private int readOffset;

    /** A decoder that skips special tokens, as {@link Tokenizer#decode(int[])}. */
    public StreamingDecoder(Tokenizer tokenizer) {
        this(tokenizer, true);
    }

    public StreamingDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = java.util.Objects.requireNonNull(tokenizer, "tokenizer");
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /**
     * Adds one id and returns the text it completes: "" while it only adds bytes of an incomplete
     * character (or decodes to nothing, as a skipped special token).
     */
    public String next(int id) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
        }
        ids[size++] = id;
        String prefix = decode(prefixOffset, readOffset);
        String text = decode(prefixOffset, size);
        if (text.length() > prefix.length() && !text.endsWith("\uFFFD") && text.startsWith(prefix)) {
            prefixOffset = readOffset;
            readOffset = size;
            return text.substring(prefix.length());
        }
        return "";
    }

    /**
     * Returns the text of the ids still held back (an incomplete UTF-8 sequence at the end decodes
     * to U+FFFD, as {@link Tokenizer#decode} gives it) and starts a new sequence.
     */
    public String flush() {
        String prefix = decode(prefixOffset, readOffset);
        String text = decode(prefixOffset, size);
        String rest = text.startsWith(prefix) ? text.substring(prefix.length()) : text;
        reset();
        return rest;
    }

    /** Forgets all ids: the next id starts a new text. */
    public void reset() {
        size = 0;
        prefixOffset = 0;
        readOffset = 0;
    }

    /** Number of ids given since the last reset or flush. */
    public int length() {
        return size;
    }

    private String decode(int from, int to) {
        if (from == to) {
            return "";
        }
        return tokenizer.decode(Arrays.copyOfRange(ids, from, to), skipSpecialTokens);
    }
}
