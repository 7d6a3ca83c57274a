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
import java.util.TreeMap;
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
            for (Map.Entry<String, Integer> e : new TreeMap<>(counts).entrySet()) {
                if (e.getValue() > bestCount) {
                    best = e.getKey();
                    bestCount = e.getValue();
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
                        w.set(i, pair[0] + pair[1]);
                        w.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    static String byteLevelBpeJson(long seed, boolean addPrefixSpace, boolean stringMerges) {
        Tokenizer pre = Tokenizer.fromJson(obj("model", obj("type", "BPE", "vocab", Map.of(), "merges", List.of()),
                "pre_tokenizer", obj("type", "ByteLevel", "add_prefix_space", addPrefixSpace, "trim_offsets", true,
                        "use_regex", true)).toString());
        List<List<String>> words = new ArrayList<>();
        for (String s : corpus(seed, 400)) {
            PreTokenizedString p = new PreTokenizedString(s);
            pre.preTokenizer.preTokenize(p);
            for (PreTokenizedString.Split sp : p.splits) {
                List<String> w = new ArrayList<>();
                sp.normalized.get().codePoints().forEach(c -> w.add(new String(Character.toChars(c))));
                words.add(w);
            }
        }
        List<String[]> merges = learnMerges(words, 300);
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
        root.set("post_processor", obj("type", "RobertaProcessing", "sep", List.of("</s>", 2), "cls", List.of("<s>", 0),
                "trim_offsets", true, "add_prefix_space", addPrefixSpace));
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
        for (int variant = 0; variant < 4; variant++) {
            String json = byteLevelBpeJson(seed + variant, variant % 2 == 0, variant < 2);
            compare(json, 1000, seed + variant, true, "<s>", "</s>", "<mask>", "<pad>");
        }
    }
}
