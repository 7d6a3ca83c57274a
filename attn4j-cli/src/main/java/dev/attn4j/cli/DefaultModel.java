package dev.attn4j.cli;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model used when {@code --model} is not given. For now: {@code ../shared/models/all-MiniLM-L6-v2}
 * relative to the repository root, if it is there. This is the single hook to replace with the
 * built-in default model (from a Maven artifact).
 */
public final class DefaultModel {
    private DefaultModel() {
    }

    /** Relative location of the default model from the repository root. */
    static final String RELATIVE = "../shared/models/all-MiniLM-L6-v2";

    /**
     * The default model directory.
     *
     * @throws IllegalArgumentException "no --model given" when there is none
     */
    public static Path resolve() {
        Path root = repositoryRoot();
        if (root != null) {
            Path dir = root.resolve(RELATIVE).normalize();
            if (Files.isDirectory(dir)) return dir;
        }
        throw new IllegalArgumentException("no --model given");
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
