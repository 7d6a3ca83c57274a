/**
 * Hugging Face {@code tokenizer.json} tokenizers in pure Java, with the same output as the Rust
 * {@code tokenizers} library: {@link dev.attn4j.tokenizers.Tokenizer} loads a file and encodes
 * text to an {@link dev.attn4j.tokenizers.Encoding} (ids, tokens, offsets, masks, type and word
 * ids) and decodes ids back to text.
 *
 * <p>The pipeline is the library's: added tokens are matched first, the text between them is
 * normalized (keeping the alignment of every normalized char to the input), pre-tokenized into
 * words, tokenized by the model (WordPiece, BPE or Unigram), truncated, post-processed (special
 * tokens, type ids) and padded. Where the Rust library's Unicode data differs from the JDK's,
 * {@code RustUnicodeTables} records the difference, measured against the library itself.
 */
package dev.attn4j.tokenizers;
