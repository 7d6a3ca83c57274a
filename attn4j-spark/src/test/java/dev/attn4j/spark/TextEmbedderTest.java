package dev.attn4j.spark;

import com.fasterxml.jackson.databind.JsonNode;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * TextEmbedder in local[2] against `attn4j embed` run in process on the same texts with the same
 * (built-in) model: equal embeddings (cos >= 0.99999) however the rows are partitioned.
 */
class TextEmbedderTest {
    static SparkSession spark;
    static List<String> texts;
    /** `attn4j embed` of each text, by text. */
    static Map<String, float[]> expected;

    @BeforeAll
    static void embedWithTheCli(@TempDir Path tmp) throws Exception {
        spark = LocalSpark.session();
        texts = Texts.sentences(60, 17);
        Cli.Run r = Cli.attn4j("embed", "--file", Texts.lines(tmp, texts).toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<JsonNode> lines = r.lines();
        assertThat(lines).hasSize(texts.size());
        expected = new HashMap<>();
        for (JsonNode l : lines) {
            float[] e = new float[l.get("embedding").size()];
            for (int i = 0; i < e.length; i++) e[i] = (float) l.get("embedding").get(i).asDouble();
            expected.put(l.get("text").asText(), e);
        }
    }

    /** Embeddings by id from a transformed table's (id, embedding) rows, null for null. */
    static Map<Long, float[]> byId(Dataset<Row> out, String column) {
        Map<Long, float[]> m = new HashMap<>();
        for (Row r : out.select("id", column).collectAsList()) {
            Object v = r.get(1);
            m.put(r.getLong(0), v == null ? null : v instanceof Vector vec ? toFloats(vec) : Texts.floats(r.getList(1)));
        }
        return m;
    }

    static float[] toFloats(Vector v) {
        double[] d = v.toArray();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    @Test
    void embeddingsEqualTheEmbedCommandInAnyPartitioning() {
        for (int partitions : new int[] {1, 3, 7}) {
            Dataset<Row> in = Texts.table(spark, texts, 5, 6).repartition(partitions);
            Dataset<Row> out = new TextEmbedder().setBatchSize(partitions == 3 ? 5 : 32).transform(in);
            assertThat(out.rdd().getNumPartitions()).isEqualTo(partitions);
            assertThat(out.schema().apply("embedding").dataType()).isEqualTo(DataTypes.createArrayType(DataTypes.FloatType, false));
            Map<Long, float[]> got = byId(out, "embedding");
            assertThat(got).hasSize(texts.size());
            for (int i = 0; i < texts.size(); i++) {
                if (i == 5 || i == 6) {
                    assertThat(got.get((long) i)).as("null text %d", i).isNull();
                    continue;
                }
                float[] want = expected.get(texts.get(i));
                assertThat(got.get((long) i)).as("row %d", i).hasSize(384);
                assertThat(Texts.cosine(got.get((long) i), want)).as("row %d '%s', %d partitions", i, texts.get(i), partitions)
                        .isGreaterThanOrEqualTo(0.99999);
            }
        }
    }

    @Test
    void emptyTextGivesTheEmbeddingOfTheEmptyStringAndNullGivesNull() {
        Dataset<Row> in = Texts.table(spark, List.of("", "x", ""), 1);
        Map<Long, float[]> got = byId(new TextEmbedder().transform(in), "embedding");
        assertThat(got.get(1L)).isNull();
        assertThat(Texts.cosine(got.get(0L), expected.get(""))).isGreaterThanOrEqualTo(0.99999);
        assertThat(got.get(2L)).containsExactly(got.get(0L));
        // an all-null partition still runs
        assertThat(byId(new TextEmbedder().transform(Texts.table(spark, List.of("a", "b"), 0, 1)), "embedding").values()).containsOnlyNulls();
    }

    @Test
    void vectorOutputCarriesTheSameValuesAndItsSize() {
        Dataset<Row> in = Texts.table(spark, texts.subList(0, 12), 3);
        Dataset<Row> out = new TextEmbedder().setOutputType("vector").setOutputCol("v").transform(in);
        assertThat(AttributeGroup.fromStructField(out.schema().apply("v")).size()).isEqualTo(384);
        Map<Long, float[]> got = byId(out, "v");
        assertThat(got.get(3L)).isNull();
        for (long i : new long[] {0, 1, 7, 11}) {
            assertThat(Texts.cosine(got.get(i), expected.get(texts.get((int) i)))).isGreaterThanOrEqualTo(0.99999);
        }
    }

    @Test
    void maxLengthTruncatesAsTheModelWould() {
        // Single-piece words: truncated to 8 tokens, "[CLS] w1..w6 [SEP]" is the embedding of the first six words.
        String longText = "the search index of news market cluster spark model token batch";
        String first6 = "the search index of news market";
        Dataset<Row> in = Texts.table(spark, List.of(longText, first6));
        Map<Long, float[]> got = byId(new TextEmbedder().setMaxLength(8).transform(in), "embedding");
        assertThat(Texts.cosine(got.get(0L), got.get(1L))).isGreaterThanOrEqualTo(0.99999);
        Map<Long, float[]> whole = byId(new TextEmbedder().transform(in), "embedding");
        assertThat(Texts.cosine(whole.get(0L), whole.get(1L))).isLessThan(0.99);
        assertThatThrownBy(() -> new TextEmbedder().setMaxLength(1000).transform(in))
                .hasMessageContaining("max length must be 1 to 512");
    }

    @Test
    void moreKernelThreadsPerTaskGiveTheSameEmbeddings() {
        Dataset<Row> in = Texts.table(spark, texts).repartition(2);
        Map<Long, float[]> got = byId(new TextEmbedder().setThreadsPerTask(2).transform(in), "embedding");
        for (int i = 0; i < texts.size(); i++) {
            assertThat(Texts.cosine(got.get((long) i), expected.get(texts.get(i)))).isGreaterThanOrEqualTo(0.99999);
        }
    }

    @Test
    void aMissingModelFailsOnTheDriverBeforeAnyTask(@TempDir Path tmp) {
        Dataset<Row> in = Texts.table(spark, texts);
        String missing = tmp.resolve("no-such-model").toString();
        // transform() is lazy: throwing from it means the driver checked, with no job run
        assertThatThrownBy(() -> new TextEmbedder().setModel(missing).transform(in))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("TextEmbedder model " + missing + ": no such directory");
    }

    @Test
    void badColumnsAreNamed() {
        Dataset<Row> in = Texts.table(spark, texts);
        assertThatThrownBy(() -> new TextEmbedder().setInputCol("body").transform(in))
                .hasMessageContaining("input column 'body' not found; columns: id, text");
        assertThatThrownBy(() -> new TextEmbedder().setInputCol("id").transform(in))
                .hasMessageContaining("input column 'id' must be a string, it is bigint");
        assertThatThrownBy(() -> new TextEmbedder().setOutputCol("text").transform(in))
                .hasMessageContaining("output column 'text' already exists");
        StructType s = new TextEmbedder().setOutputType("vector").transformSchema(in.schema());
        assertThat(s.fieldNames()).containsExactly("id", "text", "embedding");
        assertThatThrownBy(() -> new TextEmbedder().setOutputType("list")).hasMessageContaining("outputType");
    }

    @Test
    void aPipelineWithTheStagesSavesAndLoads(@TempDir Path tmp) throws Exception {
        Dataset<Row> in = Texts.table(spark, texts.subList(0, 20), 2);
        TextEmbedder embedder = new TextEmbedder().setOutputType("vector").setOutputCol("vec").setBatchSize(7).setThreadsPerTask(1);
        TokenCounter counter = new TokenCounter().setOutputCol("n");
        PipelineModel fitted = new Pipeline().setStages(new PipelineStage[] {counter, embedder}).fit(in);
        Path dir = tmp.resolve("pipeline");
        fitted.write().save(dir.toString());
        PipelineModel loaded = PipelineModel.load(dir.toString());

        assertThat(loaded.stages()).hasSize(2);
        TextEmbedder e = (TextEmbedder) loaded.stages()[1];
        assertThat(e.uid()).isEqualTo(embedder.uid());
        assertThat(e.getOutputType()).isEqualTo("vector");
        assertThat(e.getOutputCol()).isEqualTo("vec");
        assertThat(e.getBatchSize()).isEqualTo(7);
        assertThat(e.getModel()).isNull();
        assertThat(((TokenCounter) loaded.stages()[0]).getOutputCol()).isEqualTo("n");

        List<Row> a = fitted.transform(in).orderBy("id").collectAsList(), b = loaded.transform(in).orderBy("id").collectAsList();
        assertThat(b).isEqualTo(a);
        assertThat(b.get(2).isNullAt(3)).isTrue();
        assertThat(b.get(1).getInt(2)).isGreaterThan(2);

        // a stage on its own
        Path one = tmp.resolve("embedder");
        new TextEmbedder().setModel("/some/model").setMaxLength(64).write().save(one.toString());
        TextEmbedder back = TextEmbedder.load(one.toString());
        assertThat(back.getModel()).isEqualTo("/some/model");
        assertThat(back.getMaxLength()).isEqualTo(64);
        assertThat(back.getOutputType()).isEqualTo("array");
    }
}
