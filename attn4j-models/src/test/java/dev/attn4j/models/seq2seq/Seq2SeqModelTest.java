package dev.attn4j.models.seq2seq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.BeamSearch;
import dev.attn4j.generate.Greedy;
import dev.attn4j.generate.Hypothesis;
import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tensor.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Incremental decoding (KV cache / recurrent state) against the teacher-forced forward, per architecture. */
class Seq2SeqModelTest {
    static Seq2SeqConfig tiny(Arch arch) {
        return new Seq2SeqConfig(arch, CharVocab.dates().size(), 24, 4, 2, 2, 40, 20, 0.0, arch == Arch.TRANSFORMER, 40, 12);
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void cachedStepsEqualTheUncachedForward(Arch arch) {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        Seq2SeqModel<?> model = Seq2SeqModel.create(tiny(arch), rng);
        model.eval();
        check(model, rng, seed);
    }

    private static <S> void check(Seq2SeqModel<S> model, SplittableRandom rng, long seed) {
        int v = model.vocabSize();
        List<int[]> src = new ArrayList<>(), tgt = new ArrayList<>();
        int[] srcLens = {9, 4, 13}, tgtLens = {5, 7, 2};
        for (int i = 0; i < 3; i++) {
            src.add(rng.ints(srcLens[i], 4, v).toArray());
            tgt.add(rng.ints(tgtLens[i], 4, v).toArray());
        }
        Batch batch = Batch.of(src, tgt);
        try (var g = GradMode.noGrad()) {
            NDArray full = ArrayOps.logSoftmax(model.forward(batch).data(), 2);           // [B, T, V]
            S state = model.start(src);
            int t = batch.targetIn().dim(1);
            for (int step = 0; step < t; step++) {
                int[] tokens = new int[3];
                for (int b = 0; b < 3; b++) tokens[b] = (int) batch.targetIn().getDouble(b, step);
                float[][] lp = model.step(state, tokens);
                for (int b = 0; b < 3; b++) {
                    if (step > tgtLens[b]) continue;                                        // past this row's EOS: padding input
                    for (int j = 0; j < v; j++) {
                        assertThat((double) lp[b][j]).as("%s row %d step %d token %d, seed %d", model.config().arch(), b, step, j, seed)
                                .isCloseTo(full.getDouble(b, step, j), org.assertj.core.data.Offset.offset(1e-5));
                    }
                }
            }
        }
        // decoding runs end to end; beam 1 without length penalty equals greedy
        List<int[]> greedy = Greedy.decode(model, src, 12);
        for (int b = 0; b < 3; b++) {
            Hypothesis h = BeamSearch.best(model, src.get(b), 1, 0.0, 12);
            assertThat(h.tokens()).as("%s beam 1 vs greedy, row %d, seed %d", model.config().arch(), b, seed).isEqualTo(greedy.get(b));
        }
        float[][][][] w = model.crossAttention(src.get(0), greedy.get(0));
        assertThat(w[0][0]).hasNumberOfRows(greedy.get(0).length + 1);
        for (float[] row : w[w.length - 1][0]) {
            double sum = 0;
            for (float x : row) sum += x;
            assertThat(row).hasSize(src.get(0).length);
            assertThat(sum).as("attention row sums to 1, seed %d", seed).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @ParameterizedTest
    @EnumSource(Arch.class)
    void badInputsAreReported(Arch arch) {
        Seq2SeqModel<?> model = Seq2SeqModel.create(tiny(arch), new SplittableRandom(1));
        assertThatThrownBy(() -> model.start(List.of(new int[] {5}, new int[0]))).hasMessageContaining("source 1 of the batch is empty");
        assertThatThrownBy(() -> Batch.of(List.of(new int[] {5}), List.of())).hasMessageContaining("as many targets as sources");
        if (arch == Arch.TRANSFORMER) {
            assertThatThrownBy(() -> model.start(List.of(new int[41]))).hasMessageContaining("longer than this model's maximum");
        }
    }
}
