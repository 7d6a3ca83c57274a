package dev.attn4j.io.gguf;

import java.io.IOException;
import java.nio.file.Path;

/** A GGUF file that cannot be read or written as asked; the message starts with the file. */
public class GgufException extends IOException {
    private final transient Path file;

    public GgufException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public Path file() {
        return file;
    }
}
