package dev.attn4j.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Option checks and jar lookup of {@code attn4j bench embed} (the benchmark itself runs in attn4j-bench). */
class BenchEmbedCommandTest {

    @AfterEach
    void clear() {
        System.clearProperty("attn4j.bench.jar");
    }

    private static String[] runCapturingErr(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true));
        int code;
        try {
            code = Main.run(args);
        } finally {
            System.setErr(old);
        }
        return new String[] {String.valueOf(code), buf.toString()};
    }

    @Test
    void badOptionsExit2WithTheOptionNamed(@TempDir Path tmp) {
        String[] r = runCapturingErr("bench", "embed", "--threads", "0");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("--threads must be >= 1, got 0");
        r = runCapturingErr("bench", "embed", "--model", tmp.resolve("nope").toString());
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("--model").contains("no such directory");
        r = runCapturingErr("bench", "embed", "--sentences", "x");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains("--sentences");
    }

    @Test
    void missingBenchJarIsExplained(@TempDir Path tmp) {
        Path jar = tmp.resolve("benchmarks.jar");
        System.setProperty("attn4j.bench.jar", jar.toString());
        String[] r = runCapturingErr("bench", "embed", "--threads", "1");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[1]).contains(jar + " not found").contains("./build -q -pl attn4j-bench -am package -DskipTests");
    }
}
