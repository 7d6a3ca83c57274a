package dev.attn4j.train.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading labelled text files: every format, its warts and its errors. */
class DataFilesTest {
    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private Path write(String name, String content) throws IOException {
        return write(name, content.getBytes(StandardCharsets.UTF_8));
    }

    private static LabeledExample ex(String text, String label, long line) {
        return new LabeledExample(text, null, label, line);
    }

    private static DataFileException error(Path file, DataOptions o) {
        try {
            DataFiles.load(file, o);
        } catch (DataFileException e) {
            assertThat(e.getMessage()).doesNotContain("\n");
            assertThat(e.file()).isEqualTo(file);
            return e;
        }
        throw new AssertionError("no error reading " + file);
    }

    @Test
    void formatFromExtension() {
        assertThat(DataFormat.forPath(Path.of("a/train.csv"))).isEqualTo(DataFormat.CSV);
        assertThat(DataFormat.forPath(Path.of("train.TSV"))).isEqualTo(DataFormat.TSV);
        assertThat(DataFormat.forPath(Path.of("train.jsonl"))).isEqualTo(DataFormat.JSONL);
        assertThat(DataFormat.forPath(Path.of("x.ndjson"))).isEqualTo(DataFormat.JSONL);
        assertThat(DataFormat.forPath(Path.of("stsa.binary.train"))).isEqualTo(DataFormat.LABEL_TEXT);
        assertThat(DataFormat.forPath(Path.of("rt-polarity.all"))).isEqualTo(DataFormat.LABEL_TEXT);
        assertThat(DataFormat.parse("label-text")).isEqualTo(DataFormat.LABEL_TEXT);
        assertThat(DataFormat.parse("CSV")).isEqualTo(DataFormat.CSV);
        assertThatThrownBy(() -> DataFormat.parse("xml")).hasMessageContaining("unknown data format 'xml'");
        assertThat(DataOptions.forFile(Path.of("d.jsonl")).format()).isEqualTo(DataFormat.JSONL);
        assertThatThrownBy(() -> DataOptions.defaults().withEncoding("no-such-set")).hasMessageContaining("unknown encoding 'no-such-set'");
        assertThat(DataOptions.defaults().withEncoding("windows-1252").charset().name()).isEqualTo("windows-1252");
    }

    @Test
    void csvQuotingEmbeddedNewlinesCrlfBomAndEmptyText() throws IOException {
        String csv = "\uFEFFlabel,review\r\n"
                + "1,plain text\r\n"
                + "0,\"with, comma and \"\"quotes\"\"\"\r\n"
                + "1,\"two\r\nlines\"\r\n"
                + "0,\r\n"                       // empty text: a valid row
                + "\r\n"                         // blank line: skipped
                + "1,\"\"\r\n"                   // quoted empty text
                + "positive,  spaces kept  \r\n"
                + " 2 ,last row without newline";
        Path f = write("reviews.csv", csv);
        LabeledData d = DataFiles.load(f, DataOptions.forFile(f).withTextColumn("review"));
        assertThat(d.format()).isEqualTo(DataFormat.CSV);
        assertThat(d.skippedRows()).isZero();
        assertThat(d.examples()).containsExactly(
                ex("plain text", "1", 2),
                ex("with, comma and \"quotes\"", "0", 3),
                ex("two\r\nlines", "1", 4),
                ex("", "0", 6),
                ex("", "1", 8),
                ex("  spaces kept  ", "positive", 9),
                ex("last row without newline", "2", 10));
    }

    @Test
    void tsvAndTextPairs() throws IOException {
        String tsv = "sentence1\tsentence2\tlabel\n"
                + "A man sleeps.\tA person rests.\tentailment\n"
                + "\"quoted\ttab\"\tsecond, with comma\tneutral\n";
        Path f = write("pairs.tsv", tsv);
        List<LabeledExample> rows = DataFiles.read(f, DataOptions.forFile(f).withTextColumn("sentence1").withTextPairColumn("sentence2"));
        assertThat(rows).containsExactly(
                new LabeledExample("A man sleeps.", "A person rests.", "entailment", 2),
                new LabeledExample("quoted\ttab", "second, with comma", "neutral", 3));
    }

    @Test
    void unlabelledCsv() throws IOException {
        Path f = write("texts.csv", "id,text\n7,hello\n8,world\n");
        assertThat(DataFiles.read(f, DataOptions.forFile(f).withLabelColumn(null)))
                .containsExactly(ex("hello", null, 2), ex("world", null, 3));
    }

    @Test
    void jsonl() throws IOException {
        String jsonl = "\uFEFF{\"text\": \"good film\", \"label\": 1}\r\n"
                + "{\"text\": \"\", \"label\": \"neg\", \"extra\": [1, 2]}\n"
                + "\n"
                + "{\"text\": \"line\\nbreak \\u0085 nel\", \"label\": 2.0}\n"
                + "{\"label\": 0, \"text\": \"é \\ud83d\\ude00\"}";
        Path f = write("d.jsonl", jsonl);
        assertThat(DataFiles.read(f, DataOptions.forFile(f))).containsExactly(
                ex("good film", "1", 1),
                ex("", "neg", 2),
                ex("line\nbreak \u0085 nel", "2", 4),
                ex("é \uD83D\uDE00", "0", 5));
    }

    @Test
    void jsonlErrorsAndSkipping() throws IOException {
        Path f = write("bad.jsonl", "{\"text\": \"a\", \"label\": 1}\n"
                + "{\"txt\": \"b\", \"label\": 1}\n"
                + "{\"text\": \"c\", \"label\": 1.5}\n"
                + "{\"text\": 3, \"label\": 1}\n"
                + "{\"text\": \"d\", \"label\": 1} trailing\n"
                + "[1, 2]\n"
                + "{\"text\": \"e\", \"label\": null}\n"
                + "{\"text\": \"ok\", \"label\": 0}\n");
        DataOptions o = DataOptions.forFile(f);
        assertThat(error(f, o).getMessage()).isEqualTo(f + ":2: no key 'text' (keys: 'txt', 'label')");
        LabeledData d = DataFiles.load(f, o.withSkipBadRows(true));
        assertThat(d.examples()).containsExactly(ex("a", "1", 1), ex("ok", "0", 8));
        assertThat(d.skippedRows()).isEqualTo(6);
        assertThat(d.firstSkipped()).hasSize(6);
        assertThat(d.firstSkipped().get(1)).isEqualTo(f + ":3: label 'label' is the number 1.5, not a string or an integer");
        assertThat(d.firstSkipped().get(2)).isEqualTo(f + ":4: 'text' is the number 3, not a string");
        assertThat(d.firstSkipped().get(3)).startsWith(f + ":5: not a JSON object: ");
        assertThat(d.firstSkipped().get(4)).isEqualTo(f + ":6: not a JSON object: a JSON array");
        assertThat(d.firstSkipped().get(5)).isEqualTo(f + ":7: label 'label' is null, not a string or an integer");
        assertThat(d.skippedSummary()).isEqualTo(f + ": skipped 6 malformed rows (first: " + f + ":2: no key 'text' (keys: 'txt', 'label'))");
    }

    @Test
    void labelTextLikeSst() throws IOException {
        // trailing spaces, CRLF, a line with a label only, a blank line, no final newline
        Path f = write("stsa.binary.dev", "1 a stirring , funny film . \r\n0 wo n't work\n1\n\n0 last  ");
        assertThat(DataFiles.read(f, DataOptions.forFile(f))).containsExactly(
                ex("a stirring , funny film .", "1", 1),
                ex("wo n't work", "0", 2),
                ex("", "1", 3),
                ex("last", "0", 5));
        Path bad = write("bad.txt", "1 ok\n leading space\n");
        assertThat(error(bad, DataOptions.forFile(bad)).getMessage())
                .isEqualTo(bad + ":2: line starts with a space: expected label<space>text");
        assertThatThrownBy(() -> DataFiles.read(f, DataOptions.forFile(f).withTextPairColumn("b")))
                .isInstanceOf(DataFileException.class).hasMessageContaining("text pair");
    }

    @Test
    void windows1252AndNelIsNotALineBreak() throws IOException {
        // 0xE9 = é, 0x85 = … in windows-1252; the same byte is U+0085 (NEL) in ISO-8859-1
        byte[] bytes = {'0', ' ', 'c', 'a', 'f', (byte) 0xE9, ' ', (byte) 0x85, ' ', 'x', ' ', '\n', '1', ' ', 'y', '\n'};
        Path f = write("rt.all", bytes);
        assertThat(DataFiles.read(f, DataOptions.forFile(f).withEncoding("windows-1252")))
                .containsExactly(ex("café … x", "0", 1), ex("y", "1", 2));
        assertThat(DataFiles.read(f, DataOptions.forFile(f).withCharset(Charset.forName("ISO-8859-1"))))
                .containsExactly(ex("café \u0085 x", "0", 1), ex("y", "1", 2));
        // as UTF-8 the same bytes are invalid: the error names line 1 and the byte
        assertThat(error(f, DataOptions.forFile(f)).getMessage())
                .startsWith(f + ":1: bytes 0xE9 (byte offset 5) are not valid UTF-8");
    }

    @Test
    void invalidUtf8NamesTheLine() throws IOException {
        byte[] head = "label,text\n1,fine\n0,\"multi\nline\"\n1,ok\n0,bad ".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[head.length + 3];
        System.arraycopy(head, 0, bytes, 0, head.length);
        bytes[head.length] = (byte) 0xC3;   // a lead byte followed by an ASCII byte: malformed
        bytes[head.length + 1] = '(';
        bytes[head.length + 2] = '\n';
        Path f = write("bad.csv", bytes);
        DataFileException e = error(f, DataOptions.forFile(f));
        assertThat(e.line()).isEqualTo(6);
        assertThat(e.getMessage()).isEqualTo(f + ":6: bytes 0xC3 (byte offset " + head.length
                + ") are not valid UTF-8; pass the file's encoding with --encoding (e.g. windows-1252)");
        // windows-1252 leaves five bytes undefined (0x81 here): an error too, not a silent U+FFFD
        Path g = write("undef.txt", new byte[]{'1', ' ', 'a', '\n', '0', ' ', (byte) 0x81, '\n'});
        assertThat(error(g, DataOptions.forFile(g).withEncoding("windows-1252")).getMessage())
                .startsWith(g + ":2: bytes 0x81 (byte offset 6) map to no character in windows-1252");
    }

    @Test
    void utf16WithBom() throws IOException {
        Path f = write("u16.csv", "text,label\nhallo wereld,1\n".getBytes(StandardCharsets.UTF_16)); // BOM + big-endian
        assertThat(DataFiles.read(f, DataOptions.forFile(f).withCharset(StandardCharsets.UTF_16)))
                .containsExactly(ex("hallo wereld", "1", 2));
    }

    @Test
    void csvErrors() throws IOException {
        Path missing = write("m.csv", "label,review\n1,x\n");
        assertThat(error(missing, DataOptions.forFile(missing)).getMessage()).isEqualTo(
                missing + ":1: no column 'text' in the CSV header (columns: 'label', 'review'); name the column with --text-column");
        assertThat(error(missing, DataOptions.forFile(missing).withTextColumn("review").withLabelColumn("stars")).getMessage())
                .isEqualTo(missing + ":1: no column 'stars' in the CSV header (columns: 'label', 'review'); name the column with --label-column");

        Path ragged = write("r.csv", "text,label\na,1\n\"b\nc\",0\nd,1,extra\ne\nf,0\n");
        DataFileException e = error(ragged, DataOptions.forFile(ragged));
        assertThat(e.getMessage()).isEqualTo(ragged + ":5: row has 3 fields, the header has 2 (quote fields that contain commas)");
        LabeledData d = DataFiles.load(ragged, DataOptions.forFile(ragged).withSkipBadRows(true));
        assertThat(d.examples()).containsExactly(ex("a", "1", 2), ex("b\nc", "0", 3), ex("f", "0", 7));
        assertThat(d.skippedRows()).isEqualTo(2);
        assertThat(d.firstSkipped()).containsExactly(
                ragged + ":5: row has 3 fields, the header has 2 (quote fields that contain commas)",
                ragged + ":6: row has 1 field, the header has 2 (quote fields that contain commas)");

        Path emptyLabel = write("el.csv", "text,label\na, \n");
        assertThat(error(emptyLabel, DataOptions.forFile(emptyLabel)).getMessage())
                .isEqualTo(emptyLabel + ":2: empty label in column 'label'");

        Path unterminated = write("u.csv", "text,label\nok,1\n\"never closed,0\nmore,1\n");
        assertThat(error(unterminated, DataOptions.forFile(unterminated)).getMessage())
                .isEqualTo(unterminated + ":3: malformed CSV row starting here: a quoted field (\"...) is never closed");

        Path afterQuote = write("q.csv", "text,label\n\"a\"b,1\n");
        assertThat(error(afterQuote, DataOptions.forFile(afterQuote)).getMessage())
                .startsWith(afterQuote + ":2: malformed CSV row starting here: text after the closing quote");
    }

    @Test
    void emptyFiles() throws IOException {
        for (String name : List.of("e.csv", "e.tsv", "e.jsonl", "e.txt")) {
            Path f = write(name, "");
            assertThat(error(f, DataOptions.forFile(f)).getMessage()).startsWith(f + ": empty file");
            Path blank = write("blank-" + name, "\r\n\n");
            assertThat(error(blank, DataOptions.forFile(blank)).getMessage()).startsWith(blank + ": empty file");
        }
        Path headerOnly = write("h.csv", "text,label\r\n");
        assertThat(error(headerOnly, DataOptions.forFile(headerOnly)).getMessage()).isEqualTo(headerOnly + ": no data rows");
        Path allBad = write("b.jsonl", "{\"x\":1}\n");
        assertThat(error(allBad, DataOptions.forFile(allBad).withSkipBadRows(true)).getMessage())
                .isEqualTo(allBad + ": no valid rows: all 1 rows are malformed (first: " + allBad + ":1: no key 'text' (keys: 'x'))");
        Path none = dir.resolve("absent.csv");
        assertThat(error(none, DataOptions.forFile(none)).getMessage()).isEqualTo(none + ": no such file");
        assertThat(error(dir, DataOptions.forFile(dir)).getMessage()).isEqualTo(dir + ": is a directory, not a data file");
    }

    @Test
    void explicitFormatOverridesTheExtension() throws IOException {
        Path f = write("data.txt", "text,label\nhi,1\n");
        assertThat(DataFiles.read(f, DataOptions.forFile(f).withFormat(DataFormat.CSV))).containsExactly(ex("hi", "1", 2));
        assertThat(DataFiles.read(f, DataOptions.defaults())).containsExactly(ex("", "text,label", 1), ex("", "hi,1", 2));
    }
}
