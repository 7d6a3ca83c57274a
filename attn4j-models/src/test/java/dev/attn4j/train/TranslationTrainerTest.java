package dev.attn4j.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attn4j.models.seq2seq.Arch;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.optim.LrSchedules;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.TokenizerTrainer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Translation training on a toy word-for-word language pair. */
class TranslationTrainerTest {
    @TempDir
    Path tmp;

    static final String[] SRC = {"ein", "mann", "frau", "hund", "katze", "sieht", "hat", "rot", "blau", "gross", "klein", "und"};
    static final String[] TGT = {"a", "man", "woman", "dog", "cat", "sees", "has", "red", "blue", "big", "small", "and"};

    /** Writes n toy pairs (source words translated one by one) as train.src / train.tgt etc. into dir. */
    static void writeCorpus(Path dir, String name, long seed, int n) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        StringBuilder s = new StringBuilder(), t = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int len = 3 + rng.nextInt(6);
            for (int j = 0; j < len; j++) {
                int w = rng.nextInt(SRC.length);
                s.append(j > 0 ? " " : "").append(SRC[w]);
                t.append(j > 0 ? " " : "").append(TGT[w]);
            }
            s.append(" .\n");
            t.append(" .\n");
        }
        Files.writeString(dir.resolve(name + ".src"), s, StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(name + ".tgt"), t, StandardCharsets.UTF_8);
    }

    static String toyTokenizer(Path dir) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(dir.resolve("train.src")));
        lines.addAll(Files.readAllLines(dir.resolve("train.tgt")));
        return TokenizerTrainer.trainJson(lines, TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.UNIGRAM, 60));
    }

    static Seq2SeqConfig toyModel(int vocab, double dropout) {
        return new Seq2SeqConfig(Arch.TRANSFORMER, vocab, 32, 2, 1, 1, 64, 32, dropout, true, 64, 64);
    }

    static Seq2SeqConfig toyModel(int vocab, int width, double dropout) {
        return new Seq2SeqConfig(Arch.TRANSFORMER, vocab, width, 4, 1, 1, 2 * width, width, dropout, true, 64, 64);
    }

    static TranslationConfig toyTrain(Path dir, long seed, int evalEvery, int averageLast, long maxSteps) {
        return new TranslationConfig(seed, 256, TranslationConfig.INVERSE_SQRT, 3e-3, 20, 0, 0.1, 0.0, 1.0, 0.9, 0.98, 1e-8, evalEvery, 2,
                1.0, 1.2, 10, averageLast, evalEvery, 1000, maxSteps, 0, dir.resolve("train.src").toString(), dir.resolve("train.tgt").toString(),
                dir.resolve("valid.src").toString(), dir.resolve("valid.tgt").toString());
    }

    /** A short run learns the toy language: the validation loss falls far and the beam outputs score high BLEU. */
    @Test
    void aShortRunLearnsTheToyLanguage() throws IOException {
        long seed = System.nanoTime();
        writeCorpus(tmp, "train", seed, 600);
        writeCorpus(tmp, "valid", seed + 1, 40);
        String tok = toyTokenizer(tmp);
        int vocab = Tokenizer.fromJson(tok).vocabSize();
        List<String> log = new ArrayList<>();
        TranslationTrainer t = TranslationTrainer.create(toyModel(vocab, 64, 0.0), toyTrain(tmp, seed, 100, 2, 400), tok, tmp.resolve("out"),
                log::add);
        TranslationResult r = t.run(300, 0, true);
        System.out.println("toy translation: " + r);
        List<TranslationState.Validation> h = t.state().history();
        assertThat(r.steps()).isEqualTo(400);
        assertThat(r.stopReason()).isEqualTo("max_steps");
        assertThat(h).hasSize(4);
        // an untrained model is at ln(vocab) ~ 3.7 nats; the first validation is after 100 updates
        assertThat(h.get(3).nll()).as("seed %d, log %s", seed, log).isLessThan(0.7 * h.get(0).nll()).isLessThan(0.8);
        assertThat(r.validBleu()).as("seed %d, log %s", seed, log).isGreaterThan(10).isGreaterThan(h.get(0).bleu());
        assertThat(r.averagedBleu()).isNotNull();
        assertThat(log).anyMatch(l -> l.contains("valid loss") && l.contains("BLEU"));
        // the output directory holds the chosen model; the validation outputs score what the summary says
        assertThat(Files.readAllLines(tmp.resolve("out/valid.hyp"))).hasSize(40);
        Path hyp = tmp.resolve("out/valid.again");
        var again = TranslationTrainer.test(tmp.resolve("out"), tmp.resolve("valid.src"), tmp.resolve("valid.tgt"), hyp, 2, 1.0);
        assertThat(again.bleu().score()).isCloseTo(r.validBleu(), within(1e-9));
        assertThat(Files.readAllLines(hyp)).isEqualTo(Files.readAllLines(tmp.resolve("out/valid.hyp")));
    }

    /** Averaging keeps the last K validation checkpoints' weights and their element-wise mean. */
    @Test
    void averagingTakesTheMeanOfTheLastCheckpoints() throws IOException {
        long seed = System.nanoTime();
        writeCorpus(tmp, "train", seed, 100);
        writeCorpus(tmp, "valid", seed + 1, 8);
        String tok = toyTokenizer(tmp);
        Path out = tmp.resolve("avg");
        TranslationTrainer t = TranslationTrainer.create(toyModel(Tokenizer.fromJson(tok).vocabSize(), 0.1), toyTrain(tmp, seed, 2, 3, 8),
                tok, out, null);
        TranslationResult r = t.run(300, 0, true);
        assertThat(t.state().averaged()).containsExactly(4L, 6L, 8L);
        try (var files = Files.list(out.resolve(TranslationTrainer.CHECKPOINTS))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("step-00000004.safetensors", "step-00000006.safetensors", "step-00000008.safetensors");
        }
        List<Map<String, NDArray>> parts = new ArrayList<>();
        for (long s : List.of(4L, 6L, 8L)) {
            parts.add(StateDicts.read(out.resolve(TranslationTrainer.CHECKPOINTS).resolve(String.format("step-%08d.safetensors", s))));
        }
        Map<String, NDArray> avg = StateDicts.read(out.resolve(TranslationTrainer.AVERAGED).resolve(Checkpoint.MODEL));
        assertThat(avg.keySet()).isEqualTo(parts.get(0).keySet());
        for (String k : avg.keySet()) {
            float[] a = avg.get(k).toFloatArray();
            float[][] p = {parts.get(0).get(k).toFloatArray(), parts.get(1).get(k).toFloatArray(), parts.get(2).get(k).toFloatArray()};
            for (int i = 0; i < a.length; i++) assertThat(a[i]).as(k).isCloseTo((p[0][i] + p[1][i] + p[2][i]) / 3, within(1e-6f));
        }
        assertThat(r.averagedBleu()).isNotNull();
        assertThat(r.chosen()).isIn("best", "averaged");
        // the output model is what was chosen
        Path chosen = r.chosen().equals("best") ? null : out.resolve(TranslationTrainer.AVERAGED);
        if (chosen != null) {
            assertThat(Files.readAllBytes(out.resolve(Checkpoint.MODEL))).isEqualTo(Files.readAllBytes(chosen.resolve(Checkpoint.MODEL)));
        }
        assertThat(Files.exists(out.resolve(TranslationTrainer.SUMMARY))).isTrue();
    }

    /**
     * Resuming (with dropout on) gives, bit for bit, the weights and optimizer state of an
     * uninterrupted run: batches, dropout masks and schedule follow from (seed, step). In a child
     * JVM on the scalar kernels, as {@link TrainerTest} explains.
     */
    @Test
    void resumingGivesTheWeightsOfAnUninterruptedRun() throws Exception {
        long seed = System.nanoTime();
        writeCorpus(tmp, "train", seed, 30);
        writeCorpus(tmp, "valid", seed + 1, 6);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-Dattn4j.kernels=scalar", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), ResumeCheck.class.getName(), Long.toString(seed), tmp.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, java.util.concurrent.TimeUnit.SECONDS)).as("child finished").isTrue();
        assertThat(p.exitValue()).as("resume check, seed %d:%n%s", seed, out).isZero();
        assertThat(out).contains("resume identical");
    }

    /** Child JVM entry for the resume check: args seed, working directory. */
    public static final class ResumeCheck {
        public static void main(String[] args) throws IOException {
            long seed = Long.parseLong(args[0]);
            Path tmp = Path.of(args[1]);
            String tok = toyTokenizer(tmp);
            int vocab = Tokenizer.fromJson(tok).vocabSize();
            // 30 pairs in batches of <= 256 tokens: several epochs in 14 updates, so the resumed part crosses an epoch
            TranslationConfig t = new TranslationConfig(seed, 256, TranslationConfig.INVERSE_SQRT, 3e-3, 4, 0, 0.1, 0.01, 1.0, 0.9, 0.98,
                    1e-8, 1000, 1, 1.0, 1.2, 10, 0, 1000, 1000, 14, 0, tmp.resolve("train.src").toString(), tmp.resolve("train.tgt").toString(),
                    tmp.resolve("valid.src").toString(), tmp.resolve("valid.tgt").toString());
            TranslationTrainer.create(toyModel(vocab, 0.2), t, tok, tmp.resolve("straight"), null).run(600, 0, false);
            TranslationTrainer first = TranslationTrainer.create(toyModel(vocab, 0.2), t, tok, tmp.resolve("split"), null);
            first.run(600, 9, false);
            if (first.state().step() != 9) throw new AssertionError("split run stopped at " + first.state().step());
            TranslationTrainer resumed = TranslationTrainer.resume(tmp.resolve("split"), null);
            resumed.run(600, 0, false);
            if (resumed.state().epoch() <= first.state().epoch()) {
                throw new AssertionError("the check should cross an epoch boundary after resuming: " + first.state() + " then " + resumed.state());
            }
            Path a = tmp.resolve("straight").resolve(TranslationTrainer.LAST), b = tmp.resolve("split").resolve(TranslationTrainer.LAST);
            for (String f : List.of(Checkpoint.MODEL, Checkpoint.OPTIMIZER)) {
                Map<String, NDArray> x = StateDicts.read(a.resolve(f)), y = StateDicts.read(b.resolve(f));
                if (!x.keySet().equals(y.keySet())) throw new AssertionError(f + ": keys differ");
                for (String k : x.keySet()) {
                    if (!Arrays.equals(x.get(k).toFloatArray(), y.get(k).toFloatArray())) {
                        throw new AssertionError(f + " " + k + " differs after resuming (seed " + seed + ")");
                    }
                }
            }
            TranslationState sa = Checkpoint.readState(a, TranslationState.class), sb = Checkpoint.readState(b, TranslationState.class);
            if (sa.step() != 14 || sb.step() != 14 || sa.epoch() != sb.epoch() || sa.batchInEpoch() != sb.batchInEpoch()
                    || sa.loss() != sb.loss() || sa.targetTokens() != sb.targetTokens()) {
                throw new AssertionError("trainer states differ: " + sa + " vs " + sb);
            }
            System.out.println("resume identical");
        }
    }

    @Test
    void epochBatchesCoverEveryPairOnceWithinTheTokenLimit() throws IOException {
        writeCorpus(tmp, "train", 5, 300);
        String tok = toyTokenizer(tmp);
        TranslationData data = TranslationData.read(tmp.resolve("train.src"), tmp.resolve("train.tgt"), Tokenizer.fromJson(tok), 0);
        assertThat(data.size()).isEqualTo(300);
        List<int[]> e1 = data.epochBatches(7, 1, 200), e1again = data.epochBatches(7, 1, 200), e2 = data.epochBatches(7, 2, 200);
        Set<Integer> seen = new HashSet<>();
        for (int[] b : e1) {
            int longest = 0;
            for (int i : b) {
                assertThat(seen.add(i)).as("pair %d twice", i).isTrue();
                longest = Math.max(longest, Math.max(data.pairs().get(i).source().length, data.pairs().get(i).target().length + 1));
            }
            assertThat((long) longest * b.length).isLessThanOrEqualTo(200);
        }
        assertThat(seen).hasSize(300);
        assertThat(e1again).usingElementComparator((x, y) -> Arrays.equals(x, y) ? 0 : 1).containsExactlyElementsOf(e1);
        assertThat(Arrays.deepEquals(e1.toArray(), e2.toArray())).as("another epoch, another order").isFalse();
    }

    @Test
    void schedules() {
        TranslationConfig c = toyTrain(tmp, 1, 10, 0, 0);
        assertThat(c.lr(10, 32)).isCloseTo(3e-3 * 10 / 20, within(1e-15));
        assertThat(c.lr(20, 32)).isCloseTo(3e-3, within(1e-15));
        assertThat(c.lr(80, 32)).isCloseTo(3e-3 * 0.5, within(1e-15));
        TranslationConfig noam = new TranslationConfig(1, 256, "noam", 2.0, 4000, 0, 0.1, 0, 0, 0.9, 0.98, 1e-9, 10, 1, 1, 1.2, 10, 0, 10, 10, 0, 0,
                "a", "b", "c", "d");
        for (long s : new long[] {1, 100, 4000, 9000}) assertThat(noam.lr(s, 512)).isEqualTo(LrSchedules.noam(512, 4000, 2.0).lr(s));
        assertThatThrownBy(() -> new TranslationConfig(1, 256, "cosine", 2.0, 10, 0, 0.1, 0, 0, 0.9, 0.98, 1e-9, 10, 1, 1, 1.2, 10, 0, 10, 10, 0, 0,
                "a", "b", "c", "d")).hasMessageContaining("unknown schedule 'cosine'");
        assertThat(c.maxOutputLength(10, 256)).isEqualTo(22);
        assertThat(c.maxOutputLength(1000, 256)).isEqualTo(256);
    }

    @Test
    void aTokenizerWithoutTheModelsSpecialIdsIsRefused() throws IOException {
        writeCorpus(tmp, "train", 3, 20);
        writeCorpus(tmp, "valid", 4, 5);
        List<String> lines = Files.readAllLines(tmp.resolve("train.src"));
        String tok = TokenizerTrainer.trainJson(lines, TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.UNIGRAM, 40)
                .withSpecialTokens(List.of("<unk>", "<s>", "</s>", "<pad>"), "<unk>"));
        assertThatThrownBy(() -> TranslationTrainer.create(toyModel(40, 0), toyTrain(tmp, 1, 10, 0, 5), tok, tmp.resolve("x"), null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("<pad> at id 0").hasMessageContaining("at id 3");
    }
}
