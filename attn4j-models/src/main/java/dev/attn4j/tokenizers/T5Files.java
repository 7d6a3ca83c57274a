package dev.attn4j.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * T5's {@code spiece.model} as transformers' slow {@code T5Tokenizer} (legacy mode, its default)
 * uses it: SentencePiece segmentation of the text between special tokens, {@code </s>} appended,
 * and {@code extra_ids} sentinel tokens {@code <extra_id_0>} .. {@code <extra_id_{n-1}>} (ids from
 * the top down: {@code <extra_id_0>} is the last id), matched in the input with the whitespace
 * around them (lstrip, rstrip). Decoding as {@link SlowSentencePieceDecoder.Style#T5}.
 * Differences left: an input that already ends with {@code </s>} gets a second one (transformers
 * does not add it again).
 */
final class T5Files {
    private T5Files() {
    }

    static Tokenizer tokenizer(Path spiece) throws IOException {
        Path dir = spiece.toAbsolutePath().getParent();
        Path configFile = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? TokenizerConfig.readJson(configFile) : null;
        int extraIds = 100;
        if (config != null && config.hasNonNull("extra_ids")) {
            if (!config.get("extra_ids").canConvertToInt() || config.get("extra_ids").asInt() < 0) {
                throw new TokenizerException(configFile + ": extra_ids is " + config.get("extra_ids") + ", expected a non-negative integer");
            }
            extraIds = config.get("extra_ids").asInt();
        }
        boolean cleanUp = config != null && TokenizerConfig.bool(config, "clean_up_tokenization_spaces", configFile, false);
        if (config != null && config.hasNonNull("legacy") && !config.get("legacy").asBoolean(true)) {
            throw new TokenizerException(configFile + ": legacy false (T5Tokenizer's newer prefix handling) is not supported; "
                    + "a tokenizer.json is read instead when present");
        }
        SentencePiece.ModelProto m = SentencePiece.read(Files.readAllBytes(spiece), spiece.toString());
        int size = m.pieces().size();
        String eos = piece(m, m.eosId(), "eos", spiece), unk = m.pieces().get(m.unkId());
        Integer padId = null;
        for (int i = 0; i < size; i++) if (m.pieces().get(i).equals("<pad>")) padId = i;
        Normalizers.Normalizer normalizer = new SentencePiece.Normalizer(m, spiece.toString());
        List<AddedToken> added = new ArrayList<>();
        Set<String> specials = new LinkedHashSet<>();
        if (padId != null) added.add(new AddedToken(padId, "<pad>", false, false, false, false, true));
        added.add(new AddedToken(m.eosId(), eos, false, false, false, false, true));
        added.add(new AddedToken(m.unkId(), unk, false, false, false, false, true));
        Set<String> sentinels = new LinkedHashSet<>();
        for (int i = 0; i < extraIds; i++) {
            String t = "<extra_id_" + i + ">";
            added.add(new AddedToken(size - 1 + extraIds - i, t, false, true, true, false, true));
            sentinels.add(t);
        }
        for (AddedToken t : added) specials.add(t.content());
        Map<String, PostProcessors.SpecialToken> st = new java.util.LinkedHashMap<>();
        st.put(eos, new PostProcessors.SpecialToken(eos, new int[] {m.eosId()}, new String[] {eos}));
        List<PostProcessors.Piece> single = List.of(new PostProcessors.Piece(true, 0, null, 0), new PostProcessors.Piece(false, -1, eos, 0));
        List<PostProcessors.Piece> pair = List.of(new PostProcessors.Piece(true, 0, null, 0), new PostProcessors.Piece(false, -1, eos, 0),
                new PostProcessors.Piece(true, 1, null, 1), new PostProcessors.Piece(false, -1, eos, 1));
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < size; i++) index.putIfAbsent(m.pieces().get(i), i);
        Decoders.Decoder decoder = new SlowSentencePieceDecoder(m, index, specials, sentinels, SlowSentencePieceDecoder.Style.T5, cleanUp);
        return new Tokenizer(normalizer, null, SentencePiece.model(m), new PostProcessors.Template(single, pair, st), decoder,
                new AddedVocabulary(added, normalizer), null, null);
    }

    private static String piece(SentencePiece.ModelProto m, int id, String what, Path file) {
        if (id < 0 || id >= m.pieces().size()) throw new TokenizerException(file + ": the model has no " + what + " piece (" + what + "_id " + id + ")");
        return m.pieces().get(id);
    }
}
