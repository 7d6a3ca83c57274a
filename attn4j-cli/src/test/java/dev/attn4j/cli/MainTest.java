package dev.attn4j.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Main registers only the subcommand a command line names; the name table matches the classes. */
class MainTest {
    @Test
    void subcommandNamesAreTheCommandsOwnNames() {
        for (Map.Entry<String, Class<?>> e : Main.SUBCOMMANDS.entrySet()) {
            assertThat(e.getValue().getAnnotation(CommandLine.Command.class).name()).as(e.getValue().getName()).isEqualTo(e.getKey());
        }
        assertThat(Main.SUBCOMMANDS).hasSize(20);
    }

    @Test
    void helpListsEveryCommandAndUnknownOnesGetSuggestions() {
        CliRun.Output help = CliRun.main(null, "--help");
        assertThat(help.code()).isZero();
        for (String name : Main.SUBCOMMANDS.keySet()) assertThat(help.out() + help.err()).contains("  " + name);
        CliRun.Output none = CliRun.main(null);
        for (String name : Main.SUBCOMMANDS.keySet()) assertThat(none.out() + none.err()).contains("  " + name);
        CliRun.Output typo = CliRun.main(null, "embedd", "x");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err()).contains("embedd").contains("embed");
        CliRun.Output helpOf = CliRun.main(null, "help", "bleu");
        assertThat(helpOf.code()).isZero();
        assertThat(helpOf.out() + helpOf.err()).contains("--hyp");
    }

    @Test
    void aNamedCommandRunsWithItsOptions() {
        CliRun.Output v = CliRun.main(null, "--version");
        assertThat(v.out()).contains("attn4j 0.1.0");
        CliRun.Output bad = CliRun.main(null, "bleu", "--hyp", "h.txt", "--ref", "r.txt", "--no-such-option");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--no-such-option");
    }
}
