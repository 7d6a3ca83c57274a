package dev.attn4j.hub;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeSet;

/**
 * A model directory in Hugging Face layout (a local folder or a cache snapshot), with typed
 * access to what is in it: {@code config.json} as a Jackson tree, the safetensors weight files,
 * and the sentence-transformers files ({@code modules.json}, {@code sentence_bert_config.json},
 * the pooling {@code config.json}). File names are repository paths with {@code /}.
 * Problems are {@link ModelDirectoryException}s naming the file.
 */
public final class ModelDirectory {
    /** Model configuration (transformers). */
    public static final String CONFIG = "config.json";
    /** Single-file weights. */
    public static final String WEIGHTS = "model.safetensors";
    /** Index of sharded weights. */
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    /** sentence-transformers pipeline. */
    public static final String MODULES = "modules.json";
    /** sentence-transformers settings of the Transformer module. */
    public static final String SENTENCE_BERT_CONFIG = "sentence_bert_config.json";
    /** Pooling configuration used when modules.json does not name the pooling folder. */
    public static final String DEFAULT_POOLING_CONFIG = "1_Pooling/config.json";

    static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // Python's json writes NaN / Infinity
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final Path dir;
    private JsonNode config;

    private ModelDirectory(Path dir) {
        this.dir = dir;
    }

    /**
     * Wraps an existing directory.
     *
     * @throws ModelDirectoryException when {@code dir} does not exist or is not a directory
     */
    public static ModelDirectory of(Path dir) throws ModelDirectoryException {
        Path abs = dir.toAbsolutePath().normalize();
        if (!Files.exists(abs)) {
            throw new ModelDirectoryException(abs, "no such model directory");
        }
        if (!Files.isDirectory(abs)) {
            throw new ModelDirectoryException(abs, "is a file, not a model directory");
        }
        return new ModelDirectory(abs);
    }

    /** The directory (absolute). */
    public Path path() {
        return dir;
    }

    /** The file {@code name} if it is there (as a regular file, links followed). */
    public Optional<Path> file(String name) {
        Path p = HubCache.resolveFile(dir, name);
        return Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    /** Whether the file {@code name} is there. */
    public boolean has(String name) {
        return file(name).isPresent();
    }

    /**
     * The file {@code name}.
     *
     * @throws ModelDirectoryException {@code "<dir>: missing <name>"} when it is not there
     */
    public Path requireFile(String name) throws ModelDirectoryException {
        return file(name).orElseThrow(() -> new ModelDirectoryException(dir, "missing " + name));
    }

    /** All files in the directory, as repository paths, sorted. */
    public List<String> listFiles() throws HubException {
        return List.copyOf(HubCache.listFiles(dir));
    }

    /** {@code config.json} as a Jackson tree (read once). */
    public synchronized JsonNode config() throws ModelDirectoryException {
        if (config == null) {
            JsonNode node = readJson(CONFIG);
            if (!node.isObject()) {
                throw new ModelDirectoryException(requireFile(CONFIG), "expected a JSON object, found " + kind(node));
            }
            config = node;
        }
        return config;
    }

    /**
     * Parses the JSON file {@code name}.
     *
     * @throws ModelDirectoryException when it is missing, unreadable or malformed (with line and column)
     */
    public JsonNode readJson(String name) throws ModelDirectoryException {
        Path file = requireFile(name);
        try {
            JsonNode node = MAPPER.readTree(file.toFile());
            if (node == null || node.isMissingNode()) {
                throw new ModelDirectoryException(file, "empty file, expected JSON");
            }
            return node;
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
            throw new ModelDirectoryException(file, "malformed JSON" + where + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ModelDirectoryException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * The safetensors weight files: {@code model.safetensors}, or the shards that
     * {@code model.safetensors.index.json} lists in its {@code weight_map} (sorted, each once).
     *
     * @throws ModelDirectoryException when neither is there, or a listed shard is missing
     */
    public List<Path> weightFiles() throws ModelDirectoryException {
        Optional<Path> single = file(WEIGHTS);
        if (single.isPresent()) {
            return List.of(single.get());
        }
        if (!has(WEIGHTS_INDEX)) {
            throw new ModelDirectoryException(dir, "missing " + WEIGHTS + " (and no " + WEIGHTS_INDEX
                    + "); only safetensors weights are supported");
        }
        List<Path> out = new ArrayList<>();
        for (String shard : shardNames()) {
            out.add(requireFile(shard));
        }
        return out;
    }

    /** The shard file names listed in {@code model.safetensors.index.json}, sorted, each once. */
    public List<String> shardNames() throws ModelDirectoryException {
        Path index = requireFile(WEIGHTS_INDEX);
        JsonNode wm = readJson(WEIGHTS_INDEX).get("weight_map");
        if (wm == null || !wm.isObject() || wm.isEmpty()) {
            throw new ModelDirectoryException(index, "'weight_map' must be a non-empty object");
        }
        TreeSet<String> shards = new TreeSet<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new ModelDirectoryException(index, "weight_map['" + e.getKey() + "'] must be a file name, found "
                        + kind(e.getValue()));
            }
            String shard = e.getValue().asText();
            try {
                HubCache.checkFileName(shard);
            } catch (IllegalArgumentException bad) {
                throw new ModelDirectoryException(index, "weight_map['" + e.getKey() + "']: " + bad.getMessage());
            }
            shards.add(shard);
        }
        return List.copyOf(shards);
    }

    /** The sentence-transformers pipeline from {@code modules.json}, if the file is there. */
    public Optional<List<SentenceTransformerModule>> modules() throws ModelDirectoryException {
        if (!has(MODULES)) {
            return Optional.empty();
        }
        Path file = requireFile(MODULES);
        JsonNode root = readJson(MODULES);
        if (!root.isArray()) {
            throw new ModelDirectoryException(file, "expected a JSON array of modules, found " + kind(root));
        }
        List<SentenceTransformerModule> out = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            JsonNode m = root.get(i);
            String where = "module [" + i + "]";
            if (!m.isObject()) {
                throw new ModelDirectoryException(file, where + " must be an object, found " + kind(m));
            }
            int idx = m.has("idx") ? intField(file, m, "idx", where) : i;
            String type = textField(file, m, "type", where, null);
            String path = textField(file, m, "path", where, "");
            String name = textField(file, m, "name", where, String.valueOf(idx));
            if (!path.isEmpty()) {
                try {
                    HubCache.checkFileName(path);
                } catch (IllegalArgumentException bad) {
                    throw new ModelDirectoryException(file, where + " 'path': " + bad.getMessage());
                }
            }
            out.add(new SentenceTransformerModule(idx, name, path, type));
        }
        return Optional.of(List.copyOf(out));
    }

    /** {@code sentence_bert_config.json}, if the file is there. */
    public Optional<SentenceBertConfig> sentenceBertConfig() throws ModelDirectoryException {
        if (!has(SENTENCE_BERT_CONFIG)) {
            return Optional.empty();
        }
        Path file = requireFile(SENTENCE_BERT_CONFIG);
        JsonNode root = objectRoot(SENTENCE_BERT_CONFIG);
        JsonNode max = root.get("max_seq_length");
        OptionalInt maxLen = OptionalInt.empty();
        if (max != null && !max.isNull()) {
            int v = intField(file, root, "max_seq_length", "top level");
            if (v <= 0) {
                throw new ModelDirectoryException(file, "'max_seq_length' must be positive, found " + v);
            }
            maxLen = OptionalInt.of(v);
        }
        return Optional.of(new SentenceBertConfig(maxLen, boolField(file, root, "do_lower_case", false)));
    }

    /**
     * The pooling configuration: {@code <path>/config.json} of the {@code Pooling} module named in
     * {@code modules.json}, else {@code 1_Pooling/config.json}; empty when neither is there.
     */
    public Optional<PoolingConfig> poolingConfig() throws ModelDirectoryException {
        String name = DEFAULT_POOLING_CONFIG;
        Optional<List<SentenceTransformerModule>> mods = modules();
        if (mods.isPresent()) {
            for (SentenceTransformerModule m : mods.get()) {
                if (m.simpleType().equals("Pooling")) {
                    name = m.path().isEmpty() ? CONFIG : m.path() + "/" + CONFIG;
                    if (!has(name)) {
                        throw new ModelDirectoryException(dir, "missing " + name + " (pooling module '" + m.name()
                                + "' of " + MODULES + ")");
                    }
                    break;
                }
            }
        }
        if (!has(name)) {
            return Optional.empty();
        }
        Path file = requireFile(name);
        JsonNode root = objectRoot(name);
        if (!root.has("word_embedding_dimension")) {
            throw new ModelDirectoryException(file, "missing 'word_embedding_dimension'");
        }
        int dim = intField(file, root, "word_embedding_dimension", "top level");
        if (dim <= 0) {
            throw new ModelDirectoryException(file, "'word_embedding_dimension' must be positive, found " + dim);
        }
        PoolingConfig pc = new PoolingConfig(dim,
                boolField(file, root, "pooling_mode_cls_token", false),
                boolField(file, root, "pooling_mode_mean_tokens", false),
                boolField(file, root, "pooling_mode_max_tokens", false),
                boolField(file, root, "pooling_mode_mean_sqrt_len_tokens", false),
                boolField(file, root, "pooling_mode_weightedmean_tokens", false),
                boolField(file, root, "pooling_mode_lasttoken", false),
                boolField(file, root, "include_prompt", true));
        if (pc.modes().isEmpty()) {
            throw new ModelDirectoryException(file, "no pooling mode is switched on");
        }
        return Optional.of(pc);
    }

    @Override
    public String toString() {
        return "ModelDirectory[" + dir + "]";
    }

    private JsonNode objectRoot(String name) throws ModelDirectoryException {
        JsonNode root = readJson(name);
        if (!root.isObject()) {
            throw new ModelDirectoryException(requireFile(name), "expected a JSON object, found " + kind(root));
        }
        return root;
    }

    private static int intField(Path file, JsonNode obj, String key, String where) throws ModelDirectoryException {
        JsonNode v = obj.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new ModelDirectoryException(file, where + ": '" + key + "' must be an integer, found "
                    + (v == null ? "nothing" : kind(v)));
        }
        return v.intValue();
    }

    private static boolean boolField(Path file, JsonNode obj, String key, boolean dflt) throws ModelDirectoryException {
        JsonNode v = obj.get(key);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isBoolean()) {
            throw new ModelDirectoryException(file, "'" + key + "' must be true or false, found " + kind(v));
        }
        return v.booleanValue();
    }

    private static String textField(Path file, JsonNode obj, String key, String where, String dflt)
            throws ModelDirectoryException {
        JsonNode v = obj.get(key);
        if (v == null || v.isNull()) {
            if (dflt == null) {
                throw new ModelDirectoryException(file, where + ": missing '" + key + "'");
            }
            return dflt;
        }
        if (!v.isTextual()) {
            throw new ModelDirectoryException(file, where + ": '" + key + "' must be a string, found " + kind(v));
        }
        return v.asText();
    }

    private static String kind(JsonNode v) {
        String text = v.toString();
        if (text.length() > 40) {
            text = text.substring(0, 40) + "...";
        }
        return v.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + text;
    }
}
