package dev.attn4j.kernels;

/**
 * The F32 compute primitives everything else is built from, over contiguous runs of heap float
 * arrays ({@code array, offset, length}). Two implementations: {@link ScalarKernels}, the readable
 * reference, and {@code dev.attn4j.kernels.simd.SimdKernels} (jdk.incubator.vector), chosen once
 * at start-up by {@link #get()}. Callers check shapes; kernels trust their arguments.
 */
public interface Kernels {

    /** The implementation in use: SIMD when the Vector API is available, else scalar. */
    static Kernels get() {
        return KernelProvider.instance();
    }

    /** The scalar reference implementation, always available. */
    static Kernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    String name();

    /**
     * Row-major GEMM: {@code C = alpha * op(A) * op(B) + beta * C}, op(A) [m, k], op(B) [k, n],
     * C [m, n]. With {@code transA} A is stored [k, m] (leading dimension lda), else [m, k];
     * likewise B. When beta is 0, C is not read (NaN in C does not propagate).
     */
    void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
              float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
              float beta, float[] c, int cOff, int ldc);

    /**
     * {@code C = act(op(A) op(B) + bias + residual)} for a linear layer: bias [n] (at biasOff) added
     * to every row, residual [m, n] (at resOff, row stride ldr) added element by element, then the
     * activation {@code act} element by element; any of the three may be null. The same as writing
     * bias + residual into C, calling {@link #gemm} with alpha = beta = 1 and then {@link #unary},
     * which is what the default does; the SIMD GEMM instead writes each block of C just before its
     * first product and applies act to it right after its last, while the block is in cache.
     */
    default void gemmBiasResidual(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                                  float[] b, int bOff, int ldb, float[] bias, int biasOff, float[] res, int resOff, int ldr,
                                  float[] c, int cOff, int ldc, UnaryOp act) {
        KernelChecks.checkGemmBiasResidual(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, bias, biasOff, res, resOff, ldr,
                c, cOff, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float v = bias == null ? 0f : bias[biasOff + j];
                if (res != null) v += res[resOff + i * ldr + j];
                c[cOff + i * ldc + j] = v;
            }
        }
        gemm(transA, transB, m, n, k, 1f, a, aOff, lda, b, bOff, ldb, 1f, c, cOff, ldc);
        if (act != null) for (int i = 0; i < m; i++) unary(act, c, cOff + i * ldc, c, cOff + i * ldc, n);
    }

    /**
     * op(B) [k, n] (B at bOff, leading dimension ldb, stored [n, k] when {@code transB}) packed once
     * for {@link #gemmBiasResidual(boolean, boolean, int, int, int, float[], int, int, float[], int, int, PackedB, float[], int, float[], int, int, float[], int, int, UnaryOp)},
     * or null where this implementation gains nothing by it (the default: the reference kernels do
     * not pack).
     */
    default PackedB packB(boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        return null;
    }

    /**
     * {@link #gemmBiasResidual} with op(B) also given packed ({@code packed}, from {@link #packB} on
     * the same B, unchanged since; may be null): bit for bit the same result, without packing B in
     * the call. The default ignores {@code packed}.
     */
    default void gemmBiasResidual(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                                  float[] b, int bOff, int ldb, PackedB packed, float[] bias, int biasOff, float[] res,
                                  int resOff, int ldr, float[] c, int cOff, int ldc, UnaryOp act) {
        gemmBiasResidual(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, bias, biasOff, res, resOff, ldr, c, cOff, ldc, act);
    }

    /**
     * {@link #gemm} with B in 16 bits: op(B)'s storage holds little-endian {@code bType} (BF16 or
     * F16) elements in {@code b} (a heap {@code short[]} wrapped as a segment, or a memory-mapped
     * file), element index {@code bOff}, leading dimension {@code ldb}, all in elements. The
     * result is bit for bit {@link #gemm} on the same B widened to F32 (widening is exact): the
     * default widens the addressed span into a float array first; the SIMD GEMM widens while it
     * packs B panels, and for matrix-vector shapes (m = 1, a decode step) while it streams B, so
     * B is read in 16 bits from memory.
     */
    default void gemm16(boolean transA, boolean transB, int m, int n, int k, float alpha,
                        float[] a, int aOff, int lda, java.lang.foreign.MemorySegment b, dev.attn4j.tensor.DType bType,
                        int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        KernelChecks.checkGemm16(transA, transB, m, n, k, a, aOff, lda, b, bType, bOff, ldb, c, cOff, ldc);
        float[] wide = KernelChecks.widenSpan(b, bType, bOff, transB ? n : k, transB ? k : n, ldb);
        gemm(transA, transB, m, n, k, alpha, a, aOff, lda, wide, 0, ldb, beta, c, cOff, ldc);
    }

    /** {@link #gemmBiasResidual} with B in 16 bits, as {@link #gemm16}. */
    default void gemm16BiasResidual(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                                    java.lang.foreign.MemorySegment b, dev.attn4j.tensor.DType bType, int bOff, int ldb,
                                    float[] bias, int biasOff, float[] res, int resOff, int ldr,
                                    float[] c, int cOff, int ldc, UnaryOp act) {
        KernelChecks.checkGemm16(transA, transB, m, n, k, a, aOff, lda, b, bType, bOff, ldb, c, cOff, ldc);
        float[] wide = KernelChecks.widenSpan(b, bType, bOff, transB ? n : k, transB ? k : n, ldb);
        gemmBiasResidual(transA, transB, m, n, k, a, aOff, lda, wide, 0, ldb, bias, biasOff, res, resOff, ldr, c, cOff, ldc, act);
    }

    /**
     * The matrix-vector product of a decode step with block-quantized weights: {@code y[r] = sum_c
     * W[r, c] * x[c]} for W [rows, cols] ({@link dev.attn4j.tensor.QuantizedMatrix}), x at xOff
     * (cols values), y at yOff (rows values), rows split over {@link Parallel}. The default is the
     * scalar reference ({@link Quants#dot} per row); the SIMD one reads each block once, widening its
     * 8- or 4-bit values in vector registers. The two agree to float rounding (different sum order).
     */
    default void matVecQ(dev.attn4j.tensor.QuantizedMatrix w, float[] x, int xOff, float[] y, int yOff) {
        Quants.matVec(w, x, xOff, y, yOff);
    }

    /**
     * A linear layer's product with block-quantized weights: {@code C[m, n] = A[m, k] W^T} for W
     * [n, k] ({@link dev.attn4j.tensor.QuantizedMatrix}), A row-major at aOff (row stride lda), C
     * row-major at cOff (row stride ldc), C overwritten. Fewer than {@link Quants#GEMM_MIN_ROWS}
     * rows (decode) run {@link #matVecQ} row by row, reading the blocks as they are; more rows
     * (prefill) dequantize W a panel of rows at a time into F32 and run {@link #gemm} on each
     * panel, so the dequantization is paid once per panel, not once per row of A.
     */
    default void gemmQ(int m, float[] a, int aOff, int lda, dev.attn4j.tensor.QuantizedMatrix w, float[] c, int cOff, int ldc) {
        gemmQBiasResidual(m, a, aOff, lda, w, null, 0, null, 0, 0, c, cOff, ldc, null);
    }

    /**
     * {@link #gemmQ} for a linear layer: {@code C = act(A W^T + bias + residual)} as
     * {@link #gemmBiasResidual} (bias [n] at biasOff, residual [m, n] at resOff with row stride ldr,
     * act; any may be null). Fewer than {@link Quants#GEMM_MIN_ROWS} rows run {@link #matVecQ} per
     * row and add the rest after; more rows dequantize a panel of W's rows at a time
     * ({@link #dequantizeRows}) and run {@link #gemmBiasResidual} on it (W^T as a transposed B),
     * so the result is that of the F32 path on the dequantized weights up to the sum order of the
     * matrix-vector rows.
     */
    default void gemmQBiasResidual(int m, float[] a, int aOff, int lda, dev.attn4j.tensor.QuantizedMatrix w,
                                   float[] bias, int biasOff, float[] res, int resOff, int ldr,
                                   float[] c, int cOff, int ldc, UnaryOp act) {
        Quants.checkGemmQ(m, a, aOff, lda, w, c, cOff, ldc);
        int n = w.rows(), k = w.cols();
        if (bias != null && (biasOff < 0 || (long) biasOff + n > bias.length)) {
            throw new IllegalArgumentException("gemmQBiasResidual: bias needs " + n + " values from offset " + biasOff + ", has " + bias.length);
        }
        if (res != null && m > 0 && (ldr < n || resOff < 0 || resOff + (long) (m - 1) * ldr + n > res.length)) {
            throw new IllegalArgumentException("gemmQBiasResidual: residual [" + m + ", " + n + "] (ldr " + ldr + ") from offset "
                    + resOff + " exceeds its array of " + res.length);
        }
        if (m == 0 || n == 0) return;
        if (m < Quants.GEMM_MIN_ROWS) {
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc;
                matVecQ(w, a, aOff + i * lda, c, ci);
                if (bias != null) binary(BinaryOp.ADD, c, ci, bias, biasOff, c, ci, n);
                if (res != null) binary(BinaryOp.ADD, c, ci, res, resOff + i * ldr, c, ci, n);
                if (act != null) unary(act, c, ci, c, ci, n);
            }
            return;
        }
        int panel = Quants.panelRows(k, n);
        float[] wp = Quants.panelBuffer(panel * k);
        for (int j0 = 0; j0 < n; j0 += panel) {
            int rows = Math.min(panel, n - j0);
            dequantizeRows(w, j0, rows, wp, 0);                                   // W[j0 : j0 + rows, :] as F32 [rows, k]
            gemmBiasResidual(false, true, m, rows, k, a, aOff, lda, wp, 0, k, bias, biasOff + j0, res, resOff + j0, ldr,
                    c, cOff + j0, ldc, act);
        }
    }

    /**
     * Rows {@code from .. from + rows - 1} of block-quantized W dequantized to F32, row-major into
     * y[yOff ...] (row stride w.cols()), rows split over {@link Parallel}. The default runs
     * {@link Quants#dequantizeRow}; the SIMD one widens Q8_0 / Q4_0 blocks in vector registers
     * (the same values: one float product per weight).
     */
    default void dequantizeRows(dev.attn4j.tensor.QuantizedMatrix w, int from, int rows, float[] y, int yOff) {
        int k = w.cols();
        long rb = w.rowBytes();
        if (from < 0 || rows < 0 || from + rows > w.rows() || yOff < 0 || yOff + (long) rows * k > y.length) {
            throw new IllegalArgumentException("dequantizeRows: rows [" + from + ", " + (from + rows) + ") of " + w.rows()
                    + " into " + y.length + " floats from " + yOff);
        }
        Parallel.forRange(rows, Quants.rowGrain(k), (r0, r1) -> {
            for (int r = r0; r < r1; r++) Quants.dequantizeRow(w.type(), w.data(), (from + r) * rb, y, yOff + r * k, k);
        });
    }

    /**
     * Strided batched GEMM: for i in [0, batch), {@link #gemm} on the matrices starting at
     * {@code aOff + i * strideA}, {@code bOff + i * strideB}, {@code cOff + i * strideC}. A stride
     * of 0 for A or B uses the same matrix for every batch entry (broadcast); strideC must not
     * make two outputs overlap. The default runs the entries one after another.
     */
    default void gemmBatch(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                           float[] a, int aOff, int strideA, int lda, float[] b, int bOff, int strideB, int ldb,
                           float beta, float[] c, int cOff, int strideC, int ldc) {
        KernelChecks.checkGemmBatch(batch, transA, transB, m, n, k, a, aOff, strideA, lda,
                b, bOff, strideB, ldb, c, cOff, strideC, ldc);
        for (int i = 0; i < batch; i++) {
            gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                    beta, c, cOff + i * strideC, ldc);
        }
    }

    /**
     * One row of LayerNorm in place, statistics in float: x[off : off + n] = (x - mean) / sqrt(var +
     * eps) * gamma + beta with the biased variance of the centred values (torch's), gamma and beta
     * (each may be null) read from gOff and bOff. The default runs the passes one after another;
     * the SIMD one reads the row three times and writes it once.
     */
    default void layerNormRow(float[] x, int off, int n, float[] gamma, int gOff, float[] beta, int bOff, float eps) {
        if (n <= 0) return;
        float mean = sum(x, off, n) / n;
        float var = 0f;
        for (int i = 0; i < n; i++) {
            float d = x[off + i] - mean;
            var += d * d;
        }
        float rstd = (float) (1 / Math.sqrt(var / n + eps));
        for (int i = 0; i < n; i++) {
            float y = (x[off + i] - mean) * rstd;
            if (gamma != null) y *= gamma[gOff + i];
            if (beta != null) y += beta[bOff + i];
            x[off + i] = y;
        }
    }

    /** Independent chains of fused multiply-adds that {@link #fmaChains} runs. */
    int FMA_CHAINS = 12;

    /**
     * A probe of the machine's floating-point peak ({@link ComputePeak}), not a kernel:
     * {@code iterations} steps of {@link #FMA_CHAINS} independent chains {@code a = fma(a, m, c)},
     * each {@link #fmaLanes} floats wide (this implementation's widest float vector), so
     * {@code 2 * FMA_CHAINS * fmaLanes()} floating-point operations per step with no loads or stores.
     * Twelve chains cover an FMA's latency (4 cycles) times the FMA units of current x86 cores (2).
     * Returns the sum of every chain's lanes (about 0.1 each after a few hundred steps), so that the
     * work cannot be dropped.
     */
    default float fmaChains(long iterations) {
        if (iterations < 0) throw new IllegalArgumentException("fmaChains: iterations must be >= 0, got " + iterations);
        float a0 = 1f, a1 = 1f, a2 = 1f, a3 = 1f, a4 = 1f, a5 = 1f, a6 = 1f, a7 = 1f, a8 = 1f, a9 = 1f, a10 = 1f, a11 = 1f;
        float m = FMA_PROBE_M, c = FMA_PROBE_C;
        for (long i = 0; i < iterations; i++) {
            a0 = Math.fma(a0, m, c); a1 = Math.fma(a1, m, c); a2 = Math.fma(a2, m, c); a3 = Math.fma(a3, m, c);
            a4 = Math.fma(a4, m, c); a5 = Math.fma(a5, m, c); a6 = Math.fma(a6, m, c); a7 = Math.fma(a7, m, c);
            a8 = Math.fma(a8, m, c); a9 = Math.fma(a9, m, c); a10 = Math.fma(a10, m, c); a11 = Math.fma(a11, m, c);
        }
        return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
    }

    /** The multiplier and addend of {@link #fmaChains}' steps: each chain tends to c / (1 - m), 0.1. */
    float FMA_PROBE_M = 0.999999f;
    float FMA_PROBE_C = 1e-7f;

    /** Float lanes per chain of {@link #fmaChains}: 1 here, the vector width in SIMD implementations. */
    default int fmaLanes() {
        return 1;
    }

    /** Sum of a[i] * b[i]. */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** Sum of x[i]. */
    float sum(float[] x, int off, int n);

    /** Maximum of x[i] (NaN if any is NaN; -Infinity for n = 0). */
    float max(float[] x, int off, int n);

    /** y[i] += alpha * x[i]. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * Dropout by a bit mask: {@code out[outOff + i] = x[xOff + i] * scale} where bit {@code bit0 + i}
     * of {@code mask} is set (bit j is bit j % 64 of mask[j / 64]), else 0, for i in [0, n). The
     * default runs element by element; the SIMD kernel takes a vector's lanes from the mask at once
     * when bit0 is a multiple of the vector length.
     */
    default void maskedScale(long[] mask, int bit0, float[] x, int xOff, float scale, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            int j = bit0 + i;
            out[outOff + i] = (mask[j >>> 6] & (1L << j)) != 0 ? x[xOff + i] * scale : 0f;
        }
    }

    /**
     * One row of LayerNorm's (or RMSNorm's) backward in F32, for i in [0, n): with
     * {@code xhat = (x[i] - mean) * rstd} and {@code gy = g[i] * w[i]} ({@code g[i]} where w is
     * null), {@code dx[i] = rstd * (gy - mean(gy) - xhat * mean(gy * xhat))}, the first mean taken
     * as 0 when {@code rms} (pass mean 0 then); {@code dw[i] += g[i] * xhat} and {@code db[i] += g[i]}
     * where those are not null. The default computes the row's means in double.
     */
    default void normBackwardRow(float[] x, int xOff, float[] g, int gOff, float mean, float rstd, float[] w, int wOff,
                                 boolean rms, float[] dx, int dxOff, float[] dw, float[] db, int n) {
        double m1 = 0, m2 = 0;
        for (int i = 0; i < n; i++) {
            float xhat = (x[xOff + i] - mean) * rstd;
            float gi = g[gOff + i];
            float gy = w == null ? gi : gi * w[wOff + i];
            m1 += gy;
            m2 += (double) gy * xhat;
            if (dw != null) dw[i] += gi * xhat;
            if (db != null) db[i] += gi;
        }
        float a = rms ? 0f : (float) (m1 / n), b = (float) (m2 / n);
        for (int i = 0; i < n; i++) {
            float xhat = (x[xOff + i] - mean) * rstd;
            float gy = w == null ? g[gOff + i] : g[gOff + i] * w[wOff + i];
            dx[dxOff + i] = rstd * (gy - a - xhat * b);
        }
    }

    /** y[i] = op(x[i]); x and y may be the same run. */
    void unary(UnaryOp op, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * The erf GELU's backward: out[i] = g[i] (y[i] / x[i] + x[i] e^(-x[i]^2 / 2) / sqrt(2 pi)) for
     * y = gelu(x), with 1/2 for y / x where x is 0 (Phi(x) taken from the forward's output, no
     * second erf). The default computes in double.
     */
    default void geluErfGrad(float[] g, int gOff, float[] x, int xOff, float[] y, int yOff, float[] out, int outOff, int n) {
        double invSqrt2Pi = 1 / Math.sqrt(2 * Math.PI);
        for (int i = 0; i < n; i++) {
            double v = x[xOff + i];
            out[outOff + i] = (float) (g[gOff + i] * ((v != 0 ? y[yOff + i] / v : 0.5) + v * Math.exp(-0.5 * v * v) * invSqrt2Pi));
        }
    }

    /** out[i] = a[i] op b[i]; out may alias a or b. */
    void binary(BinaryOp op, float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n);

    /** out[i] = a[i] op s. */
    void binaryScalar(BinaryOp op, float[] a, int aOff, float s, float[] out, int outOff, int n);

    /** out[i] = s op b[i]. */
    void scalarBinary(BinaryOp op, float s, float[] b, int bOff, float[] out, int outOff, int n);

    /** Numerically stable softmax of one row: y = exp(x - max) / sum. A row of all -Infinity gives NaN. */
    void softmax(float[] x, int xOff, float[] y, int yOff, int n);

    /** Numerically stable log-softmax of one row. */
    void logSoftmax(float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * Softmax attention of one head, for inference, with the whole key row at once (for short key
     * sequences, where a tiled online softmax spends more on its bookkeeping than on the products):
     * for each query row i &lt; L
     * <pre>
     *   w[i, j]   = softmax over j &lt; S of (scale * q[i, :] . k[j, :] + bias[i, j])
     *   out[i, :] = sum over j of w[i, j] * v[j, :]
     * </pre>
     * q [L, E], k [S, E], v [S, Ev] and out [L, Ev] are row-major with row strides ldq, ldk, ldv,
     * ldo (heads interleaved in a wider buffer are fine). {@code bias} is null, or additive values
     * (-Infinity masks a key) with row stride {@code biasLd}: 0 shares one row of S values between
     * all queries (key padding). A query whose keys are all masked gets out = 0. {@code scratch}
     * holds at least {@link #attentionScratchSize} floats and is overwritten.
     */
    void attentionHead(int L, int S, int E, int Ev, float scale, float[] q, int qOff, int ldq, float[] k, int kOff, int ldk,
                       float[] v, int vOff, int ldv, float[] bias, int biasOff, int biasLd, float[] out, int outOff, int ldo,
                       float[] scratch);

    /** Scratch floats {@link #attentionHead} needs for S keys of width E: K transposed, a few rows of scores, a bias row. */
    static int attentionScratchSize(int S, int E) {
        int padded = (S + 15) / 16 * 16;
        return Math.multiplyExact(padded, E + ATTENTION_ROWS + 1);
    }

    /** Query rows {@link #attentionHead} scores at a time (rows of scores its scratch holds). */
    int ATTENTION_ROWS = 8;
}
