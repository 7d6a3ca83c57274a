package dev.attn4j.spark;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Test texts of mixed lengths (1 to about 60 words, some non-ASCII), and tables of them with long ids. */
final class Texts {
    private Texts() {
    }

    private static final String[] WORDS = ("the a of to in and is was for on that with as by it at from this be are "
            + "search index sentiment feed news market cluster spark embedding model token batch partition executor "
            + "café naïve résumé Zürich 東京 données évaluation über straße").split(" ");

    /** {@code n} texts: the empty text first, then random sentences of 1 to 60 words. */
    static List<String> sentences(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        List<String> out = new ArrayList<>();
        out.add("");
        while (out.size() < n) {
            int words = 1 + (rng.nextInt(4) == 0 ? rng.nextInt(60) : rng.nextInt(12));
            StringBuilder s = new StringBuilder();
            for (int w = 0; w < words; w++) s.append(w == 0 ? "" : " ").append(WORDS[rng.nextInt(WORDS.length)]);
            if (rng.nextInt(3) == 0) s.append('.');
            out.add(s.toString());
        }
        return out;
    }

    static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType);

    /** Rows (id = index, text); the texts at {@code nullIds} replaced by null. */
    static Dataset<Row> table(SparkSession spark, List<String> texts, long... nullIds) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            boolean isNull = false;
            for (long k : nullIds) isNull |= k == i;
            rows.add(RowFactory.create((long) i, isNull ? null : texts.get(i)));
        }
        return spark.createDataFrame(rows, SCHEMA);
    }

    /** The texts one per line (for `attn4j embed --file`). */
    static Path lines(Path dir, List<String> texts) throws IOException {
        Path f = dir.resolve("texts.txt");
        Files.writeString(f, String.join("\n", texts) + "\n");
        return f;
    }

    static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    static float[] floats(List<?> values) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) f[i] = ((Number) values.get(i)).floatValue();
        return f;
    }
}
