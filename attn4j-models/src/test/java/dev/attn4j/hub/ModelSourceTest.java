package dev.attn4j.hub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Local directories, cache hits without requests, downloads, offline mode, sharded weights. */
class ModelSourceTest {
    @TempDir
    Path tmp;

    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);
    private FakeHub hub;
    private String commit;
    private int hiddenSize;
    private FakeHub.Entry weights;
    private Map<String, String> env;

    @BeforeEach
    void setUp() throws Exception {
        hub = new FakeHub();
        commit = randomSha();
        hiddenSize = 8 + rng.nextInt(1000);
        weights = new FakeHub.Entry(randomBytes(10_001 + rng.nextInt(50_000)), true);
        Map<String, FakeHub.Entry> files = new LinkedHashMap<>();
        files.put("config.json", text("{\"hidden_size\": " + hiddenSize + "}"));
        files.put("model.safetensors", weights);
        files.put("vocab.txt", text("[PAD]\n[UNK]\nhello\n"));
        files.put("modules.json", text("[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Transformer\"},"
                + "{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"}]"));
        files.put("1_Pooling/config.json", text("{\"word_embedding_dimension\": " + hiddenSize
                + ", \"pooling_mode_cls_token\": true}"));
        hub.put("acme/mini", "main", commit, files);
        env = new HashMap<>();
        env.put("HF_HOME", tmp.resolve("hf-home").toString());
        env.put("HF_ENDPOINT", hub.endpoint().toString());
        env.put("HF_HUB_DISABLE_PROGRESS_BARS", "1");
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    @Test
    void downloadsOnceThenServesTheCacheWithoutAnyRequest() throws Exception {
        ModelDirectory first = ModelSource.fromEnvironment(env).resolve("acme/mini");
        Path expected = tmp.resolve("hf-home/hub/models--acme--mini/snapshots").resolve(commit);
        assertThat(first.path()).isEqualTo(expected);
        assertThat(first.config().get("hidden_size").intValue()).as("seed %d", seed).isEqualTo(hiddenSize);
        assertThat(first.weightFiles()).containsExactly(expected.resolve("model.safetensors"));
        assertThat(first.poolingConfig().orElseThrow().modes()).containsExactly("cls");
        // the optional files the repo lacks are recorded, so the snapshot counts as complete
        assertThat(expected.resolve("../../.no_exist").resolve(commit).resolve("tokenizer.json").normalize()).isRegularFile();
        long requests = hub.requests();
        assertThat(requests).isPositive();

        ModelDirectory second = ModelSource.fromEnvironment(env).resolve("acme/mini@main");
        assertThat(second.path()).isEqualTo(expected);
        assertThat(hub.requests()).as("second resolve must not touch the network").isEqualTo(requests);
        ModelDirectory byCommit = ModelSource.fromEnvironment(env).resolve("acme/mini@" + commit);
        assertThat(byCommit.path()).isEqualTo(expected);
        assertThat(hub.requests()).isEqualTo(requests);
    }

    @Test
    void incompleteSnapshotIsCompletedOnline() throws Exception {
        ModelSource.fromEnvironment(env).resolve("acme/mini");
        Path snap = tmp.resolve("hf-home/hub/models--acme--mini/snapshots").resolve(commit);
        Files.delete(snap.resolve("model.safetensors"));
        long before = hub.bodyBytes.get();
        ModelDirectory again = ModelSource.fromEnvironment(env).resolve("acme/mini");
        assertThat(again.requireFile("model.safetensors")).hasBinaryContent(weights.content());
        assertThat(hub.bodyBytes.get()).as("the blob is still cached: relinked, not downloaded").isEqualTo(before);
    }

    @Test
    void offlineModeUsesOnlyTheCacheAndSaysWhatIsMissing() throws Exception {
        Map<String, String> offline = new HashMap<>(env);
        offline.put("HF_HUB_OFFLINE", "1");
        assertThatThrownBy(() -> ModelSource.fromEnvironment(offline).resolve("acme/mini"))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("offline mode")
                .hasMessageContaining("acme/mini@main")
                .hasMessageContaining("models--acme--mini/refs/main")
                .hasMessageContaining("never downloaded");
        assertThat(hub.requests()).isZero();

        ModelSource.fromEnvironment(env).resolve("acme/mini");
        long requests = hub.requests();
        ModelDirectory d = ModelSource.fromEnvironment(offline).resolve("acme/mini");
        assertThat(d.config().get("hidden_size").intValue()).isEqualTo(hiddenSize);

        Files.delete(d.path().resolve("config.json"));
        Files.delete(d.path().resolve("model.safetensors"));
        assertThatThrownBy(() -> ModelSource.fromEnvironment(offline).resolve("acme/mini"))
                .hasMessageContaining("offline mode")
                .hasMessageContaining("lacks config.json, model.safetensors");
        assertThatThrownBy(() -> ModelSource.fromEnvironment(offline).resolve("acme/mini@v2"))
                .hasMessageContaining("refs/v2");
        assertThat(hub.requests()).isEqualTo(requests);
    }

    @Test
    void offlineModeAcceptsASnapshotWithoutOptionalFiles() throws Exception {
        // as written by a Python program that fetched only config and weights
        HubCache cache = new HubCache(tmp.resolve("hf-home/hub"));
        ModelId id = ModelId.parse("acme/mini");
        try (HubDownloader dl = HubDownloader.builder().cache(cache).endpoint(hub.endpoint()).build()) {
            dl.download(id, List.of("config.json", "model.safetensors"), List.of());
        }
        long requests = hub.requests();
        Map<String, String> offline = new HashMap<>(env);
        offline.put("HF_HUB_OFFLINE", "true");
        assertThat(ModelSource.fromEnvironment(offline).resolve("acme/mini").has("vocab.txt")).isFalse();
        assertThat(hub.requests()).isEqualTo(requests);
        // online, the optional files are looked up once
        assertThat(ModelSource.fromEnvironment(env).resolve("acme/mini").has("vocab.txt")).isTrue();
        assertThat(hub.requests()).isGreaterThan(requests);
    }

    @Test
    void unreachableHubFallsBackToAUsableCachedSnapshotOnly() throws Exception {
        HubCache cache = new HubCache(tmp.resolve("hf-home/hub"));
        ModelId id = ModelId.parse("acme/mini");
        Map<String, String> down = new HashMap<>(env);
        int port;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        down.put("HF_ENDPOINT", "http://127.0.0.1:" + port);
        assertThatThrownBy(() -> ModelSource.fromEnvironment(down).resolve("acme/mini"))
                .isInstanceOf(HubConnectionException.class)
                .hasMessageContaining("http://127.0.0.1:" + port + "/acme/mini/resolve/main/config.json");
        try (HubDownloader dl = HubDownloader.builder().cache(cache).endpoint(hub.endpoint()).build()) {
            dl.download(id, List.of("config.json", "model.safetensors"), List.of());
        }
        // optional files were never looked up, so online this is a miss; unreachable, it is good enough
        ModelDirectory d = ModelSource.fromEnvironment(down).resolve("acme/mini");
        assertThat(d.path()).isEqualTo(cache.snapshotDir(id, commit));
        // but an HTTP error from a reachable Hub is not papered over
        hub.gate("acme/mini", "tok");
        assertThatThrownBy(() -> ModelSource.fromEnvironment(env).resolve("acme/mini"))
                .isInstanceOf(HubHttpException.class).hasMessageContaining("HTTP 401");
    }

    @Test
    void localDirectoryIsUsedAsItIs() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("my-model"));
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 3}");
        ModelDirectory d = ModelSource.fromEnvironment(env).resolve(dir.toString());
        assertThat(d.path()).isEqualTo(dir);
        assertThat(d.config().get("hidden_size").intValue()).isEqualTo(3);
        assertThat(hub.requests()).isZero();

        assertThatThrownBy(() -> ModelSource.fromEnvironment(env).resolve(dir.resolve("config.json").toString()))
                .isInstanceOf(ModelDirectoryException.class).hasMessageContaining("is a file, not a model directory");
        assertThatThrownBy(() -> ModelSource.fromEnvironment(env).resolve(tmp.resolve("nope/x").toString()))
                .isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining(tmp.resolve("nope/x").toString())
                .hasMessageContaining("no such model directory");
        assertThatThrownBy(() -> ModelSource.fromEnvironment(env).resolve("not an id"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neither an existing directory nor a Hub model id");
        assertThat(hub.requests()).isZero();
    }

    @Test
    void shardedWeightsAreFetchedFromTheIndex() throws Exception {
        String c2 = randomSha();
        FakeHub.Entry s1 = new FakeHub.Entry(randomBytes(5_001 + rng.nextInt(5_000)), true);
        FakeHub.Entry s2 = new FakeHub.Entry(randomBytes(5_001 + rng.nextInt(5_000)), true);
        String index = "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {"
                + "\"a.weight\": \"model-00001-of-00002.safetensors\", \"b.weight\": \"model-00002-of-00002.safetensors\","
                + "\"c.weight\": \"model-00001-of-00002.safetensors\"}}";
        hub.put("acme/big", "main", c2, Map.of("config.json", text("{\"hidden_size\": 1}"),
                "model.safetensors.index.json", text(index),
                "model-00001-of-00002.safetensors", s1, "model-00002-of-00002.safetensors", s2));
        ModelDirectory d = ModelSource.fromEnvironment(env).resolve("acme/big");
        List<Path> shards = d.weightFiles();
        assertThat(shards).extracting(p -> p.getFileName().toString())
                .containsExactly("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors");
        assertThat(shards.get(0)).hasBinaryContent(s1.content());
        assertThat(shards.get(1)).hasBinaryContent(s2.content());
        long requests = hub.requests();
        ModelSource.fromEnvironment(env).resolve("acme/big");
        assertThat(hub.requests()).isEqualTo(requests);
    }

    @Test
    void repositoryWithoutSafetensorsIsRefused() throws Exception {
        hub.put("acme/old", "main", randomSha(), Map.of("config.json", text("{}"),
                "pytorch_model.bin", new FakeHub.Entry(randomBytes(100), true)));
        assertThatThrownBy(() -> ModelSource.fromEnvironment(env).resolve("acme/old"))
                .isInstanceOf(HubException.class)
                .hasMessageContaining("acme/old@main")
                .hasMessageContaining("neither model.safetensors nor model.safetensors.index.json");
    }

    private FakeHub.Entry text(String s) {
        return new FakeHub.Entry(s.getBytes(StandardCharsets.UTF_8), false);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) rng.nextInt(256);
        }
        return b;
    }

    private String randomSha() {
        return HexFormat.of().formatHex(randomBytes(20));
    }
}
