package dev.attn4j.kernels;

/**
 * The readable reference implementation of {@link Kernels}: plain loops, one element at a time.
 * The SIMD implementation must agree with it; it is also the fallback when the Vector API is
 * not available, and can be forced with {@code -Dattn4j.kernels=scalar}.
 */
public final class ScalarKernels implements Kernels {
    public static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        KernelChecks.checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        // Rows of C are independent: split them over threads. i-p-j order streams rows of B.
        Parallel.forRange(m, Math.max(1, (int) (65536L / Math.max(1L, (long) n * k))), (from, to) -> {
            float[] row = new float[n];
            for (int i = from; i < to; i++) {
                java.util.Arrays.fill(row, 0f);
                for (int p = 0; p < k; p++) {
                    float aip = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                    if (aip == 0f) continue;
                    if (transB) {
                        for (int j = 0; j < n; j++) row[j] += aip * b[bOff + j * ldb + p];
                    } else {
                        int bRow = bOff + p * ldb;
                        for (int j = 0; j < n; j++) row[j] += aip * b[bRow + j];
                    }
                }
                int cRow = cOff + i * ldc;
                for (int j = 0; j < n; j++) {
                    c[cRow + j] = beta == 0f ? alpha * row[j] : alpha * row[j] + beta * c[cRow + j];
                }
            }
        });
    }

    @Override
    public void gemmBatch(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                          float[] a, int aOff, int strideA, int lda, float[] b, int bOff, int strideB, int ldb,
                          float beta, float[] c, int cOff, int strideC, int ldc) {
        KernelChecks.checkGemmBatch(batch, transA, transB, m, n, k, a, aOff, strideA, lda,
                b, bOff, strideB, ldb, c, cOff, strideC, ldc);
        // One matrix per task; gemm inside a pool task runs on that task's thread.
        Parallel.forRange(batch, 1, (from, to) -> {
            for (int i = from; i < to; i++) {
                gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                        beta, c, cOff + i * strideC, ldc);
            }
        });
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    @Override
    public float sum(float[] x, int off, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += x[off + i];
        return s;
    }

    @Override
    public float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (Float.isNaN(v)) return Float.NaN;
            if (v > m) m = v;
        }
        return m;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void unary(UnaryOp op, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = apply(op, x[xOff + i]);
    }

    /** The reference definition of each unary op, in float. */
    public static float apply(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case TANH -> (float) Math.tanh(x);
            case SQRT -> (float) Math.sqrt(x);
            case RELU -> x > 0f ? x : 0f;
            // 1 + erf(x/sqrt2) cancels for x << 0; erfc(-x/sqrt2) is the same value without it.
            case GELU_ERF -> (float) (0.5 * x * MathF.erfc(-x / Math.sqrt(2.0)));
            // 0.5 x (1 + tanh(u)) = x / (1 + exp(-2u)); the first form cancels for x << 0 (x = -7: 2% off).
            case GELU_TANH -> (float) (x / (1.0 + Math.exp(-2.0 * MathF.SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case SILU -> (float) (x / (1.0 + Math.exp(-x)));
            case SIGMOID -> (float) (1.0 / (1.0 + Math.exp(-x)));
            case ABS -> Math.abs(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1f / x;
        };
    }

    /** The reference definition of each binary op, in float. */
    public static float apply(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> (float) Math.pow(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }

    @Override
    public void binary(BinaryOp op, float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = apply(op, a[aOff + i], b[bOff + i]);
    }

    @Override
    public void binaryScalar(BinaryOp op, float[] a, int aOff, float s, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = apply(op, a[aOff + i], s);
    }

    @Override
    public void scalarBinary(BinaryOp op, float s, float[] b, int bOff, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) out[outOff + i] = apply(op, s, b[bOff + i]);
    }

    @Override
    public void softmax(float[] x, int xOff, float[] y, int yOff, int n) {
        float m = max(x, xOff, n);
        float s = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[xOff + i] - m);
            y[yOff + i] = e;
            s += e;
        }
        float inv = 1f / s;
        for (int i = 0; i < n; i++) y[yOff + i] *= inv;
    }

    @Override
    public void logSoftmax(float[] x, int xOff, float[] y, int yOff, int n) {
        float m = max(x, xOff, n);
        float s = 0f;
        for (int i = 0; i < n; i++) s += (float) Math.exp(x[xOff + i] - m);
        // (x - m) - log(s) rather than x - (m + log(s)): keeps results near 0 accurate when |x| is large
        float logS = (float) Math.log(s);
        for (int i = 0; i < n; i++) y[yOff + i] = (x[xOff + i] - m) - logS;
    }

    @Override
    public void attentionHead(int L, int S, int E, int Ev, float scale, float[] q, int qOff, int ldq, float[] k, int kOff,
                              int ldk, float[] v, int vOff, int ldv, float[] bias, int biasOff, int biasLd, float[] out,
                              int outOff, int ldo, float[] scratch) {
        KernelChecks.checkAttentionHead(L, S, E, Ev, q, qOff, ldq, k, kOff, ldk, v, vOff, ldv, bias, biasOff, biasLd,
                out, outOff, ldo, scratch);
        float[] w = scratch;                                                   // one query's scores, then weights [S]
        for (int i = 0; i < L; i++) {
            int qi = qOff + i * ldq, oi = outOff + i * ldo;
            float m = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < S; j++) {
                int kj = kOff + j * ldk;
                float dot = 0f;
                for (int p = 0; p < E; p++) dot += q[qi + p] * k[kj + p];
                float sj = scale * dot;
                if (bias != null) sj += bias[biasOff + i * biasLd + j];
                w[j] = sj;
                m = Math.max(m, sj);
            }
            if (m == Float.NEGATIVE_INFINITY) {                                // every key masked (or none): out = 0
                java.util.Arrays.fill(out, oi, oi + Ev, 0f);
                continue;
            }
            float sum = 0f;
            for (int j = 0; j < S; j++) {
                w[j] = (float) Math.exp(w[j] - m);
                sum += w[j];
            }
            for (int c = 0; c < Ev; c++) {
                float acc = 0f;
                for (int j = 0; j < S; j++) acc += w[j] * v[vOff + j * ldv + c];
                out[oi + c] = acc / sum;
            }
        }
    }
}
