package dev.attn4j.tokenizers;

/**
 * A token matched in the input before the model runs (tokenizer.json "added_tokens").
 *
 * @param id          its id
 * @param content     the text it matches
 * @param singleWord  match only when not inside a word
 * @param lstrip      also swallow whitespace on its left
 * @param rstrip      also swallow whitespace on its right
 * @param normalized  match against the normalized text (else the raw input)
 * @param special     a special token (skipped by decode with skipSpecialTokens)
 */
public record AddedToken(int id, String content, boolean singleWord, boolean lstrip, boolean rstrip,
        boolean normalized, boolean special) {
}
