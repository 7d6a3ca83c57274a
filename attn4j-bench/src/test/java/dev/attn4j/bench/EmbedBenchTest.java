package dev.attn4j.bench;

import dev.attn4j.models.onnx.DefaultModel;
import dev.attn4j.models.sentence.SentenceTransformer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** EmbedBench's option parsing, input generation, and the two engines agreeing on the default model. */
class EmbedBenchTest {

    @Test
    void encoderFlopsCountTheMatrixProductsOfTheRealTokens() {
        // all-MiniLM-L6-v2's shape: hidden 384, intermediate 1536, 6 layers
        var c = new dev.attn4j.models.bert.BertConfig("bert", 30522, 384, 6, 12, 1536, "gelu", 0.1, 0.1, 512, 2, 1e-12, 0, 0.02);
        double perToken = 4.0 * 384 * 384 + 2.0 * 384 * 1536;                          // q, k, v, o; ffn in and out
        assertThat(EmbedBench.encoderFlops(c, new int[] {16})).isEqualTo(2 * 6 * (16 * perToken + 2.0 * 16 * 16 * 384));
        // sequences are attended within themselves: two of 8 tokens cost less attention than one of 16
        double two8 = EmbedBench.encoderFlops(c, new int[] {8, 8});
        assertThat(two8).isEqualTo(2 * 6 * (16 * perToken + 2 * 2.0 * 8 * 8 * 384));
        assertThat(EmbedBench.encoderFlops(c, new int[0])).isZero();
    }

    @Test
    void parsesOptionsAndRejectsBadOnes() {
        EmbedBench.Options o = EmbedBench.parse(new String[] {"--threads", "3", "--seconds=0.5", "--sentences", "10", "--seed", "7"});
        assertThat(o.threads()).isEqualTo(3);
        assertThat(o.seconds()).isEqualTo(0.5);
        assertThat(o.sentences()).isEqualTo(10);
        assertThat(o.seed()).isEqualTo(7);
        assertThat(o.model()).isNull();
        assertThat(o.cases()).isEqualTo(EmbedBench.ALL_CASES);
        assertThat(EmbedBench.parse(new String[] {"--cases", "1x16,e2e"}).cases()).containsExactly("1x16", "e2e");
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--cases", "1x17"})).hasMessageContaining("unknown case '1x17'");
        assertThat(EmbedBench.parse(new String[] {"--help"})).isNull();
        assertThat(EmbedBench.parse(new String[0]).pauseMs()).isEqualTo(100);
        assertThat(EmbedBench.parse(new String[] {"--pause-ms", "0"}).pauseMs()).isZero();
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--pause-ms", "-5"})).hasMessageContaining("--pause-ms must be");
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--threads", "0"}))
                .hasMessageContaining("--threads must be a positive integer, got '0'");
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--seconds", "-1"})).hasMessageContaining("--seconds");
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--frobnicate", "1"})).hasMessageContaining("unknown option --frobnicate");
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--model"})).hasMessageContaining("--model needs a value");
    }

    @Test
    void sentencesAreSeededAndOfMixedLength() {
        long seed = System.nanoTime();
        List<String> a = Sentences.generate(300, seed);
        assertThat(Sentences.generate(300, seed)).as("seed " + seed).isEqualTo(a);
        assertThat(Sentences.generate(300, seed + 1)).as("seed " + seed).isNotEqualTo(a);
        int min = Integer.MAX_VALUE;
        int max = 0;
        for (String s : a) {
            int words = s.split(" ").length;
            min = Math.min(min, words);
            max = Math.max(max, words);
        }
        assertThat(min).as("seed " + seed).isLessThan(10);
        assertThat(max).as("seed " + seed).isGreaterThan(60);
    }

    @Test
    void measurePairAlternatesAndRunsAtLeastTheMinimum() {
        StringBuilder order = new StringBuilder();
        int[] warmups = new int[2];
        EmbedBench.Measurement[] m = EmbedBench.measurePair("c",
                "a", () -> {
                    order.append('a');
                    return List.of(new float[] {order.length()});
                }, () -> warmups[0]++,
                "b", () -> {
                    order.append('b');
                    return List.of(new float[] {-order.length()});
                }, () -> warmups[1]++, 4, 100, 2, 0.05, 50);
        assertThat(order.toString()).matches("(ab)+");
        int pairs = order.length() / 2;
        assertThat(m[0].runs()).isGreaterThanOrEqualTo(4).isEqualTo(pairs);
        assertThat(m[1].runs()).isEqualTo(pairs);
        // the 50 ms pauses before each run are not counted; each pair gives one ratio
        assertThat(m[0].times()).hasSize(pairs).allSatisfy(t -> assertThat(t).isLessThan(0.04));
        assertThat(m[1].times()).hasSize(pairs).allSatisfy(t -> assertThat(t).isLessThan(0.04));
        List<Double> ratios = EmbedBench.pairRatios(m[0], m[1]);
        assertThat(ratios).hasSize(pairs);
        for (int i = 0; i < pairs; i++) assertThat(ratios.get(i)).isEqualTo(m[1].times().get(i) / m[0].times().get(i));
        assertThat(m[0].engine()).isEqualTo("a");
        assertThat(m[1].engine()).isEqualTo("b");
        assertThat(m[0].output().getFirst()[0]).isEqualTo(2 * pairs - 1);   // each keeps its own last output
        assertThat(m[1].output().getFirst()[0]).isEqualTo(-2 * pairs);
        // a quick warm-up runs back to back until `seconds` have passed (bounded): a JIT engine is timed compiled
        assertThat(warmups[0]).isBetween(2, EmbedBench.WARMUP_RUNS);
        assertThat(warmups[1]).isBetween(2, EmbedBench.WARMUP_RUNS);
        assertThat(m[0].tokensPerSecond()).isEqualTo(100 / m[0].secondsPerRun());
    }

    /**
     * A warm-up whose runs keep getting faster (as a JIT engine's do while it compiles) goes on past
     * {@code seconds} until they stop, and no longer than the cap.
     */
    @Test
    void aWarmUpGoesOnWhileItsRunsGetFaster() {
        long start = System.nanoTime();
        Runnable compiling = () -> {
            long elapsedMs = (System.nanoTime() - start) / 1_000_000;
            try {
                Thread.sleep(Math.max(1, 10 - elapsedMs / 25));                       // 10 ms down to 1 ms over 225 ms
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        long t0 = System.nanoTime();
        EmbedBench.warm(compiling, 0.1);
        double took = (System.nanoTime() - t0) / 1e9;
        assertThat(took).as("warm-up seconds").isGreaterThan(0.2).isLessThan(EmbedBench.WARMUP_CAP * 0.1 + 0.05);
    }

    @Test
    void aSlowWarmUpRunsTwiceOnly() {
        int[] warmups = new int[2];
        Runnable slow = () -> {
            try {
                Thread.sleep(40);                                                       // over half of the 0.05 s
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        EmbedBench.measurePair("c", "a", () -> List.of(new float[] {1}), () -> {
                    warmups[0]++;
                    slow.run();
                }, "b", () -> List.of(new float[] {2}), () -> {
                    warmups[1]++;
                    slow.run();
                }, 1, 10, 1, 0.05, 0);
        assertThat(warmups).containsExactly(2, 2);                                   // a slow first call is timed again
    }

    @Test
    void aSlowFirstCallAloneDoesNotEndTheWarmUp() {
        int[] calls = {0};
        Runnable coldThenFast = () -> {
            try {
                Thread.sleep(calls[0]++ == 0 ? 60 : 1);                               // the first call over half of 0.1 s
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        };
        double last = EmbedBench.warm(coldThenFast, 0.1);
        assertThat(calls[0]).as("calls").isGreaterThan(10);
        assertThat(last).isLessThan(0.05);
    }

    @Test
    void int8SectionOptions() {
        assertThat(EmbedBench.parse(new String[0]).int8()).isTrue();
        assertThat(EmbedBench.parse(new String[] {"--no-int8", "--seed", "3"}).int8()).isFalse();
        assertThat(EmbedBench.parse(new String[] {"--int8-onnx", "q.onnx"}).int8Onnx()).isEqualTo(Path.of("q.onnx"));
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--no-int8", "--int8-onnx", "q.onnx"}))
                .hasMessageContaining("contradict");
        assertThatThrownBy(() -> EmbedBench.parse(new String[] {"--int8-onnx"})).hasMessageContaining("--int8-onnx needs a value");
    }

    /**
     * The int8 section's engines: attn4j with q8_0 weights and ONNX Runtime's int8 model (the
     * langchain4j artifact's all-minilm-l6-v2-q.onnx) both stay close to attn4j's f32 embeddings
     * (measured over 100 bench sentences: q8_0 mean cosine 0.99983, ORT int8 0.9865, min 0.968).
     */
    @Test
    void int8EnginesStayCloseToF32(@TempDir Path tmp) throws Exception {
        Path dir = DefaultModel.resolve(tmp);
        byte[] onnxQ;
        try (var in = EmbedBench.class.getResourceAsStream(EmbedBench.INT8_ONNX_RESOURCE)) {
            assertThat(in).as("ONNX Runtime's int8 model on the class path").isNotNull();
            onnxQ = in.readAllBytes();
        }
        List<String> texts = Sentences.generate(40, 9);
        try (SentenceTransformer st = SentenceTransformer.load(dir);
             SentenceTransformer stq = SentenceTransformer.load(dir, EmbedBench.INT8_TYPE);
             EmbedBench.Engine f = new EmbedBench.Attn4jEngine(st, 8);
             EmbedBench.Engine a = new EmbedBench.Attn4jEngine(stq, 8, "attn4j-q8_0");
             EmbedBench.Engine o = new EmbedBench.OrtEngine(st, onnxQ, 1, 8, "ort-int8")) {
            List<float[]> ref = f.embedTexts(texts);
            double[] ca = EmbedBench.cosineStats(ref, a.embedTexts(texts));
            double[] co = EmbedBench.cosineStats(ref, o.embedTexts(texts));
            assertThat(ca[0]).as("attn4j q8_0 mean cosine").isGreaterThan(0.9995);
            assertThat(ca[1]).as("attn4j q8_0 min cosine").isGreaterThan(0.998).isLessThan(1 - 1e-7);
            assertThat(co[0]).as("ORT int8 mean cosine").isGreaterThan(0.95).isLessThan(0.9999);
            assertThat(co[1]).as("ORT int8 min cosine").isGreaterThan(0.9);
            assertThat(EmbedBench.cosineStats(ref, ref)[1]).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
            assertThat(a.name()).isEqualTo("attn4j-q8_0");
            assertThat(o.name()).isEqualTo("ort-int8");
        }
    }

    @Test
    void attn4jAndOnnxRuntimeGiveTheSameEmbeddings(@TempDir Path tmp) throws Exception {
        long seed = System.nanoTime();
        Path dir = DefaultModel.resolve(tmp);
        try (SentenceTransformer st = SentenceTransformer.load(dir);
             EmbedBench.Engine a = new EmbedBench.Attn4jEngine(st, 4);
             EmbedBench.Engine o = new EmbedBench.OrtEngine(st, DefaultModel.onnxBytes(), 1, 4)) {
            List<int[]> ids = EmbedBench.randomIds(new SplittableRandom(seed), 2, 9, 30522);
            double diff = EmbedBench.maxAbsDiff(a.embedIds(ids), o.embedIds(ids));
            assertThat(diff).as("seed " + seed).isLessThan(1e-4);
            List<String> texts = Sentences.generate(5, seed);
            List<float[]> ea = a.embedTexts(texts);
            List<float[]> eo = o.embedTexts(texts);
            assertThat(ea).hasSize(5);
            assertThat(EmbedBench.maxAbsDiff(ea, eo)).as("seed " + seed).isLessThan(1e-4);
        }
    }
}
