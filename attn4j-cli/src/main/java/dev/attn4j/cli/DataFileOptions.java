package dev.attn4j.cli;

import dev.attn4j.train.data.DataFormat;
import dev.attn4j.train.data.DataOptions;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The options of the commands that read labelled text files ({@code finetune}, {@code classify}):
 * {@code --format}, {@code --text-column}, {@code --text-pair-column}, {@code --label-column},
 * {@code --encoding}, {@code --skip-bad-rows}. Use as a picocli {@code @Mixin}; {@link #forFile}
 * gives the {@link DataOptions} for one file.
 */
public final class DataFileOptions {
    @Option(names = "--format", paramLabel = "csv|tsv|jsonl|label-text",
            description = "Data file layout. Default: from the extension (.csv, .tsv, .jsonl), label-text for any other.")
    String format;

    @Option(names = "--text-column", paramLabel = "NAME", defaultValue = DataOptions.DEFAULT_TEXT_COLUMN,
            description = "CSV/TSV column or JSONL key of the text (default: ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--text-pair-column", paramLabel = "NAME",
            description = "Column or key of a second text (sentence pairs).")
    String textPairColumn;

    @Option(names = "--label-column", paramLabel = "NAME", defaultValue = DataOptions.DEFAULT_LABEL_COLUMN,
            description = "Column or key of the label (default: ${DEFAULT-VALUE}); labels are strings or integers.")
    String labelColumn;

    @Option(names = "--encoding", paramLabel = "CHARSET", defaultValue = "UTF-8",
            description = "The files' Java charset name (default: ${DEFAULT-VALUE}; e.g. windows-1252). Bytes invalid in it are an error.")
    String encoding;

    @Option(names = "--skip-bad-rows",
            description = "Skip malformed rows (counted at the end) instead of stopping at the first.")
    boolean skipBadRows;

    /** The reading options for {@code file}: its format from {@code --format} or its extension. */
    public DataOptions forFile(Path file) {
        DataOptions o = DataOptions.forFile(file)
                .withTextColumn(textColumn)
                .withTextPairColumn(textPairColumn)
                .withLabelColumn(labelColumn)
                .withEncoding(encoding)
                .withSkipBadRows(skipBadRows);
        return format == null ? o : o.withFormat(DataFormat.parse(format));
    }

    /** Whether {@code --format} was given (classify reads one text a line without it). */
    public boolean formatGiven() {
        return format != null;
    }
}
