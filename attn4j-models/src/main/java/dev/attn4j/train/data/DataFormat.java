package dev.attn4j.train.data;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The layouts of a labelled text file ({@code --format}).
 * <ul>
 *   <li>{@link #CSV}: comma-separated with a header row, RFC 4180 quoting ({@code "a, b"},
 *       {@code ""} for a quote, line breaks inside quotes).</li>
 *   <li>{@link #TSV}: the same with tabs (quotes are honoured as Python's {@code csv} module and
 *       pandas do by default).</li>
 *   <li>{@link #JSONL}: one JSON object a line.</li>
 *   <li>{@link #LABEL_TEXT}: {@code label<space>text}, the text running to the end of the line (the
 *       SST / Kim 2014 files); no header.</li>
 * </ul>
 */
public enum DataFormat {
    CSV("csv"), TSV("tsv"), JSONL("jsonl"), LABEL_TEXT("label-text");

    private final String cliName;

    DataFormat(String cliName) {
        this.cliName = cliName;
    }

    /** The name {@code --format} takes: csv, tsv, jsonl, label-text. */
    public String cliName() {
        return cliName;
    }

    /** The format of a {@code --format} value (case-insensitive; {@code label_text} is accepted too). */
    public static DataFormat parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (DataFormat f : values()) {
            if (f.cliName.equals(n)) return f;
        }
        throw new IllegalArgumentException("unknown data format '" + name + "' (expected csv, tsv, jsonl or label-text)");
    }

    /**
     * The default for a file name: {@code .csv} CSV, {@code .tsv} TSV, {@code .jsonl} /
     * {@code .ndjson} JSONL (case-insensitive), {@code label-text} for any other extension.
     */
    public static DataFormat forPath(Path file) {
        Path name = file.getFileName();
        String n = name == null ? "" : name.toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".csv")) return CSV;
        if (n.endsWith(".tsv")) return TSV;
        if (n.endsWith(".jsonl") || n.endsWith(".ndjson")) return JSONL;
        return LABEL_TEXT;
    }

    @Override
    public String toString() {
        return cliName;
    }
}
