package dev.attn4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code attn4j} command: one subcommand per job. */
@Command(name = "attn4j", mixinStandardHelpOptions = true, version = "attn4j 0.1.0",
        description = "Attention mechanisms and Transformers for the JVM.",
        subcommands = {EmbedCommand.class, FinetuneCommand.class, ClassifyCommand.class, MergeCommand.class, QuantizeCommand.class,
                TokenizeCommand.class, TokenizerCommand.class, ConvertCommand.class, TrainCommand.class, TranslateCommand.class,
                SummarizeCommand.class, AttentionCommand.class, GenerateCommand.class, ScoreCommand.class, ChatCommand.class,
                ServeCommand.class, BleuCommand.class, BenchCommand.class, SparkCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line; bad usage exits 2, as do reported errors. */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** Runs the command line writing to {@code out} and {@code err} (null: System.out / System.err). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        if (out != null) cli.setOut(out);
        if (err != null) cli.setErr(err);
        cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.UncheckedIOException
                    || ex instanceof java.io.IOException || ex instanceof dev.attn4j.tokenizers.TokenizerException) {
                cmd.getErr().println("attn4j: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        cli.setExitCodeExceptionMapper(ex -> 2);
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }
}
