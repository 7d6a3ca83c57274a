package dev.attn4j.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Marian layout ({@code source.spm}, {@code target.spm}, {@code vocab.json}, optional
 * {@code target_vocab.json} with {@code separate_vocabs}) as transformers' {@code MarianTokenizer}
 * uses it: the text between special tokens ({@code </s>}, {@code <unk>}, {@code <pad>}, matched in
 * the input) is segmented by the source SentencePiece model, a leading language code
 * ({@code >>fr<<}) kept as one token, and each piece mapped to its id in {@code vocab.json}
 * ({@code <unk>}'s id for pieces it lacks); {@code </s>} ends every input. Decoding maps ids back
 * through the (target) vocabulary and decodes the pieces with the target model
 * ({@link SlowSentencePieceDecoder.Style#MARIAN}).
 */
final class MarianFiles {
    private MarianFiles() {
    }

    /**
     * The tokenizer of a directory holding the Marian files; with {@code target} it encodes as
     * {@code MarianTokenizer(text_target=...)}: target pieces and the target vocabulary.
     */
    static Tokenizer tokenizer(Path dir, boolean target) throws IOException {
        Path sourceSpm = require(dir, "source.spm");
        Path targetSpm = require(dir, "target.spm");
        Path vocabFile = require(dir, "vocab.json");
        JsonNode config = null;
        Path configFile = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(configFile)) config = TokenizerConfig.readJson(configFile);
        Path specialsFile = dir.resolve("special_tokens_map.json");
        JsonNode specialsMap = Files.isRegularFile(specialsFile) ? TokenizerConfig.readJson(specialsFile) : null;
        String eos = special(config, specialsMap, "eos_token", "</s>", configFile);
        String unk = special(config, specialsMap, "unk_token", "<unk>", configFile);
        String pad = special(config, specialsMap, "pad_token", "<pad>", configFile);
        boolean separate = config != null && TokenizerConfig.bool(config, "separate_vocabs", configFile, false);
        boolean cleanUp = config != null && TokenizerConfig.bool(config, "clean_up_tokenization_spaces", configFile, false);
        Map<String, Integer> vocab = readVocab(vocabFile);
        Map<String, Integer> targetVocab = separate ? readVocab(require(dir, "target_vocab.json")) : vocab;
        for (String t : List.of(unk, pad)) {
            if (!vocab.containsKey(t)) throw new TokenizerException(vocabFile + ": the special token '" + t + "' is not in the vocabulary");
        }
        if (!vocab.containsKey(eos)) throw new TokenizerException(vocabFile + ": the special token '" + eos + "' is not in the vocabulary");
        SentencePiece.ModelProto src = SentencePiece.read(Files.readAllBytes(sourceSpm), sourceSpm.toString());
        SentencePiece.ModelProto tgt = SentencePiece.read(Files.readAllBytes(targetSpm), targetSpm.toString());
        SentencePiece.ModelProto encoding = target ? tgt : src;
        Map<String, Integer> encodingVocab = target ? targetVocab : vocab;
        Normalizers.Normalizer normalizer = new SentencePiece.Normalizer(encoding, (target ? targetSpm : sourceSpm).toString());
        int unkId = encodingVocab.getOrDefault(unk, vocab.get(unk));
        Models.Model model = new PieceVocab(SentencePiece.model(encoding), encodingVocab, targetVocab, unkId);
        List<AddedToken> added = new ArrayList<>();
        Set<String> specials = new LinkedHashSet<>(List.of(eos, unk, pad));
        for (String t : specials) added.add(new AddedToken(vocab.get(t), t, false, false, false, false, true));
        AddedVocabulary addedVocab = new AddedVocabulary(added, normalizer);
        Map<String, Integer> codes = new HashMap<>();
        if (!separate && !target) {
            for (Map.Entry<String, Integer> e : vocab.entrySet()) {
                if (e.getKey().startsWith(">>") && e.getKey().endsWith("<<")) codes.put(e.getKey(), e.getValue());
            }
        }
        addedVocab.codeIds = codes;
        addedVocab.codeUnk = unkId;
        Map<String, PostProcessors.SpecialToken> st = new java.util.LinkedHashMap<>();
        st.put(eos, new PostProcessors.SpecialToken(eos, new int[] {vocab.get(eos)}, new String[] {eos}));
        List<PostProcessors.Piece> single = List.of(new PostProcessors.Piece(true, 0, null, 0), new PostProcessors.Piece(false, -1, eos, 0));
        List<PostProcessors.Piece> pair = List.of(new PostProcessors.Piece(true, 0, null, 0), new PostProcessors.Piece(true, 1, null, 1),
                new PostProcessors.Piece(false, -1, eos, 1));
        Map<String, Integer> targetIndex = new HashMap<>();
        for (int i = 0; i < tgt.pieces().size(); i++) targetIndex.putIfAbsent(tgt.pieces().get(i), i);
        Decoders.Decoder decoder = new SlowSentencePieceDecoder(tgt, targetIndex, specials, Set.of(),
                SlowSentencePieceDecoder.Style.MARIAN, cleanUp);
        return new Tokenizer(normalizer, null, model, new PostProcessors.Template(single, pair, st), decoder, addedVocab, null, null);
    }

    private static Path require(Path dir, String name) {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) throw new TokenizerException(dir + ": Marian tokenizer file " + name + " is missing");
        return p;
    }

    private static String special(JsonNode config, JsonNode map, String field, String dflt, Path where) {
        String v = config == null ? null : TokenizerConfig.token(config, field, where.toString());
        if (v == null && map != null) v = TokenizerConfig.token(map, field, where.getParent().resolve("special_tokens_map.json").toString());
        return v == null ? dflt : v;
    }

    static Map<String, Integer> readVocab(Path file) throws IOException {
        JsonNode root = TokenizerConfig.readJson(file);
        Map<String, Integer> vocab = new HashMap<>(root.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isIntegralNumber() || !e.getValue().canConvertToInt()) {
                throw new TokenizerException(file + ": token '" + e.getKey() + "' has id " + e.getValue() + ", expected an integer");
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    /** A SentencePiece segmentation whose pieces take their ids from a vocabulary file ({@code vocab.json}). */
    static final class PieceVocab implements Models.Model {
        private final Models.Model pieces;
        private final Map<String, Integer> vocab;
        private final Map<Integer, String> decoder = new HashMap<>();
        private final int unkId;
        private final int size;

        PieceVocab(Models.Model pieces, Map<String, Integer> vocab, Map<String, Integer> decoderVocab, int unkId) {
            this.pieces = pieces;
            this.vocab = vocab;
            this.unkId = unkId;
            for (Map.Entry<String, Integer> e : decoderVocab.entrySet()) decoder.put(e.getValue(), e.getKey());
            this.size = vocab.size();
        }

        @Override
        public List<Token> tokenize(String s) {
            List<Token> out = new ArrayList<>();
            for (Token t : pieces.tokenize(s)) out.add(new Token(vocab.getOrDefault(t.value(), unkId), t.value(), t.start(), t.end()));
            return out;
        }

        @Override
        public Integer tokenToId(String token) {
            return vocab.get(token);
        }

        /** The id's token; an id the vocabulary lacks reads as {@code <unk>} (MarianTokenizer's {@code _convert_id_to_token}). */
        @Override
        public String idToToken(int id) {
            String t = decoder.get(id);
            return t != null ? t : decoder.get(unkId);
        }

        @Override
        public int vocabSize() {
            return size;
        }
    }
}
