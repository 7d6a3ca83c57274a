package dev.attn4j.transformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Incremental decoding with the key/value cache gives the uncached forward's outputs. */
class DecoderCacheTest {

    @ParameterizedTest
    @CsvSource({"true,false", "true,true", "false,false", "false,true"})
    void stepOutputsMatchTheFullForward(boolean batchFirst, boolean normFirst) {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 3, s = 7, t = 6, e = 20, heads = 4;
        TransformerOptions o = TransformerOptions.of(e, heads).dimFeedforward(37).dropout(0).batchFirst(batchFirst).normFirst(normFirst);
        TransformerDecoder dec = new TransformerDecoder(o, 2, true, rng);
        dec.eval();
        NDArray memB = NDArray.normal(rng, Shape.of(n, s, e), 0, 1);                 // [N, S, E]
        NDArray tgtB = NDArray.normal(rng, Shape.of(n, t, e), 0, 1);                 // [N, T, E]
        NDArray pad = NDArray.zeros(n, s);                                            // row 1 has 2 pads, row 2 has 4
        for (int j = s - 2; j < s; j++) pad.set(1, 1, j);
        for (int j = s - 4; j < s; j++) pad.set(1, 2, j);
        Tensor mem = layout(memB, batchFirst), tgt = layout(tgtB, batchFirst);
        try (var g = GradMode.noGrad()) {
            Tensor full = dec.forward(tgt, mem, TransformerMasks.none().tgtIsCausal(true)
                    .memoryKeyPaddingMask(AttentionMask.blocked(pad)));              // layout of tgt
            Tensor fullB = batchFirst ? full : full.transpose(0, 1);                  // [N, T, E]
            DecoderCache cache = dec.startCache(mem, pad);
            for (int i = 0; i < t; i++) {
                Tensor step = dec.forwardStep(tgt.narrow(batchFirst ? 1 : 0, i, 1), cache);
                Tensor stepB = batchFirst ? step : step.transpose(0, 1);              // [N, 1, E]
                assertClose(stepB.data(), fullB.data().narrow(1, i, 1), 1e-5, "position " + i + ", seed " + seed);
            }
            assertThat(cache.length()).isEqualTo(t);
        }
    }

    @Test
    void selectReordersRowsForBeamSearch() {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 2, s = 5, e = 16;
        TransformerOptions o = TransformerOptions.of(e, 2).dimFeedforward(24).dropout(0).batchFirst(true);
        TransformerDecoder dec = new TransformerDecoder(o, 2, true, rng);
        dec.eval();
        Tensor mem = Tensor.of(NDArray.normal(rng, Shape.of(n, s, e), 0, 1));
        Tensor x0 = Tensor.of(NDArray.normal(rng, Shape.of(n, 1, e), 0, 1));
        Tensor x1 = Tensor.of(NDArray.normal(rng, Shape.of(3, 1, e), 0, 1));
        int[] rows = {1, 1, 0};
        try (var g = GradMode.noGrad()) {
            DecoderCache cache = dec.startCache(mem, null);
            dec.forwardStep(x0, cache);
            Tensor viaSelect = dec.forwardStep(x1, cache.select(rows));               // [3, 1, E]
            // the same rows built from scratch
            Tensor memR = Tensor.of(DecoderCache.rowsOf(mem, idx(rows)).data());
            Tensor x0R = Tensor.of(DecoderCache.rowsOf(x0, idx(rows)).data());
            DecoderCache fresh = dec.startCache(memR, null);
            dec.forwardStep(x0R, fresh);
            Tensor direct = dec.forwardStep(x1, fresh);
            assertClose(viaSelect.data(), direct.data(), 1e-6, "seed " + seed);
            assertThatThrownBy(() -> cache.select(new int[] {2})).hasMessageContaining("row 2 out of range");
        }
    }

    private static NDArray idx(int[] rows) {
        NDArray a = NDArray.zeros(rows.length);
        for (int i = 0; i < rows.length; i++) a.set(rows[i], i);
        return a;
    }

    private static Tensor layout(NDArray batchFirstData, boolean batchFirst) {
        return Tensor.of(batchFirst ? batchFirstData : batchFirstData.transpose(0, 1).contiguous());
    }

    private static void assertClose(NDArray actual, NDArray expected, double tol, String what) {
        assertThat(actual.shape()).as(what).isEqualTo(expected.shape());
        double[] a = actual.toDoubleArray(), b = expected.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            assertThat(Math.abs(a[i] - b[i])).as("%s: element %d, %f vs %f", what, i, a[i], b[i]).isLessThanOrEqualTo(tol);
        }
    }
}
