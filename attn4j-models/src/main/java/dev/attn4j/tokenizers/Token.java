package dev.attn4j.tokenizers;

/** A model output token: id, string value and [start, end) in its split (UTF-16 units). */
record Token(int id, String value, int start, int end) {
}
