package dev.attn4j.train.data;

/**
 * One row of a labelled text file: the text, an optional second text (sentence pairs), the label as
 * the file spells it (a class name or an integer; null when the file has no label column), and the
 * 1-based line the row starts on (for error messages).
 */
public record LabeledExample(String text, String textPair, String label, long line) {
    public LabeledExample {
        if (text == null) throw new IllegalArgumentException("text is null (line " + line + ")");
    }
}
