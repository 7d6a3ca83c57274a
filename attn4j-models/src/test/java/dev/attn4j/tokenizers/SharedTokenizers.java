package dev.attn4j.tokenizers;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The real tokenizer files in ../shared/tokenizers (from the repository root) and llama.cpp's
 * test vectors; tests that use them skip when this machine has no ../shared. Tokenizers are
 * loaded once per JVM (the big ones take a second each).
 */
final class SharedTokenizers {
    private static final Map<String, Tokenizer> CACHE = new HashMap<>();

    private SharedTokenizers() {
    }

    static Path root() {
        Path here = Path.of("").toAbsolutePath();
        Path repo = here.getFileName().toString().startsWith("attn4j-") ? here.getParent() : here;
        return repo.resolve("../shared/tokenizers").normalize();
    }

    /** A folder of ../shared/tokenizers; skips the test when it is absent. */
    static Path dir(String name) {
        Path d = root().resolve(name);
        assumeTrue(Files.isDirectory(d), "shared tokenizer folder not present: " + d);
        return d;
    }

    /** {@link Tokenizer#fromDirectory} on a shared folder, cached. */
    static synchronized Tokenizer load(String name) {
        Tokenizer t = CACHE.get(name);
        if (t == null) {
            try {
                t = Tokenizer.fromDirectory(dir(name));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            CACHE.put(name, t);
        }
        return t;
    }

    /** The 46 strings of a test-vector set (split on the separator, never on lines). */
    static List<String> inputs(String vectors) {
        String s = read(vectors + ".gguf.inp");
        List<String> parts = new ArrayList<>(Arrays.asList(s.split("\n__ggml_vocab_test__\n", -1)));
        if (parts.size() != 47 || !parts.get(46).isEmpty()) {
            throw new IllegalStateException(vectors + ".gguf.inp: expected 46 cases, got " + (parts.size() - 1));
        }
        return parts.subList(0, 46);
    }

    /** The 46 expected id lists of a test-vector set. */
    static List<int[]> expected(String vectors) {
        String s = read(vectors + ".gguf.out");
        String[] lines = s.split("\n", -1);
        if (lines.length != 47 || !lines[46].isEmpty()) {
            throw new IllegalStateException(vectors + ".gguf.out: expected 46 lines, got " + (lines.length - 1));
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < 46; i++) {
            String l = lines[i].trim();
            out.add(l.isEmpty() ? new int[0] : Arrays.stream(l.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        return out;
    }

    private static String read(String file) {
        Path p = dir("test-vectors").resolve("ggml-vocab-" + file);
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
