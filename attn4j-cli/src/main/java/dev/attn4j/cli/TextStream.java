package dev.attn4j.cli;

import dev.attn4j.tokenizers.Tokenizer;

import java.util.Arrays;

/**
 * The text of generated tokens as they come, one stream per sequence: each {@link #next} returns
 * the text the new id completes, holding back bytes of an unfinished UTF-8 character (shown as
 * U+FFFD by the decoder) until it completes, so that the pieces and {@link #flush} concatenate
 * to the decode of all ids (special tokens skipped).
 */
final class TextStream {
    private final Tokenizer tokenizer;
    private int[] ids = new int[16];
    private int size;
    private String emitted = "";

    TextStream(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    String next(int id) {
        if (size == ids.length) ids = Arrays.copyOf(ids, size * 2);
        ids[size++] = id;
        String text = tokenizer.decode(Arrays.copyOf(ids, size), true);
        if (text.endsWith("\uFFFD") || !text.startsWith(emitted)) return "";
        String piece = text.substring(emitted.length());
        emitted = text;
        return piece;
    }

    /** The rest of the text (what was held back) ; the stream then starts over. */
    String flush() {
        String text = tokenizer.decode(Arrays.copyOf(ids, size), true);
        String rest = text.startsWith(emitted) ? text.substring(emitted.length()) : "";
        size = 0;
        emitted = "";
        return rest;
    }
}
