package dev.attn4j.spark;

import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where a stage's {@code model} is, as the driver saw it, and how an executor finds it. The
 * param is a directory path (plain or {@code file:} URI) or the name of a directory shipped with
 * {@code SparkContext.addFile(dir, true)} or {@code --archives}; unset means the built-in
 * all-MiniLM-L6-v2 ({@link dev.attn4j.models.onnx.DefaultModel}, converted into each JVM's cache
 * on first use). Each JVM looks in turn at: the path as given (relative to its working directory,
 * where {@code --archives} unpacks), {@code SparkFiles.get(name)}, and the absolute path the
 * driver resolved (a shared file system).
 *
 * @param model       the param as the user gave it, or null for the built-in model
 * @param driverPath  the absolute directory the driver resolved it to
 */
record ModelLocation(String model, String driverPath) implements Serializable {
    /** Resolves {@code model} on the driver: the directory must exist there (fail fast, before any task runs). */
    static ModelLocation onDriver(String stage, String model) {
        if (model == null || model.isBlank()) return new ModelLocation(null, builtIn().toString());
        List<Path> tried = new ArrayList<>();
        Path found = find(model, null, tried);
        if (found == null) {
            throw new IllegalArgumentException(stage + " model " + model + ": no such directory (looked at "
                    + String.join(", ", tried.stream().map(Path::toString).toList()) + "); give a model directory that"
                    + " the driver and every executor can read, or ship it with SparkContext.addFile(dir, true) or --archives");
        }
        return new ModelLocation(model, found.toString());
    }

    /** The directory in this JVM (an executor, or the driver in local mode). */
    Path resolve() {
        if (model == null) return builtIn();
        List<Path> tried = new ArrayList<>();
        Path found = find(model, driverPath, tried);
        if (found == null) {
            SparkEnv env = SparkEnv.get();
            throw new IllegalStateException("model " + model + " not found on executor " + (env == null ? "?" : env.executorId())
                    + " (looked at " + String.join(", ", tried.stream().map(Path::toString).toList()) + ")");
        }
        return found;
    }

    private static Path find(String model, String driverPath, List<Path> tried) {
        List<Path> candidates = new ArrayList<>();
        Path given = asPath(model);
        if (given != null) candidates.add(given);
        if (SparkEnv.get() != null && given != null && !given.isAbsolute()) {
            candidates.add(Path.of(SparkFiles.get(model)));
        }
        if (driverPath != null) candidates.add(Path.of(driverPath));
        for (Path p : candidates) {
            tried.add(p.toAbsolutePath());
            if (Files.isDirectory(p)) {
                try {
                    return p.toRealPath();
                } catch (IOException e) {
                    throw new UncheckedIOException(p + ": " + e.getMessage(), e);
                }
            }
        }
        return null;
    }

    /** {@code model} as a local path: a {@code file:} URI or a plain path; null for other schemes. */
    private static Path asPath(String model) {
        try {
            if (model.startsWith("file:")) return Path.of(URI.create(model));
            if (model.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) return null;               // hdfs://, s3a://: not a local directory
            return Path.of(model);
        } catch (IllegalArgumentException e) {                                   // InvalidPathException too
            return null;
        }
    }

    /** The built-in default model's directory in this JVM's cache (converted on first use). */
    static Path builtIn() {
        try {
            return dev.attn4j.models.onnx.DefaultModel.resolve();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the built-in default model " + dev.attn4j.models.onnx.DefaultModel.NAME
                    + ": " + e.getMessage(), e);
        }
    }
}
