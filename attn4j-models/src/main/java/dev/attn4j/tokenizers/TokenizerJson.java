package dev.attn4j.tokenizers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.tokenizers.NormalizedString.SplitBehavior;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Reads the {@code tokenizer.json} format; errors name the JSON path of the bad value. */
final class TokenizerJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TokenizerJson() {
    }

    static Tokenizer parse(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new TokenizerException("tokenizer.json is not valid JSON: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr(), e);
        }
        if (root == null || !root.isObject()) {
            throw new TokenizerException("tokenizer.json: expected a JSON object at the top level");
        }
        JsonNode modelNode = root.get("model");
        if (modelNode == null || modelNode.isNull()) {
            throw new TokenizerException("model: missing");
        }
        Normalizers.Normalizer normalizer = optional(root, "normalizer") ? normalizer(root.get("normalizer"), "normalizer") : null;
        PreTokenizers.PreTokenizer pre = optional(root, "pre_tokenizer") ? preTokenizer(root.get("pre_tokenizer"), "pre_tokenizer") : null;
        Models.Model model = model(modelNode, "model");
        PostProcessors.PostProcessor post = optional(root, "post_processor") ? postProcessor(root.get("post_processor"), "post_processor") : null;
        Decoders.Decoder decoder = optional(root, "decoder") ? decoder(root.get("decoder"), "decoder") : null;
        List<AddedToken> addedTokens = new ArrayList<>();
        if (optional(root, "added_tokens")) {
            JsonNode arr = array(root, "added_tokens", "added_tokens");
            for (int i = 0; i < arr.size(); i++) {
                JsonNode t = arr.get(i);
                String p = "added_tokens[" + i + "]";
                boolean special = bool(t, "special", p, false);
                addedTokens.add(new AddedToken(integer(t, "id", p), string(t, "content", p),
                        bool(t, "single_word", p, false), bool(t, "lstrip", p, false), bool(t, "rstrip", p, false),
                        bool(t, "normalized", p, !special), special));
            }
        }
        Truncation truncation = optional(root, "truncation") ? truncation(root.get("truncation"), "truncation") : null;
        Padding padding = optional(root, "padding") ? padding(root.get("padding"), "padding") : null;
        return new Tokenizer(normalizer, pre, model, post, decoder, new AddedVocabulary(addedTokens, normalizer),
                truncation, padding);
    }

    private static boolean optional(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v != null && !v.isNull();
    }

    private static String path(String parent, String field) {
        return parent + "." + field;
    }

    private static String type(JsonNode n, String path) {
        if (!n.isObject()) {
            throw new TokenizerException(path + ": expected an object, got " + n.getNodeType());
        }
        JsonNode t = n.get("type");
        if (t == null || !t.isTextual()) {
            throw new TokenizerException(path + ".type: missing or not a string");
        }
        return t.asText();
    }

    private static String string(JsonNode n, String field, String path) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw new TokenizerException(path(path, field) + ": expected a string, got "
                    + (v == null ? "nothing" : v.getNodeType()));
        }
        return v.asText();
    }

    private static String string(JsonNode n, String field, String path, String dflt) {
        return optional(n, field) ? string(n, field, path) : dflt;
    }

    private static boolean bool(JsonNode n, String field, String path, boolean dflt) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new TokenizerException(path(path, field) + ": expected true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static int integer(JsonNode n, String field, String path) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new TokenizerException(path(path, field) + ": expected an integer, got "
                    + (v == null ? "nothing" : v.toString()));
        }
        return v.asInt();
    }

    private static int integer(JsonNode n, String field, String path, int dflt) {
        return optional(n, field) ? integer(n, field, path) : dflt;
    }

    private static JsonNode array(JsonNode n, String field, String path) {
        JsonNode v = n.get(field);
        if (v == null || !v.isArray()) {
            throw new TokenizerException(path + ": expected an array");
        }
        return v;
    }

    private static int singleChar(String s, String path) {
        if (s.codePointCount(0, s.length()) != 1) {
            throw new TokenizerException(path + ": expected a single character, got '" + s + "'");
        }
        return s.codePointAt(0);
    }

    private static SplitPattern pattern(JsonNode n, String path) {
        if (n == null || !n.isObject()) {
            throw new TokenizerException(path + ": expected {\"String\": ...} or {\"Regex\": ...}");
        }
        if (n.has("String")) {
            return SplitPattern.literal(string(n, "String", path));
        }
        if (n.has("Regex")) {
            String re = string(n, "Regex", path);
            try {
                return SplitPattern.regex(re);
            } catch (PatternSyntaxException e) {
                throw new TokenizerException(path + ".Regex: invalid regular expression '" + re + "': "
                        + e.getDescription(), e);
            }
        }
        throw new TokenizerException(path + ": expected {\"String\": ...} or {\"Regex\": ...}");
    }

    static Normalizers.Normalizer normalizer(JsonNode n, String p) {
        String type = type(n, p);
        return switch (type) {
            case "BertNormalizer" -> {
                JsonNode sa = n.get("strip_accents");
                Boolean strip = sa == null || sa.isNull() ? null : bool(n, "strip_accents", p, false);
                yield new Normalizers.Bert(bool(n, "clean_text", p, true), bool(n, "handle_chinese_chars", p, true),
                        strip, bool(n, "lowercase", p, true));
            }
            case "Lowercase" -> new Normalizers.Lowercase();
            case "NFC" -> new Normalizers.Unicode(Form.NFC);
            case "NFD" -> new Normalizers.Unicode(Form.NFD);
            case "NFKC" -> new Normalizers.Unicode(Form.NFKC);
            case "NFKD" -> new Normalizers.Unicode(Form.NFKD);
            case "StripAccents" -> new Normalizers.StripAccents();
            case "Strip" -> new Normalizers.Strip(bool(n, "strip_left", p, true), bool(n, "strip_right", p, true));
            case "Replace" -> new Normalizers.Replace(pattern(n.get("pattern"), path(p, "pattern")),
                    string(n, "content", p));
            case "Prepend" -> new Normalizers.Prepend(string(n, "prepend", p));
            case "Sequence" -> {
                JsonNode arr = array(n, "normalizers", path(p, "normalizers"));
                List<Normalizers.Normalizer> list = new ArrayList<>();
                for (int i = 0; i < arr.size(); i++) {
                    list.add(normalizer(arr.get(i), p + ".normalizers[" + i + "]"));
                }
                yield new Normalizers.Sequence(list);
            }
            default -> throw new TokenizerException(p + ".type: unknown normalizer '" + type + "'");
        };
    }

    private static SplitBehavior behavior(JsonNode n, String p, SplitBehavior dflt) {
        String b = string(n, "behavior", p, null);
        if (b == null) {
            return dflt;
        }
        return switch (b) {
            case "Removed" -> SplitBehavior.REMOVED;
            case "Isolated" -> SplitBehavior.ISOLATED;
            case "MergedWithPrevious" -> SplitBehavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> SplitBehavior.MERGED_WITH_NEXT;
            case "Contiguous" -> SplitBehavior.CONTIGUOUS;
            default -> throw new TokenizerException(path(p, "behavior") + ": unknown split behavior '" + b + "'");
        };
    }

    private static PreTokenizers.PrependScheme prependScheme(JsonNode n, String p) {
        String s = string(n, "prepend_scheme", p, null);
        if (s == null) {
            // legacy files: add_prefix_space
            return bool(n, "add_prefix_space", p, true) ? PreTokenizers.PrependScheme.ALWAYS
                    : PreTokenizers.PrependScheme.NEVER;
        }
        return switch (s) {
            case "always" -> PreTokenizers.PrependScheme.ALWAYS;
            case "first" -> PreTokenizers.PrependScheme.FIRST;
            case "never" -> PreTokenizers.PrependScheme.NEVER;
            default -> throw new TokenizerException(path(p, "prepend_scheme") + ": unknown prepend scheme '" + s + "'");
        };
    }

    static PreTokenizers.PreTokenizer preTokenizer(JsonNode n, String p) {
        String type = type(n, p);
        return switch (type) {
            case "BertPreTokenizer" -> new PreTokenizers.Bert();
            case "Whitespace" -> new PreTokenizers.Whitespace();
            case "WhitespaceSplit" -> new PreTokenizers.WhitespaceSplit();
            case "Punctuation" -> new PreTokenizers.Punctuation(behavior(n, p, SplitBehavior.ISOLATED));
            case "Digits" -> new PreTokenizers.Digits(bool(n, "individual_digits", p, false));
            case "Split" -> new PreTokenizers.Split(pattern(n.get("pattern"), path(p, "pattern")),
                    behavior(n, p, SplitBehavior.REMOVED), bool(n, "invert", p, false));
            case "Metaspace" -> new PreTokenizers.Metaspace(
                    singleChar(string(n, "replacement", p, "\u2581"), path(p, "replacement")),
                    prependScheme(n, p), bool(n, "split", p, true));
            case "ByteLevel" -> new PreTokenizers.ByteLevel(bool(n, "add_prefix_space", p, true),
                    bool(n, "trim_offsets", p, true), bool(n, "use_regex", p, true));
            case "Sequence" -> {
                JsonNode arr = array(n, "pretokenizers", path(p, "pretokenizers"));
                List<PreTokenizers.PreTokenizer> list = new ArrayList<>();
                for (int i = 0; i < arr.size(); i++) {
                    list.add(preTokenizer(arr.get(i), p + ".pretokenizers[" + i + "]"));
                }
                yield new PreTokenizers.Sequence(list);
            }
            default -> throw new TokenizerException(p + ".type: unknown pre-tokenizer '" + type + "'");
        };
    }

    private static Map<String, Integer> vocab(JsonNode n, String p) {
        JsonNode v = n.get("vocab");
        if (v == null || !v.isObject()) {
            throw new TokenizerException(path(p, "vocab") + ": expected an object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(v.size() * 2);
        Iterator<Map.Entry<String, JsonNode>> it = v.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isIntegralNumber()) {
                throw new TokenizerException(path(p, "vocab") + "['" + e.getKey() + "']: expected an integer id, got "
                        + e.getValue());
            }
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        return vocab;
    }

    static Models.Model model(JsonNode n, String p) {
        String type;
        if (n.isObject() && !n.has("type")) {
            // Old files omit the type; guess it from the fields as the Rust library does.
            type = n.has("merges") ? "BPE" : n.has("continuing_subword_prefix") || n.has("max_input_chars_per_word")
                    ? "WordPiece" : n.has("vocab") && n.get("vocab").isArray() ? "Unigram" : "WordLevel";
        } else {
            type = type(n, p);
        }
        return switch (type) {
            case "WordPiece" -> new Models.WordPiece(vocab(n, p), string(n, "unk_token", p, "[UNK]"),
                    string(n, "continuing_subword_prefix", p, "##"), integer(n, "max_input_chars_per_word", p, 100));
            case "BPE" -> {
                JsonNode m = array(n, "merges", path(p, "merges"));
                List<String[]> merges = new ArrayList<>(m.size());
                for (int i = 0; i < m.size(); i++) {
                    JsonNode e = m.get(i);
                    String mp = p + ".merges[" + i + "]";
                    if (e.isTextual()) {
                        String[] parts = e.asText().split(" ", -1);
                        if (parts.length != 2) {
                            throw new TokenizerException(mp + ": expected \"left right\", got '" + e.asText() + "'");
                        }
                        merges.add(parts);
                    } else if (e.isArray() && e.size() == 2 && e.get(0).isTextual() && e.get(1).isTextual()) {
                        merges.add(new String[] {e.get(0).asText(), e.get(1).asText()});
                    } else {
                        throw new TokenizerException(mp + ": expected \"left right\" or [\"left\", \"right\"], got " + e);
                    }
                }
                yield new Models.Bpe(vocab(n, p), merges, string(n, "unk_token", p, null),
                        string(n, "continuing_subword_prefix", p, null), string(n, "end_of_word_suffix", p, null),
                        bool(n, "fuse_unk", p, false), bool(n, "byte_fallback", p, false),
                        bool(n, "ignore_merges", p, false));
            }
            case "Unigram" -> {
                JsonNode v = array(n, "vocab", path(p, "vocab"));
                List<String> pieces = new ArrayList<>(v.size());
                double[] scores = new double[v.size()];
                for (int i = 0; i < v.size(); i++) {
                    JsonNode e = v.get(i);
                    if (!e.isArray() || e.size() != 2 || !e.get(0).isTextual() || !e.get(1).isNumber()) {
                        throw new TokenizerException(p + ".vocab[" + i + "]: expected [piece, score], got " + e);
                    }
                    pieces.add(e.get(0).asText());
                    scores[i] = e.get(1).asDouble();
                }
                Integer unk = optional(n, "unk_id") ? integer(n, "unk_id", p) : null;
                yield new Models.Unigram(pieces, scores, unk, bool(n, "byte_fallback", p, false));
            }
            default -> throw new TokenizerException(p + ".type: unknown model '" + type + "'");
        };
    }

    private static String[] tokenAndId(JsonNode n, String field, String p) {
        JsonNode v = n.get(field);
        if (v == null || !v.isArray() || v.size() != 2 || !v.get(0).isTextual() || !v.get(1).isIntegralNumber()) {
            throw new TokenizerException(path(p, field) + ": expected [token, id]");
        }
        return new String[] {v.get(0).asText(), v.get(1).asText()};
    }

    private static List<PostProcessors.Piece> template(JsonNode n, String field, String p) {
        JsonNode arr = n.get(field);
        String fp = path(p, field);
        if (arr == null || !arr.isArray()) {
            throw new TokenizerException(fp + ": expected a list of template pieces");
        }
        List<PostProcessors.Piece> out = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            JsonNode e = arr.get(i);
            String ep = fp + "[" + i + "]";
            if (e.has("Sequence")) {
                JsonNode s = e.get("Sequence");
                String id = string(s, "id", ep + ".Sequence");
                int seq = switch (id) {
                    case "A" -> 0;
                    case "B" -> 1;
                    default -> throw new TokenizerException(ep + ".Sequence.id: expected A or B, got '" + id + "'");
                };
                out.add(new PostProcessors.Piece(true, seq, null, integer(s, "type_id", ep + ".Sequence", 0)));
            } else if (e.has("SpecialToken")) {
                JsonNode s = e.get("SpecialToken");
                out.add(new PostProcessors.Piece(false, -1, string(s, "id", ep + ".SpecialToken"),
                        integer(s, "type_id", ep + ".SpecialToken", 0)));
            } else {
                throw new TokenizerException(ep + ": expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
            }
        }
        return out;
    }

    static PostProcessors.PostProcessor postProcessor(JsonNode n, String p) {
        String type = type(n, p);
        return switch (type) {
            case "BertProcessing" -> {
                String[] sep = tokenAndId(n, "sep", p);
                String[] cls = tokenAndId(n, "cls", p);
                yield new PostProcessors.Bert(sep[0], Integer.parseInt(sep[1]), cls[0], Integer.parseInt(cls[1]));
            }
            case "RobertaProcessing" -> {
                String[] sep = tokenAndId(n, "sep", p);
                String[] cls = tokenAndId(n, "cls", p);
                yield new PostProcessors.Roberta(sep[0], Integer.parseInt(sep[1]), cls[0], Integer.parseInt(cls[1]),
                        bool(n, "trim_offsets", p, true), bool(n, "add_prefix_space", p, true));
            }
            case "ByteLevel" -> new PostProcessors.ByteLevel(bool(n, "trim_offsets", p, true),
                    bool(n, "add_prefix_space", p, true));
            case "TemplateProcessing" -> {
                Map<String, PostProcessors.SpecialToken> specials = new LinkedHashMap<>();
                JsonNode st = n.get("special_tokens");
                if (st != null && st.isObject()) {
                    Iterator<Map.Entry<String, JsonNode>> it = st.fields();
                    while (it.hasNext()) {
                        Map.Entry<String, JsonNode> e = it.next();
                        String sp = p + ".special_tokens['" + e.getKey() + "']";
                        JsonNode ids = array(e.getValue(), "ids", sp + ".ids");
                        JsonNode toks = array(e.getValue(), "tokens", sp + ".tokens");
                        if (ids.size() != toks.size()) {
                            throw new TokenizerException(sp + ": ids and tokens differ in length");
                        }
                        int[] idArr = new int[ids.size()];
                        String[] tokArr = new String[toks.size()];
                        for (int i = 0; i < idArr.length; i++) {
                            idArr[i] = ids.get(i).asInt();
                            tokArr[i] = toks.get(i).asText();
                        }
                        specials.put(e.getKey(), new PostProcessors.SpecialToken(e.getKey(), idArr, tokArr));
                    }
                }
                List<PostProcessors.Piece> single = template(n, "single", p);
                List<PostProcessors.Piece> pair = template(n, "pair", p);
                for (List<PostProcessors.Piece> t : List.of(single, pair)) {
                    for (PostProcessors.Piece piece : t) {
                        if (!piece.isSequence() && !specials.containsKey(piece.specialId())) {
                            throw new TokenizerException(p + ": template uses special token '" + piece.specialId()
                                    + "' missing from special_tokens");
                        }
                    }
                }
                yield new PostProcessors.Template(single, pair, specials);
            }
            case "Sequence" -> {
                JsonNode arr = array(n, "processors", path(p, "processors"));
                List<PostProcessors.PostProcessor> list = new ArrayList<>();
                for (int i = 0; i < arr.size(); i++) {
                    list.add(postProcessor(arr.get(i), p + ".processors[" + i + "]"));
                }
                yield new PostProcessors.Sequence(list);
            }
            default -> throw new TokenizerException(p + ".type: unknown post-processor '" + type + "'");
        };
    }

    static Decoders.Decoder decoder(JsonNode n, String p) {
        String type = type(n, p);
        return switch (type) {
            case "WordPiece" -> new Decoders.WordPiece(string(n, "prefix", p, "##"), bool(n, "cleanup", p, true));
            case "ByteLevel" -> new Decoders.ByteLevel();
            case "Metaspace" -> new Decoders.Metaspace(
                    singleChar(string(n, "replacement", p, "\u2581"), path(p, "replacement")), prependScheme(n, p));
            case "BPEDecoder" -> new Decoders.Bpe(string(n, "suffix", p, "</w>"));
            case "ByteFallback" -> new Decoders.ByteFallback();
            case "Fuse" -> new Decoders.Fuse();
            case "Strip" -> new Decoders.Strip(singleChar(string(n, "content", p), path(p, "content")),
                    integer(n, "start", p, 0), integer(n, "stop", p, 0));
            case "Replace" -> {
                JsonNode pat = n.get("pattern");
                String pp = path(p, "pattern");
                if (pat == null || !pat.isObject()) {
                    throw new TokenizerException(pp + ": expected {\"String\": ...} or {\"Regex\": ...}");
                }
                String content = string(n, "content", p);
                if (pat.has("String")) {
                    yield new Decoders.Replace(string(pat, "String", pp), null, content);
                }
                String re = string(pat, "Regex", pp);
                try {
                    yield new Decoders.Replace(null, Pattern.compile(re, Pattern.UNICODE_CHARACTER_CLASS), content);
                } catch (PatternSyntaxException e) {
                    throw new TokenizerException(pp + ".Regex: invalid regular expression '" + re + "'", e);
                }
            }
            case "Sequence" -> {
                JsonNode arr = array(n, "decoders", path(p, "decoders"));
                List<Decoders.Decoder> list = new ArrayList<>();
                for (int i = 0; i < arr.size(); i++) {
                    list.add(decoder(arr.get(i), p + ".decoders[" + i + "]"));
                }
                yield new Decoders.Sequence(list);
            }
            default -> throw new TokenizerException(p + ".type: unknown decoder '" + type + "'");
        };
    }

    private static Truncation.Direction direction(JsonNode n, String p) {
        String d = string(n, "direction", p, "Right");
        return switch (d) {
            case "Right" -> Truncation.Direction.RIGHT;
            case "Left" -> Truncation.Direction.LEFT;
            default -> throw new TokenizerException(path(p, "direction") + ": expected Right or Left, got '" + d + "'");
        };
    }

    static Truncation truncation(JsonNode n, String p) {
        String s = string(n, "strategy", p, "LongestFirst");
        Truncation.Strategy strategy = switch (s) {
            case "LongestFirst" -> Truncation.Strategy.LONGEST_FIRST;
            case "OnlyFirst" -> Truncation.Strategy.ONLY_FIRST;
            case "OnlySecond" -> Truncation.Strategy.ONLY_SECOND;
            default -> throw new TokenizerException(path(p, "strategy") + ": unknown truncation strategy '" + s + "'");
        };
        return new Truncation(integer(n, "max_length", p), strategy, integer(n, "stride", p, 0), direction(n, p));
    }

    static Padding padding(JsonNode n, String p) {
        JsonNode s = n.get("strategy");
        int fixed = 0;
        if (s != null && s.isObject() && s.has("Fixed")) {
            fixed = integer(s, "Fixed", path(p, "strategy"));
        } else if (s != null && !s.isNull() && !(s.isTextual() && s.asText().equals("BatchLongest"))) {
            throw new TokenizerException(path(p, "strategy") + ": expected \"BatchLongest\" or {\"Fixed\": n}, got " + s);
        }
        return new Padding(fixed, direction(n, p), integer(n, "pad_to_multiple_of", p, 0), integer(n, "pad_id", p, 0),
                integer(n, "pad_type_id", p, 0), string(n, "pad_token", p, "[PAD]"));
    }
}
