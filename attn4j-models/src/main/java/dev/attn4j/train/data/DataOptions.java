package dev.attn4j.train.data;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How to read a labelled text file: the {@code finetune} / {@code classify} options
 * {@code --format}, {@code --text-column}, {@code --text-pair-column}, {@code --label-column},
 * {@code --encoding} and {@code --skip-bad-rows}.
 *
 * @param format         the layout; {@code null} picks it from the file's extension when reading
 *                       ({@link DataFormat#forPath})
 * @param textColumn     CSV/TSV column or JSONL key of the text (default {@code text}); unused by
 *                       {@code label-text}
 * @param textPairColumn column/key of the second text of a pair, or {@code null} for single texts
 * @param labelColumn    column/key of the label (default {@code label}), or {@code null} to read
 *                       unlabelled texts (every {@link LabeledExample#label()} is then null); a
 *                       {@code label-text} file always has labels
 * @param charset        the file's encoding (default UTF-8); bytes invalid in it are an error
 * @param skipBadRows    skip malformed rows and count them instead of failing on the first
 */
public record DataOptions(DataFormat format, String textColumn, String textPairColumn, String labelColumn,
                          Charset charset, boolean skipBadRows) {
    public static final String DEFAULT_TEXT_COLUMN = "text";
    public static final String DEFAULT_LABEL_COLUMN = "label";

    public DataOptions {
        Objects.requireNonNull(textColumn, "textColumn");
        Objects.requireNonNull(charset, "charset");
        if (textColumn.isEmpty()) throw new IllegalArgumentException("text column name is empty");
        if (textPairColumn != null && textPairColumn.isEmpty()) throw new IllegalArgumentException("text pair column name is empty");
        if (labelColumn != null && labelColumn.isEmpty()) throw new IllegalArgumentException("label column name is empty");
    }

    /** The defaults: format from the extension, columns {@code text} and {@code label}, UTF-8, strict. */
    public static DataOptions defaults() {
        return new DataOptions(null, DEFAULT_TEXT_COLUMN, null, DEFAULT_LABEL_COLUMN, StandardCharsets.UTF_8, false);
    }

    /** {@link #defaults()} with the format chosen from {@code file}'s extension. */
    public static DataOptions forFile(Path file) {
        return defaults().withFormat(DataFormat.forPath(file));
    }

    /** The format to read {@code file} with: {@link #format()}, or the extension's default when null. */
    public DataFormat formatFor(Path file) {
        return format != null ? format : DataFormat.forPath(file);
    }

    public DataOptions withFormat(DataFormat f) {
        return new DataOptions(f, textColumn, textPairColumn, labelColumn, charset, skipBadRows);
    }

    public DataOptions withTextColumn(String c) {
        return new DataOptions(format, c, textPairColumn, labelColumn, charset, skipBadRows);
    }

    public DataOptions withTextPairColumn(String c) {
        return new DataOptions(format, textColumn, c, labelColumn, charset, skipBadRows);
    }

    public DataOptions withLabelColumn(String c) {
        return new DataOptions(format, textColumn, textPairColumn, c, charset, skipBadRows);
    }

    public DataOptions withCharset(Charset c) {
        return new DataOptions(format, textColumn, textPairColumn, labelColumn, c, skipBadRows);
    }

    /**
     * {@link #withCharset} from a Java charset name ({@code --encoding}: UTF-8, windows-1252,
     * ISO-8859-1, GB18030, ...).
     *
     * @throws IllegalArgumentException naming the charset when Java does not know it
     */
    public DataOptions withEncoding(String name) {
        Charset c;
        try {
            c = Charset.forName(name.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown encoding '" + name + "' (a Java charset name, e.g. UTF-8 or windows-1252)");
        }
        return withCharset(c);
    }

    public DataOptions withSkipBadRows(boolean skip) {
        return new DataOptions(format, textColumn, textPairColumn, labelColumn, charset, skip);
    }
}
