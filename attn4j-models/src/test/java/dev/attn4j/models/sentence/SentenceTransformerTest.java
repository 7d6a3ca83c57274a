package dev.attn4j.models.sentence;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.models.bert.TinyEncodersAccess;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tokenizers.Encoding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The sentence-transformers pipeline: pooling modes, Normalize, truncation, batching, module errors. */
class SentenceTransformerTest {
    @TempDir
    Path tmp;

    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    private static final String[] WORDS = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
            "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "one",
            "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"};

    /** A tiny BERT with a WordPiece tokenizer over WORDS and the given sentence-transformers files. */
    private Path tinyModel(String name, String poolingJson, boolean normalize, Integer maxSeqLength) throws Exception {
        return tinyModel("bert", name, poolingJson, normalize, maxSeqLength);
    }

    private Path tinyModel(String type, String name, String poolingJson, boolean normalize, Integer maxSeqLength) throws Exception {
        BertConfig c = TinyEncodersAccess.config(type);
        Path dir = TinyEncodersAccess.write(tmp.resolve(name), c, TinyEncodersAccess.weights(c, true, rng));
        JsonMapper json = JsonMapper.builder().build();
        ObjectNode tok = json.createObjectNode();
        tok.put("version", "1.0");
        tok.putArray("added_tokens");
        tok.putObject("normalizer").put("type", "BertNormalizer").put("clean_text", true).put("handle_chinese_chars", true)
                .putNull("strip_accents").put("lowercase", true);
        tok.putObject("pre_tokenizer").put("type", "BertPreTokenizer");
        ObjectNode post = tok.putObject("post_processor").put("type", "BertProcessing");
        post.putArray("sep").add("[SEP]").add(3);
        post.putArray("cls").add("[CLS]").add(2);
        ObjectNode model = tok.putObject("model").put("type", "WordPiece").put("unk_token", "[UNK]")
                .put("continuing_subword_prefix", "##").put("max_input_chars_per_word", 100);
        ObjectNode vocab = model.putObject("vocab");
        vocab.put("[PAD]", 0).put("[UNK]", 1).put("[CLS]", 2).put("[SEP]", 3);
        for (int i = 0; i < WORDS.length; i++) vocab.put(WORDS[i], 4 + i);
        Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(tok));
        if (poolingJson != null) {
            Files.writeString(dir.resolve("modules.json"), "[{\"idx\":0,\"name\":\"0\",\"path\":\"\",\"type\":\"sentence_transformers.models.Transformer\"},"
                    + "{\"idx\":1,\"name\":\"1\",\"path\":\"1_Pooling\",\"type\":\"sentence_transformers.models.Pooling\"}"
                    + (normalize ? ",{\"idx\":2,\"name\":\"2\",\"path\":\"2_Normalize\",\"type\":\"sentence_transformers.models.Normalize\"}" : "")
                    + "]");
            Files.createDirectories(dir.resolve("1_Pooling"));
            Files.writeString(dir.resolve("1_Pooling/config.json"), poolingJson);
        }
        if (maxSeqLength != null) {
            Files.writeString(dir.resolve("sentence_bert_config.json"), "{\"max_seq_length\": " + maxSeqLength + ", \"do_lower_case\": false}");
        }
        return dir;
    }

    private String text(int words) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) sb.append(i == 0 ? "" : " ").append(WORDS[rng.nextInt(WORDS.length)]);
        return sb.toString();
    }

    @Test
    void poolingModesMatchANaiveComputation() throws Exception {
        String cfg = "{\"word_embedding_dimension\": 15, \"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true,"
                + " \"pooling_mode_max_tokens\": true, \"pooling_mode_mean_sqrt_len_tokens\": true}";
        Path dir = tinyModel("pool", cfg, false, 20);
        try (SentenceTransformer st = SentenceTransformer.load(dir)) {
            assertThat(st.pooling().modes()).containsExactly(Pooling.Mode.CLS, Pooling.Mode.MAX, Pooling.Mode.MEAN,
                    Pooling.Mode.MEAN_SQRT_LEN_TOKENS);
            assertThat(st.dimension()).isEqualTo(60);
            assertThat(st.normalizes()).isFalse();
            assertThat(st.maxSeqLength()).isEqualTo(20);
            List<String> texts = List.of(text(3), text(30), "", text(1), text(9), text(12), text(2));
            List<float[]> emb = st.encode(texts, 3, SentenceTransformer.Progress.NONE);
            for (int i = 0; i < texts.size(); i++) {
                Encoding e = st.tokenize(texts.get(i));
                assertThat(e.length()).isLessThanOrEqualTo(20);
                float[][] h = hiddenAlone(st, e);                                    // [T][15]
                int t = h.length;
                for (int j = 0; j < 15; j++) {
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (float[] row : h) {
                        max = Math.max(max, row[j]);
                        sum += row[j];
                    }
                    double[] expected = {h[0][j], max, sum / t, sum / Math.sqrt(t)};
                    for (int m = 0; m < 4; m++) {
                        assertThat((double) emb.get(i)[m * 15 + j]).as("text %d mode %d dim %d seed %d", i, m, j, seed)
                                .isCloseTo(expected[m], org.assertj.core.data.Offset.offset(2e-5));
                    }
                }
            }
        }
    }

    private static float[][] hiddenAlone(SentenceTransformer st, Encoding e) {
        NDArray h;
        try (var g = GradMode.noGrad()) {
            h = st.model().forward(new EncoderInput(new int[][] {e.ids()}, null, new int[][] {e.typeIds()})).lastHiddenState().data();
        }
        float[][] rows = new float[e.length()][h.dim(2)];
        for (int t = 0; t < rows.length; t++) for (int j = 0; j < rows[t].length; j++) rows[t][j] = h.getFloat(0, t, j);
        return rows;
    }

    @Test
    void aLowerMaxSeqLengthTruncatesAndCountTokensDoesNot() throws Exception {
        Path dir = tinyModel("len", "{\"word_embedding_dimension\": 15, \"pooling_mode_mean_tokens\": true}", false, 20);
        SentenceTokenizer tok = SentenceTokenizer.load(dir);
        int positions = tok.config().maxInputLength();
        assertThat(positions).isEqualTo(tok.config().maxPositionEmbeddings());              // BERT: no offset
        String long30 = text(30);
        assertThat(tok.encode(long30).length()).isEqualTo(20);
        assertThat(tok.countTokens(long30)).isEqualTo(32);                                   // 30 words + [CLS] [SEP]
        assertThat(tok.countTokens("")).isEqualTo(2);
        SentenceTokenizer five = tok.withMaxSeqLength(5);
        assertThat(five.maxSeqLength()).isEqualTo(5);
        Encoding e = five.encode(long30);
        assertThat(e.ids()).hasSize(5);
        assertThat(java.util.Arrays.copyOf(e.ids(), 4)).containsExactly(java.util.Arrays.copyOf(tok.encode(long30).ids(), 4));
        assertThat(e.ids()[4]).as("[SEP] kept").isEqualTo(3);
        assertThat(tok.withMaxSeqLength(positions).encode(text(positions + 5)).length()).isEqualTo(positions);
        assertThatThrownBy(() -> tok.withMaxSeqLength(positions + 1)).hasMessageContaining("max length must be 1 to " + positions);
        assertThatThrownBy(() -> tok.withMaxSeqLength(0)).hasMessageContaining("max length must be 1 to");
        BertConfig roberta = TinyEncodersAccess.config("roberta");
        assertThat(roberta.maxInputLength()).isEqualTo(roberta.maxPositionEmbeddings() - roberta.padTokenId() - 1);
    }

    @Test
    void batchTokenizationKeepsInputOrder() throws Exception {
        Path dir = tinyModel("tok", "{\"word_embedding_dimension\": 15, \"pooling_mode_mean_tokens\": true}", false, 20);
        try (SentenceTransformer st = SentenceTransformer.load(dir)) {
            List<String> texts = new ArrayList<>();
            for (int i = 0; i < 300; i++) texts.add(text(rng.nextInt(25)));                 // split over the threads
            List<Encoding> all = st.tokenize(texts);
            assertThat(all).hasSize(texts.size());
            for (int i = 0; i < texts.size(); i++) {
                assertThat(all.get(i).ids()).as("text %d", i).containsExactly(st.tokenize(texts.get(i)).ids());
            }
        }
    }

    @Test
    void normalizeAndDefaultMeanPooling() throws Exception {
        String mean = "{\"word_embedding_dimension\": 15, \"pooling_mode_mean_tokens\": true}";
        Path withNorm = tinyModel("norm", mean, true, null);
        Path plain = tinyModel("plain", null, false, null);           // no modules.json: mean pooling, no Normalize
        String t = text(7);
        try (SentenceTransformer a = SentenceTransformer.load(withNorm); SentenceTransformer b = SentenceTransformer.load(plain)) {
            assertThat(a.normalizes()).isTrue();
            assertThat(b.normalizes()).isFalse();
            assertThat(b.pooling().modes()).containsExactly(Pooling.Mode.MEAN);
            assertThat(a.maxSeqLength()).as("no sentence_bert_config: the position table").isEqualTo(33);
            float[] v = a.encode(t);
            double norm = 0;
            for (float x : v) norm += x * x;
            assertThat(Math.sqrt(norm)).isCloseTo(1, org.assertj.core.data.Offset.offset(1e-6));
            float[][] h = hiddenAlone(b, b.tokenize(t));
            float[] u = b.encode(t);
            for (int j = 0; j < 15; j++) {
                double s = 0;
                for (float[] row : h) s += row[j];
                assertThat((double) u[j]).isCloseTo(s / h.length, org.assertj.core.data.Offset.offset(2e-5));
            }
        }
    }

    @Test
    void unsupportedModulesAndBadPoolingAreClearErrors() throws Exception {
        Path dir = tinyModel("dense", "{\"word_embedding_dimension\": 15, \"pooling_mode_mean_tokens\": true}", false, null);
        Files.writeString(dir.resolve("modules.json"), Files.readString(dir.resolve("modules.json"))
                .replace("]", ",{\"idx\":2,\"name\":\"2\",\"path\":\"2_Dense\",\"type\":\"sentence_transformers.models.Dense\"}]"));
        assertThatThrownBy(() -> SentenceTransformer.load(dir)).isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining("unsupported sentence-transformers module 'sentence_transformers.models.Dense'");
        Path wrongDim = tinyModel("dim", "{\"word_embedding_dimension\": 16, \"pooling_mode_mean_tokens\": true}", false, null);
        assertThatThrownBy(() -> SentenceTransformer.load(wrongDim))
                .hasMessageContaining("pooling word_embedding_dimension 16 does not match the model's hidden_size 15");
    }

    @Test
    void smallBatchesOnePerThreadGiveTheEmbeddingsOfBatchesInTurn() throws Exception {
        // every batch here is small, so encode runs them one per thread; with the limit at 0 they
        // run in turn with the kernels split over the threads. Order, values and progress must agree,
        // on BERT's fast path and on DistilBERT's module path
        for (String type : List.of("bert", "distilbert")) {
            Path dir = tinyModel(type, "threads-" + type, "{\"word_embedding_dimension\": 15, \"pooling_mode_mean_tokens\": true}", true, null);
            try (SentenceTransformer st = SentenceTransformer.load(dir)) {
                List<String> texts = new ArrayList<>();
                for (int i = 0; i < 41; i++) texts.add(text(1 + rng.nextInt(25)));
                int saved = SentenceTransformer.smallBatchTokens;
                try {
                    List<int[]> reports = java.util.Collections.synchronizedList(new ArrayList<>());
                    SentenceTransformer.smallBatchTokens = 1 << 20;
                    List<float[]> perThread = st.encode(texts, 3, (done, total) -> reports.add(new int[] {done, total}));
                    SentenceTransformer.smallBatchTokens = 0;
                    List<float[]> inTurn = st.encode(texts, 3, SentenceTransformer.Progress.NONE);
                    for (int i = 0; i < texts.size(); i++) {
                        float[] alone = st.encode(texts.get(i));
                        for (int j = 0; j < 15; j++) {
                            assertThat((double) perThread.get(i)[j]).as("%s text %d dim %d seed %d", type, i, j, seed)
                                    .isCloseTo(inTurn.get(i)[j], org.assertj.core.data.Offset.offset(1e-5))
                                    .isCloseTo(alone[j], org.assertj.core.data.Offset.offset(1e-5));
                        }
                    }
                    assertThat(reports).hasSize(14);                                  // ceil(41 / 3) batches
                    for (int k = 0; k < reports.size(); k++) {
                        assertThat(reports.get(k)[1]).isEqualTo(41);
                        if (k > 0) assertThat(reports.get(k)[0]).isGreaterThan(reports.get(k - 1)[0]);
                    }
                    assertThat(reports.get(reports.size() - 1)[0]).isEqualTo(41);
                } finally {
                    SentenceTransformer.smallBatchTokens = saved;
                }
            }
        }
    }

    @Test
    void miniLmEmbeddingDoesNotDependOnBatchComposition() throws Exception {
        Path dir = OrtParityTest.miniLm();
        assumeTrue(Files.isDirectory(dir), "shared model directory not present: " + dir);
        try (SentenceTransformer st = SentenceTransformer.load(dir)) {
            assertThat(st.maxSeqLength()).isEqualTo(256);
            assertThat(st.normalizes()).isTrue();
            assertThat(st.dimension()).isEqualTo(384);
            String shortText = "A short sentence about attention.";
            List<String> batch = new ArrayList<>();
            batch.add(Texts.words(rng, 400));
            batch.add(shortText);
            batch.add(Texts.words(rng, 120));
            batch.add(Texts.words(rng, 60));
            float[] alone = st.encode(shortText);
            List<float[]> all = st.encode(batch, 4, SentenceTransformer.Progress.NONE);
            double worst = 0;
            for (int j = 0; j < 384; j++) worst = Math.max(worst, Math.abs(alone[j] - all.get(1)[j]));
            assertThat(worst).as("max abs diff alone vs batched, seed %d", seed).isLessThanOrEqualTo(1e-5);
        }
    }
}
