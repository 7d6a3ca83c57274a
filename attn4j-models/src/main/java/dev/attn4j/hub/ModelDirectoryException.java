package dev.attn4j.hub;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A model directory lacks a file or holds one that cannot be read: missing file, malformed JSON
 * (with Jackson's line and column), a field of the wrong type. The message starts with the
 * directory or file concerned.
 */
public class ModelDirectoryException extends IOException {
    private final transient Path path;

    /** {@code problem} is appended to {@code path + ": "}. */
    public ModelDirectoryException(Path path, String problem) {
        super(path + ": " + problem);
        this.path = path;
    }

    /** As {@link #ModelDirectoryException(Path, String)}, keeping the underlying cause. */
    public ModelDirectoryException(Path path, String problem, Throwable cause) {
        super(path + ": " + problem, cause);
        this.path = path;
    }

    /** The directory or file the problem is in. */
    public Path path() {
        return path;
    }
}
