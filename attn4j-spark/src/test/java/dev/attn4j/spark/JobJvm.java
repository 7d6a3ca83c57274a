package dev.attn4j.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Child JVMs for the integration tests, from the argument file the build writes
 * ({@code target/spark-job.args}: Spark's JVM flags and a class path of the job jar and Spark's
 * jars), the way the {@code ./attn4j} launcher starts the job. Each child's output goes to a log
 * file; the tests end the processes they start.
 */
final class JobJvm {
    final Path argFile;
    final List<String> flags;
    final Path jobJar;
    /** Spark and the other dependencies: the class path without the job jar. */
    final List<String> sparkClassPath;

    JobJvm() throws IOException {
        String p = System.getProperty("attn4j.spark.args");
        if (p == null) throw new IllegalStateException("-Dattn4j.spark.args is not set (the pom sets it for the integration tests)");
        argFile = Path.of(p);
        List<String> lines = Files.readAllLines(argFile);
        flags = Arrays.asList(lines.get(0).trim().split("\\s+"));
        String cp = lines.get(1).trim();
        if (!cp.startsWith("-cp \"") || !cp.endsWith("\"")) throw new IllegalStateException(argFile + ": unexpected second line " + cp);
        List<String> entries = Arrays.asList(cp.substring(5, cp.length() - 1).split(":"));
        jobJar = Path.of(entries.getFirst());
        sparkClassPath = entries.subList(1, entries.size());
        if (!Files.isRegularFile(jobJar)) throw new IllegalStateException(jobJar + " not built");
    }

    /** java with the flags, {@code -Xmx<heap>}, and the given class path, then {@code args}. */
    List<String> java(String heap, List<String> classPath, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        cmd.add("-Xmx" + heap);
        cmd.add("-cp");
        cmd.add(String.join(":", classPath));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The job through the launcher's argument file: {@code java -Xmx<heap> @spark-job.args SparkJob ARGS}. */
    List<String> job(String heap, String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
                "@" + argFile, "dev.attn4j.spark.job.SparkJob"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static Process start(List<String> cmd, Map<String, String> env, Path log) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        return pb.start();
    }

    /** Runs {@code cmd} to its end (at most {@code limit}); its exit code, its output in {@code log}. */
    static int run(List<String> cmd, Map<String, String> env, Path log, Duration limit) throws Exception {
        Process p = start(cmd, env, log);
        if (!p.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            stop(p);
            throw new AssertionError(String.join(" ", cmd.subList(cmd.size() - 4, cmd.size())) + ": still running after " + limit
                    + "; log " + log + ":\n" + tail(log));
        }
        return p.exitValue();
    }

    /** Waits until {@code log} contains {@code text} (the process alive), at most {@code limit}. */
    static void awaitLog(Process p, Path log, String text, Duration limit) throws Exception {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < end) {
            if (Files.exists(log) && Files.readString(log).contains(text)) return;
            if (!p.isAlive()) throw new AssertionError("exited " + p.exitValue() + " before logging '" + text + "':\n" + tail(log));
            Thread.sleep(250);
        }
        throw new AssertionError("no '" + text + "' after " + limit + " in " + log + ":\n" + tail(log));
    }

    static void stop(Process p) throws InterruptedException {
        if (p == null || !p.isAlive()) return;
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    static String tail(Path log) {
        try {
            List<String> l = Files.readAllLines(log);
            return String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
