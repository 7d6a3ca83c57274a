package dev.attn4j.cli;

import dev.attn4j.train.data.DataFormat;
import dev.attn4j.train.data.DataOptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DataFileOptionsTest {
    @CommandLine.Command(name = "t")
    static final class Cmd implements Runnable {
        @CommandLine.Mixin
        DataFileOptions data = new DataFileOptions();

        @Override
        public void run() {
        }
    }

    private static DataFileOptions parse(String... args) {
        Cmd c = new Cmd();
        new CommandLine(c).parseArgs(args);
        return c.data;
    }

    @Test
    void defaultsFollowTheFile() {
        DataFileOptions d = parse();
        assertThat(d.formatGiven()).isFalse();
        DataOptions csv = d.forFile(Path.of("train.csv"));
        assertThat(csv).isEqualTo(new DataOptions(DataFormat.CSV, "text", null, "label", StandardCharsets.UTF_8, false));
        assertThat(d.forFile(Path.of("stsa.binary.train")).format()).isEqualTo(DataFormat.LABEL_TEXT);
    }

    @Test
    void everyOption() {
        DataFileOptions d = parse("--format", "tsv", "--text-column", "review", "--text-pair-column", "title",
                "--label-column", "stars", "--encoding", "windows-1252", "--skip-bad-rows");
        DataOptions o = d.forFile(Path.of("x.csv"));
        assertThat(o.format()).isEqualTo(DataFormat.TSV);
        assertThat(o.textColumn()).isEqualTo("review");
        assertThat(o.textPairColumn()).isEqualTo("title");
        assertThat(o.labelColumn()).isEqualTo("stars");
        assertThat(o.charset().name()).isEqualTo("windows-1252");
        assertThat(o.skipBadRows()).isTrue();
        assertThatThrownBy(() -> parse("--format", "xml").forFile(Path.of("a.csv"))).hasMessageContaining("unknown data format 'xml'");
        assertThatThrownBy(() -> parse("--encoding", "klingon").forFile(Path.of("a.csv"))).hasMessageContaining("unknown encoding 'klingon'");
    }
}
