package dev.attn4j.tokenizers;

import static dev.attn4j.tokenizers.BertParityTest.assertSame;
import static dev.attn4j.tokenizers.BertParityTest.show;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Small tokenizer.json files built here (byte-level BPE, Unigram + Metaspace, WordPiece with added
 * tokens) checked against the Rust library on random text: full encodings and decode.
 */
class SyntheticParityTest {
    static final ObjectMapper M = new ObjectMapper();

    /** Training text for the vocabularies. */
    static List<String> corpus(long seed, int n) {
        TextGen gen = new TextGen(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(gen.next(10));
        }
        return out;
    }

    static ObjectNode obj(Object... kv) {
        ObjectNode o = M.createObjectNode();
        for (int i = 0; i < kv.length; i += 2) {
            o.set((String) kv[i], M.valueToTree(kv[i + 1]));
        }
        return o;
    }

    static ObjectNode added(int id, String content, boolean single, boolean l, boolean r, boolean norm, boolean special) {
        return obj("id", id, "content", content, "single_word", single, "lstrip", l, "rstrip", r, "normalized", norm,
                "special", special);
    }

    /** Learns {@code nMerges} BPE merges over byte-level words of the corpus. */
    static List<String[]> learnMerges(List<List<String>> words, int nMerges) {
        return learnMerges(words, nMerges, null);
    }

    /** As above; with a continuing-subword {@code prefix}, the right part loses it when merged. */
    static List<String[]> learnMerges(List<List<String>> words, int nMerges, String prefix) {
        List<String[]> merges = new ArrayList<>();
        for (int m = 0; m < nMerges; m++) {
            Map<String, Integer> counts = new HashMap<>();
            for (List<String> w : words) {
                for (int i = 0; i + 1 < w.size(); i++) {
                    counts.merge(w.get(i) + "\u0000" + w.get(i + 1), 1, Integer::sum);
                }
            }
            String best = null;
            int bestCount = 1;
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                int c = e.getValue();
                if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) {
                break;
            }
            String[] pair = best.split("\u0000", -1);
            merges.add(pair);
            for (List<String> w : words) {
                for (int i = 0; i + 1 < w.size(); i++) {
                    if (w.get(i).equals(pair[0]) && w.get(i + 1).equals(pair[1])) {
                        String right = prefix != null && pair[1].startsWith(prefix)
                                ? pair[1].substring(prefix.length()) : pair[1];
                        w.set(i, pair[0] + right);
                        w.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    static String byteLevelBpeJson(long seed, boolean addPrefixSpace, boolean stringMerges) {
        return byteLevelBpeJson(seed, addPrefixSpace, stringMerges, 0);
    }

    /** {@code post}: 0 RobertaProcessing, 1 ByteLevel (GPT-2), 2 Sequence[ByteLevel, Template] (Llama 3). */
    static String byteLevelBpeJson(long seed, boolean addPrefixSpace, boolean stringMerges, int post) {
        Tokenizer pre = Tokenizer.fromJson(obj("model", obj("type", "BPE", "vocab", Map.of(), "merges", List.of()),
                "pre_tokenizer", obj("type", "ByteLevel", "add_prefix_space", addPrefixSpace, "trim_offsets", true,
                        "use_regex", true)).toString());
        List<List<String>> words = new ArrayList<>();
        for (String s : corpus(seed, 120)) {
            PreTokenizedString p = new PreTokenizedString(s);
            pre.preTokenizer.preTokenize(p);
            for (PreTokenizedString.Split sp : p.splits) {
                List<String> w = new ArrayList<>();
                sp.normalized.get().codePoints().forEach(c -> w.add(new String(Character.toChars(c))));
                words.add(w);
            }
        }
        List<String[]> merges = learnMerges(words, 120);
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String special : List.of("<s>", "<pad>", "</s>", "<unk>")) {
            vocab.put(special, vocab.size());
        }
        for (int b = 0; b < 256; b++) {
            vocab.putIfAbsent(new String(Character.toChars(ByteChars.BYTE_TO_CHAR[b])), vocab.size());
        }
        for (String[] m : merges) {
            vocab.putIfAbsent(m[0] + m[1], vocab.size());
        }
        vocab.put("<mask>", vocab.size());
        ArrayNode mergeNode = M.createArrayNode();
        for (String[] m : merges) {
            if (stringMerges) {
                mergeNode.add(m[0] + " " + m[1]);
            } else {
                mergeNode.add(M.createArrayNode().add(m[0]).add(m[1]));
            }
        }
        ObjectNode root = obj("version", "1.0", "truncation", null, "padding", null);
        root.set("added_tokens", M.createArrayNode()
                .add(added(0, "<s>", false, false, false, true, true))
                .add(added(1, "<pad>", false, false, false, true, true))
                .add(added(2, "</s>", false, false, false, true, true))
                .add(added(3, "<unk>", false, false, false, true, true))
                .add(added(vocab.get("<mask>"), "<mask>", false, true, false, false, true)));
        root.set("normalizer", null);
        root.set("pre_tokenizer", obj("type", "ByteLevel", "add_prefix_space", addPrefixSpace, "trim_offsets", true,
                "use_regex", true));
        ObjectNode byteLevelPost = obj("type", "ByteLevel", "add_prefix_space", addPrefixSpace, "trim_offsets", true,
                "use_regex", true);
        ObjectNode template = M.createObjectNode();
        template.put("type", "TemplateProcessing");
        template.set("single", M.valueToTree(List.of(Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0)),
                Map.of("Sequence", Map.of("id", "A", "type_id", 0)))));
        template.set("pair", M.valueToTree(List.of(Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 0)),
                Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                Map.of("SpecialToken", Map.of("id", "<s>", "type_id", 1)),
                Map.of("Sequence", Map.of("id", "B", "type_id", 1)))));
        template.set("special_tokens", M.valueToTree(Map.of("<s>", Map.of("id", "<s>", "ids", List.of(0),
                "tokens", List.of("<s>")))));
        root.set("post_processor", switch (post) {
            case 1 -> byteLevelPost;
            case 2 -> obj("type", "Sequence", "processors", List.of(byteLevelPost, template));
            default -> obj("type", "RobertaProcessing", "sep", List.of("</s>", 2), "cls", List.of("<s>", 0),
                    "trim_offsets", true, "add_prefix_space", addPrefixSpace);
        });
        root.set("decoder", obj("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true, "use_regex", true));
        ObjectNode model = obj("type", "BPE", "dropout", null, "unk_token", null, "continuing_subword_prefix", null,
                "end_of_word_suffix", null, "fuse_unk", false, "byte_fallback", false, "ignore_merges", false);
        model.set("vocab", M.valueToTree(vocab));
        model.set("merges", mergeNode);
        root.set("model", model);
        return root.toString();
    }

    /** Random text plus, now and then, special tokens spliced in. */
    static String text(TextGen gen, SplittableRandom rnd, String... specials) {
        String s = gen.next(12);
        if (specials.length > 0 && rnd.nextInt(3) == 0 && !s.isEmpty()) {
            int at = s.offsetByCodePoints(0, rnd.nextInt(s.codePointCount(0, s.length()) + 1));
            String sp = specials[rnd.nextInt(specials.length)];
            String pad = rnd.nextBoolean() ? " " : "";
            s = s.substring(0, at) + pad + sp + pad + s.substring(at);
        }
        return s;
    }

    static void compare(String json, int n, long seed, boolean checkOffsets, String... specials) {
        Tokenizer tok = Tokenizer.fromJson(json);
        TextGen gen = new TextGen(seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (RustOracle rust = new RustOracle(json)) {
            for (int i = 0; i < n; i++) {
                String a = text(gen, rnd, specials);
                String b = i % 4 == 0 ? text(gen, rnd, specials) : null;
                String what = "seed=" + seed + " i=" + i + " a=" + show(a) + (b == null ? "" : " b=" + show(b));
                RustOracle.Result r = rust.encode(a, b, true);
                Encoding e = tok.encode(a, b, true);
                if (checkOffsets) {
                    assertSame(r, e, what);
                } else {
                    assertThat(e.tokens()).as("tokens " + what).containsExactly(r.tokens());
                    assertThat(e.ids()).as("ids " + what).containsExactly(r.ids());
                    assertThat(e.typeIds()).as("type ids " + what).containsExactly(r.typeIds());
                }
                int[] ids = e.ids();
                if (i % 5 == 0 && ids.length > 0) {
                    ids[rnd.nextInt(ids.length)] = rnd.nextInt(tok.vocabSize());
                }
                for (boolean skip : new boolean[] {true, false}) {
                    assertThat(tok.decode(ids, skip)).as("decode skip=" + skip + " ids=" + Arrays.toString(ids) + " "
                            + what).isEqualTo(rust.decode(ids, skip));
                }
            }
        }
    }

    @Test
    void byteLevelBpe() {
        long seed = System.nanoTime();
        for (int variant = 0; variant < 6; variant++) {
            String json = byteLevelBpeJson(seed + variant, variant % 2 == 0, variant < 2, variant < 4 ? 0 : variant - 3);
            compare(json, 400, seed + variant, true, "<s>", "</s>", "<mask>", "<pad>");
        }
    }

    static String unigramJson(long seed, String prependScheme, boolean split, boolean byteFallback, boolean llamaDecoder) {
        Map<String, Integer> counts = new HashMap<>();
        for (String s : corpus(seed, 300)) {
            String t = "\u2581" + java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFKC).replace(' ', '\u2581');
            int[] cps = t.codePoints().toArray();
            for (int i = 0; i < cps.length; i++) {
                for (int len = 1; len <= 5 && i + len <= cps.length; len++) {
                    counts.merge(new String(cps, i, len), 1, Integer::sum);
                }
            }
        }
        List<Map.Entry<String, Integer>> entries = new ArrayList<>(counts.entrySet());
        entries.removeIf(e -> e.getValue() < 3);
        entries.sort((x, y) -> y.getValue() != x.getValue().intValue() ? y.getValue() - x.getValue() : x.getKey().compareTo(y.getKey()));
        ArrayNode vocab = M.createArrayNode();
        vocab.add(M.createArrayNode().add("<unk>").add(0.0));
        vocab.add(M.createArrayNode().add("<s>").add(0.0));
        vocab.add(M.createArrayNode().add("</s>").add(0.0));
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                vocab.add(M.createArrayNode().add(String.format("<0x%02X>", b)).add(0.0));
            }
        }
        double total = 0;
        for (Map.Entry<String, Integer> e : entries) {
            total += e.getValue();
        }
        // Scores are multiples of 1/4096: the Rust side parses JSON floats with serde_json's
        // default (not always correctly rounded) algorithm, so an arbitrary double can come out
        // 1 ulp off there, and then ties between segmentations such as x+xx / xx+x break the
        // other way. Dyadic scores parse exactly and add exactly in both.
        SplittableRandom jitter = new SplittableRandom(seed);
        int n = 0;
        for (Map.Entry<String, Integer> e : entries) {
            if (n++ == 700) {
                break;
            }
            vocab.add(M.createArrayNode().add(e.getKey())
                    .add(Math.round((Math.log(e.getValue() / total) - 1e-3 * jitter.nextDouble()) * 4096) / 4096.0));
        }
        ObjectNode root = obj("version", "1.0", "truncation", null, "padding", null);
        root.set("added_tokens", M.createArrayNode()
                .add(added(0, "<unk>", false, false, false, false, true))
                .add(added(1, "<s>", false, false, false, false, true))
                .add(added(2, "</s>", false, false, false, false, true)));
        root.set("normalizer", obj("type", "Sequence", "normalizers", List.of(
                Map.of("type", "NFKC"),
                Map.of("type", "Replace", "pattern", Map.of("Regex", " {2,}"), "content", " "))));
        root.set("pre_tokenizer", obj("type", "Metaspace", "replacement", "\u2581", "prepend_scheme", prependScheme,
                "split", split));
        ObjectNode template = M.createObjectNode();
        template.set("single", M.valueToTree(List.of(Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                Map.of("SpecialToken", Map.of("id", "</s>", "type_id", 0)))));
        template.set("pair", M.valueToTree(List.of(Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                Map.of("SpecialToken", Map.of("id", "</s>", "type_id", 0)),
                Map.of("Sequence", Map.of("id", "B", "type_id", 1)),
                Map.of("SpecialToken", Map.of("id", "</s>", "type_id", 1)))));
        template.set("special_tokens", M.valueToTree(Map.of("</s>", Map.of("id", "</s>", "ids", List.of(2),
                "tokens", List.of("</s>")))));
        template.put("type", "TemplateProcessing");
        root.set("post_processor", template);
        if (llamaDecoder) {
            root.set("decoder", obj("type", "Sequence", "decoders", List.of(
                    Map.of("type", "Replace", "pattern", Map.of("String", "\u2581"), "content", " "),
                    Map.of("type", "ByteFallback"), Map.of("type", "Fuse"),
                    Map.of("type", "Strip", "content", " ", "start", 1, "stop", 0))));
        } else {
            root.set("decoder", obj("type", "Metaspace", "replacement", "\u2581", "prepend_scheme", prependScheme,
                    "split", split));
        }
        ObjectNode model = obj("type", "Unigram", "unk_id", 0, "byte_fallback", byteFallback);
        model.set("vocab", vocab);
        root.set("model", model);
        return root.toString();
    }

    @Test
    void unigramMetaspace() {
        long seed = System.nanoTime();
        String[] schemes = {"always", "first", "never"};
        for (int variant = 0; variant < 6; variant++) {
            String json = unigramJson(seed + variant, schemes[variant % 3], variant % 2 == 0, variant >= 3,
                    variant % 2 == 1);
            compare(json, 500, seed + variant, true, "<s>", "</s>", "<unk>");
        }
    }

    static String wordPieceJson(long seed, int variant) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String sp : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
            vocab.put(sp, vocab.size());
        }
        for (String s : corpus(seed, 300)) {
            for (String w : java.text.Normalizer.normalize(s.toLowerCase(java.util.Locale.ROOT),
                    java.text.Normalizer.Form.NFD).replaceAll("\\p{Mn}", "").split("[\\s\\p{P}]+")) {
                int[] cps = w.codePoints().toArray();
                for (int len = 1; len <= Math.min(4, cps.length); len++) {
                    vocab.putIfAbsent(new String(cps, 0, len), vocab.size());
                }
                for (int i = 1; i < cps.length; i++) {
                    int len = 1 + rnd.nextInt(3);
                    if (i + len <= cps.length && rnd.nextInt(3) == 0) {
                        vocab.putIfAbsent("##" + new String(cps, i, len), vocab.size());
                    }
                }
            }
        }
        for (char c = '!'; c <= '~'; c++) {
            vocab.putIfAbsent(String.valueOf(c), vocab.size());
            vocab.putIfAbsent("##" + c, vocab.size());
        }
        int mask2 = vocab.size();
        ObjectNode root = obj("version", "1.0");
        root.set("added_tokens", M.createArrayNode()
                .add(added(0, "[PAD]", false, false, false, false, true))
                .add(added(1, "[UNK]", false, false, false, false, true))
                .add(added(2, "[CLS]", false, false, false, false, true))
                .add(added(3, "[SEP]", false, false, false, false, true))
                .add(added(4, "[MASK]", false, false, false, false, true))
                .add(added(mask2, "[mask2]", false, true, true, false, true))
                .add(added(mask2 + 1, "<ent>", true, false, false, false, false))
                .add(added(mask2 + 2, "naïve", false, true, true, true, false))
                .add(added(mask2 + 3, "c++", true, false, false, true, false)));
        switch (variant % 3) {
            case 0 -> root.set("normalizer", obj("type", "BertNormalizer", "clean_text", true,
                    "handle_chinese_chars", true, "strip_accents", null, "lowercase", true));
            case 1 -> root.set("normalizer", obj("type", "Sequence", "normalizers", List.of(
                    Map.of("type", "NFD"), Map.of("type", "Lowercase"), Map.of("type", "StripAccents"),
                    Map.of("type", "Strip", "strip_left", true, "strip_right", true),
                    Map.of("type", "Replace", "pattern", Map.of("String", "``"), "content", "\""))));
            default -> root.set("normalizer", obj("type", "Sequence", "normalizers", List.of(
                    Map.of("type", "NFKC"), Map.of("type", "Lowercase"),
                    Map.of("type", "Prepend", "prepend", "_"))));
        }
        String[] behaviors = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"};
        switch (variant % 4) {
            case 0 -> root.set("pre_tokenizer", obj("type", "BertPreTokenizer"));
            case 1 -> root.set("pre_tokenizer", obj("type", "Sequence", "pretokenizers", List.of(
                    Map.of("type", "WhitespaceSplit"),
                    Map.of("type", "Punctuation", "behavior", behaviors[rnd.nextInt(5)]),
                    Map.of("type", "Digits", "individual_digits", rnd.nextBoolean()))));
            case 2 -> root.set("pre_tokenizer", obj("type", "Sequence", "pretokenizers", List.of(
                    Map.of("type", "Whitespace"),
                    Map.of("type", "Split", "pattern", Map.of("Regex", "[aeiou]+"),
                            "behavior", behaviors[rnd.nextInt(5)], "invert", rnd.nextBoolean()))));
            default -> root.set("pre_tokenizer", obj("type", "Sequence", "pretokenizers", List.of(
                    Map.of("type", "Split", "pattern", Map.of("String", " "), "behavior", behaviors[rnd.nextInt(5)],
                            "invert", false),
                    Map.of("type", "Whitespace"))));
        }
        if (variant % 2 == 0) {
            root.set("post_processor", obj("type", "BertProcessing", "sep", List.of("[SEP]", 3), "cls",
                    List.of("[CLS]", 2)));
        } else {
            ObjectNode template = M.createObjectNode();
            template.put("type", "TemplateProcessing");
            template.set("single", M.valueToTree(List.of(Map.of("SpecialToken", Map.of("id", "[CLS]", "type_id", 0)),
                    Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                    Map.of("SpecialToken", Map.of("id", "[SEP]", "type_id", 0)))));
            template.set("pair", M.valueToTree(List.of(Map.of("SpecialToken", Map.of("id", "[CLS]", "type_id", 0)),
                    Map.of("Sequence", Map.of("id", "A", "type_id", 0)),
                    Map.of("SpecialToken", Map.of("id", "[SEP]", "type_id", 0)),
                    Map.of("Sequence", Map.of("id", "B", "type_id", 1)),
                    Map.of("SpecialToken", Map.of("id", "[SEP]", "type_id", 1)))));
            template.set("special_tokens", M.valueToTree(Map.of(
                    "[CLS]", Map.of("id", "[CLS]", "ids", List.of(2), "tokens", List.of("[CLS]")),
                    "[SEP]", Map.of("id", "[SEP]", "ids", List.of(3), "tokens", List.of("[SEP]")))));
            root.set("post_processor", template);
        }
        root.set("decoder", obj("type", "WordPiece", "prefix", "##", "cleanup", variant % 2 == 0));
        if (variant % 3 == 0) {
            root.set("truncation", obj("max_length", 12 + rnd.nextInt(20), "strategy", "LongestFirst", "stride", 0,
                    "direction", rnd.nextBoolean() ? "Left" : "Right"));
        }
        if (variant % 2 == 1) {
            Map<String, Object> pad = new LinkedHashMap<>();
            pad.put("strategy", rnd.nextBoolean() ? "BatchLongest" : Map.of("Fixed", 40));
            pad.put("direction", rnd.nextBoolean() ? "Left" : "Right");
            pad.put("pad_to_multiple_of", rnd.nextBoolean() ? null : 8);
            pad.put("pad_id", 0);
            pad.put("pad_type_id", rnd.nextInt(2));
            pad.put("pad_token", "[PAD]");
            root.set("padding", M.valueToTree(pad));
        }
        ObjectNode model = obj("type", "WordPiece", "unk_token", "[UNK]", "continuing_subword_prefix", "##",
                "max_input_chars_per_word", 8 + rnd.nextInt(30));
        model.set("vocab", M.valueToTree(vocab));
        root.set("model", model);
        return root.toString();
    }

    @Test
    void wordPieceWithAddedTokens() {
        long seed = System.nanoTime();
        for (int variant = 0; variant < 12; variant++) {
            String json = wordPieceJson(seed + variant, variant);
            compare(json, 200, seed + variant, true, "[MASK]", "[mask2]", "<ent>", "naïve", "NAÏVE", "c++", "C++x",
                    "[CLS]", "x<ent>");
            // batches: padding to the longest across the batch
            Tokenizer tok = Tokenizer.fromJson(json);
            TextGen gen = new TextGen(seed + variant);
            try (RustOracle rust = new RustOracle(json)) {
                for (int b = 0; b < 20; b++) {
                    List<String> batch = new ArrayList<>();
                    for (int k = 0, n = 1 + gen.nextInt(6); k < n; k++) {
                        batch.add(gen.next(8));
                    }
                    List<RustOracle.Result> expected = rust.encodeBatch(batch, true);
                    List<Encoding> actual = tok.encodeBatch(batch);
                    for (int k = 0; k < batch.size(); k++) {
                        assertSame(expected.get(k), actual.get(k), "batch seed=" + (seed + variant) + " variant="
                                + variant + " b=" + b + " k=" + k + " text=" + show(batch.get(k)));
                    }
                }
            }
        }
    }

    static String classicBpeJson(long seed, int variant) {
        // Byte fallback only without affixes: with a prefix or suffix Rust gives the byte tokens of
        // the affix offsets past the end of the word (real byte-fallback models use no affixes).
        boolean byteFallback = variant >= 2;
        boolean suffix = variant == 0; // "</w>" end-of-word suffix
        boolean prefix = variant == 1; // "##" continuing-subword prefix
        Tokenizer pre = Tokenizer.fromJson("{\"pre_tokenizer\":{\"type\":\"Whitespace\"},\"model\":{\"type\":"
                + "\"BPE\",\"vocab\":{},\"merges\":[]}}");
        List<List<String>> words = new ArrayList<>();
        Map<String, Integer> charCounts = new HashMap<>();
        for (String s : corpus(seed, 150)) {
            PreTokenizedString p = new PreTokenizedString(s);
            pre.preTokenizer.preTokenize(p);
            for (PreTokenizedString.Split sp : p.splits) {
                int[] cps = sp.normalized.get().codePoints().toArray();
                List<String> w = new ArrayList<>();
                for (int i = 0; i < cps.length; i++) {
                    String sym = new String(cps, i, 1);
                    if (prefix && i > 0) {
                        sym = "##" + sym;
                    }
                    if (suffix && i == cps.length - 1) {
                        sym = sym + "</w>";
                    }
                    w.add(sym);
                    charCounts.merge(sym, 1, Integer::sum);
                }
                words.add(w);
            }
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        vocab.put("<unk>", 0);
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                vocab.put(String.format("<0x%02X>", b), vocab.size());
            }
        }
        // rare symbols stay out of the vocabulary, to exercise unk / byte fallback
        charCounts.entrySet().stream().filter(e -> e.getValue() >= 2).map(Map.Entry::getKey).sorted()
                .forEach(k -> vocab.putIfAbsent(k, vocab.size()));
        words.removeIf(w -> w.stream().anyMatch(sym -> !vocab.containsKey(sym)));
        List<String[]> merges = learnMerges(words, 100, prefix ? "##" : null);
        for (String[] m : merges) {
            String b = prefix && m[1].startsWith("##") ? m[1].substring(2) : m[1];
            vocab.putIfAbsent(m[0] + b, vocab.size());
        }
        ObjectNode root = obj("version", "1.0");
        root.set("added_tokens", M.createArrayNode().add(added(0, "<unk>", false, false, false, false, true)));
        root.set("normalizer", obj("type", "NFC"));
        root.set("pre_tokenizer", obj("type", "Whitespace"));
        List<Object> decoders = new ArrayList<>();
        if (byteFallback) {
            decoders.add(Map.of("type", "ByteFallback"));
        }
        decoders.add(suffix ? Map.of("type", "BPEDecoder", "suffix", "</w>")
                : prefix ? Map.of("type", "WordPiece", "prefix", "##", "cleanup", false) : Map.of("type", "Fuse"));
        root.set("decoder", obj("type", "Sequence", "decoders", decoders));
        ObjectNode model = obj("type", "BPE", "dropout", null, "unk_token", "<unk>",
                "continuing_subword_prefix", prefix ? "##" : null, "end_of_word_suffix", suffix ? "</w>" : null,
                "fuse_unk", variant % 3 == 0, "byte_fallback", byteFallback, "ignore_merges", variant == 3);
        model.set("vocab", M.valueToTree(vocab));
        ArrayNode mergeNode = M.createArrayNode();
        for (String[] m : merges) {
            mergeNode.add(M.createArrayNode().add(m[0]).add(m[1]));
        }
        model.set("merges", mergeNode);
        root.set("model", model);
        return root.toString();
    }

    @Test
    void classicBpe() {
        long seed = System.nanoTime();
        for (int variant = 0; variant < 4; variant++) {
            compare(classicBpeJson(seed + variant, variant), 300, seed + variant, true, "<unk>");
        }
    }
}
