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
 *   kt[E, Sp] = K^T, zero padded to whole vectors           one copy, stays in L1 (6 KiB at S = 48, E = 32)
 *   for each block of 4 query rows:
 *     s[4, Sp]  = Q[rows] kt                                4 x 2 accumulators: broadcast q, load kt rows
 *     s[r]      = exp(scale s[r] + bias[r] - max) per row   padding lanes -inf, so they weigh 0
 *     out[rows] = (s V) / row sums                          4 x 2 accumulators: broadcast s, load V rows
 * </pre>
 * Both products run in the broadcast-and-FMA form, so neither needs a lane reduction per element;
 * four query rows share every load of kt and V. A block's tail rows repeat its last row and are not
 * stored.
 */
final class SimdAttention {
    private static final VectorSpecies<Float> SP = SimdKernels.S;
    private static final int VL = SimdKernels.L;
    private static final int ROWS = Kernels.ATTENTION_ROWS;
    private static final VectorMask<Float> ALL = SP.maskAll(true);

    static {
        if (ROWS != 4) throw new AssertionError("SimdAttention is written for 4 query rows per block");
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
        for (int j = 0; j < nk; j++) {                                          // kt[p, j] = k[j, p]
            int src = kOff + j * ldk;
            for (int p = 0; p < e; p++) scratch[p * sp + j] = k[src + p];
        }
        if (sp > nk) for (int p = 0; p < e; p++) Arrays.fill(scratch, p * sp + nk, p * sp + sp, 0f);
        // The bias row in scratch is padded with -inf, so the padding lanes drop out of the softmax
        // without masks (mask arithmetic at the tail of every row cost more than the row itself).
        if (bias == null || biasLd == 0) paddedBias(scratch, bBase, bias, biasOff, nk, sp);
        float[] sums = new float[ROWS];
        for (int i0 = 0; i0 < nq; i0 += ROWS) {
            int rows = Math.min(ROWS, nq - i0);
            int q0 = qOff + i0 * ldq, q1 = qOff + (i0 + Math.min(1, rows - 1)) * ldq;
            int q2 = qOff + (i0 + Math.min(2, rows - 1)) * ldq, q3 = qOff + (i0 + Math.min(3, rows - 1)) * ldq;
            int j = 0;
            for (; j + 2 * VL <= sp; j += 2 * VL) scores2(e, sp, scratch, j, q, q0, q1, q2, q3, sBase);
            if (j < sp) scores1(e, sp, scratch, j, q, q0, q1, q2, q3, sBase);
            for (int r = 0; r < rows; r++) {
                if (bias != null && biasLd != 0) paddedBias(scratch, bBase, bias, biasOff + (i0 + r) * biasLd, nk, sp);
                sums[r] = softmaxRow(scratch, sBase + r * sp, sp, scale, bBase);
            }
            int w0 = sBase, w1 = sBase + Math.min(1, rows - 1) * sp;
            int w2 = sBase + Math.min(2, rows - 1) * sp, w3 = sBase + Math.min(3, rows - 1) * sp;
            for (int c = 0; c < ev; c += 2 * VL) {
                weighted(nk, ev, c, scratch, w0, w1, w2, w3, v, vOff, ldv, sums, rows, out, outOff + i0 * ldo, ldo);
            }
        }
    }

    /** s[r, j:j+2VL] = q_r . kt[:, j:j+2VL] for the 4 query rows starting at q0..q3. */
    private static void scores2(int e, int sp, float[] kt, int j, float[] q, int q0, int q1, int q2, int q3, int sBase) {
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int p = 0; p < e; p++) {
            int ko = p * sp + j;
            FloatVector k0 = FloatVector.fromArray(SP, kt, ko), k1 = FloatVector.fromArray(SP, kt, ko + VL);
            FloatVector b = FloatVector.broadcast(SP, q[q0 + p]);
            a00 = b.fma(k0, a00);
            a01 = b.fma(k1, a01);
            b = FloatVector.broadcast(SP, q[q1 + p]);
            a10 = b.fma(k0, a10);
            a11 = b.fma(k1, a11);
            b = FloatVector.broadcast(SP, q[q2 + p]);
            a20 = b.fma(k0, a20);
            a21 = b.fma(k1, a21);
            b = FloatVector.broadcast(SP, q[q3 + p]);
            a30 = b.fma(k0, a30);
            a31 = b.fma(k1, a31);
        }
        int s = sBase + j;
        a00.intoArray(kt, s);
        a01.intoArray(kt, s + VL);
        a10.intoArray(kt, s + sp);
        a11.intoArray(kt, s + sp + VL);
        a20.intoArray(kt, s + 2 * sp);
        a21.intoArray(kt, s + 2 * sp + VL);
        a30.intoArray(kt, s + 3 * sp);
        a31.intoArray(kt, s + 3 * sp + VL);
    }

    /** One vector of columns: s[r, j:j+VL] = q_r . kt[:, j:j+VL], two partial sums per row over p. */
    private static void scores1(int e, int sp, float[] kt, int j, float[] q, int q0, int q1, int q2, int q3, int sBase) {
        FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
        for (int p = 0; p < e; p++) {
            FloatVector k0 = FloatVector.fromArray(SP, kt, p * sp + j);
            a0 = FloatVector.broadcast(SP, q[q0 + p]).fma(k0, a0);
            a1 = FloatVector.broadcast(SP, q[q1 + p]).fma(k0, a1);
            a2 = FloatVector.broadcast(SP, q[q2 + p]).fma(k0, a2);
            a3 = FloatVector.broadcast(SP, q[q3 + p]).fma(k0, a3);
        }
        int s = sBase + j;
        a0.intoArray(kt, s);
        a1.intoArray(kt, s + sp);
        a2.intoArray(kt, s + 2 * sp);
        a3.intoArray(kt, s + 3 * sp);
    }

    /** dst[0:sp] = bias[off : off + nk] (0 when bias is null), then -inf for the padding lanes. */
    private static void paddedBias(float[] dst, int at, float[] bias, int off, int nk, int sp) {
        if (bias == null) Arrays.fill(dst, at, at + nk, 0f);
        else System.arraycopy(bias, off, dst, at, nk);
        Arrays.fill(dst, at + nk, at + sp, Float.NEGATIVE_INFINITY);
    }

    /**
     * One row of scores s[off : off + sp] becomes exp(scale s + bias - max), with the padded bias
     * row at s[bRow] (padding lanes -inf, so they become 0); returns the row's sum, 0 when every key
     * is masked (the row is then all 0).
     */
    private static float softmaxRow(float[] s, int off, int sp, float scale, int bRow) {
        FloatVector mx = FloatVector.broadcast(SP, Float.NEGATIVE_INFINITY);
        for (int j = 0; j < sp; j += VL) {
            FloatVector x = FloatVector.fromArray(SP, s, off + j).fma(FloatVector.broadcast(SP, scale), FloatVector.fromArray(SP, s, bRow + j));
            x.intoArray(s, off + j);
            mx = mx.max(x);
        }
        float m = mx.reduceLanes(VectorOperators.MAX);
        if (m == Float.NEGATIVE_INFINITY) {                                     // weights 0, so the product is 0 too
            Arrays.fill(s, off, off + sp, 0f);
            return 0f;
        }
        FloatVector sum = FloatVector.zero(SP);
        for (int j = 0; j < sp; j += VL) {
            FloatVector w = VectorMath.expNonPositive(FloatVector.fromArray(SP, s, off + j).sub(m));
            w.intoArray(s, off + j);
            sum = sum.add(w);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }

    /**
     * out[r, c:c+2VL] = sum over j &lt; nk of w_r[j] v[j, c:c+2VL] / sums[r] for the rows r &lt; rows of
     * a block (columns past ev masked); a row with sum 0 (all keys masked) gets zeros.
     */
    private static void weighted(int nk, int ev, int c, float[] w, int w0, int w1, int w2, int w3, float[] v, int vOff,
                                 int ldv, float[] sums, int rows, float[] out, int oOff, int ldo) {
        boolean whole = c + 2 * VL <= ev;
        VectorMask<Float> m0 = whole ? ALL : SP.indexInRange(c, ev), m1 = whole ? ALL : SP.indexInRange(c + VL, ev);
        FloatVector a00 = FloatVector.zero(SP), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int j = 0; j < nk; j++) {
            int vo = vOff + j * ldv + c;
            FloatVector v0, v1;
            if (whole) {                                                        // no masks: the common case (Ev = 32, 64)
                v0 = FloatVector.fromArray(SP, v, vo);
                v1 = FloatVector.fromArray(SP, v, vo + VL);
            } else {
                v0 = FloatVector.fromArray(SP, v, vo, m0);
                v1 = FloatVector.fromArray(SP, v, vo + VL, m1);
            }
            FloatVector b = FloatVector.broadcast(SP, w[w0 + j]);
            a00 = b.fma(v0, a00);
            a01 = b.fma(v1, a01);
            b = FloatVector.broadcast(SP, w[w1 + j]);
            a10 = b.fma(v0, a10);
            a11 = b.fma(v1, a11);
            b = FloatVector.broadcast(SP, w[w2 + j]);
            a20 = b.fma(v0, a20);
            a21 = b.fma(v1, a21);
            b = FloatVector.broadcast(SP, w[w3 + j]);
            a30 = b.fma(v0, a30);
            a31 = b.fma(v1, a31);
        }
        store(a00, a01, sums[0], out, oOff + c, m0, m1);
        if (rows > 1) store(a10, a11, sums[1], out, oOff + ldo + c, m0, m1);
        if (rows > 2) store(a20, a21, sums[2], out, oOff + 2 * ldo + c, m0, m1);
        if (rows > 3) store(a30, a31, sums[3], out, oOff + 3 * ldo + c, m0, m1);
    }

    private static void store(FloatVector x0, FloatVector x1, float sum, float[] out, int o, VectorMask<Float> m0,
                              VectorMask<Float> m1) {
        if (sum == 0f) sum = 1f;                                                // all keys masked: x is 0
        x0.div(sum).intoArray(out, o, m0);
        x1.div(sum).intoArray(out, o + VL, m1);
    }
}
