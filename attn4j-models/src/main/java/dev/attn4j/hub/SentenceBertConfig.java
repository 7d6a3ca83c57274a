package dev.attn4j.hub;

import java.util.OptionalInt;

/**
 * A sentence-transformers {@code sentence_bert_config.json}.
 *
 * @param maxSeqLength  longest input in tokens, when given
 * @param doLowerCase   whether inputs are lower-cased before tokenizing (default false)
 */
public record SentenceBertConfig(OptionalInt maxSeqLength, boolean doLowerCase) {
}
