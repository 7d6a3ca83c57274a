/**
 * sentence-transformers pipelines run from a model's own files: {@link
 * dev.attn4j.models.sentence.SentenceTransformer} (Transformer, Pooling, Normalize from
 * {@code modules.json}) and its text stage {@link dev.attn4j.models.sentence.SentenceTokenizer}.
 */
package dev.attn4j.models.sentence;
