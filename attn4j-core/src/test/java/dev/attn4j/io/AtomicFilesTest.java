package dev.attn4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void replacesTheTargetAndLeavesNoTemporaryFile() throws Exception {
        Path f = dir.resolve("sub/state.json");
        AtomicFiles.write(f, "one".getBytes());
        AtomicFiles.write(f, "two".getBytes());
        assertThat(Files.readString(f)).isEqualTo("two");
        try (var files = Files.list(f.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("state.json");
        }
    }

    @Test
    void aFailedWriteLeavesTheOldFileIntact() throws Exception {
        Path f = dir.resolve("state.json");
        AtomicFiles.write(f, "old".getBytes());
        Path blocker = dir.resolve("blocked");
        Files.createDirectories(blocker.resolve("child")); // a non-empty directory cannot be replaced by a file
        assertThatThrownBy(() -> AtomicFiles.write(blocker, "new".getBytes())).isInstanceOf(java.io.IOException.class);
        assertThat(Files.readString(f)).isEqualTo("old");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("state.json", "blocked");
        }
    }
}
