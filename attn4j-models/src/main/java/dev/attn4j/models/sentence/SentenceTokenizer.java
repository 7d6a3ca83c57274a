package dev.attn4j.models.sentence;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.hub.SentenceBertConfig;
import dev.attn4j.hub.SentenceTransformerModule;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.tokenizers.Encoding;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.TokenizerException;
import dev.attn4j.tokenizers.Truncation;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The text-to-ids stage of a sentence-transformers pipeline: {@code tokenizer.json} of the
 * Transformer module with its truncation ({@code max_seq_length} of
 * {@code sentence_bert_config.json}, else the smaller of the tokenizer's
 * {@code model_max_length} and the position table) and {@code do_lower_case}. Needs
 * {@code config.json} but not the weights.
 */
public final class SentenceTokenizer {
    private final Tokenizer tokenizer;
    private final int maxSeqLength;
    private final boolean lowerCase;
    private final BertConfig config;

    private SentenceTokenizer(Tokenizer tokenizer, int maxSeqLength, boolean lowerCase, BertConfig config) {
        this.tokenizer = tokenizer;
        this.maxSeqLength = maxSeqLength;
        this.lowerCase = lowerCase;
        this.config = config;
    }

    /** The tokenizer of the model directory {@code dir}. */
    public static SentenceTokenizer load(Path dir) throws IOException {
        return load(ModelDirectory.of(dir));
    }

    /** The tokenizer of {@code dir} (of its Transformer module's folder when modules.json names one). */
    public static SentenceTokenizer load(ModelDirectory dir) throws IOException {
        ModelDirectory td = transformerDirectory(dir);
        BertConfig config = BertConfig.fromJson(td.config(), td.requireFile(ModelDirectory.CONFIG));
        Path file = td.requireFile("tokenizer.json");
        Tokenizer tok;
        try {
            tok = Tokenizer.fromFile(file);
        } catch (TokenizerException e) {
            String msg = e.getMessage();
            String prefix = file + ": ";
            throw new ModelDirectoryException(file, msg.startsWith(prefix) ? msg.substring(prefix.length()) : msg, e);
        }
        Optional<SentenceBertConfig> sb = td.sentenceBertConfig();
        int positions = config.maxInputLength();
        int max = positions;
        if (sb.isPresent() && sb.get().maxSeqLength().isPresent()) {
            max = Math.min(sb.get().maxSeqLength().getAsInt(), positions);
        } else if (td.has("tokenizer_config.json")) {
            JsonNode v = td.readJson("tokenizer_config.json").get("model_max_length");
            if (v != null && v.isNumber() && v.asDouble() > 0 && v.asDouble() < 1e7) max = Math.min(max, v.asInt());
        }
        boolean lower = sb.isPresent() && sb.get().doLowerCase();
        return new SentenceTokenizer(tok.withTruncation(Truncation.of(max)).withPadding(null), max, lower, config);
    }

    /** The folder of the pipeline's Transformer module: {@code dir} itself unless modules.json gives it a path. */
    static ModelDirectory transformerDirectory(ModelDirectory dir) throws IOException {
        Optional<List<SentenceTransformerModule>> mods = dir.modules();
        if (mods.isEmpty()) return dir;
        Path file = dir.requireFile(ModelDirectory.MODULES);
        List<SentenceTransformerModule> m = mods.get();
        if (m.isEmpty() || !m.get(0).simpleType().equals("Transformer")) {
            throw new ModelDirectoryException(file, "the first module must be a sentence_transformers.models.Transformer, found "
                    + (m.isEmpty() ? "no modules" : "'" + m.get(0).type() + "'"));
        }
        return m.get(0).path().isEmpty() ? dir : ModelDirectory.of(dir.path().resolve(m.get(0).path()));
    }

    /** The ids, tokens and type ids the model is fed for {@code text}: special tokens added, truncated. */
    public Encoding encode(String text) {
        if (text == null) throw new IllegalArgumentException("text is null");
        return tokenizer.encode(cased(text), true);
    }

    /**
     * The same pipeline truncating to {@code maxSeqLength} tokens instead, special tokens included
     * (1 to {@link BertConfig#maxInputLength()} of the model).
     */
    public SentenceTokenizer withMaxSeqLength(int maxSeqLength) {
        if (maxSeqLength < 1 || maxSeqLength > config.maxInputLength()) {
            throw new IllegalArgumentException("max length must be 1 to " + config.maxInputLength()
                    + " (the model's position table), got " + maxSeqLength);
        }
        return new SentenceTokenizer(tokenizer.withTruncation(Truncation.of(maxSeqLength)), maxSeqLength, lowerCase, config);
    }

    /**
     * Tokens of {@code text} before truncation, special tokens included: what the pipeline would
     * feed the model without a length limit (more than {@link #maxSeqLength()} means it truncates).
     */
    public int countTokens(String text) {
        if (text == null) throw new IllegalArgumentException("text is null");
        Tokenizer whole = untruncated;
        if (whole == null) untruncated = whole = tokenizer.withTruncation(null);
        return whole.encode(cased(text), true).length();
    }

    /** {@code text} lower-cased when the pipeline says so (do_lower_case). */
    private String cased(String text) {
        return lowerCase ? text.toLowerCase(Locale.ROOT) : text;
    }

    /** {@link #tokenizer} without truncation, made on first use of {@link #countTokens} (a racy copy is harmless). */
    private volatile Tokenizer untruncated;

    /** The underlying tokenizer, with the pipeline's truncation and no padding. */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Longest input in tokens, special tokens included. */
    public int maxSeqLength() {
        return maxSeqLength;
    }

    /** Whether texts are lower-cased before tokenizing (sentence_bert_config's do_lower_case). */
    public boolean lowerCases() {
        return lowerCase;
    }

    /** The model configuration read alongside. */
    public BertConfig config() {
        return config;
    }
}
