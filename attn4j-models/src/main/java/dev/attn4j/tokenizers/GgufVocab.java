package dev.attn4j.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.io.gguf.GgufException;
import dev.attn4j.io.gguf.GgufFile;
import dev.attn4j.io.gguf.GgufValue;
import dev.attn4j.io.gguf.GgufValueType;
import dev.attn4j.io.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer a GGUF file carries in llama.cpp's metadata, both ways:
 * <ul>
 *   <li>{@code tokenizer.ggml.model = "gpt2"}: byte-level BPE from {@code tokens}, {@code merges},
 *       {@code token_type} (3 = control: a special added token; 4 = user-defined: a plain added
 *       token) and {@code tokenizer.ggml.pre}, which names the pre-tokenizer regex ({@code llama-bpe}
 *       = Llama 3's, {@code qwen2} = Qwen2's with NFC, {@code gpt-2} / {@code default} = GPT-2's);</li>
 *   <li>{@code "llama"}: SentencePiece BPE from {@code tokens}, {@code scores}, {@code token_type}
 *       (byte fallback, the {@code ▁} prefix unless {@code add_space_prefix} is false).</li>
 * </ul>
 * {@code bos_token_id} / {@code eos_token_id} with {@code add_bos_token} / {@code add_eos_token}
 * say which special tokens encoding adds; {@code tokenizer.chat_template} is the chat template.
 * {@link #write} puts a Hugging Face model directory's tokenizer into a GGUF writer the same way
 * (tokenizer.json's byte-level BPE, or tokenizer.model's SentencePiece).
 */
public final class GgufVocab {
    static final String LLAMA3_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private GgufVocab() {
    }

    /** Whether the file carries a tokenizer. */
    public static boolean present(GgufFile f) {
        return f.get("tokenizer.ggml.model") != null && f.get("tokenizer.ggml.tokens") != null;
    }

    /** The chat template of the file, or null. */
    public static String chatTemplate(GgufFile f) {
        GgufValue v = f.get("tokenizer.chat_template");
        return v == null ? null : v.asString();
    }

    /**
     * The file's {@code tokenizer.chat_template} with the special tokens llama.cpp's chat code
     * gives it ({@code bos_token}, {@code eos_token}: the pieces of {@code tokenizer.ggml.bos_token_id}
     * / {@code eos_token_id}), or null when the file has no template.
     */
    public static ChatTemplate chatTemplateOf(GgufFile f) {
        String template = chatTemplate(f);
        if (template == null) return null;
        List<String> tokens = present(f) ? strings(f, "tokenizer.ggml.tokens") : List.of();
        Map<String, Object> specials = new java.util.LinkedHashMap<>();
        for (String name : List.of("bos", "eos")) {
            GgufValue id = f.get("tokenizer.ggml." + name + "_token_id");
            if (id != null && id.asLong() >= 0 && id.asLong() < tokens.size()) specials.put(name + "_token", tokens.get((int) id.asLong()));
        }
        return ChatTemplate.of(template, specials);
    }

    /** The tokenizer of a GGUF file; a missing or inconsistent key is one TokenizerException naming the file and key. */
    public static Tokenizer tokenizer(GgufFile f) {
        String src = f.path().toString();
        String model = str(f, "tokenizer.ggml.model", null);
        if (model == null) throw new TokenizerException(src + ": no tokenizer.ggml.model (the file carries no tokenizer)");
        List<String> tokens = strings(f, "tokenizer.ggml.tokens");
        int n = tokens.size();
        int[] types = ints(f, "tokenizer.ggml.token_type", n, 1);
        Integer bos = id(f, "tokenizer.ggml.bos_token_id", n), eos = id(f, "tokenizer.ggml.eos_token_id", n);
        Integer unk = id(f, "tokenizer.ggml.unknown_token_id", n);
        boolean addBos = bool(f, "tokenizer.ggml.add_bos_token", model.equals("llama"));
        boolean addEos = bool(f, "tokenizer.ggml.add_eos_token", false);
        switch (model) {
            case "llama" -> {
                float[] scores = new float[n];
                GgufValue sv = f.get("tokenizer.ggml.scores");
                if (sv == null) throw new TokenizerException(src + ": tokenizer.ggml.model 'llama' needs tokenizer.ggml.scores");
                List<GgufValue> sl = sv.asList();
                if (sl.size() != n) throw new TokenizerException(src + ": tokenizer.ggml.scores has " + sl.size() + " entries, tokens " + n);
                for (int i = 0; i < n; i++) scores[i] = (float) sl.get(i).asDouble();
                int unkId = unk != null ? unk : tokens.indexOf("<unk>");
                if (unkId < 0) throw new TokenizerException(src + ": no unknown token (tokenizer.ggml.unknown_token_id)");
                int[] t = types.clone();
                t[unkId] = SentencePiece.UNKNOWN;
                SentencePiece.ModelProto m = new SentencePiece.ModelProto(List.copyOf(tokens), scores, t, SentencePiece.BPE, true, false,
                        unkId, bos == null ? -1 : bos, eos == null ? -1 : eos, "identity", new byte[0],
                        bool(f, "tokenizer.ggml.add_space_prefix", true), false, true);
                return SentencePiece.tokenizer(m, src, addBos && bos != null, addEos && eos != null);
            }
            case "gpt2" -> {
                String pre = str(f, "tokenizer.ggml.pre", "default");
                ObjectMapper json = new ObjectMapper();
                ObjectNode root = json.createObjectNode();
                ObjectNode bpe = root.putObject("model");
                bpe.put("type", "BPE");
                bpe.putNull("dropout");
                bpe.putNull("unk_token");
                bpe.put("fuse_unk", false);
                bpe.put("byte_fallback", false);
                ObjectNode vocab = bpe.putObject("vocab");
                for (int i = 0; i < n; i++) if (!vocab.has(tokens.get(i))) vocab.put(tokens.get(i), i);
                ArrayNode merges = bpe.putArray("merges");
                for (String s : strings(f, "tokenizer.ggml.merges")) merges.add(s);
                ArrayNode pretok;
                switch (pre) {
                    case "llama-bpe", "llama3", "llama-v3" -> {
                        bpe.put("ignore_merges", true);
                        pretok = split(root, LLAMA3_REGEX);
                    }
                    case "qwen2", "deepseek-r1-qwen" -> {
                        root.putObject("normalizer").put("type", "NFC");
                        pretok = split(root, QWEN2_REGEX);
                    }
                    case "gpt-2", "default" -> {
                        ObjectNode p = root.putObject("pre_tokenizer");
                        p.put("type", "ByteLevel");
                        p.put("add_prefix_space", false);
                        p.put("trim_offsets", true);
                        p.put("use_regex", true);
                        pretok = null;
                    }
                    default -> throw new TokenizerException(src + ": tokenizer.ggml.pre '" + pre
                            + "' is not supported (supported: llama-bpe, qwen2, gpt-2, default)");
                }
                if (pretok != null) {
                    ObjectNode bl = pretok.addObject();
                    bl.put("type", "ByteLevel");
                    bl.put("add_prefix_space", false);
                    bl.put("trim_offsets", true);
                    bl.put("use_regex", false);
                }
                ObjectNode dec = root.putObject("decoder");
                dec.put("type", "ByteLevel");
                dec.put("add_prefix_space", true);
                dec.put("trim_offsets", true);
                dec.put("use_regex", true);
                ArrayNode added = root.putArray("added_tokens");
                for (int i = 0; i < n; i++) {
                    if (types[i] != SentencePiece.CONTROL && types[i] != SentencePiece.USER_DEFINED) continue;
                    ObjectNode a = added.addObject();
                    a.put("id", i);
                    a.put("content", tokens.get(i));
                    a.put("single_word", false);
                    a.put("lstrip", false);
                    a.put("rstrip", false);
                    a.put("normalized", types[i] != SentencePiece.CONTROL);
                    a.put("special", types[i] == SentencePiece.CONTROL);
                }
                if ((addBos && bos != null) || (addEos && eos != null)) {
                    ObjectNode post = root.putObject("post_processor");
                    post.put("type", "TemplateProcessing");
                    ArrayNode single = post.putArray("single"), pair = post.putArray("pair");
                    ObjectNode specials = post.putObject("special_tokens");
                    for (int seq = 0; seq < 2; seq++) {
                        String seqId = seq == 0 ? "A" : "B";
                        for (ArrayNode t : seq == 0 ? List.of(single, pair) : List.of(pair)) {
                            if (addBos && bos != null) t.addObject().putObject("SpecialToken").put("id", tokens.get(bos)).put("type_id", seq);
                            t.addObject().putObject("Sequence").put("id", seqId).put("type_id", seq);
                            if (addEos && eos != null) t.addObject().putObject("SpecialToken").put("id", tokens.get(eos)).put("type_id", seq);
                        }
                    }
                    for (Integer s : new Integer[] {addBos ? bos : null, addEos ? eos : null}) {
                        if (s == null) continue;
                        ObjectNode sp = specials.putObject(tokens.get(s));
                        sp.put("id", tokens.get(s));
                        sp.putArray("ids").add(s);
                        sp.putArray("tokens").add(tokens.get(s));
                    }
                }
                try {
                    return TokenizerJson.parse(json.writeValueAsString(root));
                } catch (IOException e) {
                    throw new TokenizerException(src + ": " + e.getMessage(), e);
                } catch (TokenizerException e) {
                    throw new TokenizerException(src + ": tokenizer metadata: " + e.getMessage(), e);
                }
            }
            default -> throw new TokenizerException(src + ": tokenizer.ggml.model '" + model + "' is not supported (gpt2, llama)");
        }
    }

    private static ArrayNode split(ObjectNode root, String regex) {
        ObjectNode p = root.putObject("pre_tokenizer");
        p.put("type", "Sequence");
        ArrayNode seq = p.putArray("pretokenizers");
        ObjectNode s = seq.addObject();
        s.put("type", "Split");
        s.putObject("pattern").put("Regex", regex);
        s.put("behavior", "Isolated");
        s.put("invert", false);
        return seq;
    }

    /** Tokens a {@link #writePlaceholder} vocabulary needs at least: three specials and the 256 byte pieces. */
    public static final int PLACEHOLDER_MIN_TOKENS = 259;

    /**
     * Writes a placeholder SentencePiece-style vocabulary of {@code n} tokens into {@code w}:
     * {@code <unk>}, {@code <s>}, {@code </s>}, the 256 byte pieces {@code <0x00>} ...
     * {@code <0xFF>}, then single letters (scores -i, no BOS added). For random-weight models,
     * which have no tokenizer but which llama.cpp loads only with a vocabulary of the model's size.
     */
    public static void writePlaceholder(GgufWriter w, int n) {
        if (n < PLACEHOLDER_MIN_TOKENS) {
            throw new IllegalArgumentException("a placeholder vocabulary needs at least " + PLACEHOLDER_MIN_TOKENS + " tokens, the model has " + n);
        }
        List<GgufValue> tokens = new ArrayList<>(n), scores = new ArrayList<>(n), types = new ArrayList<>(n);
        int cp = 0x41;
        for (int i = 0; i < n; i++) {
            String piece;
            int type;
            if (i < 3) {
                piece = List.of("<unk>", "<s>", "</s>").get(i);
                type = i == 0 ? 2 : 3;                                           // unknown, control
            } else if (i < PLACEHOLDER_MIN_TOKENS) {
                piece = String.format("<0x%02X>", i - 3);
                type = 6;                                                        // byte
            } else {
                while (!Character.isLetter(cp)) cp++;
                piece = new String(Character.toChars(cp++));
                type = 1;                                                        // normal
            }
            tokens.add(GgufValue.ofString(piece));
            scores.add(GgufValue.ofF32(-i));
            types.add(GgufValue.ofI32(type));
        }
        w.putString("tokenizer.ggml.model", "llama");
        w.put("tokenizer.ggml.tokens", GgufValue.ofArray(GgufValueType.STRING, tokens));
        w.put("tokenizer.ggml.scores", GgufValue.ofArray(GgufValueType.FLOAT32, scores));
        w.put("tokenizer.ggml.token_type", GgufValue.ofArray(GgufValueType.INT32, types));
        w.putU32("tokenizer.ggml.bos_token_id", 1);
        w.putU32("tokenizer.ggml.eos_token_id", 2);
        w.putU32("tokenizer.ggml.unknown_token_id", 0);
        w.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(false));
    }

    /**
     * Writes the tokenizer of Hugging Face model directory {@code dir} (tokenizer.json with a
     * byte-level BPE, else tokenizer.model) as llama.cpp's metadata into {@code w}, with the
     * special ids and chat template of tokenizer_config.json; returns false when the directory has
     * neither file.
     */
    public static boolean write(Path dir, GgufWriter w, Integer configBos, int[] configEos) throws IOException {
        Path json = dir.resolve("tokenizer.json"), spm = dir.resolve("tokenizer.model"), cfgFile = dir.resolve("tokenizer_config.json");
        JsonNode cfg = Files.isRegularFile(cfgFile) ? TokenizerConfig.readJson(cfgFile) : null;
        List<String> tokens = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        Integer spmBos = null, spmEos = null;
        JsonNode tj = Files.isRegularFile(json) ? new ObjectMapper().readTree(json.toFile()) : null;
        boolean byteLevelBpe = tj != null && tj.path("model").path("type").asText("").equals("BPE")
                && !tj.path("model").path("byte_fallback").asBoolean(false);
        if (byteLevelBpe) {
            JsonNode vocab = tj.path("model").path("vocab");
            int size = 0;
            for (var it = vocab.fields(); it.hasNext(); ) size = Math.max(size, it.next().getValue().asInt() + 1);
            for (JsonNode a : tj.path("added_tokens")) size = Math.max(size, a.path("id").asInt() + 1);
            String[] byId = new String[size];
            int[] ty = new int[size];
            java.util.Arrays.fill(ty, 1);
            for (var it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                byId[e.getValue().asInt()] = e.getKey();
            }
            for (JsonNode a : tj.path("added_tokens")) {
                int id = a.path("id").asInt();
                byId[id] = a.path("content").asText();
                ty[id] = a.path("special").asBoolean(false) ? SentencePiece.CONTROL : SentencePiece.USER_DEFINED;
            }
            for (int i = 0; i < size; i++) {
                tokens.add(byId[i] != null ? byId[i] : "[PAD" + i + "]");
                types.add(byId[i] != null ? ty[i] : SentencePiece.UNUSED);
            }
            List<String> merges = new ArrayList<>();
            for (JsonNode m : tj.path("model").path("merges")) {
                merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
            }
            w.putString("tokenizer.ggml.model", "gpt2");
            String regex = tj.path("pre_tokenizer").findPath("Regex").asText("");
            w.putString("tokenizer.ggml.pre", regex.equals(LLAMA3_REGEX) ? "llama-bpe" : regex.equals(QWEN2_REGEX) ? "qwen2" : "gpt-2");
            w.put("tokenizer.ggml.tokens", GgufValue.ofStrings(tokens));
            w.put("tokenizer.ggml.token_type", ints(types));
            w.put("tokenizer.ggml.merges", GgufValue.ofStrings(merges));
        } else if (Files.isRegularFile(spm)) {
            SentencePiece.ModelProto m = SentencePiece.read(Files.readAllBytes(spm), spm.toString());
            tokens.addAll(m.pieces());
            List<GgufValue> scores = new ArrayList<>();
            for (int i = 0; i < m.pieces().size(); i++) {
                scores.add(GgufValue.ofF32(m.scores()[i]));
                types.add(m.types()[i]);
            }
            w.putString("tokenizer.ggml.model", "llama");
            w.put("tokenizer.ggml.tokens", GgufValue.ofStrings(tokens));
            w.put("tokenizer.ggml.scores", GgufValue.ofArray(GgufValueType.FLOAT32, scores));
            w.put("tokenizer.ggml.token_type", ints(types));
            w.putU32("tokenizer.ggml.unknown_token_id", m.unkId());
            if (m.bosId() >= 0) spmBos = m.bosId();
            if (m.eosId() >= 0) spmEos = m.eosId();
            w.put("tokenizer.ggml.add_space_prefix", GgufValue.ofBool(m.addDummyPrefix()));
        } else {
            return false;
        }
        Integer bos = special(cfg, "bos_token", tokens, configBos != null ? configBos : spmBos);
        Integer eos = special(cfg, "eos_token", tokens, configEos.length > 0 ? Integer.valueOf(configEos[0]) : spmEos);
        Integer pad = special(cfg, "pad_token", tokens, null);
        if (bos != null) w.putU32("tokenizer.ggml.bos_token_id", bos);
        if (eos != null) w.putU32("tokenizer.ggml.eos_token_id", eos);
        if (pad != null) w.putU32("tokenizer.ggml.padding_token_id", pad);
        boolean spmModel = !byteLevelBpe;
        boolean addBos = cfg != null && cfg.has("add_bos_token") ? cfg.get("add_bos_token").asBoolean() : spmModel
                || (tj != null && tj.path("post_processor").toString().contains("SpecialToken") && bos != null
                && tj.path("post_processor").toString().contains("\"" + tokens.get(bos).replace("\"", "\\\"") + "\""));
        w.put("tokenizer.ggml.add_bos_token", GgufValue.ofBool(addBos));
        w.put("tokenizer.ggml.add_eos_token", GgufValue.ofBool(cfg != null && cfg.path("add_eos_token").asBoolean(false)));
        if (cfg != null && cfg.path("chat_template").isTextual()) w.putString("tokenizer.chat_template", cfg.get("chat_template").asText());
        return true;
    }

    private static Integer special(JsonNode cfg, String key, List<String> tokens, Integer dflt) {
        if (cfg != null && cfg.has(key) && !cfg.get(key).isNull()) {
            JsonNode v = cfg.get(key);
            String s = v.isTextual() ? v.asText() : v.path("content").asText(null);
            int i = s == null ? -1 : tokens.indexOf(s);
            if (i >= 0) return i;
        }
        return dflt;
    }

    private static GgufValue ints(List<Integer> v) {
        List<GgufValue> out = new ArrayList<>(v.size());
        for (int x : v) out.add(GgufValue.ofI32(x));
        return GgufValue.ofArray(GgufValueType.INT32, out);
    }

    private static String str(GgufFile f, String key, String dflt) {
        GgufValue v = f.get(key);
        if (v == null) return dflt;
        if (v.type() != GgufValueType.STRING) throw new TokenizerException(f.path() + ": " + key + " is " + v.type() + ", not a string");
        return v.asString();
    }

    private static boolean bool(GgufFile f, String key, boolean dflt) {
        GgufValue v = f.get(key);
        if (v == null) return dflt;
        if (v.type() != GgufValueType.BOOL) throw new TokenizerException(f.path() + ": " + key + " is " + v.type() + ", not a bool");
        return v.asBoolean();
    }

    private static List<String> strings(GgufFile f, String key) {
        GgufValue v = f.get(key);
        if (v == null) throw new TokenizerException(f.path() + ": missing " + key);
        if (v.type() != GgufValueType.ARRAY || v.elementType() != GgufValueType.STRING) {
            throw new TokenizerException(f.path() + ": " + key + " must be an array of strings, is " + v.type());
        }
        List<String> out = new ArrayList<>(v.asList().size());
        for (GgufValue e : v.asList()) out.add(e.asString());
        return out;
    }

    private static int[] ints(GgufFile f, String key, int n, int dflt) {
        int[] out = new int[n];
        java.util.Arrays.fill(out, dflt);
        GgufValue v = f.get(key);
        if (v == null) return out;
        List<GgufValue> l = v.asList();
        if (l.size() != n) throw new TokenizerException(f.path() + ": " + key + " has " + l.size() + " entries, tokens " + n);
        for (int i = 0; i < n; i++) out[i] = (int) l.get(i).asLong();
        return out;
    }

    private static Integer id(GgufFile f, String key, int n) {
        GgufValue v = f.get(key);
        if (v == null) return null;
        long id = v.asLong();
        if (id < 0 || id >= n) throw new TokenizerException(f.path() + ": " + key + " = " + id + " is outside the " + n + " tokens");
        return (int) id;
    }
}
