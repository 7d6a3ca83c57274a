package dev.attn4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code attn4j spark embed|classify ...}: Spark stays out of the CLI jar. This command runs
 * {@code dev.attn4j.spark.job.SparkJob} in a child JVM started with this JVM's flags and the
 * argument file attn4j-spark's build writes ({@code attn4j-spark/target/spark-job.args}: the flags
 * Spark needs on recent JDKs and a class path of the job jar and Spark's jars), passing every
 * argument on. The file is found through {@code -Dattn4j.spark.args}, else
 * {@code $ATTN4J_SPARK_ARGS}, else beside the CLI jar's build tree. Unless the environment sets
 * {@code SPARK_LOCAL_IP}, the child gets 127.0.0.1 there, which keeps Spark's web UI (where Spark
 * binds it) on loopback.
 */
@Command(name = "spark", description = "Embeds or classifies a table of texts with Spark (local[*] by default, or a cluster): "
        + "`attn4j spark embed --input in.jsonl --output out.parquet`; `attn4j spark --help` for more.")
public final class SparkCommand implements Callable<Integer> {
    /** Main class of the job (in attn4j-spark). */
    static final String MAIN_CLASS = "dev.attn4j.spark.job.SparkJob";

    @Unmatched
    List<String> args = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        Path argFile = ChildJvm.buildOutput("attn4j.spark.args", "ATTN4J_SPARK_ARGS", "attn4j-spark/target/spark-job.args",
                "attn4j spark", "attn4j-spark");
        List<String> cmd = ChildJvm.javaCommand("attn4j.spark.args");
        cmd.add("@" + argFile);
        cmd.add(MAIN_CLASS);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        if (System.getenv("SPARK_LOCAL_IP") == null) {
            pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
            pb.environment().put("ATTN4J_SPARK_LOOPBACK", "1");                        // the job moves the driver off loopback for a remote cluster
        }
        Process job = pb.start();
        Thread stop = new Thread(job::destroy);                                         // this JVM stopped (e.g. SIGTERM): the job too
        Runtime.getRuntime().addShutdownHook(stop);
        try {
            return job.waitFor();
        } finally {
            Runtime.getRuntime().removeShutdownHook(stop);
        }
    }
}
