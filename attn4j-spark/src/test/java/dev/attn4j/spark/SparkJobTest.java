package dev.attn4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code attn4j spark embed|classify} run in process on the tests' local[2] session (the job uses
 * the session it finds): formats in and out, the id column's type, partitions and part files,
 * the summary line, overwrite, and one-line errors.
 */
class SparkJobTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static List<String> texts;
    static Path jsonl;
    /** The embeddings TextEmbedder gives each id of {@link #jsonl}. */
    static Map<Long, float[]> expected;

    @BeforeAll
    static void setUp() throws Exception {
        spark = LocalSpark.session();
        texts = Texts.sentences(25, 99);
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            s.append("{\"id\":").append(i).append(",\"text\":").append(Cli.JSON.writeValueAsString(texts.get(i)))
                    .append(",\"lang\":\"en\"}\n");
        }
        s.append("{\"id\":").append(texts.size()).append(",\"text\":null}\n");
        jsonl = tmp.resolve("in.jsonl");
        Files.writeString(jsonl, s);
        expected = TextEmbedderTest.byId(new TextEmbedder().transform(Texts.table(spark, texts)), "embedding");
    }

    static JsonNode summary(Cli.Run r) throws Exception {
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> lines = r.lines();
        assertThat(lines).hasSize(1);
        JsonNode j = lines.getFirst();
        assertThat(j.has("rows") && j.has("seconds") && j.has("rowsPerSecond") && j.has("partitions")).as(j.toString()).isTrue();
        return j;
    }

    static long partFiles(Path dir, String ext) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("part-") && p.getFileName().toString().endsWith(ext)).count();
        }
    }

    @Test
    void jsonLinesToParquetKeepsTheIdTypeAndMakesOnePartFilePerPartition() throws Exception {
        Path out = tmp.resolve("out.parquet");
        JsonNode j = summary(Cli.spark("embed", "--input", jsonl.toString(), "--output", out.toString(), "--partitions", "3"));
        assertThat(j.get("rows").asLong()).isEqualTo(texts.size() + 1);
        assertThat(j.get("partitions").asInt()).isEqualTo(3);
        assertThat(partFiles(out, ".parquet")).isEqualTo(3);
        assertThat(Files.exists(out.resolve("_SUCCESS"))).isTrue();
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-"))).isEmpty();
        }
        Dataset<Row> back = spark.read().parquet(out.toString());
        assertThat(back.schema().fieldNames()).containsExactly("id", "text", "embedding");
        assertThat(back.schema().apply("id").dataType()).isEqualTo(DataTypes.LongType);     // JSON's integers
        assertThat(back.schema().apply("embedding").dataType()).isEqualTo(DataTypes.createArrayType(DataTypes.FloatType, true));
        Map<Long, float[]> got = TextEmbedderTest.byId(back, "embedding");
        assertThat(got).hasSize(texts.size() + 1);
        assertThat(got.get((long) texts.size())).isNull();
        for (int i = 0; i < texts.size(); i++) assertThat(got.get((long) i)).containsExactly(expected.get((long) i));
    }

    @Test
    void csvInAndOutWithTheEmbeddingAsAJsonArray() throws Exception {
        Path csv = tmp.resolve("in.csv");
        StringBuilder s = new StringBuilder("doc,body\nd0,\n");                          // CSV has no null: an empty field is read as one
        for (int i = 1; i < 6; i++) s.append("d").append(i).append(",\"").append(texts.get(i).replace("\"", "\"\"")).append("\"\n");
        s.append("d6,\"two\nlines, with \"\"quotes\"\"\"\n");
        Files.writeString(csv, s);
        Path out = tmp.resolve("csv-out");
        JsonNode j = summary(Cli.spark("embed", "--input", csv.toString(), "--output", out.toString(), "--format", "csv",
                "--text-column", "body", "--id-column", "doc", "--output-column", "vec", "--partitions", "2"));
        assertThat(j.get("rows").asLong()).isEqualTo(7);
        assertThat(partFiles(out, ".csv")).isEqualTo(2);
        Dataset<Row> back = spark.read().option("header", true).option("multiLine", true).option("escape", "\"").csv(out.toString());
        assertThat(back.schema().fieldNames()).containsExactly("doc", "body", "vec");
        Map<String, Row> byDoc = new HashMap<>();
        for (Row r : back.collectAsList()) byDoc.put(r.getString(0), r);
        assertThat(byDoc.get("d6").getString(1)).isEqualTo("two\nlines, with \"quotes\"");
        assertThat(byDoc.get("d0").isNullAt(1) && byDoc.get("d0").isNullAt(2)).isTrue();
        for (int i = 1; i < 6; i++) {
            Row r = byDoc.get("d" + i);
            assertThat(r.getString(1)).isEqualTo(texts.get(i));
            JsonNode v = Cli.JSON.readTree(r.getString(2));
            float[] f = new float[v.size()];
            for (int k = 0; k < f.length; k++) f[k] = (float) v.get(k).asDouble();
            assertThat(f).containsExactly(expected.get((long) i));
        }
    }

    @Test
    void parquetInJsonOutAndClassify() throws Exception {
        Path parquet = tmp.resolve("texts-parquet");                                    // a directory of part files, no extension
        Texts.table(spark, texts, 2).withColumn("id", org.apache.spark.sql.functions.col("id").cast("int"))
                .write().parquet(parquet.toString());
        Path model = TinyClassifier.write(tmp.resolve("clf"));
        Path out = tmp.resolve("labels.json");
        JsonNode j = summary(Cli.spark("classify", "--input", parquet.toString(), "--output", out.toString(), "--format", "json",
                "--model", model.toString()));
        assertThat(j.get("rows").asLong()).isEqualTo(texts.size());
        assertThat(j.get("partitions").asInt()).as("raised to local[2]'s parallelism").isGreaterThanOrEqualTo(2);
        Dataset<Row> back = spark.read().json(out.toString());
        List<Row> rows = back.select("id", "text", "label", "probability").orderBy("id").collectAsList();
        Map<Long, Row> want = new HashMap<>();
        for (Row r : new TextClassifier().setModel(model.toString()).transform(Texts.table(spark, texts, 2)).collectAsList()) {
            want.put(r.getLong(0), r);
        }
        assertThat(rows).hasSize(texts.size());
        for (Row r : rows) {
            Row w = want.get(r.getLong(0));
            if (w.isNullAt(1)) {
                assertThat(r.isNullAt(2)).isTrue();
                continue;
            }
            assertThat(r.getString(2)).isEqualTo(w.getString(2));
            assertThat((float) r.getDouble(3)).isEqualTo(w.getFloat(3));
        }
    }

    @Test
    void anExistingOutputIsAnErrorUnlessOverwrite() throws Exception {
        Path out = tmp.resolve("twice");
        summary(Cli.spark("embed", "--input", jsonl.toString(), "--output", out.toString(), "--format", "json"));
        Cli.Run again = Cli.spark("embed", "--input", jsonl.toString(), "--output", out.toString(), "--format", "json");
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err().strip()).isEqualTo("attn4j: --output " + out + " exists; give --overwrite to replace it");
        JsonNode j = summary(Cli.spark("embed", "--input", jsonl.toString(), "--output", out.toString(), "--format", "json",
                "--overwrite", "--partitions", "1"));
        assertThat(j.get("partitions").asInt()).isEqualTo(1);
        assertThat(partFiles(out, ".json")).isEqualTo(1);
        try (Stream<Path> s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".old-") || n.contains(".tmp-"))).isEmpty();
        }
    }

    @Test
    void badInputIsOneLine() throws Exception {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"--input", tmp.resolve("nope.jsonl").toString(), "--output", tmp.resolve("o1").toString()});
        cases.add(new String[] {"--input", jsonl.toString(), "--output", tmp.resolve("o2").toString(), "--text-column", "body"});
        cases.add(new String[] {"--input", jsonl.toString(), "--output", tmp.resolve("o3").toString(), "--id-column", "key"});
        cases.add(new String[] {"--input", jsonl.toString(), "--output", tmp.resolve("o4").toString(), "--format", "xml"});
        cases.add(new String[] {"--input", jsonl.toString(), "--output", tmp.resolve("o5").toString(), "--model", tmp.resolve("m").toString()});
        cases.add(new String[] {"--input", jsonl.toString(), "--output", jsonl.toString(), "--overwrite"});
        Path txt = tmp.resolve("in.txt");
        Files.writeString(txt, "hello\n");
        cases.add(new String[] {"--input", txt.toString(), "--output", tmp.resolve("o6").toString()});
        List<String> want = List.of("no such file or directory", "has no column 'body' (columns: id, lang, text); give --text-column",
                "has no column 'key'", "--format must be parquet, json or csv, got 'xml'", "TextEmbedder model " + tmp.resolve("m")
                        + ": no such directory", "--output is the same path as --input", "cannot tell its format from the name");
        for (int i = 0; i < cases.size(); i++) {
            List<String> args = new ArrayList<>(List.of("embed"));
            args.addAll(List.of(cases.get(i)));
            Cli.Run r = Cli.spark(args.toArray(String[]::new));
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err().strip()).as(String.join(" ", args)).startsWith("attn4j: ").contains(want.get(i)).doesNotContain("\n");
            assertThat(r.out()).isEmpty();
        }
    }
}
