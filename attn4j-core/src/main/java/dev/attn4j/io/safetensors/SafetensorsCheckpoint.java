package dev.attn4j.io.safetensors;

import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A model checkpoint stored either as one safetensors file or sharded across several, with a
 * Hugging Face {@code model.safetensors.index.json} ({@code {"metadata": {...}, "weight_map":
 * {tensor name: shard file}}}). Gives the same {@link #names}, {@link #info}, {@link #get}
 * view over all shards. All shards are mapped and checked when opening; every tensor the index
 * lists must exist in its shard. Tensors present in a shard but absent from the weight map are
 * not exposed.
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
    /** The index file name Hugging Face uses for sharded safetensors checkpoints. */
    public static final String INDEX_FILE = "model.safetensors.index.json";
    /** The single-file checkpoint name Hugging Face uses. */
    public static final String SINGLE_FILE = "model.safetensors";

    private static final long MAX_INDEX_BYTES = 100_000_000L;

    private final Path source;
    private final Map<String, SafetensorsFile> byTensor;
    private final List<String> names;
    private final List<SafetensorsFile> shards;
    private final Map<String, String> metadata;

    private SafetensorsCheckpoint(Path source, Map<String, SafetensorsFile> byTensor, List<SafetensorsFile> shards,
                                  Map<String, String> metadata) {
        this.source = source;
        this.byTensor = byTensor;
        this.names = List.copyOf(byTensor.keySet());
        this.shards = List.copyOf(shards);
        this.metadata = metadata;
    }

    /**
     * Opens {@code path}: a {@code .safetensors} file, an index {@code .json} file, or a
     * directory holding {@value #INDEX_FILE}, {@value #SINGLE_FILE}, or exactly one
     * {@code *.safetensors} file (checked in that order).
     */
    public static SafetensorsCheckpoint open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) return openIndex(index);
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) return openSingle(single);
            List<Path> candidates;
            try (Stream<Path> s = Files.list(path)) {
                candidates = s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                        .filter(Files::isRegularFile).sorted().toList();
            }
            if (candidates.size() == 1) return openSingle(candidates.getFirst());
            throw new SafetensorsException(path, "directory has no " + INDEX_FILE + " and no " + SINGLE_FILE
                    + (candidates.isEmpty() ? " and no other *.safetensors file"
                    : " but " + candidates.size() + " *.safetensors files, so which one is meant is unclear: "
                    + candidates.stream().map(p -> p.getFileName().toString()).toList()));
        }
        if (!Files.exists(path)) throw new SafetensorsException(path, "no such file or directory");
        if (path.getFileName().toString().endsWith(".json")) return openIndex(path);
        return openSingle(path);
    }

    private static SafetensorsCheckpoint openSingle(Path file) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> by = new LinkedHashMap<>();
        for (String n : f.names()) by.put(n, f);
        return new SafetensorsCheckpoint(file, by, List.of(f), f.metadata());
    }

    private static SafetensorsCheckpoint openIndex(Path index) throws IOException {
        long size = Files.size(index);
        if (size > MAX_INDEX_BYTES) {
            throw new SafetensorsException(index, "index file is " + size + " bytes, more than the limit of " + MAX_INDEX_BYTES);
        }
        Object root;
        try {
            root = Json.parse(Files.readAllBytes(index));
        } catch (Json.JsonException e) {
            throw new SafetensorsException(index, "index " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> fields)) throw new SafetensorsException(index, "index is not a JSON object");
        Object weightMap = fields.get("weight_map");
        if (weightMap == null) throw new SafetensorsException(index, "index has no \"weight_map\"");
        if (!(weightMap instanceof Map<?, ?> wm)) {
            throw new SafetensorsException(index, "\"weight_map\" must be an object {tensor name: shard file}, is "
                    + Json.typeOf(weightMap));
        }
        Map<String, String> metadata = indexMetadata(index, fields.get("metadata"));

        Path dir = index.toAbsolutePath().getParent();
        Map<String, String> shardOf = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : wm.entrySet()) {
            String tensor = (String) e.getKey();
            if (!(e.getValue() instanceof String shard)) {
                throw new SafetensorsException(index, "weight_map entry for tensor " + HeaderParser.quote(tensor)
                        + " must be a shard file name, is " + Json.show(e.getValue()));
            }
            shardOf.put(tensor, shard);
        }

        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        boolean ok = false;
        try {
            Map<String, SafetensorsFile> byTensor = new LinkedHashMap<>();
            for (Map.Entry<String, String> e : shardOf.entrySet()) {
                String tensor = e.getKey(), shardName = e.getValue();
                SafetensorsFile shard = opened.get(shardName);
                if (shard == null) {
                    shard = openShard(index, dir, shardName, tensor);
                    opened.put(shardName, shard);
                }
                if (!shard.contains(tensor)) {
                    throw new SafetensorsException(index, "weight_map puts tensor " + HeaderParser.quote(tensor)
                            + " in shard " + HeaderParser.quote(shardName) + ", which has no such tensor"
                            + Names.describe(tensor, shard.names()));
                }
                byTensor.put(tensor, shard);
            }
            SafetensorsCheckpoint c = new SafetensorsCheckpoint(index, byTensor, new ArrayList<>(opened.values()), metadata);
            ok = true;
            return c;
        } finally {
            if (!ok) opened.values().forEach(SafetensorsFile::close);
        }
    }

    private static SafetensorsFile openShard(Path index, Path dir, String shardName, String tensor) throws IOException {
        Path rel;
        try {
            rel = Path.of(shardName);
        } catch (RuntimeException e) {
            throw new SafetensorsException(index, "shard " + HeaderParser.quote(shardName) + " (for tensor "
                    + HeaderParser.quote(tensor) + ") is not a valid file name");
        }
        Path shardPath = dir.resolve(rel).normalize();
        if (shardName.isEmpty() || rel.isAbsolute() || !shardPath.startsWith(dir.normalize())) {
            throw new SafetensorsException(index, "shard " + HeaderParser.quote(shardName) + " (for tensor "
                    + HeaderParser.quote(tensor) + ") must be a file name relative to the index's directory");
        }
        if (!Files.isRegularFile(shardPath)) {
            throw new SafetensorsException(index, "shard " + HeaderParser.quote(shardName) + " (for tensor "
                    + HeaderParser.quote(tensor) + ") does not exist: " + shardPath);
        }
        try {
            return SafetensorsFile.open(shardPath);
        } catch (SafetensorsException e) {
            throw new SafetensorsException(index, "shard " + HeaderParser.quote(shardName) + " is invalid: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> indexMetadata(Path index, Object node) throws SafetensorsException {
        if (node == null || node == Json.NULL) return Map.of();
        if (!(node instanceof Map<?, ?> m)) {
            throw new SafetensorsException(index, "\"metadata\" must be an object, is " + Json.typeOf(node));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            Object v = e.getValue();
            out.put((String) e.getKey(), v instanceof String s ? s : Json.show(v));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The file or index this checkpoint was opened from. */
    public Path path() {
        return source;
    }

    /** Whether the checkpoint is sharded (opened through an index). */
    public boolean isSharded() {
        return source.getFileName().toString().endsWith(".json");
    }

    /** The opened shard files (one for a single-file checkpoint). */
    public List<SafetensorsFile> shards() {
        return shards;
    }

    /** Tensor names: header order for one file, weight_map order for an index. */
    public List<String> names() {
        return names;
    }

    /** Whether the checkpoint has a tensor of that name. */
    public boolean contains(String name) {
        return byTensor.containsKey(name);
    }

    /**
     * Metadata: the file's {@code __metadata__}, or the index's {@code "metadata"} (non-string
     * values such as {@code total_size} as their JSON text).
     */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The shard file holding tensor {@code name}. */
    public SafetensorsFile shardOf(String name) throws SafetensorsException {
        SafetensorsFile f = byTensor.get(name);
        if (f == null) throw Names.notFound(source, name, names);
        return f;
    }

    /** See {@link SafetensorsFile#info}. */
    public TensorInfo info(String name) throws SafetensorsException {
        return shardOf(name).info(name);
    }

    /** See {@link SafetensorsFile#get}. */
    public NDArray get(String name) throws SafetensorsException {
        return shardOf(name).get(name);
    }

    /** See {@link SafetensorsFile#getCopy}. */
    public NDArray getCopy(String name) throws SafetensorsException {
        return shardOf(name).getCopy(name);
    }

    /** See {@link SafetensorsFile#get16}. */
    public NDArray get16(String name) throws SafetensorsException {
        return shardOf(name).get16(name);
    }

    /** See {@link SafetensorsFile#get16Copy}. */
    public NDArray get16Copy(String name) throws SafetensorsException {
        return shardOf(name).get16Copy(name);
    }

    /** See {@link SafetensorsFile#getLongs}. */
    public long[] getLongs(String name) throws SafetensorsException {
        return shardOf(name).getLongs(name);
    }

    /** See {@link SafetensorsFile#getInts}. */
    public int[] getInts(String name) throws SafetensorsException {
        return shardOf(name).getInts(name);
    }

    /** Unmaps every shard. */
    @Override
    public void close() {
        for (SafetensorsFile f : shards) f.close();
    }

    @Override
    public String toString() {
        return "SafetensorsCheckpoint[" + source + ", " + shards.size() + " shard(s), " + names.size() + " tensors]";
    }
}
