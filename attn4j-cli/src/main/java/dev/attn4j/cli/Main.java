package dev.attn4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code attn4j} command: one subcommand per job. */
@Command(name = "attn4j", mixinStandardHelpOptions = true, version = "attn4j 0.1.0",
        description = "Attention mechanisms and Transformers for the JVM.")
public final class Main implements Runnable {
    /**
     * The subcommands by name, in the order of the help listing. A command line that names one
     * registers only that one: picocli reads every registered command's annotations, mixins and
     * option types up front, which for all of them took about a third of a second of each start.
     */
    static final java.util.Map<String, Class<?>> SUBCOMMANDS = subcommands(
            "embed", EmbedCommand.class, "finetune", FinetuneCommand.class, "classify", ClassifyCommand.class,
            "merge", MergeCommand.class, "quantize", QuantizeCommand.class, "tokenize", TokenizeCommand.class,
            "tokenizer", TokenizerCommand.class, "convert", ConvertCommand.class, "train", TrainCommand.class,
            "translate", TranslateCommand.class, "summarize", SummarizeCommand.class, "attention", AttentionCommand.class,
            "generate", GenerateCommand.class, "score", ScoreCommand.class, "chat", ChatCommand.class,
            "serve", ServeCommand.class, "bleu", BleuCommand.class, "bench", BenchCommand.class, "spark", SparkCommand.class,
            "help", CommandLine.HelpCommand.class);

    /** Name, class, name, class, ... (the names are the classes' {@code @Command} names; a test checks). */
    private static java.util.Map<String, Class<?>> subcommands(Object... nameThenClass) {
        var map = new java.util.LinkedHashMap<String, Class<?>>();
        for (int i = 0; i < nameThenClass.length; i += 2) map.put((String) nameThenClass[i], (Class<?>) nameThenClass[i + 1]);
        return java.util.Collections.unmodifiableMap(map);
    }

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
        Class<?> named = args.length > 0 ? SUBCOMMANDS.get(args[0]) : null;
        if (named != null && named != CommandLine.HelpCommand.class) {
            cli.addSubcommand(args[0], named);
        } else {
            SUBCOMMANDS.forEach(cli::addSubcommand);                            // help, usage errors, suggestions
        }
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
