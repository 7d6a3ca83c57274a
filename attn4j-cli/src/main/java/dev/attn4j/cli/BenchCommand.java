package dev.attn4j.cli;

import picocli.CommandLine.Command;

/** {@code attn4j bench ...}: throughput benchmarks that print a JSON line as their last line. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks; each prints one JSON object as its last line.",
        subcommands = {BenchGemmCommand.class, BenchAttentionCommand.class, BenchEmbedCommand.class, BenchFinetuneCommand.class,
                BenchGenerateCommand.class, BenchMatvecCommand.class, BenchServeCommand.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.err);
    }
}
