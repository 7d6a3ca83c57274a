package dev.attn4j.serve;

import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tokenizers.ChatTemplate;
import dev.attn4j.tokenizers.Tokenizer;

import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A model the server answers for, under its {@link #id()} (the Hub id, or a local directory's
 * name). The server owns it: {@link #close()} is called when the server stops.
 */
public sealed interface ServedModel extends AutoCloseable {
    /** The id requests name it by. */
    String id();

    /** What it does: "embedding", "chat", "classifier" or "seq2seq" (the {@code /v1/models} "kind"). */
    String kind();

    /** Longest input it reads, in tokens. */
    int maxInputTokens();

    @Override
    void close();

    /** A sentence-transformers pipeline: {@code /v1/embeddings}. */
    record Embedding(String id, SentenceTransformer pipeline) implements ServedModel {
        @Override
        public String kind() {
            return "embedding";
        }

        @Override
        public int maxInputTokens() {
            return pipeline.maxSeqLength();
        }

        @Override
        public void close() {
            pipeline.close();
        }
    }

    /**
     * A decoder-only LM: {@code /v1/completions} (needs the tokenizer for text prompts) and
     * {@code /v1/chat/completions} (needs the chat template too).
     *
     * @param tokenizer  its tokenizer, or null
     * @param template   its chat template, or null
     * @param generation the model's generation_config.json defaults
     */
    record Chat(String id, CausalDecoder model, Tokenizer tokenizer, ChatTemplate template, GenerationConfig generation)
            implements ServedModel {
        @Override
        public String kind() {
            return "chat";
        }

        @Override
        public int maxInputTokens() {
            return model.config().maxPositionEmbeddings();
        }

        @Override
        public void close() {
            model.close();
        }
    }

    /**
     * A sequence classifier: {@code /v1/classify}, and attention with token attributions.
     *
     * @param tokenizer its tokenizer with the truncation {@code classify} uses, no padding
     * @param lock      inference takes the read lock; attributions (which switch the model's
     *                  gradient state for the call) take the write lock
     */
    record Classifier(String id, EncoderClassifier model, Tokenizer tokenizer, int maxLength, ReentrantReadWriteLock lock)
            implements ServedModel {
        public Classifier(String id, EncoderClassifier model, Tokenizer tokenizer, int maxLength) {
            this(id, model, tokenizer, maxLength, new ReentrantReadWriteLock());
        }

        @Override
        public String kind() {
            return "classifier";
        }

        @Override
        public int maxInputTokens() {
            return maxLength;
        }

        @Override
        public void close() {
            model.close();
        }
    }

    /**
     * An encoder-decoder checkpoint written by {@code attn4j train} (character vocabulary):
     * {@code /attention} with {@code source} (and optionally {@code target}) shows its
     * cross-attention.
     */
    record Seq2Seq(String id, Seq2SeqModel<?> model, CharVocab vocab) implements ServedModel {
        @Override
        public String kind() {
            return "seq2seq";
        }

        @Override
        public int maxInputTokens() {
            return model.config().maxSourceLen();
        }

        @Override
        public void close() {
        }
    }
}
