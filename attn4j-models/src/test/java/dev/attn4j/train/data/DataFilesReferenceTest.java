package dev.attn4j.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fixture files of scripts/gen-data-reference.py against the rows Python's own readers
 * (csv.DictReader, json.loads) give for them: quoting, doubled quotes, line breaks inside fields,
 * CRLF, BOM, blank lines, empty texts, U+0085 and U+2028 inside texts, no final newline.
 */
class DataFilesReferenceTest {
    @ParameterizedTest
    @ValueSource(strings = {"tricky.csv", "tricky.tsv", "tricky.jsonl"})
    void matchesPython(String name) throws Exception {
        Path file = resource("/data/" + name);
        JsonNode expected = new JsonMapper().readTree(resource("/data/" + name + ".expected.json").toFile());
        List<LabeledExample> rows = DataFiles.read(file, DataOptions.forFile(file).withTextPairColumn("pair"));
        assertThat(rows).hasSize(expected.size());
        for (int i = 0; i < rows.size(); i++) {
            JsonNode e = expected.get(i);
            LabeledExample r = rows.get(i);
            assertThat(r.text()).as("row %d text", i).isEqualTo(e.get("text").textValue());
            assertThat(r.textPair()).as("row %d pair", i).isEqualTo(e.get("pair").textValue());
            assertThat(r.label()).as("row %d label", i).isEqualTo(e.get("label").textValue());
        }
        // rows are numbered by the line they start on: strictly increasing, the first after the header
        assertThat(rows.getFirst().line()).isEqualTo(name.endsWith(".jsonl") ? 1 : 2);
        for (int i = 1; i < rows.size(); i++) assertThat(rows.get(i).line()).isGreaterThan(rows.get(i - 1).line());
        if (!name.endsWith(".jsonl")) {
            // header 1, rows 2, 3, 4-5 (CRLF inside), 6-7 (LF inside), blank 8, then 9, 10, 11, 12, 13
            assertThat(rows.stream().mapToLong(LabeledExample::line).toArray()).containsExactly(2, 3, 4, 6, 9, 10, 11, 12, 13);
        }
    }

    private static Path resource(String name) throws URISyntaxException {
        var url = DataFilesReferenceTest.class.getResource(name);
        assertThat(url).as(name).isNotNull();
        return Path.of(url.toURI());
    }
}
