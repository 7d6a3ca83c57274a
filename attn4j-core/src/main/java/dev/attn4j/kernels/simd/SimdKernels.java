package dev.attn4j.kernels.simd;

import dev.attn4j.kernels.BinaryOp;
import dev.attn4j.kernels.KernelChecks;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.ScalarKernels;
import dev.attn4j.kernels.UnaryOp;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} on the Vector API (jdk.incubator.vector) with the preferred species (16 floats
 * with AVX-512). Loops run a vector body up to {@code loopBound} and finish the tail with the
 * scalar reference definitions of {@link ScalarKernels}. GEMM is in {@link SimdGemm}.
 *
 * <p>Every operator below is a compile-time constant at its use: the Vector API only intrinsifies
 * {@code lanewise(op)} when C2 sees a constant op, so each op gets its own loop rather than a
 * shared loop taking the op as a parameter.
 */
public final class SimdKernels implements Kernels {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    /** Loaded reflectively by the kernel provider. */
    public SimdKernels() {
    }

    @Override
    public String name() {
        return "simd-" + S.vectorBitSize();
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        KernelChecks.checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        SimdGemm.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, true, null);
    }

    @Override
    public void gemmBiasResidual(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                                 float[] b, int bOff, int ldb, float[] bias, int biasOff, float[] res, int resOff, int ldr,
                                 float[] c, int cOff, int ldc, UnaryOp act) {
        KernelChecks.checkGemmBiasResidual(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, bias, biasOff, res, resOff, ldr,
                c, cOff, ldc);
        SimdGemm.CInit init = bias == null && res == null && act == null ? null
                : new SimdGemm.CInit(bias, biasOff, res, resOff, ldr, act);
        SimdGemm.gemm(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, init == null ? 0f : 1f, c, cOff, ldc, true, init);
    }

    @Override
    public dev.attn4j.kernels.PackedB packB(boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        KernelChecks.checkPackB(transB, k, n, b, bOff, ldb);
        return new dev.attn4j.kernels.PackedB(transB, k, n, SimdGemm.packWhole(transB, b, bOff, ldb, k, n));
    }

    @Override
    public void gemmBiasResidual(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                                 float[] b, int bOff, int ldb, dev.attn4j.kernels.PackedB packed, float[] bias, int biasOff,
                                 float[] res, int resOff, int ldr, float[] c, int cOff, int ldc, UnaryOp act) {
        KernelChecks.checkGemmBiasResidual(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, bias, biasOff, res, resOff, ldr,
                c, cOff, ldc);
        if (packed != null && !packed.matches(transB, k, n)) {
            throw new IllegalArgumentException("gemmBiasResidual: packed B is " + (packed.transB() ? "transposed " : "") + "["
                    + packed.k() + ", " + packed.n() + "], the product's op(B) " + (transB ? "transposed " : "") + "[" + k + ", " + n + "]");
        }
        SimdGemm.CInit init = bias == null && res == null && act == null ? null
                : new SimdGemm.CInit(bias, biasOff, res, resOff, ldr, act);
        SimdGemm.gemm(transA, transB, m, n, k, 1f, a, aOff, lda, b, null, bOff, ldb, init == null ? 0f : 1f, c, cOff, ldc, true, init,
                packed == null ? null : packed.data());
    }

    @Override
    public void gemm16(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       float[] a, int aOff, int lda, java.lang.foreign.MemorySegment b, dev.attn4j.tensor.DType bType,
                       int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        KernelChecks.checkGemm16(transA, transB, m, n, k, a, aOff, lda, b, bType, bOff, ldb, c, cOff, ldc);
        SimdGemm.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, null, b16(b, bType), bOff, ldb, beta, c, cOff, ldc, true, null);
    }

    @Override
    public void gemm16BiasResidual(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                                   java.lang.foreign.MemorySegment b, dev.attn4j.tensor.DType bType, int bOff, int ldb,
                                   float[] bias, int biasOff, float[] res, int resOff, int ldr,
                                   float[] c, int cOff, int ldc, UnaryOp act) {
        KernelChecks.checkGemm16(transA, transB, m, n, k, a, aOff, lda, b, bType, bOff, ldb, c, cOff, ldc);
        KernelChecks.checkBiasResidual(m, n, bias, biasOff, res, resOff, ldr);
        SimdGemm.CInit init = bias == null && res == null && act == null ? null
                : new SimdGemm.CInit(bias, biasOff, res, resOff, ldr, act);
        SimdGemm.gemm(transA, transB, m, n, k, 1f, a, aOff, lda, null, b16(b, bType), bOff, ldb, init == null ? 0f : 1f,
                c, cOff, ldc, true, init);
    }

    @Override
    public void matVecQ(dev.attn4j.tensor.QuantizedMatrix w, float[] x, int xOff, float[] y, int yOff) {
        SimdQuant.matVec(w, x, xOff, y, yOff);
    }

    /**
     * {@inheritDoc} Here, where the GEMM packs (at least four rows and enough work), W's panels
     * are dequantized as the GEMM packs them ({@link SimdGemm#gemmQuantized}): the same products
     * as on a dequantized copy, without writing and re-reading one.
     */
    @Override
    public void gemmQ(int m, float[] a, int aOff, int lda, dev.attn4j.tensor.QuantizedMatrix w, float[] c, int cOff, int ldc) {
        if (!PACK_QUANTIZED || !SimdGemm.quantizedPacks(m, w.rows(), w.cols())) {
            Kernels.super.gemmQ(m, a, aOff, lda, w, c, cOff, ldc);
            return;
        }
        dev.attn4j.kernels.Quants.checkGemmQ(m, a, aOff, lda, w, c, cOff, ldc);
        SimdGemm.gemmQuantized(m, a, aOff, lda, w, c, cOff, ldc, null);
    }

    /** {@inheritDoc} Packed as in {@link #gemmQ}, with the bias, residual and activation of {@link #gemmBiasResidual}. */
    @Override
    public void gemmQBiasResidual(int m, float[] a, int aOff, int lda, dev.attn4j.tensor.QuantizedMatrix w,
                                  float[] bias, int biasOff, float[] res, int resOff, int ldr,
                                  float[] c, int cOff, int ldc, UnaryOp act) {
        if (!PACK_QUANTIZED || !SimdGemm.quantizedPacks(m, w.rows(), w.cols())) {
            Kernels.super.gemmQBiasResidual(m, a, aOff, lda, w, bias, biasOff, res, resOff, ldr, c, cOff, ldc, act);
            return;
        }
        dev.attn4j.kernels.Quants.checkGemmQ(m, a, aOff, lda, w, c, cOff, ldc);
        KernelChecks.checkBiasResidual(m, w.rows(), bias, biasOff, res, resOff, ldr);
        SimdGemm.CInit init = bias == null && res == null && act == null ? null
                : new SimdGemm.CInit(bias, biasOff, res, resOff, ldr, act);
        SimdGemm.gemmQuantized(m, a, aOff, lda, w, c, cOff, ldc, init);
    }

    /** Off ({@code -Dattn4j.quant.packDequantize=false}): quantized products dequantize whole panels first (the default path). */
    static final boolean PACK_QUANTIZED = Boolean.parseBoolean(System.getProperty("attn4j.quant.packDequantize", "true"));

    @Override
    public void dequantizeRows(dev.attn4j.tensor.QuantizedMatrix w, int from, int rows, float[] y, int yOff) {
        if (from < 0 || rows < 0 || from + rows > w.rows() || yOff < 0 || yOff + (long) rows * w.cols() > y.length) {
            throw new IllegalArgumentException("dequantizeRows: rows [" + from + ", " + (from + rows) + ") of " + w.rows()
                    + " into " + y.length + " floats from " + yOff);
        }
        SimdQuant.dequantizeRows(w, from, rows, y, yOff);
    }

    private static SimdGemm.B16 b16(java.lang.foreign.MemorySegment b, dev.attn4j.tensor.DType bType) {
        return new SimdGemm.B16(b, bType == dev.attn4j.tensor.DType.BF16);
    }

    @Override
    public void gemmBatch(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                          float[] a, int aOff, int strideA, int lda, float[] b, int bOff, int strideB, int ldb,
                          float beta, float[] c, int cOff, int strideC, int ldc) {
        KernelChecks.checkGemmBatch(batch, transA, transB, m, n, k, a, aOff, strideA, lda,
                b, bOff, strideB, ldb, c, cOff, strideC, ldc);
        SimdGemm.gemmBatch(batch, transA, transB, m, n, k, alpha, a, aOff, strideA, lda,
                b, bOff, strideB, ldb, beta, c, cOff, strideC, ldc);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        // Four accumulators hide the 4-cycle FMA latency; one would run at a quarter of the speed.
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        int ub4 = n - 4 * L + 1;
        for (; i < ub4; i += 4 * L) {
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
            s1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), s1);
            s2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), s2);
            s3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), s3);
        }
        int ub = S.loopBound(n);
        for (; i < ub; i += L) {
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
        }
        float s = Lanes.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /** {@inheritDoc} Here FMA_CHAINS float vectors of the preferred species (16 lanes with AVX-512). */
    @Override
    public float fmaChains(long iterations) {
        if (iterations < 0) throw new IllegalArgumentException("fmaChains: iterations must be >= 0, got " + iterations);
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0,
                a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        FloatVector m = FloatVector.broadcast(S, FMA_PROBE_M), c = FloatVector.broadcast(S, FMA_PROBE_C);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
            a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
            a8 = a8.fma(m, c); a9 = a9.fma(m, c); a10 = a10.fma(m, c); a11 = a11.fma(m, c);
        }
        return Lanes.sum(a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7))).add(a8.add(a9).add(a10.add(a11))));
    }

    @Override
    public int fmaLanes() {
        return S.length();
    }

    @Override
    public float sum(float[] x, int off, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        int ub4 = n - 4 * L + 1;
        for (; i < ub4; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(S, x, off + i));
            s1 = s1.add(FloatVector.fromArray(S, x, off + i + L));
            s2 = s2.add(FloatVector.fromArray(S, x, off + i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(S, x, off + i + 3 * L));
        }
        int ub = S.loopBound(n);
        for (; i < ub; i += L) s0 = s0.add(FloatVector.fromArray(S, x, off + i));
        float s = Lanes.sum(s0.add(s1).add(s2.add(s3)));
        for (; i < n; i++) s += x[off + i];
        return s;
    }

    @Override
    public void layerNormRow(float[] x, int off, int n, float[] gamma, int gOff, float[] beta, int bOff, float eps) {
        if (n <= 0) return;
        float mean = sum(x, off, n) / n;
        FloatVector mv = FloatVector.broadcast(S, mean), v0 = FloatVector.zero(S), v1 = v0;
        int i = 0, ub = S.loopBound(n);
        for (; i + L < ub; i += 2 * L) {                                        // sum of (x - mean)^2, two chains
            FloatVector d0 = FloatVector.fromArray(S, x, off + i).sub(mv), d1 = FloatVector.fromArray(S, x, off + i + L).sub(mv);
            v0 = d0.fma(d0, v0);
            v1 = d1.fma(d1, v1);
        }
        for (; i < ub; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(mv);
            v0 = d.fma(d, v0);
        }
        float var = Lanes.sum(v0.add(v1));
        for (; i < n; i++) {
            float d = x[off + i] - mean;
            var += d * d;
        }
        float rstd = (float) (1 / Math.sqrt(var / n + eps));
        FloatVector rv = FloatVector.broadcast(S, rstd);
        for (i = 0; i < ub; i += L) {                                           // (x - mean) rstd gamma + beta
            FloatVector y = FloatVector.fromArray(S, x, off + i).sub(mv).mul(rv);
            if (gamma != null) y = y.mul(FloatVector.fromArray(S, gamma, gOff + i));
            if (beta != null) y = y.add(FloatVector.fromArray(S, beta, bOff + i));
            y.intoArray(x, off + i);
        }
        for (; i < n; i++) {
            float y = (x[off + i] - mean) * rstd;
            if (gamma != null) y *= gamma[gOff + i];
            if (beta != null) y += beta[bOff + i];
            x[off + i] = y;
        }
    }

    @Override
    public float max(float[] x, int off, int n) {
        // lanewise MAX has Math.max semantics, so a NaN anywhere makes the result NaN.
        FloatVector m0 = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY), m1 = m0, m2 = m0, m3 = m0;
        int i = 0;
        int ub4 = n - 4 * L + 1;
        for (; i < ub4; i += 4 * L) {
            m0 = m0.max(FloatVector.fromArray(S, x, off + i));
            m1 = m1.max(FloatVector.fromArray(S, x, off + i + L));
            m2 = m2.max(FloatVector.fromArray(S, x, off + i + 2 * L));
            m3 = m3.max(FloatVector.fromArray(S, x, off + i + 3 * L));
        }
        int ub = S.loopBound(n);
        for (; i < ub; i += L) m0 = m0.max(FloatVector.fromArray(S, x, off + i));
        float m = m0.max(m1).max(m2.max(m3)).reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int i = 0;
        int ub = S.loopBound(n);
        for (; i < ub; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(av, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void maskedScale(long[] mask, int bit0, float[] x, int xOff, float scale, float[] out, int outOff, int n) {
        int i = 0;
        if ((bit0 & (L - 1)) == 0) {                                            // a vector's bits never straddle two words
            FloatVector zero = FloatVector.zero(S);
            int ub = S.loopBound(n);
            for (; i < ub; i += L) {
                int j = bit0 + i;
                jdk.incubator.vector.VectorMask<Float> keep = jdk.incubator.vector.VectorMask.fromLong(S, mask[j >>> 6] >>> (j & 63));
                zero.blend(FloatVector.fromArray(S, x, xOff + i).mul(scale), keep).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) {
            int j = bit0 + i;
            out[outOff + i] = (mask[j >>> 6] & (1L << j)) != 0 ? x[xOff + i] * scale : 0f;
        }
    }

    @Override
    public void normBackwardRow(float[] x, int xOff, float[] g, int gOff, float mean, float rstd, float[] w, int wOff,
                                boolean rms, float[] dx, int dxOff, float[] dw, float[] db, int n) {
        // pass 1: the row's sums of gy and gy * xhat, and the weight and bias gradients
        FloatVector mv = FloatVector.broadcast(S, mean), rv = FloatVector.broadcast(S, rstd);
        FloatVector s1 = FloatVector.zero(S), s2 = FloatVector.zero(S);
        int i = 0;
        int ub = S.loopBound(n);
        for (; i < ub; i += L) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + i).sub(mv).mul(rv);
            FloatVector gi = FloatVector.fromArray(S, g, gOff + i);
            FloatVector gy = w == null ? gi : gi.mul(FloatVector.fromArray(S, w, wOff + i));
            s1 = s1.add(gy);
            s2 = gy.fma(xhat, s2);
            if (dw != null) gi.fma(xhat, FloatVector.fromArray(S, dw, i)).intoArray(dw, i);
            if (db != null) gi.add(FloatVector.fromArray(S, db, i)).intoArray(db, i);
        }
        double m1 = s1.reduceLanes(VectorOperators.ADD), m2 = s2.reduceLanes(VectorOperators.ADD);
        for (int j = i; j < n; j++) {
            float xhat = (x[xOff + j] - mean) * rstd;
            float gj = g[gOff + j];
            float gy = w == null ? gj : gj * w[wOff + j];
            m1 += gy;
            m2 += (double) gy * xhat;
            if (dw != null) dw[j] += gj * xhat;
            if (db != null) db[j] += gj;
        }
        float a = rms ? 0f : (float) (m1 / n), b = (float) (m2 / n);
        // pass 2: dx = rstd (gy - a - xhat b)
        FloatVector av = FloatVector.broadcast(S, a), bv = FloatVector.broadcast(S, b);
        for (i = 0; i < ub; i += L) {
            FloatVector xhat = FloatVector.fromArray(S, x, xOff + i).sub(mv).mul(rv);
            FloatVector gi = FloatVector.fromArray(S, g, gOff + i);
            FloatVector gy = w == null ? gi : gi.mul(FloatVector.fromArray(S, w, wOff + i));
            gy.sub(av).sub(xhat.mul(bv)).mul(rv).intoArray(dx, dxOff + i);
        }
        for (; i < n; i++) {
            float xhat = (x[xOff + i] - mean) * rstd;
            float gy = w == null ? g[gOff + i] : g[gOff + i] * w[wOff + i];
            dx[dxOff + i] = rstd * (gy - a - xhat * b);
        }
    }

    @Override
    public void unary(UnaryOp op, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        int ub = S.loopBound(n);
        switch (op) {
            case NEG -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, x, xOff + i).neg().intoArray(y, yOff + i);
            }
            case EXP -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, x, xOff + i).lanewise(VectorOperators.EXP).intoArray(y, yOff + i);
            }
            case LOG -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, x, xOff + i).lanewise(VectorOperators.LOG).intoArray(y, yOff + i);
            }
            case TANH -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, x, xOff + i).lanewise(VectorOperators.TANH).intoArray(y, yOff + i);
            }
            case SQRT -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, x, xOff + i).sqrt().intoArray(y, yOff + i);
            }
            case RELU -> i = reluLoop(x, xOff, y, yOff, ub);
            // The longer bodies get their own loop methods: in one big switch C2 can run out of
            // inlining budget, and a Vector API call left out of line boxes every vector.
            case GELU_ERF -> i = geluErfLoop(x, xOff, y, yOff, ub);
            case GELU_TANH -> i = geluTanhLoop(x, xOff, y, yOff, ub);
            case SILU -> i = siluLoop(x, xOff, y, yOff, ub);
            case SIGMOID -> i = sigmoidLoop(x, xOff, y, yOff, ub);
            case ABS -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, x, xOff + i).abs().intoArray(y, yOff + i);
            }
            case SQUARE -> {
                for (; i < ub; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                    v.mul(v).intoArray(y, yOff + i);
                }
            }
            case RECIPROCAL -> {
                for (; i < ub; i += L) FloatVector.broadcast(S, 1f).div(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
            }
        }
        for (; i < n; i++) y[yOff + i] = ScalarKernels.apply(op, x[xOff + i]);
    }

    @Override
    public void geluErfGrad(float[] g, int gOff, float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        int ub = S.loopBound(n);
        FloatVector half = FloatVector.broadcast(S, 0.5f), minusHalf = FloatVector.broadcast(S, -0.5f);
        FloatVector invSqrt2Pi = FloatVector.broadcast(S, (float) (1 / Math.sqrt(2 * Math.PI)));
        for (int i = 0; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            var zero = v.compare(VectorOperators.EQ, 0f);
            FloatVector phi = FloatVector.fromArray(S, y, yOff + i).div(v).blend(half, zero);        // Phi(x) = gelu(x) / x
            FloatVector pdf = VectorMath.expNonPositive(v.mul(v).mul(minusHalf)).mul(invSqrt2Pi);   // phi(x), e^(-x^2/2) <= 1
            FloatVector.fromArray(S, g, gOff + i).mul(v.fma(pdf, phi)).intoArray(out, outOff + i);
        }
        if (ub < n) Kernels.super.geluErfGrad(g, gOff + ub, x, xOff + ub, y, yOff + ub, out, outOff + ub, n - ub);
    }

    private static int geluErfLoop(float[] x, int xOff, float[] y, int yOff, int ub) {
        int i = 0;
        for (; i < ub; i += L) geluErf(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        return i;
    }

    private static int geluTanhLoop(float[] x, int xOff, float[] y, int yOff, int ub) {
        int i = 0;
        for (; i < ub; i += L) geluTanh(FloatVector.fromArray(S, x, xOff + i)).intoArray(y, yOff + i);
        return i;
    }

    private static int siluLoop(float[] x, int xOff, float[] y, int yOff, int ub) {
        int i = 0;
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(y, yOff + i);
        }
        return i;
    }

    private static int sigmoidLoop(float[] x, int xOff, float[] y, int yOff, int ub) {
        int i = 0;
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            one.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(y, yOff + i);
        }
        return i;
    }

    /** x > 0 ? x : 0, as the reference: NaN and -0 give +0 (so not max(x, 0), which keeps NaN). */
    private static int reluLoop(float[] x, int xOff, float[] y, int yOff, int ub) {
        int i = 0;
        FloatVector zero = FloatVector.zero(S);
        for (; i < ub; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i);
            zero.blend(v, v.compare(VectorOperators.GT, zero)).intoArray(y, yOff + i);
        }
        return i;
    }

    /**
     * GELU, tanh form. 0.5 x (1 + tanh(u)) equals x * sigmoid(2u) = x / (1 + exp(-2u)); the second
     * form has no cancellation for x << 0 where 1 + tanh(u) loses all digits in float.
     */
    static FloatVector geluTanh(FloatVector x) {
        // u = sqrt(2/pi) * (x + 0.044715 x^3) = sqrt(2/pi) * x * (1 + 0.044715 x^2)
        FloatVector u2 = x.mul(x).fma(0.044715f * 2f * (float) GELU_C, 2f * (float) GELU_C).mul(x);  // 2u
        return x.div(u2.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    private static final double GELU_C = Math.sqrt(2.0 / Math.PI);

    /** 1/sqrt(2) in float. */
    private static final float INV_SQRT2 = (float) (1.0 / Math.sqrt(2.0));
    /*
     * erf(z) = z P(z^2) / Q(z^2) on |z| <= 4 (erf(4) is 1 in float), P of degree 6 and Q of degree
     * 4 with Q(0) = 1, fitted to mpmath's erf (iteratively reweighted least squares towards minimax
     * absolute error): 5.8e-8 in exact arithmetic, about 1 ulp of erf's values near 1 in float.
     */
    private static final float ERF_P0 = 1.128378749e+00f, ERF_P1 = 2.137815207e-01f, ERF_P2 = 5.241158232e-02f,
            ERF_P3 = 4.283760209e-03f, ERF_P4 = 1.551265304e-04f, ERF_P5 = -1.985071549e-06f, ERF_P6 = 1.916013836e-08f;
    private static final float ERF_Q1 = 5.227868557e-01f, ERF_Q2 = 1.207313389e-01f, ERF_Q3 = 1.553554554e-02f,
            ERF_Q4 = 1.095123589e-03f;

    /**
     * GELU, erf form, as torch and ONNX Runtime evaluate it in float: 0.5 x (1 + erf(x / sqrt2)),
     * with erf from the rational approximation above (two short FMA chains and one division).
     * Where GELU is tiny (x below about -1) the sum 1 + erf cancels, so the error there is
     * absolute, as in torch's own float GELU. Measured by scripts/fit-erf.py over [-12, 10]: at
     * most 2.4e-7 |x| absolute, and 4.5e-7 relative for x above -1 (mostly the float rounding of
     * the two chains at large z). The erfc form we had before, exp(-z^2) erfcx(z) with the
     * rounding of z^2 recovered, kept the relative accuracy in the far negative tail, but cost
     * four times as much per element (it was about 4% of BERT's forward).
     */
    static FloatVector geluErf(FloatVector x) {
        FloatVector z = x.mul(INV_SQRT2);
        // clamped by compares and blends (FloatVector.min/max keep Math's NaN and -0 rules and
        // compile to six instructions each); NaN compares false and stays NaN
        z = z.blend(4f, z.compare(VectorOperators.GT, 4f));
        z = z.blend(-4f, z.compare(VectorOperators.LT, -4f));
        FloatVector u = z.mul(z);
        FloatVector p = u.fma(ERF_P6, ERF_P5).fma(u, FloatVector.broadcast(S, ERF_P4)).fma(u, FloatVector.broadcast(S, ERF_P3))
                .fma(u, FloatVector.broadcast(S, ERF_P2)).fma(u, FloatVector.broadcast(S, ERF_P1))
                .fma(u, FloatVector.broadcast(S, ERF_P0));
        FloatVector q = u.fma(ERF_Q4, ERF_Q3).fma(u, FloatVector.broadcast(S, ERF_Q2)).fma(u, FloatVector.broadcast(S, ERF_Q1))
                .fma(u, FloatVector.broadcast(S, 1f));
        FloatVector erf = z.mul(p).div(q);
        // Rounding can put |erf| an ulp above 1 near the clamp; 1 + erf < 0 would then give x << 0 a
        // positive GELU growing with |x|. Clamped, it is exactly 0 below x = -4 sqrt2.
        erf = erf.blend(1f, erf.compare(VectorOperators.GT, 1f));
        erf = erf.blend(-1f, erf.compare(VectorOperators.LT, -1f));
        FloatVector halfX = x.mul(0.5f);
        return erf.fma(halfX, halfX);                                          // 0.5 x + 0.5 x erf
    }

    @Override
    public void binary(BinaryOp op, float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        int i = 0;
        int ub = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).add(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case SUB -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).sub(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case MUL -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case DIV -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).div(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case POW -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).lanewise(VectorOperators.POW, FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case MAX -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).max(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case MIN -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).min(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) out[outOff + i] = ScalarKernels.apply(op, a[aOff + i], b[bOff + i]);
    }

    @Override
    public void binaryScalar(BinaryOp op, float[] a, int aOff, float s, float[] out, int outOff, int n) {
        FloatVector sv = FloatVector.broadcast(S, s);
        int i = 0;
        int ub = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).add(sv).intoArray(out, outOff + i);
            }
            case SUB -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).sub(sv).intoArray(out, outOff + i);
            }
            case MUL -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).mul(sv).intoArray(out, outOff + i);
            }
            case DIV -> {
                // Division, not multiplication by 1/s: the reference divides, and 1/s rounds.
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).div(sv).intoArray(out, outOff + i);
            }
            case POW -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).lanewise(VectorOperators.POW, sv).intoArray(out, outOff + i);
            }
            case MAX -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).max(sv).intoArray(out, outOff + i);
            }
            case MIN -> {
                for (; i < ub; i += L) FloatVector.fromArray(S, a, aOff + i).min(sv).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) out[outOff + i] = ScalarKernels.apply(op, a[aOff + i], s);
    }

    @Override
    public void scalarBinary(BinaryOp op, float s, float[] b, int bOff, float[] out, int outOff, int n) {
        FloatVector sv = FloatVector.broadcast(S, s);
        int i = 0;
        int ub = S.loopBound(n);
        switch (op) {
            case ADD -> {
                for (; i < ub; i += L) sv.add(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case SUB -> {
                for (; i < ub; i += L) sv.sub(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case MUL -> {
                for (; i < ub; i += L) sv.mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case DIV -> {
                for (; i < ub; i += L) sv.div(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case POW -> {
                for (; i < ub; i += L) sv.lanewise(VectorOperators.POW, FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case MAX -> {
                for (; i < ub; i += L) sv.max(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
            case MIN -> {
                for (; i < ub; i += L) sv.min(FloatVector.fromArray(S, b, bOff + i)).intoArray(out, outOff + i);
            }
        }
        for (; i < n; i++) out[outOff + i] = ScalarKernels.apply(op, s, b[bOff + i]);
    }

    @Override
    public void softmax(float[] x, int xOff, float[] y, int yOff, int n) {
        float m = max(x, xOff, n);
        float s = expShiftedSum(x, xOff, y, yOff, n, m, true);
        // One division, then multiplications: the reference does the same (y *= 1/s).
        float inv = 1f / s;
        FloatVector iv = FloatVector.broadcast(S, inv);
        int i = 0;
        int ub = S.loopBound(n);
        for (; i < ub; i += L) FloatVector.fromArray(S, y, yOff + i).mul(iv).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] *= inv;
    }

    @Override
    public void logSoftmax(float[] x, int xOff, float[] y, int yOff, int n) {
        float m = max(x, xOff, n);
        float s = expShiftedSum(x, xOff, y, yOff, n, m, false);
        float lse = m + (float) Math.log(s);
        FloatVector lv = FloatVector.broadcast(S, lse);
        int i = 0;
        int ub = S.loopBound(n);
        for (; i < ub; i += L) FloatVector.fromArray(S, x, xOff + i).sub(lv).intoArray(y, yOff + i);
        for (; i < n; i++) y[yOff + i] = x[xOff + i] - lse;
    }

    /** Sum of exp(x[i] - m), storing each term in y when {@code store}. An all -Infinity row gives NaN. */
    private static float expShiftedSum(float[] x, int xOff, float[] y, int yOff, int n, float m, boolean store) {
        FloatVector mv = FloatVector.broadcast(S, m);
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int i = 0;
        int ub2 = n - 2 * L + 1;
        for (; i < ub2; i += 2 * L) {
            FloatVector e0 = VectorMath.expNonPositive(FloatVector.fromArray(S, x, xOff + i).sub(mv));
            FloatVector e1 = VectorMath.expNonPositive(FloatVector.fromArray(S, x, xOff + i + L).sub(mv));
            if (store) {
                e0.intoArray(y, yOff + i);
                e1.intoArray(y, yOff + i + L);
            }
            s0 = s0.add(e0);
            s1 = s1.add(e1);
        }
        int ub = S.loopBound(n);
        for (; i < ub; i += L) {
            FloatVector e0 = VectorMath.expNonPositive(FloatVector.fromArray(S, x, xOff + i).sub(mv));
            if (store) e0.intoArray(y, yOff + i);
            s0 = s0.add(e0);
        }
        float s = Lanes.sum(s0.add(s1));
        for (; i < n; i++) {
            float e = (float) Math.exp(x[xOff + i] - m);
            if (store) y[yOff + i] = e;
            s += e;
        }
        return s;
    }

    @Override
    public void attentionHead(int L, int S, int E, int Ev, float scale, float[] q, int qOff, int ldq, float[] k, int kOff,
                              int ldk, float[] v, int vOff, int ldv, float[] bias, int biasOff, int biasLd, float[] out,
                              int outOff, int ldo, float[] scratch) {
        KernelChecks.checkAttentionHead(L, S, E, Ev, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, bias,
                biasOff, biasLd, out, outOff, ldo, scratch);
        SimdAttention.head(L, S, E, Ev, scale, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, bias, biasOff, biasLd, out, outOff,
                ldo, scratch);
    }
}
