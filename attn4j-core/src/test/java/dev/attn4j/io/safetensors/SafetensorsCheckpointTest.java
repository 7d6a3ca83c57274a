package dev.attn4j.io.safetensors;

import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Single-file and sharded (index.json) checkpoints, and the errors of a broken index. */
class SafetensorsCheckpointTest {
    @TempDir
    Path dir;

    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);
    private final Map<String, NDArray> all = new LinkedHashMap<>();

    /** Three shards; returns the weight_map JSON body. */
    private String writeShards(Path d) throws Exception {
        Files.createDirectories(d);
        StringBuilder wm = new StringBuilder();
        for (int s = 1; s <= 3; s++) {
            Map<String, NDArray> shard = new LinkedHashMap<>();
            for (int k = 0; k < 1 + s; k++) {
                String name = "layer." + s + "." + k + ".weight";
                NDArray a = NDArray.uniform(rng, Shape.of(1 + rng.nextInt(5), 1 + rng.nextInt(7)), -1, 1);
                shard.put(name, a);
                all.put(name, a);
                String file = "model-0000" + s + "-of-00003.safetensors";
                wm.append(wm.isEmpty() ? "" : ",").append('"').append(name).append("\":\"").append(file).append('"');
            }
            SafetensorsWriter.write(d.resolve("model-0000" + s + "-of-00003.safetensors"), shard, Map.of("format", "pt"),
                    SafetensorsDType.F32);
        }
        return wm.toString();
    }

    private Path writeIndex(Path d, String body) throws Exception {
        Path index = d.resolve(SafetensorsCheckpoint.INDEX_FILE);
        Files.writeString(index, body);
        return index;
    }

    @Test
    void shardedCheckpointFromDirectoryAndIndexFile() throws Exception {
        String wm = writeShards(dir);
        Path index = writeIndex(dir, "{\"metadata\":{\"total_size\":1234,\"format\":\"pt\"},\"weight_map\":{" + wm + "}}");
        for (Path open : new Path[] {dir, index}) {
            try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(open)) {
                assertThat(c.isSharded()).isTrue();
                assertThat(c.shards()).hasSize(3);
                assertThat(c.names()).as("seed %d", seed).containsExactlyElementsOf(all.keySet());
                assertThat(c.metadata()).containsEntry("total_size", "1234").containsEntry("format", "pt");
                for (Map.Entry<String, NDArray> e : all.entrySet()) {
                    assertThat(c.get(e.getKey()).toFloatArray()).as("seed %d %s", seed, e.getKey())
                            .containsExactly(e.getValue().toFloatArray());
                    assertThat(c.getCopy(e.getKey()).toFloatArray()).containsExactly(e.getValue().toFloatArray());
                    assertThat(c.info(e.getKey()).shape()).containsExactly(e.getValue().shape().toArray());
                }
                assertThat(c.shardOf("layer.2.0.weight").path().getFileName().toString())
                        .isEqualTo("model-00002-of-00003.safetensors");
                assertThatThrownBy(() -> c.get("layer.9.weight")).isInstanceOf(SafetensorsException.class)
                        .hasMessageContainingAll(index.getFileName().toString(), "no tensor 'layer.9.weight'", "9 tensors");
            }
        }
    }

    @Test
    void singleFileCheckpoint() throws Exception {
        Map<String, NDArray> m = Map.of("w", NDArray.arange(5));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), m, Map.of("format", "pt"), SafetensorsDType.F32);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.isSharded()).isFalse();
            assertThat(c.names()).containsExactly("w");
            assertThat(c.metadata()).containsEntry("format", "pt");
            assertThat(c.get("w").toFloatArray()).containsExactly(0, 1, 2, 3, 4);
        }
        Path other = dir.resolve("other");
        Files.createDirectories(other);
        SafetensorsWriter.write(other.resolve("weights.safetensors"), m);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(other)) {
            assertThat(c.path().getFileName().toString()).isEqualTo("weights.safetensors");
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(other.resolve("weights.safetensors"))) {
            assertThat(c.shards()).hasSize(1);
            assertThatThrownBy(() -> c.getInts("w")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("not an integer type");
        }
    }

    @Test
    void directoryWithoutCheckpoint() throws Exception {
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContainingAll(dir.toString(), SafetensorsCheckpoint.INDEX_FILE, "no other *.safetensors");
        SafetensorsWriter.write(dir.resolve("a.safetensors"), Map.of());
        SafetensorsWriter.write(dir.resolve("b.safetensors"), Map.of());
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContainingAll("2 *.safetensors files", "a.safetensors", "b.safetensors");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir.resolve("nope"))).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("no such file");
    }

    @Test
    void missingShardNamesIndexShardAndTensor() throws Exception {
        String wm = writeShards(dir);
        Files.delete(dir.resolve("model-00002-of-00003.safetensors"));
        Path index = writeIndex(dir, "{\"weight_map\":{" + wm + "}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(index.toString())
                .hasMessageContainingAll("shard 'model-00002-of-00003.safetensors'", "tensor 'layer.2.0.weight'", "does not exist");
    }

    @Test
    void tensorMissingFromItsShard() throws Exception {
        String wm = writeShards(dir).replace("\"layer.3.0.weight\":\"model-00003", "\"layer.3.0.weight\":\"model-00001");
        Path index = writeIndex(dir, "{\"weight_map\":{" + wm + "}}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(index)).isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(index.toString())
                .hasMessageContainingAll("tensor 'layer.3.0.weight'", "shard 'model-00001-of-00003.safetensors'", "no such tensor");
    }

    @Test
    void brokenIndexFiles() throws Exception {
        String wm = writeShards(dir);
        assertIndexError("{\"metadata\":{}}", "no \"weight_map\"");
        assertIndexError("{\"weight_map\":[]}", "\"weight_map\" must be an object");
        assertIndexError("{\"weight_map\":{\"a\":3}}", "tensor 'a'", "must be a shard file name");
        assertIndexError("{\"weight_map\":{" + wm + "", "index is not valid JSON");
        assertIndexError("{\"weight_map\":{" + wm + ",\"layer.1.0.weight\":\"x\"}}", "duplicate key", "'layer.1.0.weight'");
        assertIndexError("[]", "not a JSON object");
        assertIndexError("{\"weight_map\":{},\"metadata\":5}", "\"metadata\" must be an object");
        assertIndexError("{\"weight_map\":{\"a\":\"../outside.safetensors\"}}", "shard '../outside.safetensors'", "relative");
        assertIndexError("{\"weight_map\":{\"a\":\"/etc/passwd\"}}", "shard '/etc/passwd'", "relative");
        Files.write(dir.resolve("corrupt.safetensors"), new byte[] {1, 2, 3});
        assertIndexError("{\"weight_map\":{\"a\":\"corrupt.safetensors\"}}", "shard 'corrupt.safetensors' is invalid",
                "corrupt.safetensors: file is 3 bytes");
    }

    private void assertIndexError(String body, String... fragments) throws Exception {
        Path index = writeIndex(dir, body);
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(index.toString())
                .hasMessageContainingAll(fragments);
    }
}
