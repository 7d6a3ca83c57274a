package dev.attn4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** TextClassifier in local[2] against `attn4j classify` run in process on the same texts and model. */
class TextClassifierTest {
    @TempDir
    static Path tmp;
    static SparkSession spark;
    static Path model;
    static List<String> texts;

    @BeforeAll
    static void setUp() throws Exception {
        spark = LocalSpark.session();
        model = TinyClassifier.write(tmp);
        String[] words = {"good", "bad", "film", "plot", "w9", "w17", "w23", "w31", "unknownword"};
        SplittableRandom rng = new SplittableRandom(3);
        texts = new ArrayList<>(List.of(""));
        while (texts.size() < 40) {
            StringBuilder s = new StringBuilder();
            for (int w = 0, n = 1 + rng.nextInt(30); w < n; w++) s.append(w == 0 ? "" : " ").append(words[rng.nextInt(words.length)]);
            texts.add(s.toString());
        }
    }

    @Test
    void labelsAndProbabilitiesEqualTheClassifyCommand() throws Exception {
        List<String> args = new ArrayList<>(List.of("classify", "--model", model.toString()));
        args.addAll(texts);
        Cli.Run r = Cli.attn4j(args.toArray(String[]::new));
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> want = r.lines();
        assertThat(want).hasSize(texts.size());

        Dataset<Row> in = Texts.table(spark, texts, 4).repartition(3);
        Dataset<Row> out = new TextClassifier().setModel(model.toString()).setScoresCol("scores").setBatchSize(4).transform(in);
        assertThat(out.schema().fieldNames()).containsExactly("id", "text", "label", "probability", "scores");
        List<Row> rows = out.orderBy("id").collectAsList();
        for (int i = 0; i < texts.size(); i++) {
            Row row = rows.get(i);
            if (i == 4) {
                assertThat(row.isNullAt(2) && row.isNullAt(3) && row.isNullAt(4)).isTrue();
                continue;
            }
            JsonNode w = want.get(i);
            assertThat(row.getString(2)).as("row %d '%s'", i, texts.get(i)).isEqualTo(w.get("label").asText());
            assertThat(row.getFloat(3)).isCloseTo((float) w.get("score").asDouble(), within(1e-6f));
            Map<String, Float> scores = row.getJavaMap(4);
            assertThat(scores).containsOnlyKeys("neg", "neu", "pos");
            for (String k : List.of("neg", "neu", "pos")) {
                assertThat(scores.get(k)).isCloseTo((float) w.get("scores").get(k).asDouble(), within(1e-6f));
            }
        }
        assertThat(rows.stream().filter(x -> !x.isNullAt(2)).map(x -> x.getString(2)).distinct().count())
                .as("a random head still predicts more than one label here").isGreaterThan(1);
    }

    @Test
    void maxLengthIsCheckedAgainstThePositions() {
        Dataset<Row> in = Texts.table(spark, texts);
        assertThatThrownBy(() -> new TextClassifier().setModel(model.toString()).setMaxLength(41).transform(in))
                .hasMessageContaining("maxLength 41 exceeds the model's 40 positions");
        List<Row> rows = new TextClassifier().setModel(model.toString()).setMaxLength(5).transform(in).collectAsList();
        assertThat(rows).hasSize(texts.size());
    }

    @Test
    void aModelShippedWithAddFileIsFoundByItsName(@TempDir Path dir) throws Exception {
        Path shipped = java.nio.file.Files.move(TinyClassifier.write(dir), dir.resolve("shipped-classifier"));
        spark.sparkContext().addFile(shipped.toString(), true);
        java.nio.file.Files.walk(shipped).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        Dataset<Row> in = Texts.table(spark, texts.subList(0, 8));
        List<Row> byName = new TextClassifier().setModel("shipped-classifier").transform(in).orderBy("id").collectAsList();
        List<Row> byPath = new TextClassifier().setModel(model.toString()).transform(in).orderBy("id").collectAsList();
        assertThat(byName).isEqualTo(byPath);
    }

    @Test
    void theModelIsRequiredAndChecked(@TempDir Path dir) {
        Dataset<Row> in = Texts.table(spark, texts);
        assertThatThrownBy(() -> new TextClassifier().transform(in)).hasMessageContaining("set model to a *ForSequenceClassification");
        assertThatThrownBy(() -> new TextClassifier().setModel(dir.toString()).transform(in))
                .hasMessageContaining(dir.toString()).hasMessageContaining("tokenizer.json");
    }
}
