package dev.attn4j.hub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Downloads from a loopback fake of the Hub into the huggingface_hub cache layout. */
class HubDownloaderTest {
    @TempDir
    Path tmp;

    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);
    private FakeHub hub;
    private HubCache cache;
    private String commit;
    private FakeHub.Entry config;
    private FakeHub.Entry weights;
    private FakeHub.Entry tokenizer;
    private FakeHub.Entry pooling;
    private static final ModelId ID = ModelId.parse("acme/tiny-bert");

    @BeforeEach
    void setUp() throws Exception {
        hub = new FakeHub();
        cache = new HubCache(tmp.resolve("cache"));
        commit = randomSha();
        config = text("{\"hidden_size\": " + (8 + rng.nextInt(1000)) + ", \"model_type\": \"bert\"}");
        weights = new FakeHub.Entry(randomBytes(150_001 + rng.nextInt(100_000)), true);
        tokenizer = text("{\"model\": {\"vocab\": {\"[PAD]\": 0}}, \"seed\": " + seed + "}");
        pooling = text("{\"word_embedding_dimension\": 16, \"pooling_mode_mean_tokens\": true}");
        Map<String, FakeHub.Entry> files = new LinkedHashMap<>();
        files.put("config.json", config);
        files.put("model.safetensors", weights);
        files.put("tokenizer.json", tokenizer);
        files.put("1_Pooling/config.json", pooling);
        hub.put(ID.repoId(), "main", commit, files);
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    private HubDownloader.Builder downloader() {
        return HubDownloader.builder().cache(cache).endpoint(hub.endpoint()).readTimeout(Duration.ofSeconds(10));
    }

    private HubSnapshot fetchAll(HubDownloader dl) throws Exception {
        return dl.download(ID, List.of("config.json", "model.safetensors"),
                List.of("tokenizer.json", "1_Pooling/config.json", "vocab.txt"));
    }

    @Test
    void freshDownloadWritesBlobsSnapshotsAndRefsLikeHuggingfaceHub() throws Exception {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        HubSnapshot s;
        try (HubDownloader dl = downloader().token("tok-" + seed)
                .progress(new PrintStream(progress, true, StandardCharsets.UTF_8)).build()) {
            s = fetchAll(dl);
        }
        Path repo = cache.root().resolve("models--acme--tiny-bert");
        assertThat(s.commit()).isEqualTo(commit);
        assertThat(s.dir()).isEqualTo(repo.resolve("snapshots").resolve(commit));
        assertThat(Files.readString(repo.resolve("refs/main"))).as("refs/main holds the bare sha").isEqualTo(commit);
        assertThat(s.files()).containsExactly("1_Pooling/config.json", "config.json", "model.safetensors", "tokenizer.json");
        assertThat(s.absent()).containsExactly("vocab.txt");
        assertThat(repo.resolve(".no_exist").resolve(commit).resolve("vocab.txt")).isRegularFile();

        // blobs are named by ETag: git sha1 for regular files, sha256 for LFS files
        assertThat(repo.resolve("blobs").resolve(FakeHub.gitSha1(config.content()))).hasBinaryContent(config.content());
        assertThat(repo.resolve("blobs").resolve(FakeHub.sha256(weights.content()))).hasBinaryContent(weights.content());
        // snapshot entries are relative symlinks into blobs/
        Path snap = s.dir();
        assertThat(Files.isSymbolicLink(snap.resolve("config.json"))).isTrue();
        assertThat(Files.readSymbolicLink(snap.resolve("config.json")).toString())
                .isEqualTo("../../blobs/" + FakeHub.gitSha1(config.content()));
        assertThat(Files.readSymbolicLink(snap.resolve("model.safetensors")).toString())
                .isEqualTo("../../blobs/" + weights.etag());
        assertThat(Files.readSymbolicLink(snap.resolve("1_Pooling/config.json")).toString())
                .isEqualTo("../../../blobs/" + pooling.etag());
        assertThat(snap.resolve("model.safetensors")).hasBinaryContent(weights.content());
        assertThat(snap.resolve("tokenizer.json")).hasBinaryContent(tokenizer.content());
        assertThat(repo.resolve("blobs").resolve(weights.etag() + ".incomplete")).doesNotExist();
        assertThat(cache.root().resolve(".locks/models--acme--tiny-bert")).isDirectory();
        try (Stream<Path> leftovers = Files.walk(repo)) {
            assertThat(leftovers.map(Path::toString).filter(p -> p.contains(".tmp-") || p.endsWith(".incomplete")))
                    .isEmpty();
        }

        // the token goes to the Hub but not to the CDN host the LFS file redirects to
        assertThat(hub.seen).filteredOn(r -> r.server().equals("hub"))
                .allSatisfy(r -> assertThat(r.authorization()).isEqualTo("Bearer tok-" + seed));
        assertThat(hub.seen).filteredOn(r -> r.server().equals("cdn")).hasSize(1)
                .allSatisfy(r -> assertThat(r.authorization()).isNull());
        // after the first answer, files are requested at the commit, not at "main"
        assertThat(hub.seen.get(0).path()).contains("/resolve/main/config.json");
        assertThat(hub.seen).filteredOn(r -> r.path().contains("tokenizer.json"))
                .allSatisfy(r -> assertThat(r.path()).contains("/resolve/" + commit + "/"));
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("model.safetensors").contains("100%");
    }

    @Test
    void commitRevisionWritesNoRefAndCostsNoRequestOnceCached() throws Exception {
        ModelId atCommit = ID.withRevision(commit);
        try (HubDownloader dl = downloader().build()) {
            HubSnapshot first = fetchAllAt(dl, atCommit);
            long requests = hub.requests();
            HubSnapshot second = fetchAllAt(dl, atCommit);
            assertThat(hub.requests()).as("all files and the absent one are known locally").isEqualTo(requests);
            assertThat(second.files()).isEqualTo(first.files());
            assertThat(second.absent()).containsExactly("vocab.txt");
        }
        assertThat(cache.repoDir(ID).resolve("refs")).doesNotExist();
    }

    private static HubSnapshot fetchAllAt(HubDownloader dl, ModelId id) throws Exception {
        return dl.download(id, List.of("config.json", "model.safetensors"),
                List.of("tokenizer.json", "1_Pooling/config.json", "vocab.txt"));
    }

    @Test
    void newCommitOnBranchReusesUnchangedBlobs() throws Exception {
        try (HubDownloader dl = downloader().build()) {
            fetchAll(dl);
            String next = randomSha();
            FakeHub.Entry config2 = text("{\"hidden_size\": 7, \"rev\": 2}");
            hub.put(ID.repoId(), "main", next, Map.of("config.json", config2, "model.safetensors", weights,
                    "tokenizer.json", tokenizer, "1_Pooling/config.json", pooling));
            long before = hub.bodyBytes.get();
            HubSnapshot s = fetchAll(dl);
            assertThat(s.commit()).isEqualTo(next);
            assertThat(Files.readString(cache.repoDir(ID).resolve("refs/main"))).isEqualTo(next);
            assertThat(s.dir().resolve("config.json")).hasBinaryContent(config2.content());
            assertThat(s.dir().resolve("model.safetensors")).hasBinaryContent(weights.content());
            assertThat(hub.bodyBytes.get() - before).as("only the changed config is transferred, seed %d", seed)
                    .isEqualTo(config2.content().length);
            assertThat(cache.snapshotDir(ID, commit).resolve("config.json")).hasBinaryContent(config.content());
        }
    }

    @Test
    void cutDownloadKeepsOnlyAPartialFileAndTheNextAttemptResumesWithRange() throws Exception {
        int size = weights.content().length;
        int cut = 1 + rng.nextInt(size - 1);
        hub.cutNextGetAfter(weights, cut);
        try (HubDownloader dl = downloader().build()) {
            assertThatThrownBy(() -> fetchAll(dl)).as("seed %d", seed)
                    .isInstanceOf(HubException.class)
                    .hasMessageContaining("/blobs/" + weights.etag())
                    .hasMessageContaining("interrupted after")
                    .hasMessageContaining("resumes");
            Path partial = cache.incompletePath(ID, weights.etag());
            assertThat(partial).exists();
            long have = Files.size(partial);
            assertThat(have).as("seed %d", seed).isBetween(0L, (long) cut);
            assertNoCompleteWeights();

            long before = hub.bodyBytes.get();
            HubSnapshot s = fetchAll(dl);
            assertThat(s.dir().resolve("model.safetensors")).hasBinaryContent(weights.content());
            // the rest of the weights, plus the two files after it that the first attempt never reached
            assertThat(hub.bodyBytes.get() - before).as("resumed transfer, seed %d", seed)
                    .isEqualTo(size - have + tokenizer.content().length + pooling.content().length);
            FakeHub.Seen lastCdn = hub.seen.stream().filter(r -> r.server().equals("cdn")).reduce((a, b) -> b).orElseThrow();
            assertThat(lastCdn.range()).isEqualTo(have > 0 ? "bytes=" + have + "-" : null);
            assertThat(partial).doesNotExist();
        }
    }

    @Test
    void stalledDownloadTimesOutWithoutACompleteLookingFile() throws Exception {
        int size = weights.content().length;
        int sent = 1 + rng.nextInt(size - 1);
        hub.stallNextGetAfter(weights, sent);
        try (HubDownloader dl = downloader().readTimeout(Duration.ofMillis(300)).build()) {
            assertThatThrownBy(() -> fetchAll(dl)).as("seed %d", seed)
                    .isInstanceOf(HubException.class)
                    .hasMessageContaining("model.safetensors")
                    .hasMessageContaining("no data for 300 ms");
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
            assertNoCompleteWeights();
            assertThat(Files.size(cache.incompletePath(ID, weights.etag()))).isBetween(0L, (long) sent);
            hub.releaseStall.countDown();
            HubSnapshot s = fetchAll(dl);
            assertThat(s.dir().resolve("model.safetensors")).hasBinaryContent(weights.content());
        }
    }

    @Test
    void concurrentDownloadsOfTheSameModelFetchEachBlobOnce() throws Exception {
        try (HubDownloader dl = downloader().build();
             var pool = java.util.concurrent.Executors.newFixedThreadPool(2)) {
            var a = pool.submit(() -> fetchAll(dl));
            var b = pool.submit(() -> fetchAll(dl));
            assertThat(a.get().dir()).isEqualTo(b.get().dir());
            assertThat(a.get().dir().resolve("model.safetensors")).hasBinaryContent(weights.content());
        }
        assertThat(hub.seen).as("seed %d", seed).filteredOn(r -> r.server().equals("cdn")).hasSize(1);
    }

    @Test
    void checksumMismatchIsDetectedAndNothingIsKept() throws Exception {
        hub.corrupt(weights);
        try (HubDownloader dl = downloader().build()) {
            assertThatThrownBy(() -> fetchAll(dl))
                    .isInstanceOf(HubException.class)
                    .hasMessageContaining("checksum mismatch for model.safetensors")
                    .hasMessageContaining("expected sha256 " + weights.etag());
        }
        assertNoCompleteWeights();
        assertThat(cache.incompletePath(ID, weights.etag())).doesNotExist();
        // the files before it are complete and usable
        assertThat(cache.snapshotFile(ID, commit, "config.json")).hasBinaryContent(config.content());
    }

    @Test
    void partialFileLongerThanTheBlobIsDiscarded() throws Exception {
        Path partial = cache.incompletePath(ID, weights.etag());
        Files.createDirectories(partial.getParent());
        Files.write(partial, randomBytes(weights.content().length + 1 + rng.nextInt(100)));
        try (HubDownloader dl = downloader().build()) {
            HubSnapshot s = fetchAll(dl);
            assertThat(s.dir().resolve("model.safetensors")).as("seed %d", seed).hasBinaryContent(weights.content());
        }
    }

    @Test
    void gatedRepositoryNeedsTheToken() throws Exception {
        hub.gate(ID.repoId(), "s3cret");
        try (HubDownloader dl = downloader().build()) {
            assertThatThrownBy(() -> fetchAll(dl))
                    .isInstanceOfSatisfying(HubHttpException.class, e -> {
                        assertThat(e.status()).isEqualTo(401);
                        assertThat(e.errorCode()).isEqualTo("GatedRepo");
                    })
                    .hasMessageContaining(hub.endpoint() + "/acme/tiny-bert/resolve/main/config.json")
                    .hasMessageContaining("HTTP 401")
                    .hasMessageContaining("HF_TOKEN");
        }
        try (HubDownloader dl = downloader().token("wrong").build()) {
            assertThatThrownBy(() -> fetchAll(dl)).hasMessageContaining("HTTP 401").hasMessageContaining("token was refused");
        }
        try (HubDownloader dl = downloader().token("s3cret").build()) {
            assertThat(fetchAll(dl).dir().resolve("model.safetensors")).hasBinaryContent(weights.content());
        }
    }

    @Test
    void missingRequiredFileRevisionOrRepositoryIsAnErrorNamingUrlAndStatus() throws Exception {
        try (HubDownloader dl = downloader().build()) {
            assertThatThrownBy(() -> dl.download(ID, List.of("config.json", "pytorch_model.bin"), List.of()))
                    .isInstanceOfSatisfying(HubHttpException.class, e -> assertThat(e.status()).isEqualTo(404))
                    .hasMessageContaining(hub.endpoint() + "/acme/tiny-bert/resolve/" + commit + "/pytorch_model.bin")
                    .hasMessageContaining("HTTP 404")
                    .hasMessageContaining("pytorch_model.bin is not in acme/tiny-bert@main");
            // an unknown revision is fatal even for optional files
            assertThatThrownBy(() -> dl.download(ID.withRevision("v9"), List.of(), List.of("config.json")))
                    .hasMessageContaining("/resolve/v9/config.json")
                    .hasMessageContaining("RevisionNotFound")
                    .hasMessageContaining("Revision 'v9' does not exist");
            assertThatThrownBy(() -> dl.download(ModelId.parse("acme/nope"), List.of("config.json"), List.of()))
                    .hasMessageContaining("/acme/nope/resolve/main/config.json")
                    .hasMessageContaining("HTTP 401");
        }
    }

    @Test
    void unreachableEndpointIsAClearError() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        try (HubDownloader dl = downloader().endpoint(java.net.URI.create("http://127.0.0.1:" + port)).build()) {
            assertThatThrownBy(() -> dl.download(ID, List.of("config.json"), List.of()))
                    .isInstanceOf(HubException.class)
                    .hasMessageContaining("http://127.0.0.1:" + port + "/acme/tiny-bert/resolve/main/config.json")
                    .hasMessageContaining("request failed");
        }
    }

    @Test
    void urlsArePercentEncodedLikeHuggingfaceHub() {
        try (HubDownloader dl = downloader().build()) {
            assertThat(dl.resolveUrl(ModelId.parse("a/b@refs/pr/3"), "sub dir/f+1.json").toString())
                    .isEqualTo(hub.endpoint() + "/a/b/resolve/refs%2Fpr%2F3/sub%20dir/f%2B1.json");
            assertThatThrownBy(() -> dl.resolveUrl(ID, "../etc/passwd")).hasMessageContaining("'..'");
        }
        assertThat(HubDownloader.normalizeEtag("W/\"abc\"")).isEqualTo("abc");
        assertThat(HubDownloader.normalizeEtag("\"abc\"")).isEqualTo("abc");
        assertThat(HubDownloader.normalizeEtag("\"\"")).isNull();
    }

    private void assertNoCompleteWeights() throws Exception {
        assertThat(cache.blobPath(ID, weights.etag())).doesNotExist();
        assertThat(cache.snapshotFile(ID, commit, "model.safetensors")).doesNotExist();
        assertThat(HubCache.listFiles(cache.snapshotDir(ID, commit))).doesNotContain("model.safetensors");
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
