package dev.attn4j.spark.job;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code attn4j spark}: batch jobs over a table of texts on Spark, in local mode by default or on a
 * cluster ({@code --master spark://...}, or this class as spark-submit's {@code --class} with the
 * job jar {@code attn4j-spark-job.jar}). The {@code ./attn4j} launcher runs it in a JVM with
 * Spark's flags and class path ({@code attn4j-spark/target/spark-job.args}).
 */
@Command(name = "attn4j spark", mixinStandardHelpOptions = true,
        description = "Embeds or classifies a table of texts (JSON lines, Parquet, CSV) with Spark: local[*] by default, "
                + "or a cluster with --master spark://HOST:PORT or through spark-submit.",
        subcommands = {EmbedJob.class, ClassifyJob.class, CommandLine.HelpCommand.class})
public final class SparkJob implements Runnable {
    /** Logging configuration used unless the JVM was given one (warnings only, so Spark's progress bar shows). */
    static final String LOG_CONFIG = "dev/attn4j/spark/job/log4j2.properties";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        if (System.getProperty("log4j2.configurationFile") == null) System.setProperty("log4j2.configurationFile", LOG_CONFIG);
        System.exit(run(args));
    }

    /** Runs the command line; bad input and failed jobs exit 2 with one line on stderr. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new SparkJob());
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("attn4j: " + TextJob.oneLine(ex));
            return 2;
        });
        cli.setExitCodeExceptionMapper(ex -> 2);
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }
}
