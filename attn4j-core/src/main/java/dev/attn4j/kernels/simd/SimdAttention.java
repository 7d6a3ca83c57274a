package dev.attn4j.kernels.simd;

import dev.attn4j.kernels.Kernels;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * {@link Kernels#attentionHead} on the Vector API. Per head:
 * <pre>
 *   kt[E, Sp] = K^T, padded to whole vectors                gathers, stays in L1 (6 KiB at S = 48, E = 32)
 *   for each block of 8 query rows:
 *     s[8, Sp]  = Q[rows] kt                                8 x 2 accumulators: broadcast q, load kt rows
 *     s[r]      = exp(scale s[r] + bias[r] - max) per row   padding lanes -inf, so they weigh 0
 *     out[rows] = (s V) / row sums                          8 x 2 accumulators: broadcast s, load V rows
 * </pre>
 * Both products run in the broadcast-and-FMA form ({@link #block8x2}), so neither needs a lane
 * reduction per element; eight query rows share every load of kt and V. A block of at most four
 * rows, and a last vector of keys or values, take the 4-row blocks ({@link #block4x2},
 * {@link #block4x1}). A block's tail rows repeat its last row and are not stored.
 */
final class SimdAttention {
    private static final VectorSpecies<Float> SP = SimdKernels.S;
    private static final int VL = SimdKernels.L;
    private static final int ROWS = Kernels.ATTENTION_ROWS;
    private static final VectorMask<Float> ALL = SP.maskAll(true);

    static {
        if (ROWS != 8) throw new AssertionError("SimdAttention is written for 8 query rows per block");
    }

    private SimdAttention() {
    }

    static void head(int nq, int nk, int e, int ev, float scale, float[] q, int qOff, int ldq, float[] k, int kOff, int ldk,
                     float[] v, int vOff, int ldv, float[] bias, int biasOff, int biasLd, float[] out, int outOff, int ldo,
                     float[] scratch) {
        if (nq == 0 || ev == 0) return;
        if (nk == 0) {                                                          // no keys: every row is masked
            for (int i = 0; i < nq; i++) Arrays.fill(out, outOff + i * ldo, outOff + i * ldo + ev, 0f);
            return;
        }
        int sp = (nk + VL - 1) / VL * VL;                                       // keys padded to whole vectors
        int sBase = e * sp;                                                     // scores [ROWS, sp] after kt [e, sp]
        int bBase = sBase + ROWS * sp;                                          // then one bias row [sp]
        transposeKeys(k, kOff, ldk, nk, e, sp, scratch);
        // The bias row in scratch is padded with -inf, so the padding lanes drop out of the softmax
        // without masks (mask arithmetic at the tail of every row cost more than the row itself).
        if (bias == null || biasLd == 0) paddedBias(scratch, bBase, bias, biasOff, nk, sp);
        float[] sums = new float[ROWS];
        for (int i0 = 0; i0 < nq; i0 += ROWS) {
            int rows = Math.min(ROWS, nq - i0);
            boolean eight = rows > 4;                                           // else the 4-row blocks alone
            int lower = Math.min(rows, 4), upper = rows - lower;                // rows in each half
            int q0 = qOff + i0 * ldq, q1 = qOff + (i0 + Math.min(1, rows - 1)) * ldq;
            int q2 = qOff + (i0 + Math.min(2, rows - 1)) * ldq, q3 = qOff + (i0 + Math.min(3, rows - 1)) * ldq;
            int q4 = qOff + (i0 + Math.min(4, rows - 1)) * ldq, q5 = qOff + (i0 + Math.min(5, rows - 1)) * ldq;
            int q6 = qOff + (i0 + Math.min(6, rows - 1)) * ldq, q7 = qOff + (i0 + Math.min(7, rows - 1)) * ldq;
            int j = 0;
            for (; j + 2 * VL <= sp; j += 2 * VL) {                             // s[rows, j:j+2VL] = Q[rows] kt[:, j:j+2VL]
                if (eight) block8x2(e, q, q0, q1, q2, q3, q4, q5, q6, q7, scratch, j, sp, scratch, sBase + j, sp, rows, null);
                else block4x2(e, q, q0, q1, q2, q3, scratch, j, sp, true, ALL, ALL, scratch, sBase + j, sp, rows, null, 0);
            }
            if (j < sp) {
                block4x1(e, q, q0, q1, q2, q3, scratch, j, sp, ALL, scratch, sBase + j, sp, lower, null, 0);
                if (eight) block4x1(e, q, q4, q5, q6, q7, scratch, j, sp, ALL, scratch, sBase + 4 * sp + j, sp, upper, null, 0);
            }
            for (int r = 0; r < rows; r++) {                                    // scale, bias, row maxima
                if (bias != null && biasLd != 0) paddedBias(scratch, bBase, bias, biasOff + (i0 + r) * biasLd, nk, sp);
                sums[r] = scaleAndMax(scratch, sBase + r * sp, sp, scale, bBase);
            }
            for (int r = 0; r < rows; r++) sums[r] = expAndSum(scratch, sBase + r * sp, sp, sums[r]);
            int w0 = sBase, w1 = sBase + Math.min(1, rows - 1) * sp;
            int w2 = sBase + Math.min(2, rows - 1) * sp, w3 = sBase + Math.min(3, rows - 1) * sp;
            int w4 = sBase + Math.min(4, rows - 1) * sp, w5 = sBase + Math.min(5, rows - 1) * sp;
            int w6 = sBase + Math.min(6, rows - 1) * sp, w7 = sBase + Math.min(7, rows - 1) * sp;
            int o0 = outOff + i0 * ldo, o4 = o0 + 4 * ldo;
            for (int c = 0; c < ev; c += 2 * VL) {                              // out[rows, c:c+2VL] = (w V) / sums
                if (eight && c + 2 * VL <= ev) {
                    block8x2(nk, scratch, w0, w1, w2, w3, w4, w5, w6, w7, v, vOff + c, ldv, out, o0 + c, ldo, rows, sums);
                } else if (c + VL >= ev) {                                      // one vector (or part of one) left
                    VectorMask<Float> m = c + VL == ev ? ALL : SP.indexInRange(c, ev);
                    block4x1(nk, scratch, w0, w1, w2, w3, v, vOff + c, ldv, m, out, o0 + c, ldo, lower, sums, 0);
                    if (eight) block4x1(nk, scratch, w4, w5, w6, w7, v, vOff + c, ldv, m, out, o4 + c, ldo, upper, sums, 4);
                } else {
                    boolean whole = c + 2 * VL <= ev;
                    VectorMask<Float> m1 = whole ? ALL : SP.indexInRange(c + VL, ev);
                    block4x2(nk, scratch, w0, w1, w2, w3, v, vOff + c, ldv, whole, ALL, m1, out, o0 + c, ldo, lower, sums, 0);
                    if (eight) block4x2(nk, scratch, w4, w5, w6, w7, v, vOff + c, ldv, whole, ALL, m1, out, o4 + c, ldo, upper, sums, 4);
                }
            }
        }
    }

    /**
     * kt[p, j] = k[j, p] for p &lt; e, j &lt; sp (row stride sp), one gather of VL keys per row of kt.
     * The padding keys j &gt;= nk repeat the last key: finite, and the -inf padding of the bias row
     * removes their scores. (A scalar copy with strided stores, then zeroing the padding with a
     * fill call per row, had cost 15% of a head at S = 48.)
     */
    private static void transposeKeys(float[] k, int kOff, int ldk, int nk, int e, int sp, float[] kt) {
        int[] keys = new int[VL];
        for (int j0 = 0; j0 < sp; j0 += VL) {
            for (int l = 0; l < VL; l++) keys[l] = Math.min(j0 + l, nk - 1) * ldk;
            for (int p = 0; p < e; p++) FloatVector.fromArray(SP, k, kOff + p, keys, 0).intoArray(kt, p * sp + j0);
        }
    }

    /** dst[0:sp] = bias[off : off + nk] (0 when bias is null), then -inf for the padding lanes. */
    private static void paddedBias(float[] dst, int at, float[] bias, int off, int nk, int sp) {
        if (bias == null) Arrays.fill(dst, at, at + nk, 0f);
        else System.arraycopy(bias, off, dst, at, nk);
        Arrays.fill(dst, at + nk, at + sp, Float.NEGATIVE_INFINITY);
    }

    /**
     * s[off : off + sp] = scale s + bias row (at s[bRow], padding lanes -inf); returns the row's
     * maximum. The block's rows run this first and {@link #expAndSum} after, each pass over all
     * rows: a row's max, exp and sum form one chain of dependent operations, and rows taken one at
     * a time left the vector units idle on it.
     * <p>The running maximum is a compare and a blend, which skips NaN lanes: FloatVector.max
     * (Java's Math.max, NaN-propagating) compiled to six instructions on the loop-carried chain,
     * a fifth of the softmax's time at S = 256. A NaN still reaches every weight of its row
     * through exp(NaN - max) and the sum, as in torch; only a row with no finite score (all NaN,
     * or NaN and -inf) would come out as "every key masked", so that case looks for a NaN.
     */
    private static float scaleAndMax(float[] s, int off, int sp, float scale, int bRow) {
        FloatVector sc = FloatVector.broadcast(SP, scale);
        FloatVector mx = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < sp; j += VL) {
            FloatVector x = FloatVector.fromArray(SP, s, off + j).fma(sc, FloatVector.fromArray(SP, s, bRow + j));
            x.intoArray(s, off + j);
            mx = mx.blend(x, mx.compare(VectorOperators.LT, x));
        }
        float max = mx.reduceLanes(VectorOperators.MAX);
        if (max == Float.NEGATIVE_INFINITY) {
            for (int j = 0; j < sp; j++) if (Float.isNaN(s[off + j])) return Float.NaN;
        }
        return max;
    }

    /**
     * s[off : off + sp] = exp(s - max); returns the row's sum, 0 when every key is masked
     * (max = -inf: the row is then all 0).
     */
    private static float expAndSum(float[] s, int off, int sp, float max) {
        if (max == Float.NEGATIVE_INFINITY) {                                   // weights 0, so the product is 0 too
            Arrays.fill(s, off, off + sp, 0f);
            return 0f;
        }
        FloatVector sum = FloatVector.zero(SP);
        for (int j = 0; j < sp; j += VL) {
            FloatVector w = VectorMath.expNonPositive(FloatVector.fromArray(SP, s, off + j).sub(max));
            w.intoArray(s, off + j);
            sum = sum.add(w);
        }
        return Lanes.sum(sum);
    }

    /**
     * Both products of a block of 4 query rows: for the rows r &lt; rows,
     * <pre>
     *   dst[d + r ldd, 0:2VL] = sum over t &lt; n of x[x_r + t] * b[bOff + t ldb, 0:2VL]   (/ div[r] when div is not null)
     * </pre>
     * with 4 x 2 accumulators: one broadcast of x per row, two loads of b shared by the four rows.
     * The x rows of a block's tail repeat its last row (x0..x3 need not differ). Columns whose
     * masks m0, m1 are off are neither loaded nor stored; {@code whole} says both are all on, so
     * the loads go unmasked. A divisor of 0 (a row whose keys are all masked, x = 0) stores 0.
     */
    private static void block4x2(int n, float[] x, int x0, int x1, int x2, int x3, float[] b, int bOff, int ldb, boolean whole,
                                 VectorMask<Float> m0, VectorMask<Float> m1, float[] dst, int d, int ldd, int rows,
                                 float[] div, int divOff) {
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int t = 0; t < n; t++) {
            int bo = bOff + t * ldb;
            FloatVector b0, b1;
            if (whole) {
                b0 = FloatVector.fromArray(SP, b, bo);
                b1 = FloatVector.fromArray(SP, b, bo + VL);
            } else {
                b0 = FloatVector.fromArray(SP, b, bo, m0);
                b1 = FloatVector.fromArray(SP, b, bo + VL, m1);
            }
            FloatVector xv = FloatVector.broadcast(SP, x[x0 + t]);
            a00 = xv.fma(b0, a00);
            a01 = xv.fma(b1, a01);
            xv = FloatVector.broadcast(SP, x[x1 + t]);
            a10 = xv.fma(b0, a10);
            a11 = xv.fma(b1, a11);
            xv = FloatVector.broadcast(SP, x[x2 + t]);
            a20 = xv.fma(b0, a20);
            a21 = xv.fma(b1, a21);
            xv = FloatVector.broadcast(SP, x[x3 + t]);
            a30 = xv.fma(b0, a30);
            a31 = xv.fma(b1, a31);
        }
        store(a00, a01, div == null ? 1f : div[divOff], dst, d, m0, m1);
        if (rows > 1) store(a10, a11, div == null ? 1f : div[divOff + 1], dst, d + ldd, m0, m1);
        if (rows > 2) store(a20, a21, div == null ? 1f : div[divOff + 2], dst, d + 2 * ldd, m0, m1);
        if (rows > 3) store(a30, a31, div == null ? 1f : div[divOff + 3], dst, d + 3 * ldd, m0, m1);
    }

    /**
     * {@link #block4x2} for 8 rows, both column vectors whole: 16 accumulators, one broadcast of x
     * per row and two loads of b shared by the eight rows. Against two 4-row blocks this halves
     * the passes over kt and V (at S = 256 they no longer fit L1 together and stream from L2) and
     * doubles the independent FMA chains: a whole head took 17% less time at S = 256, 2% less at
     * S = 48. The stores are written out rather than calling {@link #store}: with 16 vectors live
     * C2 stopped inlining it (NodeCountInliningCutoff) and boxed every vector passed to it.
     */
    private static void block8x2(int n, float[] x, int x0, int x1, int x2, int x3, int x4, int x5, int x6, int x7,
                                 float[] b, int bOff, int ldb, float[] dst, int d, int ldd, int rows, float[] div) {
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        FloatVector a40 = a00, a41 = a00, a50 = a00, a51 = a00, a60 = a00, a61 = a00, a70 = a00, a71 = a00;
        for (int t = 0; t < n; t++) {
            int bo = bOff + t * ldb;
            FloatVector b0 = FloatVector.fromArray(SP, b, bo);
            FloatVector b1 = FloatVector.fromArray(SP, b, bo + VL);
            FloatVector xv = FloatVector.broadcast(SP, x[x0 + t]);
            a00 = xv.fma(b0, a00);
            a01 = xv.fma(b1, a01);
            xv = FloatVector.broadcast(SP, x[x1 + t]);
            a10 = xv.fma(b0, a10);
            a11 = xv.fma(b1, a11);
            xv = FloatVector.broadcast(SP, x[x2 + t]);
            a20 = xv.fma(b0, a20);
            a21 = xv.fma(b1, a21);
            xv = FloatVector.broadcast(SP, x[x3 + t]);
            a30 = xv.fma(b0, a30);
            a31 = xv.fma(b1, a31);
            xv = FloatVector.broadcast(SP, x[x4 + t]);
            a40 = xv.fma(b0, a40);
            a41 = xv.fma(b1, a41);
            xv = FloatVector.broadcast(SP, x[x5 + t]);
            a50 = xv.fma(b0, a50);
            a51 = xv.fma(b1, a51);
            xv = FloatVector.broadcast(SP, x[x6 + t]);
            a60 = xv.fma(b0, a60);
            a61 = xv.fma(b1, a61);
            xv = FloatVector.broadcast(SP, x[x7 + t]);
            a70 = xv.fma(b0, a70);
            a71 = xv.fma(b1, a71);
        }
        if (div != null) {                                                      // a divisor of 0: every key masked, x = 0
            float r0 = nonZero(div[0]), r1 = nonZero(div[1]), r2 = nonZero(div[2]), r3 = nonZero(div[3]);
            float r4 = nonZero(div[4]), r5 = nonZero(div[5]), r6 = nonZero(div[6]), r7 = nonZero(div[7]);
            a00 = a00.div(r0);
            a01 = a01.div(r0);
            a10 = a10.div(r1);
            a11 = a11.div(r1);
            a20 = a20.div(r2);
            a21 = a21.div(r2);
            a30 = a30.div(r3);
            a31 = a31.div(r3);
            a40 = a40.div(r4);
            a41 = a41.div(r4);
            a50 = a50.div(r5);
            a51 = a51.div(r5);
            a60 = a60.div(r6);
            a61 = a61.div(r6);
            a70 = a70.div(r7);
            a71 = a71.div(r7);
        }
        a00.intoArray(dst, d);                                                  // rows 0..4 always exist (rows > 4)
        a01.intoArray(dst, d + VL);
        a10.intoArray(dst, d + ldd);
        a11.intoArray(dst, d + ldd + VL);
        a20.intoArray(dst, d + 2 * ldd);
        a21.intoArray(dst, d + 2 * ldd + VL);
        a30.intoArray(dst, d + 3 * ldd);
        a31.intoArray(dst, d + 3 * ldd + VL);
        a40.intoArray(dst, d + 4 * ldd);
        a41.intoArray(dst, d + 4 * ldd + VL);
        if (rows > 5) {
            a50.intoArray(dst, d + 5 * ldd);
            a51.intoArray(dst, d + 5 * ldd + VL);
        }
        if (rows > 6) {
            a60.intoArray(dst, d + 6 * ldd);
            a61.intoArray(dst, d + 6 * ldd + VL);
        }
        if (rows > 7) {
            a70.intoArray(dst, d + 7 * ldd);
            a71.intoArray(dst, d + 7 * ldd + VL);
        }
    }

    private static float nonZero(float div) {
        return div == 0f ? 1f : div;
    }

    /**
     * {@link #block4x2} one vector wide (a row's last VL or fewer columns: with 16 keys or values
     * left, the two-vector block ran its second half on masked-off loads, a quarter of the FMAs of
     * a 48-key row for nothing). Columns whose mask m0 is off are neither loaded nor stored.
     */
    private static void block4x1(int n, float[] x, int x0, int x1, int x2, int x3, float[] b, int bOff, int ldb,
                                 VectorMask<Float> m0, float[] dst, int d, int ldd, int rows, float[] div, int divOff) {
        boolean whole = m0.allTrue();
        FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < n; t++) {
            int bo = bOff + t * ldb;
            FloatVector b0 = whole ? FloatVector.fromArray(SP, b, bo) : FloatVector.fromArray(SP, b, bo, m0);
            a0 = FloatVector.broadcast(SP, x[x0 + t]).fma(b0, a0);
            a1 = FloatVector.broadcast(SP, x[x1 + t]).fma(b0, a1);
            a2 = FloatVector.broadcast(SP, x[x2 + t]).fma(b0, a2);
            a3 = FloatVector.broadcast(SP, x[x3 + t]).fma(b0, a3);
        }
        store(a0, div == null ? 1f : div[divOff], dst, d, m0);
        if (rows > 1) store(a1, div == null ? 1f : div[divOff + 1], dst, d + ldd, m0);
        if (rows > 2) store(a2, div == null ? 1f : div[divOff + 2], dst, d + 2 * ldd, m0);
        if (rows > 3) store(a3, div == null ? 1f : div[divOff + 3], dst, d + 3 * ldd, m0);
    }

    private static void store(FloatVector x, float div, float[] dst, int o, VectorMask<Float> m) {
        if (div == 0f) div = 1f;                                                // all keys masked: x is 0
        (div != 1f ? x.div(div) : x).intoArray(dst, o, m);
    }

    private static void store(FloatVector x0, FloatVector x1, float div, float[] dst, int o, VectorMask<Float> m0,
                              VectorMask<Float> m1) {
        if (div == 0f) div = 1f;                                                // all keys masked: x is 0
        if (div != 1f) {
            x0 = x0.div(div);
            x1 = x1.div(div);
        }
        x0.intoArray(dst, o, m0);
        x1.intoArray(dst, o + VL, m1);
    }
}
