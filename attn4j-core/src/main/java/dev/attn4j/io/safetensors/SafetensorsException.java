package dev.attn4j.io.safetensors;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A safetensors file, sharded checkpoint or tensor request that cannot be honoured: malformed
 * header, inconsistent offsets, unknown dtype or tensor name, a value that does not fit the
 * requested type. The message always starts with the file concerned.
 */
public class SafetensorsException extends IOException {
    private final transient Path file;

    /** {@code problem} should name the tensor and offsets where they are relevant. */
    public SafetensorsException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** As {@link #SafetensorsException(Path, String)}, keeping the underlying cause. */
    public SafetensorsException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The file (safetensors file or index) the problem was found in. */
    public Path file() {
        return file;
    }
}
