package dev.attn4j.train.data;

import java.nio.file.Path;

/**
 * A data file that cannot be read as asked: its message is the one line a command prints,
 * {@code file:line: what} (or {@code file: what} when no line applies).
 */
public final class DataFileException extends IllegalArgumentException {
    private final Path file;
    private final long line;

    /** An error about row {@code line} (1-based) of {@code file}; {@code line <= 0} names the file only. */
    public DataFileException(Path file, long line, String what) {
        this(file, line, what, null);
    }

    public DataFileException(Path file, long line, String what, Throwable cause) {
        super(format(file, line, what), cause);
        this.file = file;
        this.line = line;
    }

    /** {@code file:line: what}, or {@code file: what} when {@code line <= 0}. */
    public static String format(Path file, long line, String what) {
        return file + (line > 0 ? ":" + line : "") + ": " + what;
    }

    /** The file, as the caller named it. */
    public Path file() {
        return file;
    }

    /** The 1-based line the error is on, or 0 when it concerns the whole file. */
    public long line() {
        return line;
    }
}
