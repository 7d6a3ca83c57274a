package dev.attn4j.hub;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Environment variables: cache root precedence, endpoint, token, offline; cache look-ups. */
class HubSettingsTest {
    @TempDir
    Path tmp;

    @Test
    void cacheRootPrecedence() {
        Map<String, String> env = new HashMap<>();
        env.put("HOME", "/home/u");
        assertThat(HubCache.resolveRoot(env)).isEqualTo(Path.of("/home/u/.cache/huggingface/hub"));
        env.put("XDG_CACHE_HOME", "/xdg");
        assertThat(HubCache.resolveRoot(env)).isEqualTo(Path.of("/xdg/huggingface/hub"));
        env.put("HF_HOME", "~/hf");
        assertThat(HubCache.resolveRoot(env)).isEqualTo(Path.of("/home/u/hf/hub"));
        env.put("HUGGINGFACE_HUB_CACHE", "/legacy");
        assertThat(HubCache.resolveRoot(env)).isEqualTo(Path.of("/legacy"));
        env.put("HF_HUB_CACHE", "/direct/cache");
        assertThat(HubCache.resolveRoot(env)).isEqualTo(Path.of("/direct/cache"));
        env.put("HF_HUB_CACHE", "  ");
        assertThat(HubCache.resolveRoot(env)).as("blank counts as unset").isEqualTo(Path.of("/legacy"));
        assertThat(HubCache.fromEnvironment(Map.of("HF_HOME", "/b")).root()).isEqualTo(Path.of("/b/hub"));
    }

    @Test
    void endpointTokenOfflineAndProgress() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("HF_HOME", tmp.toString());
        HubSettings s = HubSettings.fromEnvironment(env);
        assertThat(s.endpoint()).isEqualTo(URI.create("https://huggingface.co"));
        assertThat(s.token()).isEmpty();
        assertThat(s.offline()).isFalse();
        assertThat(s.progressBars()).isTrue();

        Files.writeString(tmp.resolve("token"), "hf_fromfile\n");
        assertThat(HubSettings.fromEnvironment(env).token()).contains("hf_fromfile");
        env.put("HF_TOKEN", "hf_env");
        env.put("HF_ENDPOINT", "http://mirror.local:8080/hf/");
        env.put("HF_HUB_OFFLINE", "yes");
        env.put("HF_HUB_DISABLE_PROGRESS_BARS", "1");
        s = HubSettings.fromEnvironment(env);
        assertThat(s.token()).contains("hf_env");
        assertThat(s.endpoint()).isEqualTo(URI.create("http://mirror.local:8080/hf"));
        assertThat(s.offline()).isTrue();
        assertThat(s.progressBars()).isFalse();
        for (String no : new String[] {"0", "false", "", "off"}) {
            env.put("HF_HUB_OFFLINE", no);
            assertThat(HubSettings.fromEnvironment(env).offline()).as("HF_HUB_OFFLINE=%s", no).isFalse();
        }
        env.put("HF_ENDPOINT", "ftp://x");
        assertThatThrownBy(() -> HubSettings.fromEnvironment(env)).hasMessageContaining("ftp://x")
                .hasMessageContaining("http(s)");
    }

    @Test
    void cacheFindsSnapshotsThroughRefsOrCommits() throws Exception {
        HubCache cache = new HubCache(tmp);
        ModelId id = ModelId.parse("org/m");
        String sha = "a".repeat(40);
        assertThat(cache.resolveCommit(id)).isEmpty();
        assertThat(cache.snapshotDir(id)).isEmpty();
        Path repo = tmp.resolve("models--org--m");
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), sha);
        assertThat(cache.resolveCommit(id)).contains(sha);
        assertThat(cache.snapshotDir(id)).as("ref without snapshot folder").isEmpty();
        Path snap = Files.createDirectories(repo.resolve("snapshots").resolve(sha));
        Files.createDirectories(snap.resolve("1_Pooling"));
        Files.writeString(snap.resolve("config.json"), "{}");
        Files.writeString(snap.resolve("1_Pooling/config.json"), "{}");
        Files.createSymbolicLink(snap.resolve("dangling.json"), Path.of("../../blobs/nothing"));
        assertThat(cache.snapshotDir(id)).contains(snap);
        assertThat(cache.snapshotDir(id.withRevision(sha))).contains(snap);
        assertThat(HubCache.listFiles(snap)).containsExactly("1_Pooling/config.json", "config.json");

        Files.writeString(repo.resolve("refs/main"), "not-a-sha");
        assertThatThrownBy(() -> cache.resolveCommit(id)).isInstanceOf(HubException.class)
                .hasMessageContaining(repo.resolve("refs/main").toString()).hasMessageContaining("not-a-sha");
        assertThatThrownBy(() -> cache.snapshotFile(id, sha, "../x")).hasMessageContaining("'..'");
        assertThatThrownBy(() -> cache.snapshotFile(id, sha, "/abs")).hasMessageContaining("relative");
    }
}
