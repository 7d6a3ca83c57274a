package dev.attn4j.attention;

import dev.attn4j.kernels.BinaryOp;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.UnaryOp;
import dev.attn4j.tensor.DType;

import java.util.Arrays;

/**
 * The row and tile primitives the fused attention kernel is written in, for one element type:
 * F32 goes to {@link Kernels} (SIMD and the packed GEMM when available), F64 is plain loops (used
 * for float64 gradient checks of the very same algorithm). Arrays are passed as Object (a
 * float[] or double[]) so the algorithm is written once; calls are per row or per tile.
 */
abstract sealed class TileOps permits TileOps.F32, TileOps.F64 {

    static TileOps of(DType dt) {
        return dt == DType.F32 ? new F32() : new F64();
    }

    abstract Object alloc(int n);

    /** C = alpha op(A) op(B) + beta C, row-major, as {@link Kernels#gemm}. */
    abstract void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha, Object a, int aOff, int lda,
                       Object b, int bOff, int ldb, double beta, Object c, int cOff, int ldc);

    /** Maximum of x[off .. off+n) (NaN if any is NaN). */
    abstract double max(Object x, int off, int n);

    /** x = exp(x - shift) in place; returns the sum of the new values. */
    abstract double expShiftSum(Object x, int off, int n, double shift);

    /** x *= f. */
    abstract void scale(Object x, int off, int n, double f);

    abstract void fill(Object x, int off, int n, double v);

    /** x[i] += b[bOff + i * bStride]. */
    abstract void addStrided(Object x, int off, int n, Object b, int bOff, int bStride);

    /** Sum of a[i] * b[i], accumulated in double. */
    abstract double dot(Object a, int aOff, Object b, int bOff, int n);

    /** dp = p * (dp - d), the softmax backward of one row. */
    abstract void softmaxGradRow(Object p, Object dp, int off, int n, double d);

    /** dst = src * f. */
    abstract void scaleInto(Object src, int sOff, Object dst, int dOff, int n, double f);

    static final class F32 extends TileOps {
        private final Kernels k = Kernels.get();

        @Override
        Object alloc(int n) {
            return new float[n];
        }

        @Override
        void gemm(boolean transA, boolean transB, int m, int n, int kk, double alpha, Object a, int aOff, int lda,
                  Object b, int bOff, int ldb, double beta, Object c, int cOff, int ldc) {
            if (m == 0 || n == 0) return;
            if (kk == 0) {
                if (beta == 0) for (int i = 0; i < m; i++) Arrays.fill((float[]) c, cOff + i * ldc, cOff + i * ldc + n, 0f);
                else if (beta != 1) for (int i = 0; i < m; i++) scale(c, cOff + i * ldc, n, beta);
                return;
            }
            float[] bb = (float[]) b;
            if (transB) {
                // B is stored [n, k]: hand the kernel a [k, n] copy, whose rows it can stream (a tile of at most
                // blockK x E, small next to the m x n x k multiply)
                float[] t = transposeBuffer(n * kk);
                for (int j = 0; j < n; j++) {
                    int src = bOff + j * ldb;
                    for (int p = 0; p < kk; p++) t[p * n + j] = bb[src + p];
                }
                bb = t;
                bOff = 0;
                ldb = n;
            }
            k.gemm(transA, false, m, n, kk, (float) alpha, (float[]) a, aOff, lda, bb, bOff, ldb, (float) beta,
                    (float[]) c, cOff, ldc);
        }

        private final ThreadLocal<float[][]> transposed = ThreadLocal.withInitial(() -> new float[1][0]);

        private float[] transposeBuffer(int n) {
            float[][] holder = transposed.get();
            if (holder[0].length < n) holder[0] = new float[n];
            return holder[0];
        }

        @Override
        double max(Object x, int off, int n) {
            return k.max((float[]) x, off, n);
        }

        @Override
        double expShiftSum(Object x, int off, int n, double shift) {
            float[] a = (float[]) x;
            k.binaryScalar(BinaryOp.SUB, a, off, (float) shift, a, off, n);
            k.unary(UnaryOp.EXP, a, off, a, off, n);
            return k.sum(a, off, n);
        }

        @Override
        void scale(Object x, int off, int n, double f) {
            float[] a = (float[]) x;
            k.binaryScalar(BinaryOp.MUL, a, off, (float) f, a, off, n);
        }

        @Override
        void fill(Object x, int off, int n, double v) {
            Arrays.fill((float[]) x, off, off + n, (float) v);
        }

        @Override
        void addStrided(Object x, int off, int n, Object b, int bOff, int bStride) {
            float[] a = (float[]) x, bb = (float[]) b;
            if (bStride == 1) {
                k.binary(BinaryOp.ADD, a, off, bb, bOff, a, off, n);
            } else if (bStride == 0) {
                k.binaryScalar(BinaryOp.ADD, a, off, bb[bOff], a, off, n);
            } else {
                for (int i = 0; i < n; i++) a[off + i] += bb[bOff + i * bStride];
            }
        }

        @Override
        double dot(Object a, int aOff, Object b, int bOff, int n) {
            float[] x = (float[]) a, y = (float[]) b;
            double s = 0;
            for (int i = 0; i < n; i++) s += (double) x[aOff + i] * y[bOff + i];
            return s;
        }

        @Override
        void softmaxGradRow(Object p, Object dp, int off, int n, double d) {
            float[] pa = (float[]) p, g = (float[]) dp;
            k.binaryScalar(BinaryOp.SUB, g, off, (float) d, g, off, n);
            k.binary(BinaryOp.MUL, g, off, pa, off, g, off, n);
        }

        @Override
        void scaleInto(Object src, int sOff, Object dst, int dOff, int n, double f) {
            k.binaryScalar(BinaryOp.MUL, (float[]) src, sOff, (float) f, (float[]) dst, dOff, n);
        }
    }

    static final class F64 extends TileOps {
        @Override
        Object alloc(int n) {
            return new double[n];
        }

        @Override
        void gemm(boolean transA, boolean transB, int m, int n, int kk, double alpha, Object a, int aOff, int lda,
                  Object b, int bOff, int ldb, double beta, Object c, int cOff, int ldc) {
            double[] x = (double[]) a, y = (double[]) b, z = (double[]) c;
            double[] row = new double[n];
            for (int i = 0; i < m; i++) {
                Arrays.fill(row, 0);
                for (int p = 0; p < kk; p++) {
                    double aip = transA ? x[aOff + p * lda + i] : x[aOff + i * lda + p];
                    for (int j = 0; j < n; j++) row[j] += aip * (transB ? y[bOff + j * ldb + p] : y[bOff + p * ldb + j]);
                }
                int ci = cOff + i * ldc;
                for (int j = 0; j < n; j++) z[ci + j] = beta == 0 ? alpha * row[j] : alpha * row[j] + beta * z[ci + j];
            }
        }

        @Override
        double max(Object x, int off, int n) {
            double[] a = (double[]) x;
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                double v = a[off + i];
                if (Double.isNaN(v)) return v;
                if (v > m) m = v;
            }
            return m;
        }

        @Override
        double expShiftSum(Object x, int off, int n, double shift) {
            double[] a = (double[]) x;
            double s = 0;
            for (int i = 0; i < n; i++) s += a[off + i] = Math.exp(a[off + i] - shift);
            return s;
        }

        @Override
        void scale(Object x, int off, int n, double f) {
            double[] a = (double[]) x;
            for (int i = 0; i < n; i++) a[off + i] *= f;
        }

        @Override
        void fill(Object x, int off, int n, double v) {
            Arrays.fill((double[]) x, off, off + n, v);
        }

        @Override
        void addStrided(Object x, int off, int n, Object b, int bOff, int bStride) {
            double[] a = (double[]) x, bb = (double[]) b;
            for (int i = 0; i < n; i++) a[off + i] += bb[bOff + i * bStride];
        }

        @Override
        double dot(Object a, int aOff, Object b, int bOff, int n) {
            double[] x = (double[]) a, y = (double[]) b;
            double s = 0;
            for (int i = 0; i < n; i++) s += x[aOff + i] * y[bOff + i];
            return s;
        }

        @Override
        void softmaxGradRow(Object p, Object dp, int off, int n, double d) {
            double[] pa = (double[]) p, g = (double[]) dp;
            for (int i = 0; i < n; i++) g[off + i] = pa[off + i] * (g[off + i] - d);
        }

        @Override
        void scaleInto(Object src, int sOff, Object dst, int dOff, int n, double f) {
            double[] s = (double[]) src, d = (double[]) dst;
            for (int i = 0; i < n; i++) d[dOff + i] = s[sOff + i] * f;
        }
    }
}
