package dev.attn4j.models.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.PoolingConfig;
import dev.attn4j.io.safetensors.SafetensorsFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** DefaultModel: the converted directory's contents, caching, and crash safety of the cache write. */
class DefaultModelTest {
    static final JsonMapper JSON = new JsonMapper();
    static byte[] onnx;
    static byte[] tokenizer;
    static String dirName;

    @TempDir
    static Path shared; // one converted directory for the content checks

    @BeforeAll
    static void load() throws IOException {
        onnx = DefaultModel.onnxBytes();
        tokenizer = DefaultModel.tokenizerJsonBytes();
        dirName = DefaultModel.directoryName(onnx);
    }

    static Path converted() throws IOException {
        return DefaultModel.resolve(shared, onnx, tokenizer, n -> { });
    }

    static Path sharedModel() {
        return Path.of("").toAbsolutePath().getParent().resolve("../shared/models/all-MiniLM-L6-v2").normalize();
    }

    static List<String> siblings(Path root) throws IOException {
        try (Stream<Path> s = Files.list(root)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void laterStartsFindTheDirectoryThroughTheReferenceFileWithoutHashing(@TempDir Path root) throws IOException {
        DefaultModel.resourceDirName = null;
        Path dir = DefaultModel.resolve(root);
        assertThat(dir.getFileName().toString()).isEqualTo(dirName);
        String stamp = DefaultModel.resourceStamp(DefaultModel.ONNX_RESOURCE);
        assertThat(stamp).as("the ONNX file is a jar entry").matches("[0-9a-f]{8}-" + onnx.length);
        Path ref = root.resolve(".all-MiniLM-L6-v2-" + stamp + ".ref");
        assertThat(ref).hasContent(dirName);
        // A reference to a directory that is not there is not trusted: hashed again, and rewritten.
        Files.writeString(ref, "all-MiniLM-L6-v2-0123456789abcdef");
        DefaultModel.resourceDirName = null;
        assertThat(DefaultModel.resolve(root)).isEqualTo(dir);
        assertThat(ref).hasContent(dirName);
        // An unreadable reference (not UTF-8) is ignored the same way.
        Files.write(ref, new byte[] {(byte) 0xff, (byte) 0xfe, 0x41});
        DefaultModel.resourceDirName = null;
        assertThat(DefaultModel.resolve(root)).isEqualTo(dir);
        assertThat(ref).hasContent(dirName);
        // A reference naming a complete directory is what the next start uses, unhashed (shown with
        // a decoy that only has the file names).
        Path decoy = root.resolve("all-MiniLM-L6-v2-fedcba9876543210");
        for (String f : DefaultModel.FILES) {
            Files.createDirectories(decoy.resolve(f).getParent());
            Files.createFile(decoy.resolve(f));
        }
        Files.writeString(ref, decoy.getFileName().toString());
        DefaultModel.resourceDirName = null;
        assertThat(DefaultModel.resolve(root)).isEqualTo(decoy);
        DefaultModel.resourceDirName = null;
    }

    @Test
    void directoryNameAndCacheRoot() {
        assertThat(dirName).matches("all-MiniLM-L6-v2-[0-9a-f]{16}");
        assertThat(DefaultModel.modelsRoot(Map.of("XDG_CACHE_HOME", "/x/cache")))
                .isEqualTo(Path.of("/x/cache/attn4j/models"));
        assertThat(DefaultModel.modelsRoot(Map.of()))
                .isEqualTo(Path.of(System.getProperty("user.home"), ".cache", "attn4j", "models"));
    }

    @Test
    void convertedDirectoryIsAHuggingFaceSentenceTransformersModel() throws IOException {
        Path dir = converted();
        assertThat(dir.getFileName().toString()).isEqualTo(dirName);
        assertThat(DefaultModel.isComplete(dir)).isTrue();
        ModelDirectory md = ModelDirectory.of(dir);
        assertThat(md.config().get("hidden_size").asInt()).isEqualTo(384);
        assertThat(md.sentenceBertConfig().orElseThrow().maxSeqLength().getAsInt()).isEqualTo(256);
        PoolingConfig pc = md.poolingConfig().orElseThrow();
        assertThat(pc.wordEmbeddingDimension()).isEqualTo(384);
        assertThat(pc.meanTokens()).isTrue();
        assertThat(md.modules().orElseThrow()).extracting(m -> m.simpleType())
                .containsExactly("Transformer", "Pooling", "Normalize");
        JsonNode tok = JSON.readTree(dir.resolve("tokenizer.json").toFile());
        assertThat(tok.get("truncation").isNull()).isTrue();
        assertThat(tok.get("padding").isNull()).isTrue();
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            assertThat(f.names()).hasSize(103);
            assertThat(f.metadata()).containsEntry("format", "pt");
        }
    }

    @Test
    void convertedFilesMatchTheHuggingFaceRelease() throws IOException {
        Path hf = sharedModel();
        assumeTrue(Files.isDirectory(hf), "shared model not present: " + hf);
        Path dir = converted();
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")) {
            assertThat(JSON.readTree(dir.resolve(f).toFile())).as(f).isEqualTo(JSON.readTree(hf.resolve(f).toFile()));
        }
        assertThat(Files.readAllLines(dir.resolve("vocab.txt"))).isEqualTo(Files.readAllLines(hf.resolve("vocab.txt")));
        try (SafetensorsFile ours = SafetensorsFile.open(dir.resolve("model.safetensors"));
             SafetensorsFile theirs = SafetensorsFile.open(hf.resolve("model.safetensors"))) {
            assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(theirs.names());
            for (String k : theirs.names()) {
                assertThat(ours.info(k).shape()).as(k).isEqualTo(theirs.info(k).shape());
                assertThat(ours.get(k).toFloatArray()).as(k).isEqualTo(theirs.get(k).toFloatArray());
            }
        }
    }

    @Test
    void secondResolveReusesTheDirectoryAndAnIncompleteOneIsRebuilt(@TempDir Path root) throws IOException {
        AtomicInteger writes = new AtomicInteger();
        Path first = DefaultModel.resolve(root, onnx, tokenizer, n -> writes.incrementAndGet());
        int afterFirst = writes.get();
        assertThat(afterFirst).isEqualTo(DefaultModel.FILES.size());
        Path second = DefaultModel.resolve(root, onnx, tokenizer, n -> writes.incrementAndGet());
        assertThat(second).isEqualTo(first);
        assertThat(writes.get()).as("no file written again").isEqualTo(afterFirst);
        assertThat(siblings(root)).containsExactly("." + dirName + ".lock", dirName);

        // A final directory that lost a file (deleted by hand) is rebuilt, not used.
        Files.delete(first.resolve("vocab.txt"));
        assertThat(DefaultModel.isComplete(first)).isFalse();
        Path third = DefaultModel.resolve(root, onnx, tokenizer, n -> writes.incrementAndGet());
        assertThat(third).isEqualTo(first);
        assertThat(writes.get()).isEqualTo(2 * afterFirst);
        assertThat(DefaultModel.isComplete(first)).isTrue();
        assertThat(siblings(root)).containsExactly("." + dirName + ".lock", dirName);
    }

    @Test
    void failureMidwayLeavesNothingThatLooksComplete(@TempDir Path root) throws IOException {
        for (String failAfter : List.of("model.safetensors", "attn4j_conversion.json")) {
            assertThatThrownBy(() -> DefaultModel.resolve(root, onnx, tokenizer, n -> {
                if (n.equals(failAfter)) throw new IOException("disk full (test) after " + n);
            })).hasMessageContaining("disk full (test) after " + failAfter);
            assertThat(siblings(root)).as("after failing at " + failAfter).containsExactly("." + dirName + ".lock");
        }
    }

    @Test
    void crashedConversionInAnotherProcessIsNotMistakenForAModel(@TempDir Path root) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                CrashingConversion.class.getName(), root.toString(), "model.safetensors")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(77);
        // The child died holding a half-written temporary directory: no final directory exists.
        List<String> left = siblings(root);
        assertThat(left).as(out).doesNotContain(dirName);
        assertThat(left).anyMatch(n -> n.startsWith("." + dirName + ".tmp-"));
        assertThat(DefaultModel.isComplete(root.resolve(dirName))).isFalse();
        // The next conversion (lock free again) removes the leftover and builds the directory.
        Path dir = DefaultModel.resolve(root, onnx, tokenizer, n -> { });
        assertThat(DefaultModel.isComplete(dir)).isTrue();
        assertThat(siblings(root)).containsExactly("." + dirName + ".lock", dirName);
    }

    @Test
    void concurrentResolvesConvertOnce(@TempDir Path root) throws Exception {
        AtomicInteger conversions = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Callable<Path>> jobs = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                jobs.add(() -> DefaultModel.resolve(root, onnx, tokenizer, n -> {
                    if (n.equals("attn4j_conversion.json")) conversions.incrementAndGet();
                }));
            }
            List<Path> got = new ArrayList<>();
            for (Future<Path> f : pool.invokeAll(jobs)) got.add(f.get());
            assertThat(got).containsOnly(root.resolve(dirName));
        } finally {
            pool.shutdownNow();
        }
        assertThat(conversions.get()).isEqualTo(1);
        assertThat(DefaultModel.isComplete(root.resolve(dirName))).isTrue();
    }

    @Test
    void badOnnxBytesFailWithTheResourceName(@TempDir Path root) {
        byte[] bad = java.util.Arrays.copyOf(onnx, 5000);
        assertThatThrownBy(() -> DefaultModel.resolve(root, bad, tokenizer, n -> { }))
                .isInstanceOf(OnnxFormatException.class)
                .hasMessageStartingWith(DefaultModel.ONNX_RESOURCE + ": at byte offset");
        assertThatThrownBy(() -> DefaultModel.resolve(root, onnx, "[1,2]".getBytes(), n -> { }))
                .hasMessageContaining("not a tokenizer.json object");
    }
}
