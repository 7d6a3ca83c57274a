package dev.attn4j.kernels;

/**
 * Argument checks shared by the {@link Kernels} implementations, so that bad dimensions give an
 * {@link IllegalArgumentException} naming the operand instead of an index error deep in a loop.
 * They cost O(1) per call.
 */
public final class KernelChecks {
    private KernelChecks() {
    }

    /** Checks the arguments of {@link Kernels#gemm}. */
    public static void checkGemm(boolean transA, boolean transB, int m, int n, int k,
                                 float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                 float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm: negative size m=" + m + ", n=" + n + ", k=" + k);
        }
        // op(A) is [m, k]: stored [m, k] or, transposed, [k, m].
        checkMatrix("A", a, aOff, transA ? k : m, transA ? m : k, lda);
        checkMatrix("B", b, bOff, transB ? n : k, transB ? k : n, ldb);
        checkMatrix("C", c, cOff, m, n, ldc);
    }

    /** Checks the arguments of {@link Kernels#packB}: op(B) [k, n] stored [n, k] when transposed. */
    public static void checkPackB(boolean transB, int k, int n, float[] b, int bOff, int ldb) {
        if (n < 0 || k < 0) throw new IllegalArgumentException("packB: negative size n=" + n + ", k=" + k);
        checkMatrix("packB", "B", b, bOff, transB ? n : k, transB ? k : n, ldb);
    }

    /** Checks the arguments of {@link Kernels#gemm16}: B is 16-bit {@code bType} elements in a segment. */
    public static void checkGemm16(boolean transA, boolean transB, int m, int n, int k,
                                   float[] a, int aOff, int lda, java.lang.foreign.MemorySegment b, dev.attn4j.tensor.DType bType,
                                   int bOff, int ldb, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm16: negative size m=" + m + ", n=" + n + ", k=" + k);
        }
        if (bType == null || !bType.is16Bit()) throw new IllegalArgumentException("gemm16: B dtype must be BF16 or F16, got " + bType);
        checkMatrix("gemm16", "A", a, aOff, transA ? k : m, transA ? m : k, lda);
        if (b == null) throw new IllegalArgumentException("gemm16: B is null");
        int rows = transB ? n : k, cols = transB ? k : n;
        if (ldb < Math.max(1, cols)) {
            throw new IllegalArgumentException("gemm16: leading dimension of B is " + ldb + ", less than its row length " + cols);
        }
        if (bOff < 0) throw new IllegalArgumentException("gemm16: negative offset " + bOff + " for B");
        if (rows > 0 && cols > 0) {
            long end = bOff + (long) (rows - 1) * ldb + cols;
            if (end * 2 > b.byteSize()) {
                throw new IllegalArgumentException("gemm16: B [" + rows + ", " + cols + "] with leading dimension " + ldb
                        + " at offset " + bOff + " needs " + end + " elements, segment has " + b.byteSize() / 2);
            }
        }
        checkMatrix("gemm16", "C", c, cOff, m, n, ldc);
    }

    /** Elements [bOff, bOff + (rows - 1) ld + cols) of a 16-bit matrix widened to F32, from index 0. */
    public static float[] widenSpan(java.lang.foreign.MemorySegment b, dev.attn4j.tensor.DType bType, int bOff, int rows,
                                    int cols, int ld) {
        int len = rows == 0 || cols == 0 ? 0 : Math.toIntExact((long) (rows - 1) * ld + cols);
        float[] out = new float[Math.max(len, 1)];
        var layout = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < len; i++) out[i] = bType.widen(b.getAtIndex(layout, (long) bOff + i));
        return out;
    }

    /** Checks the arguments of {@link Kernels#gemmBiasResidual}. */
    public static void checkGemmBiasResidual(boolean transA, boolean transB, int m, int n, int k, float[] a, int aOff, int lda,
                                             float[] b, int bOff, int ldb, float[] bias, int biasOff, float[] res, int resOff,
                                             int ldr, float[] c, int cOff, int ldc) {
        checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        checkBiasResidual(m, n, bias, biasOff, res, resOff, ldr);
    }

    /** The bias [n] and residual [m, n] of {@link Kernels#gemmBiasResidual} (each may be null). */
    public static void checkBiasResidual(int m, int n, float[] bias, int biasOff, float[] res, int resOff, int ldr) {
        if (bias != null) checkMatrix("bias", bias, biasOff, Math.min(m, 1), n, Math.max(1, n));
        if (res != null) checkMatrix("residual", res, resOff, m, n, ldr);
    }

    /** Checks the arguments of {@link Kernels#gemmBatch}. */
    public static void checkGemmBatch(int batch, boolean transA, boolean transB, int m, int n, int k,
                                      float[] a, int aOff, int strideA, int lda, float[] b, int bOff, int strideB,
                                      int ldb, float[] c, int cOff, int strideC, int ldc) {
        if (batch < 0) throw new IllegalArgumentException("gemmBatch: negative batch " + batch);
        if (strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException("gemmBatch: negative stride (strideA=" + strideA
                    + ", strideB=" + strideB + ", strideC=" + strideC + ")");
        }
        if (batch == 0) return;
        if (batch > 1 && strideC < (long) (m - 1) * ldc + n && m > 0 && n > 0) {
            throw new IllegalArgumentException("gemmBatch: strideC " + strideC
                    + " makes outputs overlap (C is [" + m + ", " + n + "] with ldc " + ldc + ")");
        }
        long last = batch - 1L;
        if (aOff + last * strideA > Integer.MAX_VALUE || bOff + last * strideB > Integer.MAX_VALUE
                || cOff + last * strideC > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("gemmBatch: batch " + batch + " with these strides overflows int offsets");
        }
        // The first and the last entry bound every other one.
        checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        checkGemm(transA, transB, m, n, k, a, (int) (aOff + last * strideA), lda,
                b, (int) (bOff + last * strideB), ldb, c, (int) (cOff + last * strideC), ldc);
    }

    /** Checks the arguments of {@link Kernels#attentionHead}. */
    public static void checkAttentionHead(int L, int S, int E, int Ev, float[] q, int qOff, int ldq, float[] k, int kOff,
                                          int ldk, float[] v, int vOff, int ldv, float[] bias, int biasOff, int biasLd,
                                          float[] out, int outOff, int ldo, float[] scratch) {
        String op = "attentionHead";
        if (L < 0 || S < 0 || E < 0 || Ev < 0) {
            throw new IllegalArgumentException(op + ": negative size L=" + L + ", S=" + S + ", E=" + E + ", Ev=" + Ev);
        }
        checkMatrix(op, "q", q, qOff, L, E, ldq);
        checkMatrix(op, "k", k, kOff, S, E, ldk);
        checkMatrix(op, "v", v, vOff, S, Ev, ldv);
        checkMatrix(op, "out", out, outOff, L, Ev, ldo);
        if (bias != null) {
            if (biasLd < 0) throw new IllegalArgumentException(op + ": negative bias row stride " + biasLd);
            checkMatrix(op, "bias", bias, biasOff, biasLd == 0 ? Math.min(L, 1) : L, S, biasLd == 0 ? Math.max(1, S) : biasLd);
        }
        int need = Kernels.attentionScratchSize(S, E);
        if (scratch == null || scratch.length < need) {
            throw new IllegalArgumentException(op + ": scratch of " + (scratch == null ? "null" : scratch.length + " floats")
                    + ", needs " + need + " for S=" + S + ", E=" + E);
        }
    }

    /** A [rows, cols] row-major matrix at {@code off} with leading dimension {@code ld}. */
    static void checkMatrix(String name, float[] x, int off, int rows, int cols, int ld) {
        checkMatrix("gemm", name, x, off, rows, cols, ld);
    }

    static void checkMatrix(String op, String name, float[] x, int off, int rows, int cols, int ld) {
        if (x == null) throw new IllegalArgumentException(op + ": " + name + " is null");
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException(op + ": leading dimension of " + name + " is " + ld
                    + ", less than its row length " + cols);
        }
        if (off < 0) throw new IllegalArgumentException(op + ": negative offset " + off + " for " + name);
        if (rows == 0 || cols == 0) return;
        long end = off + (long) (rows - 1) * ld + cols;
        if (end > x.length) {
            throw new IllegalArgumentException(op + ": " + name + " [" + rows + ", " + cols + "] with leading dimension "
                    + ld + " at offset " + off + " needs " + end + " elements, array has " + x.length);
        }
    }
}
