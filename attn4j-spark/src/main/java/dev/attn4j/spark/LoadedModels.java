package dev.attn4j.spark;

import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.sentence.SentenceTokenizer;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.Truncation;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models of this JVM (an executor, or the driver), loaded once on first use and kept for
 * the JVM's life: every task of the executor shares one copy, whose weights are memory-mapped.
 * Keyed by what is loaded and the model directory's real path. A failed load is not kept, so a
 * retried task tries again.
 */
final class LoadedModels {
    private LoadedModels() {
    }

    /** A sequence classifier with the tokenizer {@code attn4j classify} gives it (truncated to the model's positions, at most 512). */
    record Classifier(EncoderClassifier model, Tokenizer tokenizer, int maxLength) {
    }

    private static final ConcurrentHashMap<String, Lazy<?>> MODELS = new ConcurrentHashMap<>();

    /** The sentence-transformers pipeline of {@code dir}. */
    static SentenceTransformer sentenceTransformer(Path dir) {
        return get("sentence-transformer", dir, () -> SentenceTransformer.load(dir));
    }

    /** The sentence-transformers tokenizer of {@code dir} (no weights). */
    static SentenceTokenizer sentenceTokenizer(Path dir) {
        return get("sentence-tokenizer", dir, () -> SentenceTokenizer.load(dir));
    }

    /** The *ForSequenceClassification model of {@code dir} and its tokenizer.json. */
    static Classifier classifier(Path dir) {
        return get("classifier", dir, () -> {
            Path tokFile = dir.resolve("tokenizer.json");
            if (!Files.isRegularFile(tokFile)) throw new IOException(dir + ": no tokenizer.json");
            EncoderClassifier m = EncoderClassifiers.load(dir);
            if (m.tokenLevel()) {
                m.close();
                throw new IOException(dir + ": " + m.architecture() + " labels tokens; TextClassifier needs a *ForSequenceClassification model");
            }
            int max = Math.min(512, m.config().maxInputLength());
            Tokenizer tok = Tokenizer.fromFile(tokFile).withTruncation(Truncation.of(max)).withPadding(null);
            return new Classifier(m, tok, max);
        });
    }

    /** Loads what {@code kind} names from {@code dir}. */
    @FunctionalInterface
    private interface Loader<T> {
        T load() throws IOException;
    }

    @SuppressWarnings("unchecked")
    private static <T> T get(String kind, Path dir, Loader<T> loader) {
        String key = kind + ":" + dir.toAbsolutePath().normalize();
        Lazy<T> lazy = (Lazy<T>) MODELS.computeIfAbsent(key, k -> new Lazy<>(loader));
        try {
            return lazy.get();
        } catch (RuntimeException e) {
            MODELS.remove(key, lazy);
            throw e;
        }
    }

    /** A value made on first {@link #get}; concurrent callers wait for the one load. */
    private static final class Lazy<T> {
        private final Loader<T> loader;
        private T value;

        Lazy(Loader<T> loader) {
            this.loader = loader;
        }

        synchronized T get() {
            if (value == null) {
                try {
                    value = loader.load();
                } catch (IOException e) {
                    throw new UncheckedIOException(e.getMessage(), e);
                }
            }
            return value;
        }
    }
}
