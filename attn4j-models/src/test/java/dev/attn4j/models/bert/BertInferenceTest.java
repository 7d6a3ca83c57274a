package dev.attn4j.models.bert;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The inference path ({@link BertInference}: reused buffers, fused bias / residual / activation
 * passes, attention on heads in place) against the module path ({@link BertLayer#forward}) of
 * the same model, which the float64 reference in {@link BertModelTest} already pins down.
 */
class BertInferenceTest {
    private final long seed = Long.getLong("attn4j.seed", System.nanoTime());
    private final SplittableRandom rng = new SplittableRandom(seed);

    /**
     * Both paths round differently in float32, and {@link #wider}'s large initializer range (0.5: attention rows
     * close to one-hot, wide pre-norm ranges) amplifies it: against the float64 reference each path alone was
     * off by up to 1.9e-4 over 8 seeds (both sides alike), so their difference can reach about twice that. A
     * leaking pad row or a shared buffer differs by O(0.1 - 1). (Fast path against fast path keeps 1e-4.)
     */
    private static final double TOL = 5e-4;

    /** Odd sizes that leave SIMD tails and GEMM edge tiles everywhere: C = 52 (4 heads of 13), I = 97. */
    static BertConfig wider(String act) {
        return new BertConfig("bert", 57, 52, 3, 4, 97, act, 0.1, 0.1, 70, 2, 1e-12, 0, 0.5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gelu", "gelu_new", "relu"})
    void matchesTheModulePathWithPaddingAndHiddenStates(String act) {
        BertConfig c = wider(act);
        BertModel m = BertModel.random(c, rng);
        m.eval();
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {1, 17, 64, 40}, true);
        EncoderOutput fast;
        try (var g = GradMode.noGrad()) {
            assertThat(BertInference.applies(m)).isTrue();
            fast = m.forward(in, true, false);
        }
        assertThat(BertInference.applies(m)).as("gradients are recorded").isFalse();
        EncoderOutput modules = m.forward(in, true, false);
        assertThat(modules.lastHiddenState().requiresGrad()).isTrue();
        assertClose(fast.lastHiddenState(), modules.lastHiddenState(), "last hidden state");
        assertClose(fast.poolerOutput(), modules.poolerOutput(), "pooler");
        assertThat(fast.hiddenStates()).hasSize(c.numHiddenLayers() + 1);
        for (int i = 0; i < fast.hiddenStates().size(); i++) {
            assertClose(fast.hiddenStates().get(i), modules.hiddenStates().get(i), "hidden state " + i);
        }
        // Padding rows do not leak into real ones: row 0 alone equals row 0 in the batch.
        int len0 = in.realLength(0);
        EncoderInput alone = new EncoderInput(new int[][] {java.util.Arrays.copyOf(in.inputIds()[0], len0)}, null,
                new int[][] {java.util.Arrays.copyOf(in.tokenTypeIds()[0], len0)});
        assertClose(noGrad(m, alone), m.forward(alone).lastHiddenState(), "one token alone");
        try (var g = GradMode.noGrad()) {
            NDArray one = m.forward(alone).lastHiddenState().data();                   // [1, T, C]
            NDArray all = fast.lastHiddenState().data();                               // [4, T, C]
            for (int j = 0; j < c.hiddenSize(); j++) {
                assertThat(Math.abs(one.getDouble(0, 0, j) - all.getDouble(0, 0, j))).as("seed %d", seed).isLessThan(1e-4);
            }
        }
    }

    /**
     * A frozen model (weights packed once) gives the unfrozen fast path's bits, padded and packed,
     * on one thread and two; training mode unfreezes, so a weight changed by training is seen.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void frozenGivesTheSameBitsAndTrainingUnfreezes(int threads) {
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try (var g = GradMode.noGrad()) {
            BertConfig c = new BertConfig("bert", 57, 96, 2, 4, 400, "gelu", 0.1, 0.1, 70, 2, 1e-12, 0, 0.02);
            BertModel m = BertModel.random(c, rng);
            m.eval();
            EncoderInput in = TinyEncoders.batch(rng, c, new int[] {16, 5, 23}, true);
            float[] plain = m.forward(in).lastHiddenState().data().contiguous().toFloatArray();
            float[] plainPacked = m.forwardPacked(in).values();
            assertThat(m.freeze()).isSameAs(m);
            assertThat(m.isFrozen()).isTrue();
            float[] frozen = m.forward(in).lastHiddenState().data().contiguous().toFloatArray();
            float[] frozenAgain = m.forward(in).lastHiddenState().data().contiguous().toFloatArray();
            assertThat(frozen).as("seed %d", seed).containsExactly(plain);
            assertThat(frozenAgain).containsExactly(plain);
            assertThat(m.forwardPacked(in).values()).containsExactly(plainPacked);

            m.train();
            assertThat(m.isFrozen()).as("training mode unfreezes").isFalse();
            m.eval();
            NDArray w = m.encoder.layer.get(0).intermediate.dense.weight.data();
            w.floatArray()[w.offset()] += 1f;                                           // a training step's change
            float[] changed = m.forward(in).lastHiddenState().data().contiguous().toFloatArray();
            assertThat(changed).isNotEqualTo(plain);
            m.freeze();
            assertThat(m.forward(in).lastHiddenState().data().contiguous().toFloatArray()).containsExactly(changed);
        } finally {
            Parallel.setThreads(before);
        }
    }

    @Test
    void queryKeyValueSideBySideAndInPlaceUpdatesSeenByTheFastPath() {
        BertConfig c = wider("gelu");
        BertModel m = BertModel.random(c, rng);
        m.eval();
        BertSelfAttention sa = m.encoder.layer.get(1).attention.self;
        assertThat(dev.attn4j.models.Params.sideBySide(List.of(sa.query, sa.key, sa.value))).isTrue();
        // Each projection is still its own parameter: its state-dict entry is its own [C, C] weight.
        NDArray keyWeight = m.stateDict().get("encoder.layer.1.attention.self.key.weight");
        assertThat(keyWeight.shape().toArray()).containsExactly(c.hiddenSize(), c.hiddenSize());
        assertThat(keyWeight.getDouble(3, 5)).isEqualTo(sa.key.weight.data().getDouble(3, 5));
        // An in-place edit of one projection (as loading or editing weights does) reaches the fused GEMM.
        for (int i = 0; i < c.hiddenSize(); i++) sa.value.weight.data().set(sa.value.weight.data().getDouble(i, i) + 0.5, i, i);
        sa.key.bias.data().set(2.0, 7);
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {9, 20}, true);
        EncoderOutput fast;
        try (var g = GradMode.noGrad()) {
            fast = m.forward(in);
        }
        assertClose(fast.lastHiddenState(), m.forward(in).lastHiddenState(), "after in-place updates");
    }

    @Test
    void tinyOddModelAndTrainingModeUseTheRightPath() {
        BertConfig c = TinyEncoders.config("bert");                                    // C = 15, 3 heads of 5, I = 23
        BertModel m = BertModel.random(c, rng);
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {9, 3}, true);
        try (var g = GradMode.noGrad()) {
            assertThat(BertInference.applies(m)).as("dropout is active in training mode").isFalse();
            m.eval();
            assertThat(BertInference.applies(m)).isTrue();
            Tensor fast = m.forward(in).lastHiddenState();
            try (var e = GradMode.enableGrad()) {
                assertClose(fast, m.forward(in).lastHiddenState(), "last hidden state");
            }
        }
    }

    @Test
    void packedRowsAreThePaddedForwardsRealRows() {
        BertConfig c = wider("gelu");
        BertModel m = BertModel.random(c, rng);
        m.eval();
        EncoderInput right = TinyEncoders.batch(rng, c, new int[] {1, 17, 64, 40, 2}, true);
        // a mask with holes and left padding: a packed row keeps its position in the padded input
        int[][] mask = new int[right.batchSize()][];
        for (int b = 0; b < mask.length; b++) {
            mask[b] = right.attentionMask()[b].clone();
            if (b == 2) for (int j = 0; j < 64; j += 5) mask[b][j] = 0;
            if (b == 3) for (int j = 0; j < 6; j++) mask[b][j] = 0;
        }
        EncoderInput holes = new EncoderInput(right.inputIds(), mask, right.tokenTypeIds());
        for (EncoderInput in : List.of(right, holes)) {
            PackedHiddenStates packed;
            NDArray padded;
            try (var g = GradMode.noGrad()) {
                packed = m.forwardPacked(in);
                padded = m.forward(in).lastHiddenState().data();                             // [B, T, C]
            }
            PackedHiddenStates modules = m.forwardPacked(in);                                 // gradients on: the default
            assertThat(packed.batchSize()).isEqualTo(in.batchSize());
            for (int b = 0; b < in.batchSize(); b++) {
                assertThat(packed.length(b)).isEqualTo(in.realLength(b));
                int row = packed.valueOffset(b) / c.hiddenSize();
                for (int j = 0; j < in.length(); j++) {
                    if (in.attentionMask()[b][j] == 0) continue;
                    for (int k = 0; k < c.hiddenSize(); k++) {
                        double want = padded.getDouble(b, j, k);
                        assertThat(Math.abs(packed.values()[row * c.hiddenSize() + k] - want))
                                .as("input %d token %d, seed %d", b, j, seed).isLessThan(1e-4);
                        assertThat(Math.abs(modules.values()[row * c.hiddenSize() + k] - want))
                                .as("module path, input %d token %d, seed %d", b, j, seed).isLessThanOrEqualTo(TOL);
                    }
                    row++;
                }
            }
        }
    }

    @Test
    void packedDistilBertCopiesTheRealRows() {
        BertConfig c = TinyEncoders.config("distilbert");
        DistilBertModel m = DistilBertModel.random(c, rng);
        m.eval();
        EncoderInput in = TinyEncoders.batch(rng, c, new int[] {3, 9, 1}, false);
        try (var g = GradMode.noGrad()) {
            PackedHiddenStates packed = m.forwardPacked(in);
            NDArray padded = m.forward(in).lastHiddenState().data();                          // [B, T, C]
            assertThat(packed.offsets()).containsExactly(0, 3, 12, 13);
            for (int b = 0; b < 3; b++) {
                for (int j = 0; j < packed.length(b); j++) {
                    for (int k = 0; k < c.hiddenSize(); k++) {
                        assertThat(packed.values()[packed.valueOffset(b) + j * c.hiddenSize() + k]).isEqualTo((float) padded.getDouble(b, j, k));
                    }
                }
            }
        }
    }

    @Test
    void packedHiddenStatesRejectOffsetsThatDoNotFit() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PackedHiddenStates(new float[6], new int[] {0, 2, 1, 3}, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("offsets decrease at 2");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new PackedHiddenStates(new float[6], new int[] {0, 2}, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("do not fit 6 values of width 2");
        PackedHiddenStates ok = new PackedHiddenStates(new float[6], new int[] {0, 2, 2, 3}, 2);
        assertThat(ok.length(1)).isZero();
        assertThat(ok.valueOffset(2)).isEqualTo(4);
    }

    @Test
    void concurrentCallersGetTheirOwnBuffers() throws Exception {
        BertConfig c = wider("gelu");
        BertModel m = BertModel.random(c, rng);
        m.eval();
        List<EncoderInput> inputs = new ArrayList<>();
        List<NDArray> expected = new ArrayList<>();
        int threadsBefore = Parallel.threads();
        Parallel.setThreads(1);                    // the same GEMM splits as the pool's callers below
        try (var g = GradMode.noGrad()) {
            for (int i = 0; i < 6; i++) {
                EncoderInput in = TinyEncoders.batch(rng, c, new int[] {5 + 11 * i, 30 - 4 * i}, true);
                inputs.add(in);
                expected.add(m.forward(in).lastHiddenState().data());
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<Double>> results = new ArrayList<>();
            for (int rep = 0; rep < 4; rep++) {
                for (int i = 0; i < inputs.size(); i++) {
                    int idx = i;
                    Callable<Double> task = () -> {
                        try (var g = GradMode.noGrad()) {
                            return maxDiff(m.forward(inputs.get(idx)).lastHiddenState().data(), expected.get(idx));
                        }
                    };
                    results.add(pool.submit(task));
                }
            }
            // Not bit-exact: the Vector API's exp and lane sums round differently before C2 compiles them.
            // A buffer shared by two callers would differ by O(1).
            for (Future<Double> f : results) assertThat(f.get()).as("seed %d", seed).isLessThan(1e-4);
        } finally {
            pool.shutdown();
            Parallel.setThreads(threadsBefore);
        }
    }

    private static Tensor noGrad(BertModel m, EncoderInput in) {
        try (var g = GradMode.noGrad()) {
            return m.forward(in).lastHiddenState();
        }
    }

    private void assertClose(Tensor a, Tensor b, String what) {
        assertThat(a.shape()).isEqualTo(b.shape());
        assertThat(maxDiff(a.data(), b.data())).as("%s, seed %d", what, seed).isLessThanOrEqualTo(TOL);
    }

    private static double maxDiff(NDArray a, NDArray b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double worst = 0;
        for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
        return worst;
    }
}
