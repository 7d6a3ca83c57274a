package dev.attn4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code attn4j bench embed}: sentence-embedding throughput of attn4j against ONNX Runtime. ONNX
 * Runtime stays out of the CLI: this command runs {@code dev.attn4j.bench.EmbedBench} from
 * attn4j-bench's shaded jar ({@code attn4j-bench/target/benchmarks.jar}, which the {@code ./attn4j}
 * launcher builds on demand) in a child JVM with this JVM's flags, passing the options on.
 * The jar is found through {@code -Dattn4j.bench.jar}, else {@code $ATTN4J_BENCH_JAR}, else next
 * to the CLI jar's build tree.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Embedding throughput (tokens/s, sentences/s) of attn4j vs ONNX Runtime on the same model,"
                + " inputs and threads: batch x tokens 1x16, 8x64, 32x128, 32x256 and end to end over mixed-length"
                + " sentences; then the same for attn4j with q8_0 weights vs ONNX Runtime's int8 model, with the cosine of"
                + " their embeddings against f32. Prints tables with the attn4j/ORT ratio; the last line is one JSON object."})
public final class BenchEmbedCommand implements Callable<Integer> {
    /** Main class in the bench jar. */
    static final String MAIN_CLASS = "dev.attn4j.bench.EmbedBench";

    @Option(names = "--model", paramLabel = "DIR",
            description = "sentence-transformers model directory (default: the built-in all-MiniLM-L6-v2)")
    Path model;

    @Option(names = "--onnx", paramLabel = "FILE",
            description = "ONNX export of the same model for ONNX Runtime (default: built-in, or DIR/onnx/model.onnx)")
    Path onnx;

    @Option(names = "--threads", paramLabel = "T", description = "threads for both engines (default: all cores)")
    Integer threads;

    @Option(names = "--seconds", paramLabel = "S", description = "measuring time per case and engine (default 2); each engine first warms up back to back for at least S, then until the JIT has settled (no compile finished and no faster runs for S/4; at most 10 S)")
    Double seconds;

    @Option(names = "--sentences", paramLabel = "N", description = "sentences in the end-to-end case (default 1000)")
    Integer sentences;

    @Option(names = "--seed", paramLabel = "X", description = "seed of the generated inputs (default 42)")
    Long seed;

    @Option(names = "--cases", paramLabel = "LIST", split = ",",
            description = "subset of 1x16,8x64,32x128,32x256,e2e (default: all)")
    List<String> cases;

    @Option(names = "--pause-ms", paramLabel = "P",
            description = "idle time before each timed run, not counted, so the other engine's spinning threads are idle (default 100)")
    Integer pauseMs;

    @Option(names = "--no-int8", description = "skip the int8 section (attn4j q8_0, weights quantized on load, vs ONNX Runtime's "
            + "int8 model; speed and cosine against f32)")
    boolean noInt8;

    @Option(names = "--int8-onnx", paramLabel = "FILE",
            description = "ONNX Runtime's int8 model of --model (default: the built-in all-minilm-l6-v2-q.onnx for the default model)")
    Path int8Onnx;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (noInt8 && int8Onnx != null) throw new IllegalArgumentException("--int8-onnx and --no-int8 contradict each other");
        if (int8Onnx != null && !Files.isRegularFile(int8Onnx)) throw new IllegalArgumentException("--int8-onnx " + int8Onnx + ": no such file");
        if (threads != null && threads < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + threads);
        if (sentences != null && sentences < 1) throw new IllegalArgumentException("--sentences must be >= 1, got " + sentences);
        if (pauseMs != null && pauseMs < 0) throw new IllegalArgumentException("--pause-ms must be >= 0, got " + pauseMs);
        if (seconds != null && !(seconds > 0)) throw new IllegalArgumentException("--seconds must be > 0, got " + seconds);
        if (model != null && !Files.isDirectory(model)) throw new IllegalArgumentException("--model " + model + ": no such directory");
        if (onnx != null && !Files.isRegularFile(onnx)) throw new IllegalArgumentException("--onnx " + onnx + ": no such file");
        Path jar = benchJar();
        List<String> cmd = ChildJvm.javaCommand("attn4j.bench.jar");
        cmd.add("-cp");
        cmd.add(jar.toString());
        cmd.add(MAIN_CLASS);
        add(cmd, "--model", model == null ? null : model.toAbsolutePath());
        add(cmd, "--onnx", onnx == null ? null : onnx.toAbsolutePath());
        add(cmd, "--threads", threads);
        add(cmd, "--seconds", seconds);
        add(cmd, "--sentences", sentences);
        add(cmd, "--seed", seed);
        add(cmd, "--cases", cases == null ? null : String.join(",", cases));
        add(cmd, "--pause-ms", pauseMs);
        add(cmd, "--int8-onnx", int8Onnx == null ? null : int8Onnx.toAbsolutePath());
        if (noInt8) cmd.add("--no-int8");
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        return p.waitFor();
    }

    private static void add(List<String> cmd, String name, Object value) {
        if (value != null) {
            cmd.add(name);
            cmd.add(value.toString());
        }
    }

    /** The shaded bench jar: -Dattn4j.bench.jar, $ATTN4J_BENCH_JAR, or attn4j-bench/target/benchmarks.jar beside the CLI's build. */
    static Path benchJar() throws IOException {
        return benchJar("attn4j bench embed");
    }

    static Path benchJar(String usedBy) throws IOException {
        return ChildJvm.buildOutput("attn4j.bench.jar", "ATTN4J_BENCH_JAR", "attn4j-bench/target/benchmarks.jar", usedBy, "attn4j-bench");
    }
}
