package dev.attn4j.train.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads labelled text files (CSV/TSV with a header, JSONL, {@code label<space>text}) into
 * {@link LabeledExample}s.
 * <ul>
 *   <li>Bytes are decoded with the options' charset, strictly: a byte sequence invalid in it is an
 *       error naming its line (and bytes). A leading byte-order mark is dropped.</li>
 *   <li>Lines end at {@code \n} or {@code \r\n}, never at U+0085 or U+2028 (so windows-1252 or
 *       Latin-1 texts holding 0x85 keep their lines); a missing final newline is fine.</li>
 *   <li>CSV/TSV go through Apache Commons CSV: RFC 4180 quoting, line breaks inside quoted fields,
 *       blank lines skipped; the first record is the header. A row is numbered by the line it starts
 *       on.</li>
 *   <li>Texts are kept as they are (an empty text is a valid row); labels are trimmed, and an
 *       empty label is a malformed row. In {@code label-text} files, trailing spaces, tabs and
 *       carriage returns are dropped from each line (most lines of the Pang &amp; Lee files end in a
 *       space), and a line holding only a label is a row with an empty text; blank lines are
 *       skipped.</li>
 *   <li>Errors are {@link DataFileException}s whose message is one line, {@code file:line: what}.
 *       With {@link DataOptions#skipBadRows()}, malformed rows (ragged CSV rows, missing or
 *       mistyped JSON keys, empty labels, unparsable JSON lines) are skipped and counted in
 *       {@link LabeledData#skippedRows()}; a CSV syntax error (an unterminated quote) stays fatal,
 *       because the parser cannot tell where the next row starts.</li>
 * </ul>
 */
public final class DataFiles {
    private static final ObjectReader JSON = JsonMapper.builder().build().readerFor(JsonNode.class)
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private DataFiles() {
    }

    /** The rows of {@code file} in file order (see {@link #load} for the skipped-row count). */
    public static List<LabeledExample> read(Path file, DataOptions options) {
        return load(file, options).examples();
    }

    /**
     * Reads {@code file} as {@code options} say.
     *
     * @throws DataFileException (one line: {@code file:line: what}) when the file cannot be read, is
     *                           not valid in its charset, lacks a named column, holds a malformed
     *                           row (unless skipped) or holds no rows
     */
    public static LabeledData load(Path file, DataOptions options) {
        DataFormat format = options.formatFor(file);
        byte[] bytes = readBytes(file);
        Text text = decode(bytes, options.charset(), file);
        Rows rows = new Rows(file, options.skipBadRows());
        switch (format) {
            case CSV -> readCsv(text, ',', options, rows);
            case TSV -> readCsv(text, '\t', options, rows);
            case JSONL -> readJsonl(text, options, rows);
            case LABEL_TEXT -> readLabelText(text, options, rows);
        }
        if (rows.examples.isEmpty()) {
            if (rows.skipped > 0) {
                throw new DataFileException(file, 0, "no valid rows: all " + rows.skipped + " rows are malformed (first: "
                        + rows.messages.getFirst() + ")");
            }
            throw new DataFileException(file, 0, text.isBlank() ? "empty file: no rows" : "no data rows");
        }
        return new LabeledData(file, format, rows.examples, rows.skipped, rows.messages);
    }

    private static byte[] readBytes(Path file) {
        try {
            if (Files.isDirectory(file)) throw new DataFileException(file, 0, "is a directory, not a data file");
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new DataFileException(file, 0, "no such file");
        } catch (AccessDeniedException e) {
            throw new DataFileException(file, 0, "permission denied");
        } catch (IOException e) {
            throw new DataFileException(file, 0, "cannot read: " + e.getMessage(), e);
        }
    }

    /** Decoded file content with its line starts. */
    record Text(String chars, int[] lineStarts) {
        /** The 1-based line holding character {@code pos}. */
        long lineOf(long pos) {
            int i = Arrays.binarySearch(lineStarts, (int) Math.min(pos, Integer.MAX_VALUE));
            return (i >= 0 ? i : -i - 2) + 1;
        }

        boolean isBlank() {
            return chars.isBlank();
        }
    }

    /**
     * Decodes {@code bytes} strictly: malformed or unmappable input is an error naming its line.
     * A leading U+FEFF (byte-order mark) is dropped.
     */
    static Text decode(byte[] bytes, Charset charset, Path file) {
        CharsetDecoder dec = charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 16, (long) (bytes.length * (double) dec.averageCharsPerByte()) + 16));
        CoderResult r;
        while ((r = dec.decode(in, out, true)).isOverflow()) out = grow(out);
        if (r.isUnderflow()) {
            while ((r = dec.flush(out)).isOverflow()) out = grow(out);
        }
        if (r.isError()) {
            // malformed or unmappable: name the line (newlines decoded so far + 1) and the bytes
            int lines = 1;
            for (int i = 0; i < out.position(); i++) {
                if (out.get(i) == '\n') lines++;
            }
            int at = in.position();
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < Math.max(1, r.length()) && at + i < bytes.length; i++) {
                if (i > 0) hex.append(' ');
                hex.append(String.format("0x%02X", bytes[at + i] & 0xff));
            }
            String what = (r.isMalformed() ? "bytes " + hex + " (byte offset " + at + ") are not valid " + charset.name()
                    : "bytes " + hex + " (byte offset " + at + ") map to no character in " + charset.name())
                    + (charset.name().equals("UTF-8") ? "; pass the file's encoding with --encoding (e.g. windows-1252)"
                    : "; is the file in another encoding? (--encoding)");
            throw new DataFileException(file, lines, what, characterCodingException(r));
        }
        out.flip();
        String s = out.toString();
        if (!s.isEmpty() && s.charAt(0) == '\uFEFF') s = s.substring(1);
        int n = 1;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\n') n++;
        }
        int[] starts = new int[n];
        for (int i = 0, k = 1; i < s.length(); i++) {
            if (s.charAt(i) == '\n') starts[k++] = i + 1;
        }
        return new Text(s, starts);
    }

    private static CharBuffer grow(CharBuffer out) {
        CharBuffer bigger = CharBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 16, out.capacity() * 2L + 16));
        out.flip();
        bigger.put(out);
        return bigger;
    }

    private static CharacterCodingException characterCodingException(CoderResult r) {
        try {
            r.throwException();
        } catch (CharacterCodingException e) {
            return e;
        }
        return null;
    }

    /** Collects rows and bad-row errors. */
    private static final class Rows {
        final Path file;
        final boolean skipBad;
        final List<LabeledExample> examples = new ArrayList<>();
        final List<String> messages = new ArrayList<>();
        int skipped;

        Rows(Path file, boolean skipBad) {
            this.file = file;
            this.skipBad = skipBad;
        }

        void add(String text, String pair, String label, long line) {
            examples.add(new LabeledExample(text, pair, label, line));
        }

        /** A malformed row: fatal unless skipping. */
        void bad(long line, String what) {
            DataFileException e = new DataFileException(file, line, what);
            if (!skipBad) throw e;
            skipped++;
            if (messages.size() < LabeledData.MAX_MESSAGES) messages.add(e.getMessage());
        }
    }

    // ---------------------------------------------------------------- CSV / TSV

    private static void readCsv(Text text, char delimiter, DataOptions o, Rows rows) {
        String kind = delimiter == ',' ? "CSV" : "TSV";
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setDelimiter(delimiter)
                .setQuote('"')
                .setHeader()
                .setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(true)
                .setIgnoreSurroundingSpaces(false)
                .setTrim(false)
                .setAllowMissingColumnNames(true)
                .setDuplicateHeaderMode(DuplicateHeaderMode.ALLOW_EMPTY)
                .build();
        Path file = rows.file;
        long headerLine = text.lineOf(firstNonBlank(text.chars()));
        CSVParser parser;
        try {
            parser = CSVParser.parse(new StringReader(text.chars()), format);
        } catch (IllegalArgumentException e) {
            throw new DataFileException(file, headerLine, "bad " + kind + " header: " + oneLine(e.getMessage()));
        } catch (IOException | UncheckedIOException e) {
            throw new DataFileException(file, headerLine, "malformed " + kind + " header: " + oneLine(csvMessage(e)));
        }
        try (parser) {
            List<String> header = parser.getHeaderNames();
            if (header.isEmpty()) {
                throw new DataFileException(file, 0, text.isBlank() ? "empty file: no header and no rows" : "no header row");
            }
            Map<String, Integer> index = parser.getHeaderMap();
            int textIdx = column(index, header, o.textColumn(), "--text-column", file, headerLine, kind);
            int pairIdx = o.textPairColumn() == null ? -1
                    : column(index, header, o.textPairColumn(), "--text-pair-column", file, headerLine, kind);
            int labelIdx = o.labelColumn() == null ? -1
                    : column(index, header, o.labelColumn(), "--label-column", file, headerLine, kind);
            Iterator<CSVRecord> it = parser.iterator();
            while (true) {
                long nextLine = parser.getCurrentLineNumber() + 1;
                CSVRecord rec;
                try {
                    if (!it.hasNext()) break;
                    rec = it.next();
                } catch (UncheckedIOException | IllegalStateException e) {
                    throw new DataFileException(file, nextLine, "malformed " + kind + " row starting here: " + oneLine(csvMessage(e)));
                }
                long line = text.lineOf(skipLineBreaks(text.chars(), rec.getCharacterPosition()));
                if (rec.size() != header.size()) {
                    rows.bad(line, "row has " + rec.size() + " field" + (rec.size() == 1 ? "" : "s") + ", the header has "
                            + header.size() + (delimiter == ',' ? " (quote fields that contain commas)" : ""));
                    continue;
                }
                String label = null;
                if (labelIdx >= 0) {
                    label = rec.get(labelIdx).strip();
                    if (label.isEmpty()) {
                        rows.bad(line, "empty label in column '" + o.labelColumn() + "'");
                        continue;
                    }
                }
                rows.add(rec.get(textIdx), pairIdx >= 0 ? rec.get(pairIdx) : null, label, line);
            }
        } catch (IOException e) {
            throw new DataFileException(file, 0, "cannot read " + kind + ": " + oneLine(e.getMessage()), e);
        }
    }

    /** The position of a record's first character: blank lines the parser skipped come before it. */
    private static long skipLineBreaks(String s, long pos) {
        int i = (int) Math.min(pos, s.length());
        while (i < s.length() && (s.charAt(i) == '\n' || s.charAt(i) == '\r')) i++;
        return i;
    }

    private static int column(Map<String, Integer> index, List<String> header, String name, String option,
                              Path file, long headerLine, String kind) {
        Integer i = index.get(name);
        if (i == null) {
            StringBuilder cols = new StringBuilder();
            for (String h : header) {
                if (!cols.isEmpty()) cols.append(", ");
                cols.append('\'').append(h).append('\'');
            }
            throw new DataFileException(file, headerLine, "no column '" + name + "' in the " + kind + " header (columns: "
                    + cols + "); name the column with " + option);
        }
        return i;
    }

    private static int firstNonBlank(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\n' && c != '\r') return i;
        }
        return 0;
    }

    private static String csvMessage(Throwable e) {
        Throwable t = e instanceof UncheckedIOException u && u.getCause() != null ? u.getCause() : e;
        String m = t.getMessage();
        if (m != null && m.contains("EOF reached before encapsulated token finished")) {
            return "a quoted field (\"...) is never closed";
        }
        if (m != null && m.contains("Invalid character between encapsulated token and delimiter")) {
            return "text after the closing quote of a quoted field (a quote inside a field must be doubled: \"\")";
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }

    private static String oneLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return (nl >= 0 ? s.substring(0, nl) : s).strip();
    }

    // ---------------------------------------------------------------- JSONL

    private static void readJsonl(Text text, DataOptions o, Rows rows) {
        String s = text.chars();
        long lineNo = 0;
        for (int start = 0; start <= s.length(); ) {
            int nl = s.indexOf('\n', start);
            int end = nl < 0 ? s.length() : nl;
            lineNo++;
            String line = s.substring(start, end);
            start = end + 1;
            if (line.isBlank()) {
                if (nl < 0) break;
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readValue(line);
            } catch (JsonProcessingException e) {
                rows.bad(lineNo, "not a JSON object: " + oneLine(e.getOriginalMessage())
                        + (e.getLocation() != null ? " (column " + e.getLocation().getColumnNr() + ")" : ""));
                if (nl < 0) break;
                continue;
            } catch (IOException e) {
                throw new UncheckedIOException(e); // reading a String does no I/O
            }
            if (node == null || !node.isObject()) {
                rows.bad(lineNo, "not a JSON object: " + (node == null ? "nothing" : "a JSON " + node.getNodeType().name().toLowerCase()));
            } else {
                readJsonRow(node, o, rows, lineNo);
            }
            if (nl < 0) break;
        }
    }

    private static void readJsonRow(JsonNode node, DataOptions o, Rows rows, long line) {
        String text = jsonText(node, o.textColumn(), rows, line);
        if (text == null) return;
        String pair = null;
        if (o.textPairColumn() != null) {
            pair = jsonText(node, o.textPairColumn(), rows, line);
            if (pair == null) return;
        }
        String label = null;
        if (o.labelColumn() != null) {
            JsonNode l = node.get(o.labelColumn());
            if (l == null) {
                rows.bad(line, "no key '" + o.labelColumn() + "' (keys: " + keys(node) + ")");
                return;
            }
            if (l.isTextual()) {
                label = l.textValue().strip();
            } else if (l.isIntegralNumber()) {
                label = l.bigIntegerValue().toString();
            } else if (l.isNumber() && l.decimalValue().stripTrailingZeros().scale() <= 0) {
                label = l.decimalValue().toBigIntegerExact().toString(); // 1.0 -> "1"
            } else {
                rows.bad(line, "label '" + o.labelColumn() + "' is " + describe(l) + ", not a string or an integer");
                return;
            }
            if (label.isEmpty()) {
                rows.bad(line, "empty label in key '" + o.labelColumn() + "'");
                return;
            }
        }
        rows.add(text, pair, label, line);
    }

    private static String jsonText(JsonNode node, String key, Rows rows, long line) {
        JsonNode t = node.get(key);
        if (t == null) {
            rows.bad(line, "no key '" + key + "' (keys: " + keys(node) + ")");
            return null;
        }
        if (!t.isTextual()) {
            rows.bad(line, "'" + key + "' is " + describe(t) + ", not a string");
            return null;
        }
        return t.textValue();
    }

    private static String describe(JsonNode n) {
        return switch (n.getNodeType()) {
            case NULL -> "null";
            case BOOLEAN -> "a boolean";
            case NUMBER -> "the number " + n.asText();
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> "a " + n.getNodeType().name().toLowerCase();
        };
    }

    private static String keys(JsonNode node) {
        StringBuilder sb = new StringBuilder();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append('\'').append(it.next()).append('\'');
        }
        return sb.isEmpty() ? "none" : sb.toString();
    }

    // ---------------------------------------------------------------- label<space>text

    private static void readLabelText(Text text, DataOptions o, Rows rows) {
        if (o.textPairColumn() != null) {
            throw new DataFileException(rows.file, 0, "label-text files hold single texts; a text pair column needs csv, tsv or jsonl");
        }
        String s = text.chars();
        long lineNo = 0;
        for (int start = 0; start <= s.length(); ) {
            int nl = s.indexOf('\n', start);
            int end = nl < 0 ? s.length() : nl;
            lineNo++;
            while (end > start && isTrailingBlank(s.charAt(end - 1))) end--;
            String line = s.substring(start, end);
            start = (nl < 0 ? s.length() : nl) + 1;
            if (!line.isEmpty()) {
                int sp = line.indexOf(' ');
                if (sp == 0) {
                    rows.bad(lineNo, "line starts with a space: expected label<space>text");
                } else if (sp < 0) {
                    rows.add("", null, line, lineNo);
                } else {
                    rows.add(line.substring(sp + 1), null, line.substring(0, sp), lineNo);
                }
            }
            if (nl < 0) break;
        }
    }

    private static boolean isTrailingBlank(char c) {
        return c == ' ' || c == '\t' || c == '\r';
    }
}
