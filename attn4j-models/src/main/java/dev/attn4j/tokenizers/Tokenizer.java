package dev.attn4j.tokenizers;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A Hugging Face tokenizer loaded from a {@code tokenizer.json} file: normalizer, pre-tokenizer,
 * model (WordPiece, BPE or Unigram), post-processor and decoder, added tokens, truncation and
 * padding, producing the same output as the Rust {@code tokenizers} library. Repositories without
 * a {@code tokenizer.json} load too ({@link #fromDirectory}): GPT-2's {@code vocab.json} +
 * {@code merges.txt} and SentencePiece {@code tokenizer.model} files (BPE and Unigram), read in
 * pure Java. {@link StreamingDecoder} decodes generated ids as they come; {@link ChatTemplate}
 * renders a model's chat template.
 *
 * <p>Instances are immutable and thread-safe; {@link #withTruncation} and {@link #withPadding}
 * return modified copies.
 */
public final class Tokenizer {
    final Normalizers.Normalizer normalizer;
    final PreTokenizers.PreTokenizer preTokenizer;
    final Models.Model model;
    final PostProcessors.PostProcessor postProcessor;
    final Decoders.Decoder decoder;
    final AddedVocabulary added;
    private final Truncation truncation;
    private final Padding padding;

    Tokenizer(Normalizers.Normalizer normalizer, PreTokenizers.PreTokenizer preTokenizer, Models.Model model,
            PostProcessors.PostProcessor postProcessor, Decoders.Decoder decoder, AddedVocabulary added,
            Truncation truncation, Padding padding) {
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.added = added;
        this.truncation = truncation;
        this.padding = padding;
    }

    /** Loads a {@code tokenizer.json} file. */
    public static Tokenizer fromFile(Path path) throws IOException {
        String json;
        try {
            json = Files.readString(path, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read tokenizer file " + path + ": " + e.getMessage(), e);
        }
        try {
            return TokenizerJson.parse(json);
        } catch (TokenizerException e) {
            throw new TokenizerException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Loads the tokenizer of a model directory, as Hugging Face's {@code AutoTokenizer} would find
     * it: {@code tokenizer.json} if present; else GPT-2's {@code vocab.json} + {@code merges.txt}
     * ({@link #fromGpt2Files}, or as {@code BartTokenizerFast} / {@code RobertaTokenizerFast} with
     * {@code <s> $A </s>} when {@code tokenizer_config.json}'s {@code tokenizer_class} names one); else Marian's {@code source.spm} ({@link #fromMarianFiles}); else T5's
     * {@code spiece.model} ({@link #fromT5SentencePiece}); else a SentencePiece {@code tokenizer.model}
     * ({@link #fromSentencePiece(Path, boolean, boolean)}), adding {@code <s>} / {@code </s>} as
     * {@code tokenizer_config.json}'s {@code add_bos_token} / {@code add_eos_token} say
     * (LlamaTokenizer's defaults when absent: bos yes, eos no).
     *
     * @throws TokenizerException when the directory holds none of these, naming what was looked for
     */
    public static Tokenizer fromDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new TokenizerException(dir + ": not a directory");
        }
        Path json = dir.resolve("tokenizer.json");
        if (Files.isRegularFile(json)) {
            return fromFile(json);
        }
        Path vocab = dir.resolve("vocab.json");
        Path merges = dir.resolve("merges.txt");
        if (Files.isRegularFile(vocab) && Files.isRegularFile(merges)) {
            Path config = dir.resolve("tokenizer_config.json");
            String cls = Files.isRegularFile(config) ? TokenizerConfig.readJson(config).path("tokenizer_class").asText("") : "";
            if (cls.startsWith("Bart") || cls.startsWith("Roberta")) {
                return fromBartFiles(vocab, merges);
            }
            return fromGpt2Files(vocab, merges);
        }
        if (Files.isRegularFile(dir.resolve("source.spm"))) {
            return fromMarianFiles(dir);
        }
        Path spiece = dir.resolve("spiece.model");
        if (Files.isRegularFile(spiece)) {
            return fromT5SentencePiece(spiece);
        }
        Path spm = dir.resolve("tokenizer.model");
        if (Files.isRegularFile(spm)) {
            boolean bos = true;
            boolean eos = false;
            Path config = dir.resolve("tokenizer_config.json");
            if (Files.isRegularFile(config)) {
                com.fasterxml.jackson.databind.JsonNode c = TokenizerConfig.readJson(config);
                bos = TokenizerConfig.bool(c, "add_bos_token", config, bos);
                eos = TokenizerConfig.bool(c, "add_eos_token", config, eos);
            }
            return fromSentencePiece(spm, bos, eos);
        }
        throw new TokenizerException(dir + ": no tokenizer found: expected tokenizer.json, vocab.json with merges.txt,"
                + " source.spm with target.spm and vocab.json (Marian), spiece.model (T5) or tokenizer.model");
    }

    /**
     * Loads the Marian layout ({@code source.spm}, {@code target.spm}, {@code vocab.json},
     * {@code tokenizer_config.json}) as transformers' {@code MarianTokenizer}: source pieces mapped to
     * {@code vocab.json} ids, a leading {@code >>lang<<} code as one token, {@code </s>} appended;
     * {@link #decode} reads the ids as target pieces.
     */
    public static Tokenizer fromMarianFiles(Path dir) throws IOException {
        return MarianFiles.tokenizer(dir, false);
    }

    /**
     * The Marian tokenizer of the target side, as {@code MarianTokenizer(text_target=...)}: target
     * pieces ({@code target.spm}) mapped to the target vocabulary (labels for training).
     */
    public static Tokenizer fromMarianFilesTarget(Path dir) throws IOException {
        return MarianFiles.tokenizer(dir, true);
    }

    /**
     * Loads T5's {@code spiece.model} as transformers' slow {@code T5Tokenizer} (legacy mode):
     * SentencePiece pieces, {@code </s>} appended, {@code <extra_id_N>} sentinels
     * ({@code extra_ids} of {@code tokenizer_config.json}, default 100).
     */
    public static Tokenizer fromT5SentencePiece(Path spieceModel) throws IOException {
        return T5Files.tokenizer(spieceModel);
    }

    /** Loads GPT-2's {@code vocab.json} and {@code merges.txt}, as {@code GPT2TokenizerFast} does. */
    public static Tokenizer fromGpt2Files(Path vocabJson, Path mergesTxt) throws IOException {
        return Gpt2Files.tokenizer(read(vocabJson), vocabJson.toString(), read(mergesTxt), mergesTxt.toString());
    }

    /**
     * Loads {@code vocab.json} and {@code merges.txt} as {@code BartTokenizerFast} (and
     * {@code RobertaTokenizerFast}) builds them: GPT-2's byte-level BPE with {@code <s> $A </s>} and
     * the special tokens {@code <s>}, {@code <pad>}, {@code </s>}, {@code <unk>}, {@code <mask>}.
     */
    public static Tokenizer fromBartFiles(Path vocabJson, Path mergesTxt) throws IOException {
        return Gpt2Files.tokenizer(read(vocabJson), vocabJson.toString(), read(mergesTxt), mergesTxt.toString(), true);
    }

    /** Loads a SentencePiece model file with LlamaTokenizer's defaults: {@code <s>} in front, no {@code </s>}. */
    public static Tokenizer fromSentencePiece(Path modelFile) throws IOException {
        return fromSentencePiece(modelFile, true, false);
    }

    /**
     * Loads a SentencePiece model file ({@code tokenizer.model}, {@code *.spm}: BPE or Unigram),
     * encoding as SentencePiece does (dummy {@code ▁} prefix included, as Hugging Face's Llama
     * tokenizer keeps it), with {@code <s>} in front when {@code addBos} and {@code </s>} at the
     * end when {@code addEos} (when special tokens are added).
     */
    public static Tokenizer fromSentencePiece(Path modelFile, boolean addBos, boolean addEos) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(modelFile);
        } catch (IOException e) {
            throw new IOException("cannot read SentencePiece model " + modelFile + ": " + e.getMessage(), e);
        }
        String src = modelFile.toString();
        return SentencePiece.tokenizer(SentencePiece.read(bytes, src), src, addBos, addEos);
    }

    private static String read(Path p) throws IOException {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IOException("cannot read tokenizer file " + p + ": " + e.getMessage(), e);
        }
    }

    /** Parses the contents of a {@code tokenizer.json} file. */
    public static Tokenizer fromJson(String json) {
        return TokenizerJson.parse(json);
    }

    /** The truncation in force, or null. */
    public Truncation truncation() {
        return truncation;
    }

    /** The padding in force, or null. */
    public Padding padding() {
        return padding;
    }

    /** A copy of this tokenizer that truncates as given (null turns truncation off). */
    public Tokenizer withTruncation(Truncation t) {
        return new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added, t, padding);
    }

    /** A copy of this tokenizer that pads as given (null turns padding off). */
    public Tokenizer withPadding(Padding p) {
        return new Tokenizer(normalizer, preTokenizer, model, postProcessor, decoder, added, truncation, p);
    }

    /** Encodes one text with special tokens. */
    public Encoding encode(String text) {
        return encode(text, null, true);
    }

    /** Encodes one text, with or without the post-processor's special tokens. */
    public Encoding encode(String text, boolean addSpecialTokens) {
        return encode(text, null, addSpecialTokens);
    }

    /** Encodes a text pair with special tokens. */
    public Encoding encode(String text, String pair) {
        return encode(text, pair, true);
    }

    /** Encodes a text and an optional pair (null for none). */
    public Encoding encode(String text, String pair, boolean addSpecialTokens) {
        return encodeEnc(text, pair, addSpecialTokens).toEncoding();
    }

    /** Encodes texts with special tokens; batch padding applies across the batch. */
    public List<Encoding> encodeBatch(List<String> texts) {
        return encodeBatch(texts, true);
    }

    /** Encodes texts; batch padding applies across the batch. */
    public List<Encoding> encodeBatch(List<String> texts, boolean addSpecialTokens) {
        List<Enc> encs = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            if (t == null) {
                throw new IllegalArgumentException("encodeBatch: text " + i + " is null");
            }
            encs.add(encodeEnc(t, null, addSpecialTokens));
        }
        return padBatch(encs);
    }

    /** Encodes text pairs (each {@code String[2]}, the second may be null). */
    public List<Encoding> encodePairBatch(List<String[]> pairs, boolean addSpecialTokens) {
        List<Enc> encs = new ArrayList<>(pairs.size());
        for (String[] p : pairs) {
            encs.add(encodeEnc(p[0], p.length > 1 ? p[1] : null, addSpecialTokens));
        }
        return padBatch(encs);
    }

    private List<Encoding> padBatch(List<Enc> encs) {
        if (padding != null && !encs.isEmpty()) {
            int len = padLength(encs);
            for (int i = 0; i < encs.size(); i++) {
                encs.set(i, pad(encs.get(i), len));
            }
        }
        List<Encoding> out = new ArrayList<>(encs.size());
        for (Enc e : encs) {
            out.add(e.toEncoding());
        }
        return out;
    }

    private int padLength(List<Enc> encs) {
        int len;
        if (padding.isFixed()) {
            len = padding.fixedLength();
        } else {
            len = 0;
            for (Enc e : encs) {
                len = Math.max(len, e.length());
            }
        }
        int m = padding.padToMultipleOf();
        if (m > 0 && len % m > 0) {
            len += m - len % m;
        }
        return len;
    }

    private Enc pad(Enc e, int len) {
        return e.pad(len, padding.padId(), padding.padTypeId(), padding.padToken(),
                padding.direction() == Truncation.Direction.LEFT);
    }

    private Enc encodeEnc(String text, String pair, boolean addSpecialTokens) {
        if (text == null) {
            throw new IllegalArgumentException("encode: text is null");
        }
        Enc a = encodeSingle(text, 0);
        a.setSequenceId(0);
        Enc b = null;
        if (pair != null) {
            b = encodeSingle(pair, 1);
            b.setSequenceId(1);
        }
        if (truncation != null) {
            int nAdded = addSpecialTokens && postProcessor != null ? postProcessor.addedTokens(b != null) : 0;
            int max = Math.max(0, truncation.maxLength() - nAdded);
            Enc[] t = truncate(a, b, max);
            a = t[0];
            b = t[1];
        }
        List<Enc> parts = new ArrayList<>(2);
        parts.add(a);
        if (b != null) {
            parts.add(b);
        }
        Enc merged;
        if (postProcessor != null) {
            merged = Enc.merge(postProcessor.processEncodings(parts, addSpecialTokens));
        } else {
            merged = Enc.merge(parts);
        }
        if (padding != null) {
            merged = pad(merged, padLength(List.of(merged)));
        }
        return merged;
    }

    private Enc[] truncate(Enc a, Enc b, int max) {
        boolean left = truncation.direction() == Truncation.Direction.LEFT;
        if (max == 0) {
            return new Enc[] {a.truncate(0, left), b == null ? null : b.truncate(0, left)};
        }
        int total = a.length() + (b == null ? 0 : b.length());
        if (total <= max) {
            return new Enc[] {a, b};
        }
        int toRemove = total - max;
        switch (truncation.strategy()) {
            case LONGEST_FIRST -> {
                if (b == null) {
                    return new Enc[] {a.truncate(total - toRemove, left), null};
                }
                int n1 = a.length();
                int n2 = b.length();
                boolean swap = n1 > n2;
                if (swap) {
                    int t = n1;
                    n1 = n2;
                    n2 = t;
                }
                if (n1 > max) {
                    n2 = n1;
                } else {
                    n2 = Math.max(n1, max - n1);
                }
                if (n1 + n2 > max) {
                    n1 = max / 2;
                    n2 = n1 + max % 2;
                }
                if (swap) {
                    int t = n1;
                    n1 = n2;
                    n2 = t;
                }
                return new Enc[] {a.truncate(n1, left), b.truncate(n2, left)};
            }
            default -> {
                boolean first = truncation.strategy() == Truncation.Strategy.ONLY_FIRST;
                if (!first && b == null) {
                    throw new TokenizerException("truncation strategy only_second needs a second sequence");
                }
                Enc target = first ? a : b;
                if (target.length() <= toRemove) {
                    throw new TokenizerException("truncation: the " + (first ? "first" : "second")
                            + " sequence has " + target.length() + " tokens, too few to remove " + toRemove
                            + " and fit max_length " + truncation.maxLength());
                }
                Enc cut = target.truncate(target.length() - toRemove, left);
                return first ? new Enc[] {cut, b} : new Enc[] {a, cut};
            }
        }
    }

    private Enc encodeSingle(String text, int typeId) {
        PreTokenizedString p = added.extractAndNormalize(normalizer, text);
        if (preTokenizer != null) {
            preTokenizer.preTokenize(p);
        }
        int n = 0;
        for (PreTokenizedString.Split s : p.splits) {
            if (s.tokens == null) {
                s.tokens = model.tokenize(s.normalized.get());
            }
            n += s.tokens.size();
        }
        Enc e = new Enc(n);
        int k = 0;
        for (int w = 0; w < p.splits.size(); w++) {
            PreTokenizedString.Split s = p.splits.get(w);
            for (Token t : s.tokens) {
                int[] o = s.normalized.toOriginal(t.start(), t.end());
                int start = o == null ? t.start() : o[0];
                int end = o == null ? t.end() : o[1];
                e.ids[k] = t.id();
                e.tokens[k] = t.value();
                e.typeIds[k] = typeId;
                e.wordIds[k] = w;
                e.starts[k] = toCodePoints(text, start);
                e.ends[k] = toCodePoints(text, end);
                e.attentionMask[k] = 1;
                k++;
            }
        }
        return e;
    }

    private static int toCodePoints(String s, int utf16) {
        int u = Math.min(Math.max(utf16, 0), s.length());
        return s.codePointCount(0, u);
    }

    /** Decodes ids to text; ids unknown to the vocabulary are skipped. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = idToToken(id);
            if (t == null) {
                continue;
            }
            if (skipSpecialTokens && added.isSpecial(t)) {
                continue;
            }
            tokens.add(t);
        }
        if (decoder == null) {
            return String.join(" ", tokens);
        }
        return String.join("", decoder.decodeChain(tokens));
    }

    /** Decodes ids to text, skipping special tokens. */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /** Id of a token string (added tokens first, then the model), or null. */
    public Integer tokenToId(String token) {
        AddedToken t = added.byContent.get(token);
        if (t != null) {
            return t.id();
        }
        return model.tokenToId(token);
    }

    /** Token string of an id (added tokens first, then the model), or null. */
    public String idToToken(int id) {
        AddedToken t = added.byId.get(id);
        if (t != null) {
            return t.content();
        }
        return model.idToToken(id);
    }

    /** Number of ids: the model's vocabulary plus added tokens not in it. */
    public int vocabSize() {
        int n = model.vocabSize();
        for (AddedToken t : added.tokens) {
            if (model.tokenToId(t.content()) == null) {
                n++;
            }
        }
        return n;
    }

    /** The added tokens, in file order. */
    public List<AddedToken> addedTokens() {
        return List.copyOf(added.tokens);
    }
}
