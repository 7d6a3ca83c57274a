package dev.attn4j.tokenizers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Trains a tokenizer from text and writes it as a Hugging Face {@code tokenizer.json}, which this
 * package and Hugging Face's {@code tokenizers} both load:
 * <ul>
 * <li>{@link ModelType#BPE}: {@link BpeTrainer} (the merges Hugging Face's {@code BpeTrainer}
 *     computes on the same words);</li>
 * <li>{@link ModelType#UNIGRAM}: {@link UnigramTrainer} (SentencePiece's EM and pruning);</li>
 * </ul>
 * over words pre-tokenized {@link PreTokenization#BYTE_LEVEL byte-level} (GPT-2's split regex and
 * byte alphabet: every input encodes, no unknown token) or {@link PreTokenization#METASPACE Metaspace}
 * (SentencePiece style: spaces become {@code ▁}, prepended to every word; characters not seen
 * in training map to the unknown token). Each text (e.g. one line of a file, without its line end)
 * is one sequence, as {@code tokenizer.train_from_iterator(lines, trainer)}; the special tokens
 * take the first ids, in order. The JSON has the tokenizer's normalizer, pre-tokenizer, model and
 * matching decoder, no post-processor (callers add BOS/EOS themselves).
 */
public final class TokenizerTrainer {
    private TokenizerTrainer() {
    }

    /** The model to train. */
    public enum ModelType {
        BPE, UNIGRAM;

        public static ModelType byName(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "bpe" -> BPE;
                case "unigram" -> UNIGRAM;
                default -> throw new IllegalArgumentException("unknown tokenizer type '" + s + "'; expected bpe or unigram");
            };
        }
    }

    /** How text is split into words before the model sees it. */
    public enum PreTokenization {
        BYTE_LEVEL, METASPACE;

        public static PreTokenization byName(String s) {
            return switch (s.toLowerCase(Locale.ROOT).replace('_', '-')) {
                case "byte-level", "bytelevel" -> BYTE_LEVEL;
                case "metaspace" -> METASPACE;
                default -> throw new IllegalArgumentException("unknown pre-tokenizer '" + s + "'; expected byte-level or metaspace");
            };
        }
    }

    /** Normalization before pre-tokenization. */
    public enum Normalization {
        NONE, NFC, NFKC, LOWERCASE;

        public static Normalization byName(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown normalizer '" + s + "'; expected none, nfc, nfkc or lowercase");
            }
        }
    }

    /**
     * Training settings.
     *
     * @param type            BPE or Unigram
     * @param vocabSize       target vocabulary size, special tokens included (BPE stops earlier
     *                        when no pair is left)
     * @param preTokenization byte-level or Metaspace
     * @param normalization   normalizer
     * @param specialTokens   special tokens, given the first ids in this order
     * @param unkToken        the unknown token (Metaspace BPE and Unigram), or null; with Unigram it
     *                        is added in front when it is not a special token
     * @param addPrefixSpace  byte-level only: a space is added in front of each sequence (so the first
     *                        word is tokenized as the others)
     * @param minFrequency    BPE: the least count a pair needs to be merged
     * @param limitAlphabet   BPE: the most characters kept in the alphabet (null: all)
     */
    public record Options(ModelType type, int vocabSize, PreTokenization preTokenization, Normalization normalization,
                          List<String> specialTokens, String unkToken, boolean addPrefixSpace, long minFrequency,
                          Integer limitAlphabet) {
        public Options {
            if (type == null || preTokenization == null || normalization == null) {
                throw new IllegalArgumentException("tokenizer training: type, pre-tokenization and normalization are required");
            }
            specialTokens = List.copyOf(specialTokens);
            if (new LinkedHashSet<>(specialTokens).size() != specialTokens.size()) {
                throw new IllegalArgumentException("tokenizer training: special tokens repeat: " + specialTokens);
            }
            for (String s : specialTokens) {
                if (s.isEmpty()) throw new IllegalArgumentException("tokenizer training: empty special token");
            }
            int floor = specialTokens.size() + (preTokenization == PreTokenization.BYTE_LEVEL && type == ModelType.BPE ? 256 : 1);
            if (vocabSize < floor) {
                throw new IllegalArgumentException("tokenizer training: vocab size " + vocabSize + " is too small (at least " + floor
                        + " for " + specialTokens.size() + " special tokens" + (floor > specialTokens.size() + 1 ? " and the 256 bytes" : "")
                        + ")");
            }
            if (minFrequency < 0) throw new IllegalArgumentException("tokenizer training: min frequency must be >= 0");
            if (limitAlphabet != null && limitAlphabet < 1) throw new IllegalArgumentException("tokenizer training: limit alphabet must be >= 1");
            if (type == ModelType.UNIGRAM && unkToken == null) {
                throw new IllegalArgumentException("tokenizer training: a unigram model needs an unknown token");
            }
        }

        /**
         * The defaults for a translation vocabulary: special tokens {@code <pad> <s> </s> <unk>}
         * (ids 0-3), byte-level pre-tokenization without normalization for BPE, Metaspace with NFKC
         * for Unigram.
         */
        public static Options defaults(ModelType type, int vocabSize) {
            boolean bpe = type == ModelType.BPE;
            return new Options(type, vocabSize, bpe ? PreTokenization.BYTE_LEVEL : PreTokenization.METASPACE,
                    bpe ? Normalization.NONE : Normalization.NFKC, List.of("<pad>", "<s>", "</s>", "<unk>"), "<unk>", false, 0, null);
        }

        public Options withPreTokenization(PreTokenization p) {
            return new Options(type, vocabSize, p, normalization, specialTokens, unkToken, addPrefixSpace, minFrequency, limitAlphabet);
        }

        public Options withNormalization(Normalization n) {
            return new Options(type, vocabSize, preTokenization, n, specialTokens, unkToken, addPrefixSpace, minFrequency, limitAlphabet);
        }

        public Options withSpecialTokens(List<String> specials, String unk) {
            return new Options(type, vocabSize, preTokenization, normalization, specials, unk, addPrefixSpace, minFrequency, limitAlphabet);
        }

        public Options withBpe(boolean prefixSpace, long minFreq, Integer limit) {
            return new Options(type, vocabSize, preTokenization, normalization, specialTokens, unkToken, prefixSpace, minFreq, limit);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Trains on {@code texts} and returns the {@code tokenizer.json} text. */
    public static String trainJson(Iterable<String> texts, Options o) {
        ObjectNode root = skeleton(o);
        Tokenizer pipeline = TokenizerJson.parse(withModel(root, emptyModel()).toString());
        Map<String, Long> words = new HashMap<>();
        for (String text : texts) {
            PreTokenizedString p = pipeline.added.extractAndNormalize(pipeline.normalizer, text);
            if (pipeline.preTokenizer != null) pipeline.preTokenizer.preTokenize(p);
            for (PreTokenizedString.Split s : p.splits) {
                if (s.tokens == null) words.merge(s.normalized.get(), 1L, Long::sum);
            }
        }
        ObjectNode model = o.type() == ModelType.BPE ? bpeModel(words, o) : unigramModel(words, o);
        try {
            return JSON.writer().with(SerializationFeature.INDENT_OUTPUT).writeValueAsString(withModel(root, model));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Trains on {@code texts} and returns the tokenizer (as loaded from the JSON it would write). */
    public static Tokenizer train(Iterable<String> texts, Options o) {
        return Tokenizer.fromJson(trainJson(texts, o));
    }

    private static String unkOrNull(Options o) {
        return o.unkToken() != null && o.specialTokens().contains(o.unkToken()) ? o.unkToken() : null;
    }

    private static ObjectNode bpeModel(Map<String, Long> words, Options o) {
        boolean byteLevel = o.preTokenization() == PreTokenization.BYTE_LEVEL;
        BpeTrainer.Result r = BpeTrainer.train(words, o.vocabSize(), o.minFrequency(), o.specialTokens(),
                byteLevel ? BpeTrainer.byteLevelAlphabet() : List.of(), o.limitAlphabet());
        ObjectNode m = JSON.createObjectNode();
        m.put("type", "BPE");
        m.putNull("dropout");
        String unk = byteLevel ? null : unkOrNull(o);
        if (unk == null) m.putNull("unk_token");
        else m.put("unk_token", unk);
        m.putNull("continuing_subword_prefix");
        m.putNull("end_of_word_suffix");
        m.put("fuse_unk", false);
        m.put("byte_fallback", false);
        m.put("ignore_merges", false);
        ObjectNode vocab = m.putObject("vocab");
        for (int i = 0; i < r.vocab().size(); i++) vocab.put(r.vocab().get(i), i);
        ArrayNode merges = m.putArray("merges");
        for (String[] mg : r.merges()) merges.addArray().add(mg[0]).add(mg[1]);
        return m;
    }

    private static ObjectNode unigramModel(Map<String, Long> words, Options o) {
        UnigramTrainer.Result r = UnigramTrainer.train(words, UnigramTrainer.Options.defaults(o.vocabSize()), o.specialTokens(),
                o.unkToken(), List.of());
        ObjectNode m = JSON.createObjectNode();
        m.put("type", "Unigram");
        m.put("unk_id", r.unkId());
        ArrayNode vocab = m.putArray("vocab");
        for (int i = 0; i < r.pieces().size(); i++) vocab.addArray().add(r.pieces().get(i)).add(r.scores()[i]);
        m.put("byte_fallback", false);
        return m;
    }

    private static ObjectNode emptyModel() {
        ObjectNode m = JSON.createObjectNode();
        m.put("type", "BPE");
        m.putObject("vocab");
        m.putArray("merges");
        return m;
    }

    /** Everything but the model, in the key order Hugging Face writes. */
    private static ObjectNode skeleton(Options o) {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < o.specialTokens().size(); i++) {
            ObjectNode t = added.addObject();
            t.put("id", i);
            t.put("content", o.specialTokens().get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
        }
        if (o.type() == ModelType.UNIGRAM && !o.specialTokens().contains(o.unkToken())) {
            // the unknown token goes in front: shift the ids
            for (int i = 0; i < added.size(); i++) ((ObjectNode) added.get(i)).put("id", i + 1);
        }
        switch (o.normalization()) {
            case NONE -> root.putNull("normalizer");
            case NFC -> root.putObject("normalizer").put("type", "NFC");
            case NFKC -> root.putObject("normalizer").put("type", "NFKC");
            case LOWERCASE -> root.putObject("normalizer").put("type", "Lowercase");
        }
        if (o.preTokenization() == PreTokenization.BYTE_LEVEL) {
            ObjectNode p = root.putObject("pre_tokenizer");
            p.put("type", "ByteLevel");
            p.put("add_prefix_space", o.addPrefixSpace());
            p.put("trim_offsets", true);
            p.put("use_regex", true);
            root.putNull("post_processor");
            ObjectNode d = root.putObject("decoder");
            d.put("type", "ByteLevel");
            d.put("add_prefix_space", true);
            d.put("trim_offsets", true);
            d.put("use_regex", true);
        } else {
            for (String key : new String[] {"pre_tokenizer", "post_processor", "decoder"}) {
                if (key.equals("post_processor")) {
                    root.putNull(key);
                    continue;
                }
                ObjectNode p = root.putObject(key);
                p.put("type", "Metaspace");
                p.put("replacement", "\u2581");
                p.put("prepend_scheme", "always");
                p.put("split", true);
            }
        }
        return root;
    }

    private static ObjectNode withModel(ObjectNode skeleton, ObjectNode model) {
        ObjectNode copy = skeleton.deepCopy();
        copy.set("model", model);
        return copy;
    }
}
