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
 *
 * <p>Beyond {@code tokenizer.json}: {@link dev.attn4j.tokenizers.Tokenizer#fromDirectory} also
 * reads GPT-2's {@code vocab.json} + {@code merges.txt} and SentencePiece model files (a protobuf
 * {@code ModelProto}, read by {@code SentencePiece}); {@link dev.attn4j.tokenizers.StreamingDecoder}
 * turns generated ids into text as they come, holding back incomplete UTF-8; and
 * {@link dev.attn4j.tokenizers.ChatTemplate} renders {@code tokenizer_config.json} chat templates
 * with Jinjava set up to behave as transformers' jinja2 environment ({@code PyJinja}, {@code Py}).
 */
package dev.attn4j.tokenizers;
