package dev.attn4j.models.sentence;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.QuantType;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * all-MiniLM-L6-v2 with its linear weights quantized on load: the embeddings' cosine with the F32
 * model's. Measured on these 96 texts (short sentences to 256-token paragraphs): q8_0 mean 0.99976,
 * min 0.99939; q4_0 mean 0.945, min 0.866 (a 384-wide model loses much at 4 bits). The bounds keep a margin.
 */
class QuantizedSentenceTransformerTest {
    static List<String> texts() {
        SplittableRandom rng = new SplittableRandom(20261206);
        List<String> out = new ArrayList<>(List.of("A man is eating food.", "A man is riding a horse.",
                "The new movie is awesome.", "Quantized weights keep about a quarter of the memory.",
                "How do I bake sourdough bread at home?", "Die Katze schläft auf dem Sofa.", "東京は日本の首都です。"));
        out.addAll(Texts.varied(rng, 89, 6, 300));
        return out;
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

    /** {mean, min} cosine of {@code type}'s embeddings against F32's. */
    static double[] cosines(Path dir, QuantType type, List<String> texts, List<float[]> f32) throws Exception {
        try (SentenceTransformer q = SentenceTransformer.load(dir, type)) {
            assertThat(q.model().namedParameters().get("encoder.layer.0.attention.self.query.weight").dtype())
                    .isEqualTo(DType.QUANTIZED);
            List<float[]> e = q.encode(texts, 16, SentenceTransformer.Progress.NONE);
            double sum = 0, min = 1;
            for (int i = 0; i < texts.size(); i++) {
                double c = cosine(f32.get(i), e.get(i));
                sum += c;
                min = Math.min(min, c);
            }
            return new double[] {sum / texts.size(), min};
        }
    }

    @Test
    void q8_0EmbeddingsAreCloseToF32() throws Exception {
        Path dir = dev.attn4j.testing.MiniLm.any();
        assumeTrue(Files.isDirectory(dir), "all-MiniLM-L6-v2 not present: " + dir);
        List<String> texts = texts();
        List<float[]> f32;
        try (SentenceTransformer f = SentenceTransformer.load(dir)) {
            f32 = f.encode(texts, 16, SentenceTransformer.Progress.NONE);
        }
        double[] q8 = cosines(dir, QuantType.Q8_0, texts, f32);
        double[] q4 = cosines(dir, QuantType.Q4_0, texts, f32);
        System.out.printf("all-MiniLM-L6-v2 cosine vs f32 over %d texts: q8_0 mean %.6f min %.6f; q4_0 mean %.6f min %.6f%n",
                texts.size(), q8[0], q8[1], q4[0], q4[1]);
        assertThat(q8[0]).as("q8_0 mean cosine").isGreaterThan(0.9995);
        assertThat(q8[1]).as("q8_0 min cosine").isGreaterThan(0.998);
        assertThat(q4[0]).as("q4_0 mean cosine").isGreaterThan(0.92);
        assertThat(q4[1]).as("q4_0 min cosine").isGreaterThan(0.8);
        assertThat(q4[0]).as("q4_0 is further from f32 than q8_0").isLessThan(q8[0]);
    }
}
