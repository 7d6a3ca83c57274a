package dev.attn4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;

/**
 * The model used when {@code --model} is not given: the built-in all-MiniLM-L6-v2
 * ({@link dev.attn4j.models.onnx.DefaultModel}), converted from the ONNX file on the class path
 * into the user's cache on first use.
 */
public final class DefaultModel {
    private DefaultModel() {
    }

    /** Location of the shared copy of the model relative to the repository root (tests compare with it). */
    static final String RELATIVE = "../shared/models/all-MiniLM-L6-v2";

    /**
     * The default model directory.
     *
     * @throws UncheckedIOException when the built-in model cannot be converted or cached (the message says why)
     */
    public static Path resolve() {
        try {
            return dev.attn4j.models.onnx.DefaultModel.resolve();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the built-in default model " + dev.attn4j.models.onnx.DefaultModel.NAME
                    + ": " + e.getMessage(), e);
        }
    }

    /** The repository root: the folder above attn4j-cli, found from where this class was loaded; null if unknown. */
    static Path repositoryRoot() {
        try {
            Path p = Path.of(DefaultModel.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath();
            for (Path d = p; d != null; d = d.getParent()) {
                if (d.getFileName() != null && d.getFileName().toString().equals("attn4j-cli")) return d.getParent();
            }
        } catch (URISyntaxException | SecurityException | NullPointerException | IllegalArgumentException e) {
            // unknown location: fall through
        }
        return null;
    }
}
