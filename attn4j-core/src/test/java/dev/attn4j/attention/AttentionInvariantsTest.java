package dev.attn4j.attention;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Properties every attention must have, on random inputs, for both SDPA paths. */
class AttentionInvariantsTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);
    private static final SdpaOptions.Path[] PATHS = {SdpaOptions.Path.FUSED, SdpaOptions.Path.REFERENCE};

    private NDArray rand(int... shape) {
        return NDArray.uniform(rng, Shape.of(shape), -2, 2);
    }

    private double[] out(NDArray q, NDArray k, NDArray v, SdpaOptions o) {
        return Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v), o).output().data().toDoubleArray();
    }

    @Test
    void weightRowsSumToOneAndMaskedKeysGetExactlyZero() {
        int B = 2, H = 3, L = 1 + rng.nextInt(20), S = 1 + rng.nextInt(20);
        NDArray block = NDArray.zeros(B, 1, L, S);
        for (int i = 0; i < block.numel(); i++) if (rng.nextDouble() < 0.4) block.storage().setDouble(i, 1);
        Tensor w = Attention.scaledDotProduct(Tensor.of(rand(B, H, L, 4)), Tensor.of(rand(B, H, S, 4)), Tensor.of(rand(B, H, S, 5)),
                SdpaOptions.defaults().mask(AttentionMask.blocked(block)).needWeights(true)).weights();
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                for (int i = 0; i < L; i++) {
                    double sum = 0;
                    boolean any = false;
                    for (int j = 0; j < S; j++) {
                        double x = w.data().getDouble(b, h, i, j);
                        if (block.getDouble(b, 0, i, j) != 0) assertThat(x).as("masked weight, seed " + seed).isEqualTo(0.0);
                        else any = true;
                        sum += x;
                    }
                    assertThat(sum).as("row sum, seed " + seed).isCloseTo(any ? 1.0 : 0.0, org.assertj.core.data.Offset.offset(1e-5));
                }
            }
        }
    }

    @Test
    void causalMaskDoesNotLeakFutureKeysOrValues() {
        int L = 1 + rng.nextInt(40), E = 1 + rng.nextInt(9);
        NDArray q = rand(2, L, E), k = rand(2, L, E), v = rand(2, L, E);
        int cut = rng.nextInt(L);                                     // keys/values from cut+1 on change
        NDArray k2 = k.copy(), v2 = v.copy();
        for (int b = 0; b < 2; b++) {
            for (int j = cut + 1; j < L; j++) {
                for (int e = 0; e < E; e++) {
                    k2.set(rng.nextDouble() * 10, b, j, e);
                    v2.set(rng.nextDouble() * 10, b, j, e);
                }
            }
        }
        for (SdpaOptions.Path path : PATHS) {
            SdpaOptions o = SdpaOptions.defaults().causal(true).path(path);
            double[] a = out(q, k, v, o), c = out(q, k2, v2, o);
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i <= cut; i++) {
                    for (int e = 0; e < E; e++) {
                        int idx = (b * L + i) * E + e;
                        assertThat(c[idx]).as(path + " row " + i + " <= cut " + cut + ", seed " + seed).isEqualTo(a[idx]);
                    }
                }
            }
        }
    }

    @Test
    void batchAndHeadEntriesAreIndependent() {
        int B = 3, H = 2, L = 5, S = 7, E = 4;
        NDArray q = rand(B, H, L, E), k = rand(B, H, S, E), v = rand(B, H, S, E);
        NDArray q2 = q.copy(), k2 = k.copy(), v2 = v.copy();
        // change everything of batch 1 and of head 0 of batch 2
        for (NDArray a : new NDArray[] {q2, k2, v2}) {
            a.select(0, 1).copyFrom(rand(H, a.dim(2), E));
            a.select(0, 2).select(0, 0).copyFrom(rand(a.dim(2), E));
        }
        for (SdpaOptions.Path path : PATHS) {
            SdpaOptions o = SdpaOptions.defaults().path(path);
            NDArray a = NDArray.of(out(q, k, v, o), B, H, L, E), c = NDArray.of(out(q2, k2, v2, o), B, H, L, E);
            assertThat(c.select(0, 0).toDoubleArray()).as(path + " batch 0").containsExactly(a.select(0, 0).toDoubleArray());
            assertThat(c.select(0, 2).select(0, 1).toDoubleArray()).as(path + " batch 2 head 1")
                    .containsExactly(a.select(0, 2).select(0, 1).toDoubleArray());
            assertThat(c.select(0, 1).toDoubleArray()).as(path + " batch 1 changed").isNotEqualTo(a.select(0, 1).toDoubleArray());
        }
    }

    @Test
    void permutingKeysAndValuesTogetherChangesNothing() {
        int L = 1 + rng.nextInt(30), S = 2 + rng.nextInt(140), E = 1 + rng.nextInt(20);
        NDArray q = rand(L, E), k = rand(S, E), v = rand(S, 3);
        int[] perm = new int[S];
        for (int i = 0; i < S; i++) perm[i] = i;
        for (int i = S - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        NDArray kp = NDArray.zeros(S, E), vp = NDArray.zeros(S, 3);
        for (int j = 0; j < S; j++) {
            kp.select(0, j).copyFrom(k.select(0, perm[j]));
            vp.select(0, j).copyFrom(v.select(0, perm[j]));
        }
        for (SdpaOptions.Path path : PATHS) {
            SdpaOptions o = SdpaOptions.defaults().path(path);
            ScaledDotProductAttentionTest.assertClose(path + " permuted keys, seed " + seed, out(q, kp, vp, o), out(q, k, v, o), 1e-5);
        }
    }

    @Test
    void fusedRunsAtLongSequenceWithBoundedAllocation() {
        // causal, L = S = 4096, d = 64, one head: the score matrix alone would be 64 MiB (L = S = 8192 runs in
        // `attn4j bench attention`; with the scalar kernels it takes several seconds, too long for a unit test)
        int L = 4096, d = 64;
        NDArray q = rand(1, L, d), k = rand(1, L, d), v = rand(1, L, d);
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = totalAllocated(mx);
        Tensor o = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v),
                SdpaOptions.defaults().causal(true).path(SdpaOptions.Path.FUSED)).output();
        long allocated = totalAllocated(mx) - before;
        assertThat(o.shape()).isEqualTo(Shape.of(1, L, d));
        // output (1 MiB) + log-sum-exp (32 KiB) + per-thread tiles; far below the 64 MiB score matrix
        assertThat(allocated).as("bytes allocated by the fused path").isLessThan(8L << 20);
        // spot-check a few rows against a float64 computation
        for (int i : new int[] {0, 1, L / 2, L - 1}) {
            double[] ref = new double[d];
            double mxs = Double.NEGATIVE_INFINITY;
            double[] s = new double[i + 1];
            for (int j = 0; j <= i; j++) {
                double dot = 0;
                for (int e = 0; e < d; e++) dot += q.getDouble(0, i, e) * k.getDouble(0, j, e);
                s[j] = dot / 8;
                mxs = Math.max(mxs, s[j]);
            }
            double sum = 0;
            for (int j = 0; j <= i; j++) sum += s[j] = Math.exp(s[j] - mxs);
            for (int j = 0; j <= i; j++) for (int e = 0; e < d; e++) ref[e] += s[j] / sum * v.getDouble(0, j, e);
            for (int e = 0; e < d; e++) {
                assertThat(o.data().getDouble(0, i, e)).as("row " + i + " seed " + seed)
                        .isCloseTo(ref[e], org.assertj.core.data.Offset.offset(1e-4 * (1 + Math.abs(ref[e]))));
            }
        }
    }

    static long totalAllocated(com.sun.management.ThreadMXBean mx) {
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) if (b > 0) sum += b;
        return sum;
    }
}
