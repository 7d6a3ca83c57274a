package dev.attn4j.testing;

import dev.attn4j.models.onnx.DefaultModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where tests find all-MiniLM-L6-v2: the shared Hugging Face copy at ../shared/models (from the
 * repository root) when this machine has it, and always the built-in default model (converted
 * from the Maven artifact's ONNX file into target/test-models), so that model tests run, rather
 * than skip, on a machine without the shared folder.
 */
public final class MiniLm {
    private MiniLm() {
    }

    /** The repository root, whether tests run from the module folder or the root. */
    static Path repoRoot() {
        Path here = Path.of("").toAbsolutePath();
        return here.getFileName().toString().startsWith("attn4j-") ? here.getParent() : here;
    }

    /** ../shared/models/all-MiniLM-L6-v2, whether or not it exists. */
    public static Path shared() {
        return repoRoot().resolve("../shared/models/all-MiniLM-L6-v2").normalize();
    }

    /** The built-in default model's directory, converted on first use under target/test-models. */
    public static synchronized Path builtIn() {
        try {
            return DefaultModel.resolve(repoRoot().resolve("attn4j-models/target/test-models"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shared copy if present, else the built-in one. */
    public static Path any() {
        return Files.isDirectory(shared()) ? shared() : builtIn();
    }

    /** Every copy this machine has: the shared one (if present) and the built-in one. */
    public static List<Path> all() {
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(shared())) out.add(shared());
        out.add(builtIn());
        return out;
    }
}
