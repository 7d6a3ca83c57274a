package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.train.data.LabeledExample;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * A small reader of labelled text files for finetune / classify, kept until the data-file
 * reader of the {@code train.data} package lands: {@code label-text} lines ({@code label<space>text}),
 * JSONL, CSV (RFC 4180 quotes, embedded newlines) and TSV with a header row. Errors name the
 * file and line.
 */
final class LabeledFiles {
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--format", paramLabel = "FMT", description = "csv, tsv, jsonl or label-text (default: from the extension; label-text otherwise).")
    String format;

    @Option(names = "--text-column", paramLabel = "NAME", defaultValue = "text", description = "Text column / JSON key (default ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--text-pair-column", paramLabel = "NAME", description = "Second text column (sentence pairs).")
    String pairColumn;

    @Option(names = "--label-column", paramLabel = "NAME", defaultValue = "label", description = "Label column / JSON key (default ${DEFAULT-VALUE}).")
    String labelColumn;

    @Option(names = "--encoding", paramLabel = "CHARSET", defaultValue = "UTF-8", description = "Charset of the files (default ${DEFAULT-VALUE}).")
    String encoding;

    /** The format of {@code file}: --format, else its extension. */
    String formatOf(Path file) {
        String f = format;
        if (f == null) {
            String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
            f = name.endsWith(".csv") ? "csv" : name.endsWith(".tsv") ? "tsv" : name.endsWith(".jsonl") || name.endsWith(".ndjson") ? "jsonl"
                    : "label-text";
        }
        if (!List.of("csv", "tsv", "jsonl", "label-text").contains(f)) {
            throw new IllegalArgumentException("--format must be csv, tsv, jsonl or label-text, got '" + f + "'");
        }
        return f;
    }

    /** The rows of {@code file}; labelled rows need a label. */
    List<LabeledExample> read(Path file) throws IOException {
        String fmt = formatOf(file);
        Charset cs;
        try {
            cs = Charset.forName(encoding);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("--encoding: unknown charset '" + encoding + "'");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IOException(file + ": no such file", e);
        }
        String text;
        try {
            text = cs.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            int line = 1;
            String prefix = new String(bytes, cs);
            for (int i = 0; i < prefix.length() && prefix.charAt(i) != '\uFFFD'; i++) if (prefix.charAt(i) == '\n') line++;
            throw new IOException(file + ":" + line + ": bytes not valid in " + cs.name(), e);
        }
        if (text.startsWith("\uFEFF")) text = text.substring(1);
        List<LabeledExample> rows = switch (fmt) {
            case "label-text" -> labelText(file, text);
            case "jsonl" -> jsonl(file, text);
            default -> table(file, text, fmt.equals("tsv") ? '\t' : ',');
        };
        if (rows.isEmpty()) throw new IllegalArgumentException(file + ": no examples");
        return rows;
    }

    private static List<String> lines(String text) {
        List<String> out = new ArrayList<>();
        for (String l : text.split("\n", -1)) out.add(l.endsWith("\r") ? l.substring(0, l.length() - 1) : l);
        if (!out.isEmpty() && out.getLast().isEmpty()) out.removeLast();
        return out;
    }

    private static List<LabeledExample> labelText(Path file, String text) {
        List<LabeledExample> out = new ArrayList<>();
        List<String> lines = lines(text);
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.isBlank()) continue;
            int sp = l.indexOf(' ');
            String label = sp < 0 ? l : l.substring(0, sp);
            out.add(new LabeledExample(sp < 0 ? "" : l.substring(sp + 1), null, label, i + 1));
        }
        return out;
    }

    private List<LabeledExample> jsonl(Path file, String text) {
        List<LabeledExample> out = new ArrayList<>();
        List<String> lines = lines(text);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            JsonNode o;
            try {
                o = JSON.readTree(lines.get(i));
            } catch (IOException e) {
                throw new IllegalArgumentException(file + ":" + (i + 1) + ": not a JSON object: " + e.getMessage().lines().findFirst().orElse(""));
            }
            if (o == null || !o.isObject()) throw new IllegalArgumentException(file + ":" + (i + 1) + ": not a JSON object");
            JsonNode t = o.get(textColumn);
            if (t == null || t.isNull()) throw new IllegalArgumentException(file + ":" + (i + 1) + ": no key '" + textColumn + "'");
            JsonNode p = pairColumn == null ? null : o.get(pairColumn);
            if (pairColumn != null && (p == null || p.isNull())) throw new IllegalArgumentException(file + ":" + (i + 1) + ": no key '" + pairColumn + "'");
            JsonNode l = o.get(labelColumn);
            out.add(new LabeledExample(t.asText(), p == null ? null : p.asText(), l == null || l.isNull() ? null : l.asText(), i + 1));
        }
        return out;
    }

    private List<LabeledExample> table(Path file, String text, char sep) {
        List<List<String>> records = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        List<String> rec = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        int line = 1, recStart = 1;
        boolean quoted = false, any = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') line++;
                    field.append(c);
                }
            } else if (c == '"' && field.isEmpty() && sep == ',') {
                quoted = true;
                any = true;
            } else if (c == sep) {
                rec.add(field.toString());
                field.setLength(0);
                any = true;
            } else if (c == '\n' || c == '\r') {
                if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') i++;
                if (any || !field.isEmpty()) {
                    rec.add(field.toString());
                    records.add(rec);
                    starts.add(recStart);
                }
                rec = new ArrayList<>();
                field.setLength(0);
                any = false;
                line++;
                recStart = line;
            } else {
                field.append(c);
                any = true;
            }
        }
        if (quoted) throw new IllegalArgumentException(file + ":" + recStart + ": unterminated quoted field");
        if (any || !field.isEmpty()) {
            rec.add(field.toString());
            records.add(rec);
            starts.add(recStart);
        }
        if (records.isEmpty()) throw new IllegalArgumentException(file + ": empty file (no header row)");
        List<String> header = records.get(0);
        Map<String, Integer> col = new HashMap<>();
        for (int i = 0; i < header.size(); i++) col.put(header.get(i).trim(), i);
        int ti = column(file, col, textColumn, header), pi = pairColumn == null ? -1 : column(file, col, pairColumn, header);
        Integer li = col.get(labelColumn);
        List<LabeledExample> out = new ArrayList<>();
        for (int r = 1; r < records.size(); r++) {
            List<String> f = records.get(r);
            if (f.size() != header.size()) {
                throw new IllegalArgumentException(file + ":" + starts.get(r) + ": " + f.size() + " fields, the header has " + header.size());
            }
            out.add(new LabeledExample(f.get(ti), pi < 0 ? null : f.get(pi), li == null ? null : f.get(li), starts.get(r)));
        }
        return out;
    }

    private static int column(Path file, Map<String, Integer> col, String name, List<String> header) {
        Integer i = col.get(name);
        if (i == null) throw new IllegalArgumentException(file + ":1: no column '" + name + "' (columns: " + header + ")");
        return i;
    }

    /** Label names sorted (numerically when every label is an integer). */
    static List<String> labelNames(List<LabeledExample> rows, Path file) {
        TreeSet<String> names = new TreeSet<>();
        for (LabeledExample r : rows) {
            if (r.label() == null || r.label().isEmpty()) throw new IllegalArgumentException(file + ":" + r.line() + ": no label");
            names.add(r.label());
        }
        boolean ints = names.stream().allMatch(s -> s.matches("-?\\d{1,9}"));
        List<String> out = new ArrayList<>(names);
        if (ints) out.sort((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)));
        return out;
    }
}
