package dev.attn4j.train.data;

import java.nio.file.Path;
import java.util.List;

/**
 * The rows read from one file.
 *
 * @param file         the file, as the caller named it
 * @param format       the layout it was read as
 * @param examples     the rows in file order
 * @param skippedRows  how many malformed rows {@code --skip-bad-rows} skipped (0 when strict)
 * @param firstSkipped the messages ({@code file:line: what}) of the first {@link #MAX_MESSAGES}
 *                     skipped rows
 */
public record LabeledData(Path file, DataFormat format, List<LabeledExample> examples, int skippedRows,
                          List<String> firstSkipped) {
    /** How many skipped rows' messages are kept. */
    public static final int MAX_MESSAGES = 10;

    public LabeledData {
        examples = List.copyOf(examples);
        firstSkipped = List.copyOf(firstSkipped);
    }

    /** The one line to print after reading when rows were skipped, or null when none were. */
    public String skippedSummary() {
        if (skippedRows == 0) return null;
        return file + ": skipped " + skippedRows + " malformed row" + (skippedRows == 1 ? "" : "s")
                + (firstSkipped.isEmpty() ? "" : " (first: " + firstSkipped.getFirst() + ")");
    }
}
