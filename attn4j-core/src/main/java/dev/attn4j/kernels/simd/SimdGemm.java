package dev.attn4j.kernels.simd;

import dev.attn4j.kernels.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM in the BLIS/GotoBLAS structure, on the Vector API.
 *
 * <pre>
 * for pc in k step KC:
 *   for jc in n step NC:
 *     pack B[pc:+KC, jc:+NC] into NR-wide panels [kc, NR]     (block: 1.2 MB, stays in L2)
 *     for ir in m step MR:
 *       pack alpha * A[ir:+MR, pc:+KC] into one panel [kc, MP] (12 KB, stays in L1; packed once
 *                                                             for all jc when n > NC)
 *       for jr in nc step NR:
 *         micro-kernel: C[MR, NR] (+)= Apanel * Bpanel[jr]     (B panel streams from L2)
 * </pre>
 *
 * The micro-kernel keeps an MR x NR = 7 x 48 tile of C in 21 vector registers (AVX-512 has 32;
 * ten more hold three B vectors and the seven broadcasts of A) and does 21 FMAs per 3 vector
 * loads and 7 broadcasts from memory, so it is bound by the two FMA ports rather than by loads.
 * The loop order is BLIS's with the roles of A and B swapped, because here the broadcast operand
 * is A: its small panel stays in L1 and the wide B panels stream from L2. That allows a deep KC
 * (fewer passes over C); the BLIS order would need the [kc, 48] B panel in L1, i.e. KC <= 128,
 * and measured slower on [4096, 1536] x [1536, 384] (with the earlier 8 x 48 tile).
 *
 * <p>Packing turns every transpose combination into the same unit-stride panels, so all four
 * run at the same speed. Edge tiles run the same kernel on the zero-padded panels into a scratch
 * tile, then copy the valid part. With several threads, B is packed once by all of them together,
 * then each thread takes a slab of rows of C (or of columns, when n > m); the buffers are kept
 * per thread between calls. In those row slabs, when k spans several depth blocks, the loops run
 * in groups of six A panels (42 rows) instead: for each group, jc, then pc, then its panels, so a
 * group's rows of C stay in L2 from one depth block to the next.
 */
final class SimdGemm {
    private static final VectorSpecies<Float> S = SimdKernels.S;
    private static final int L = SimdKernels.L;
    /**
     * Rows of the register tile (broadcast A values). Seven, not eight: 7 x 3 accumulators, three
     * B vectors and seven broadcasts make 31 of AVX-512's 32 registers, while C2, which loads the
     * broadcasts ahead of their FMAs, ran the 8 x 48 tile one register short and spilled an
     * accumulator to the stack and back on every step of the depth loop.
     */
    static final int MR = 7;
    /** Floats per depth step of a packed A panel: MR rounded up to the 8-float copy that packs it. */
    static final int MP = 8;
    /** Columns of the register tile: three vectors. */
    static final int NR = 3 * L;
    /** Depth of a packed block: fewer passes over C the deeper; KC * NC * 4 bytes of B must fit L2. */
    static final int KC = Integer.getInteger("attn4j.gemm.kc", 384);
    /** Columns of a packed B block (384 x 768 floats: 1.2 MB of the 2 MB L2). */
    static final int NC = roundUp(Integer.getInteger("attn4j.gemm.nc", 768), NR);
    /** Below this many multiply-adds the direct (unpacked) loops win. */
    static final long SMALL_WORK = 32L * 32 * 32;
    /**
     * In the shared-B path a thread's claim takes 1 / (this * threads) of the rows left: larger
     * slabs read the packed B from L3 less often, smaller ones balance the threads' ends.
     */
    static final int SLABS_PER_THREAD = Integer.getInteger("attn4j.gemm.slabs", 2);
    /**
     * Smallest row slab a thread takes at a time in the shared-B path: two panels. The last claims
     * decide how far apart the threads finish; with 64 rows the second thread waited 0.4 ms (median)
     * at the end of a 1024^3 product (11 ms), with 14 rows 0.07 ms. Each slab reads the packed B
     * again, but only the few last ones are this small: 0.7-1.3% less time on 1024^3 and both MLP
     * shapes (interleaved in one JVM, 2 threads).
     */
    static final int ROWS_PER_SLAB = 2 * MR;
    /** Multiply-adds per thread below which another thread costs more than it saves. */
    static final long WORK_PER_THREAD = 1L << 20;

    /** Largest B (in floats, padded) packed once and shared by all threads: 64 MiB. */
    static final long MAX_SHARED_PACKED_B = 16L << 20;

    /**
     * A panels per row group in the shared-B path when k spans several depth blocks: the group's
     * C rows (42 x n) stay in L2 through all depth blocks instead of coming back from L3 or memory,
     * and its A rows are packed for the whole depth at once, read from end to end. 3-4.5% less time
     * on [4096, 1536] x [1536, 384] with 4 to 8 panels, the same on 1024^3 (interleaved in one JVM).
     */
    static final int GROUP_PANELS = 6;

    /** Largest A (in floats, packed) that one call packs once for all its column blocks: 16 MiB. */
    static final long MAX_PACKED_A = 4L << 20;

    private SimdGemm() {
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Buffers {
        float[] a = new float[0];
        float[] b = new float[0];
        float[] row = new float[0];
        float[] acc = new float[0];
        /** B^T for the direct path (see direct). */
        float[] bt = new float[0];
        float[] shared = new float[0];
        /** 16-bit B widened: a small op(B) for the direct loops, or one row for the F16 streams. */
        float[] wide = new float[0];
        /** Sixteen rows of a transposed 16-bit B widened for {@link #packSixteenColumnsT}: [16, up to KC]. */
        final float[] rows16 = new float[16 * KC];
        final float[] tile = new float[MR * NR];
        /**
         * Gather offsets {0, lda, ..., 6 lda, 6 lda} for packing A, for the lda in {@link #gatherLd}:
         * the last row again in the padding lane, so the gather stays inside A.
         */
        final int[] gather = new int[MP];
        int gatherLd = -1;

        int[] gather(int lda) {
            if (gatherLd != lda) {
                for (int ii = 0; ii < MP; ii++) gather[ii] = Math.min(ii, MR - 1) * lda;
                gatherLd = lda;
            }
            return gather;
        }

        float[] a(int n) {
            if (a.length < n) a = new float[n];
            return a;
        }

        float[] b(int n) {
            if (b.length < n) b = new float[n];
            return b;
        }
    }

    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    static int roundUp(int x, int to) {
        return (x + to - 1) / to * to;
    }

    /**
     * What C starts from instead of beta C ({@link dev.attn4j.kernels.Kernels#gemmBiasResidual}):
     * C[i, j] = bias[biasOff + j] + res[resOff + i ldr + j], either array null for none (both null:
     * 0), and the activation applied to C at the end (null: none). Each block of C is written just
     * before its first product and activated right after its last.
     */
    record CInit(float[] bias, int biasOff, float[] res, int resOff, int ldr, dev.attn4j.kernels.UnaryOp act) {
        private static final SimdKernels ELEMENTWISE = new SimdKernels();

        /** The same for the rows from i0 and the columns from j0 of C on. */
        CInit at(int i0, int j0) {
            return new CInit(bias, biasOff + j0, res, res == null ? 0 : resOff + i0 * ldr + j0, ldr, act);
        }

        /** C[i0 : i0 + rows, j0 : j0 + cols] = act(C) (nothing when act is null). */
        void activate(float[] c, int cOff, int ldc, int i0, int rows, int j0, int cols) {
            if (act == null) return;
            for (int i = i0; i < i0 + rows; i++) {
                int o = cOff + i * ldc + j0;
                ELEMENTWISE.unary(act, c, o, c, o, cols);
            }
        }

        /** C[i0 : i0 + rows, j0 : j0 + cols] (at c[cOff], row stride ldc) = its initial value. */
        void fill(float[] c, int cOff, int ldc, int i0, int rows, int j0, int cols) {
            int ub = j0 + S.loopBound(cols);
            for (int i = i0; i < i0 + rows; i++) {
                int cr = cOff + i * ldc, rr = resOff + i * ldr, j = j0;
                if (res == null && bias == null) {
                    java.util.Arrays.fill(c, cr + j0, cr + j0 + cols, 0f);
                    continue;
                }
                if (res == null) {
                    System.arraycopy(bias, biasOff + j0, c, cr + j0, cols);
                    continue;
                }
                if (bias == null) {
                    System.arraycopy(res, rr + j0, c, cr + j0, cols);
                    continue;
                }
                for (; j < ub; j += L) {
                    FloatVector.fromArray(S, bias, biasOff + j).add(FloatVector.fromArray(S, res, rr + j)).intoArray(c, cr + j);
                }
                for (; j < j0 + cols; j++) c[cr + j] = bias[biasOff + j] + res[rr + j];
            }
        }
    }

    /**
     * C = alpha op(A) op(B) + beta C, or, when {@code init} is not null, op(A) op(B) + init with
     * alpha = beta = 1 (the caller passes those); arguments already checked.
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc, boolean threaded, CInit init) {
        gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, null, bOff, ldb, beta, c, cOff, ldc, threaded, init, null);
    }

    /** The B16 overload without a pre-packed B. */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, B16 h, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc, boolean threaded, CInit init) {
        gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, h, bOff, ldb, beta, c, cOff, ldc, threaded, init, null);
    }

    /**
     * The same with B either F32 ({@code b}, {@code h} null) or 16-bit ({@code h}, {@code b} null):
     * a 16-bit B is widened where the F32 path reads B (packing, or the direct loops), so the
     * micro-kernels and every sum are the F32 path's on the widened values: the same bits.
     * {@code prepacked} (may be null): all of op(B) already in the fully packed layout
     * ({@link #packWhole}), used wherever B would be packed; the same bits again.
     */
    static void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, B16 h, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc, boolean threaded, CInit init, float[] prepacked) {
        if (m == 0 || n == 0) return;
        if (k == 0 || alpha == 0f) {
            if (init != null) {
                init.fill(c, cOff, ldc, 0, m, 0, n);
                init.activate(c, cOff, ldc, 0, m, 0, n);
            } else {
                scale(m, n, beta, c, cOff, ldc);
            }
            return;
        }
        long work = (long) m * n * k;
        int threads = threaded ? (int) Math.min(Parallel.threads(), Math.max(1, work / WORK_PER_THREAD)) : 1;
        if (m < 4 || n < L || work < SMALL_WORK) {
            if (init != null) init.fill(c, cOff, ldc, 0, m, 0, n);              // then beta = 1 adds the product
            if (threads > 1 && n >= threads * 4 * L) {
                // Matrix-vector shapes (decoding: m = 1, large n k): columns of C, in pieces of whole
                // vectors handed out as the threads ask (Parallel.forPieces).
                int units = (n + L - 1) / L;
                Parallel.forPieces(units, Math.max(1, 64 / L), (from, to) -> {
                    int j0 = from * L, cols = Math.min(n, to * L) - j0;
                    direct(transA, transB, m, cols, k, alpha, a, aOff, lda, b, h, bOff + (transB ? j0 * ldb : j0), ldb,
                            beta, c, cOff + j0, ldc);
                });
            } else {
                direct(transA, transB, m, n, k, alpha, a, aOff, lda, b, h, bOff, ldb, beta, c, cOff, ldc);
            }
            if (init != null) init.activate(c, cOff, ldc, 0, m, 0, n);
            return;
        }
        if (threads <= 1) {
            blocked(transA, transB, m, n, k, alpha, a, aOff, lda, b, h, bOff, ldb, beta, c, cOff, ldc, prepacked, init);
            return;
        }
        long packedSize = (long) k * packedWidth(n);
        if (prepacked != null && m < n) {
            // Columns split over threads by NR-wide panels of the packed B (a few rows against a
            // large weight: each thread streams its share of the weight once).
            int panels = (n + NR - 1) / NR;
            int parts = Math.min(threads, panels);
            Parallel.forRange(parts, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    int j0 = (int) ((long) panels * t / parts) * NR, j1 = Math.min(n, (int) ((long) panels * (t + 1) / parts) * NR);
                    blockedColumns(transA, transB, m, n, k, alpha, a, aOff, lda, b, h, bOff, ldb, beta, c, cOff, ldc, prepacked, init, j0, j1);
                }
            });
            return;
        }
        if (m >= n && packedSize <= MAX_SHARED_PACKED_B) {
            // Row slabs over one copy of B packed by all threads together: packing B per thread
            // would cost each thread k n copies (up to 14% of a 1024^3 product on 2 threads).
            Buffers buf = BUFFERS.get();
            if (prepacked == null && buf.shared.length < packedSize) buf.shared = new float[(int) packedSize];
            float[] packed = prepacked != null ? prepacked : buf.shared;
            int units = transB ? n : k;
            // One parallel region: each thread claims shares of B to pack until none are left,
            // waits until every claimed share is packed (a share is only claimed by a running
            // thread, so this cannot wait on a thread that has not started), then claims row slabs
            // of C. Several slabs per thread, handed out as threads ask for them: a thread slowed by
            // other processes on its core then takes fewer, instead of holding up the whole call.
            int shares = prepacked != null ? 0 : Math.min(units, 4 * threads);
            int slabs = SLABS_PER_THREAD * threads;
            var nextShare = new java.util.concurrent.atomic.AtomicInteger();
            var sharesDone = new java.util.concurrent.atomic.AtomicInteger();
            var nextRow = new java.util.concurrent.atomic.AtomicInteger();
            boolean zeroPadding = transB;
            Parallel.forRange(threads, 1, (from, to) -> {
                for (int s; (s = nextShare.getAndIncrement()) < shares; ) {
                    try {
                        packAllB(transB, b, h, bOff, ldb, k, n, packed, (int) ((long) units * s / shares),
                                (int) ((long) units * (s + 1) / shares));
                        if (zeroPadding && s == shares - 1) zeroPackedPadding(k, n, packed);
                    } finally {
                        sharesDone.incrementAndGet();     // even on failure: no one may spin forever
                    }
                }
                while (sharesDone.get() < shares) Thread.onSpinWait();
                // Guided: each claim takes 1 / slabs of the rows left (at least ROWS_PER_SLAB), so
                // the slabs shrink towards the end and the threads finish close together.
                for (int i0; (i0 = nextRow.get()) < m; ) {
                    int rows = Math.min(m - i0, roundUp(Math.max(ROWS_PER_SLAB, (m - i0) / slabs), MR));
                    if (!nextRow.compareAndSet(i0, i0 + rows)) continue;
                    blocked(transA, transB, rows, n, k, alpha, a, aOff + (transA ? i0 : i0 * lda), lda,
                            b, h, bOff, ldb, beta, c, cOff + i0 * ldc, ldc, packed, init == null ? null : init.at(i0, 0));
                }
            });
        } else if (m >= n) {
            // Row slabs, each thread packing all of B itself.
            int chunk = roundUp((m + threads - 1) / threads, MR);
            int parts = (m + chunk - 1) / chunk;
            Parallel.forRange(parts, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    int i0 = t * chunk, rows = Math.min(chunk, m - i0);
                    blocked(transA, transB, rows, n, k, alpha, a, aOff + (transA ? i0 : i0 * lda), lda,
                            b, h, bOff, ldb, beta, c, cOff + i0 * ldc, ldc, prepacked, init == null ? null : init.at(i0, 0));
                }
            });
        } else {
            int chunk = roundUp((n + threads - 1) / threads, NR);
            int parts = (n + chunk - 1) / chunk;
            Parallel.forRange(parts, 1, (from, to) -> {
                for (int t = from; t < to; t++) {
                    int j0 = t * chunk, cols = Math.min(chunk, n - j0);
                    blocked(transA, transB, m, cols, k, alpha, a, aOff, lda,
                            b, h, bOff + (transB ? j0 * ldb : j0), ldb, beta, c, cOff + j0, ldc, null,
                            init == null ? null : init.at(0, j0));
                }
            });
        }
    }

    /**
     * Whether {@link #gemmQuantized} takes a product of m rows with W [n, k]: the packed paths
     * (the direct loops for small shapes read B element-wise, 16-bit only).
     */
    static boolean quantizedPacks(int m, int n, int k) {
        return m >= 4 && n >= L && (long) m * n * k >= SMALL_WORK;
    }

    /**
     * C = A W^T (+ init) with block-quantized W [n, k] read as a transposed B whose panels are
     * dequantized as they are packed ({@link B16#quantized}): no dequantized copy of W is made, and
     * the result is the F32 GEMM's on the dequantized weights, bit for bit. Only where
     * {@link #quantizedPacks}; arguments already checked.
     */
    static void gemmQuantized(int m, float[] a, int aOff, int lda, dev.attn4j.tensor.QuantizedMatrix w,
                              float[] c, int cOff, int ldc, CInit init) {
        int n = w.rows(), k = w.cols();
        if (!quantizedPacks(m, n, k)) throw new IllegalStateException("gemmQuantized: [" + m + ", " + n + ", " + k + "] takes the direct path");
        gemm(false, true, m, n, k, 1f, a, aOff, lda, null, B16.quantized(w), 0, k, init == null ? 0f : 1f, c, cOff, ldc, true, init);
    }

    /** Batched GEMM; arguments already checked. */
    static void gemmBatch(int batch, boolean transA, boolean transB, int m, int n, int k, float alpha,
                          float[] a, int aOff, int strideA, int lda, float[] b, int bOff, int strideB, int ldb,
                          float beta, float[] c, int cOff, int strideC, int ldc) {
        if (batch == 0 || m == 0 || n == 0) return;
        long work = (long) m * n * k;
        int threads = Parallel.threads();
        // Small matrices (attention scores: [T, 32] x [32, T]) split badly inside; whole matrices
        // per thread need no coordination. Big ones (256^3 and up), or fewer than threads, split inside.
        boolean perMatrix = threads > 1 && batch >= threads && work < (1L << 24);
        if (perMatrix) {
            // Entries handed out one at a time (dynamic balance, as for row slabs in gemm).
            var next = new java.util.concurrent.atomic.AtomicInteger();
            Parallel.forRange(threads, 1, (from, to) -> {
                for (int i; (i = next.getAndIncrement()) < batch; ) {
                    gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                            beta, c, cOff + i * strideC, ldc, false, null);
                }
            });
        } else {
            for (int i = 0; i < batch; i++) {
                gemm(transA, transB, m, n, k, alpha, a, aOff + i * strideA, lda, b, bOff + i * strideB, ldb,
                        beta, c, cOff + i * strideC, ldc, true, null);
            }
        }
    }

    /** C = beta C, for k = 0 or alpha = 0; beta = 0 writes zeros without reading C. */
    private static void scale(int m, int n, float beta, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) c[row + j] *= beta;
            }
        }
    }

    /**
     * Unpacked loops for small or thin problems, where packing would cost as much as the
     * multiply: one row of C at a time, as axpys over rows of B (B not transposed) or as dot
     * products with rows of B (B transposed).
     */
    private static void direct(boolean transA, boolean transB, int m, int n, int k, float alpha,
                               float[] a, int aOff, int lda, float[] b, B16 h, int bOff, int ldb,
                               float beta, float[] c, int cOff, int ldc) {
        if (h != null) {
            direct16(transA, transB, m, n, k, alpha, a, aOff, lda, h, bOff, ldb, beta, c, cOff, ldc);
            return;
        }
        direct(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    private static void direct(boolean transA, boolean transB, int m, int n, int k, float alpha,
                               float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                               float beta, float[] c, int cOff, int ldc) {
        Buffers buf = BUFFERS.get();
        if (buf.row.length < k) buf.row = new float[k];
        if (buf.acc.length < n) buf.acc = new float[n];
        float[] row = buf.row, acc = buf.acc;
        if (transB && k <= SHORT_DOT) {
            // B stored [n, k]: one dot product (with a lane reduction) per element of C is slow for
            // short k (attention scores: k = 32). Transposed once into [k, n], every row of C is
            // k axpys instead; the copy costs n k moves against m n k multiply-adds. Chosen by k
            // alone, not m, so that a row gives the same bits alone or in a batch.
            if (buf.bt.length < k * n) buf.bt = new float[k * n];
            float[] bt = buf.bt;
            for (int j = 0; j < n; j++) {
                int src = bOff + j * ldb;
                for (int p = 0; p < k; p++) bt[p * n + j] = b[src + p];
            }
            b = bt;
            bOff = 0;
            ldb = n;
            transB = false;
        }
        for (int i = 0; i < m; i++) {
            // row = op(A)[i, :]   [k]
            if (transA) {
                for (int p = 0; p < k; p++) row[p] = a[aOff + p * lda + i];
            } else {
                System.arraycopy(a, aOff + i * lda, row, 0, k);
            }
            if (transB) {
                // acc[j] = row . B^T[j, :]   [n]
                for (int j = 0; j < n; j++) acc[j] = dot(row, b, bOff + j * ldb, k);
            } else if (n <= SHORT_ROW) {
                // acc = sum_p row[p] * B[p, :] for a row of C only a few vectors wide (attention
                // tiles on short sequences): each vector of acc stays in registers over p.
                shortRow(row, b, bOff, ldb, k, n, acc);
            } else {
                // acc = sum_p row[p] * B[p, :]   [n]
                java.util.Arrays.fill(acc, 0, n, 0f);
                axpyRows(row, b, bOff, ldb, k, acc, n);
            }
            storeRow(acc, n, alpha, beta, c, cOff + i * ldc);
        }
    }

    /** c[cr : cr + n] = alpha acc + beta c (beta = 0: c not read). */
    private static void storeRow(float[] acc, int n, float alpha, float beta, float[] c, int cr) {
        int j = 0;
        FloatVector av = FloatVector.broadcast(S, alpha);
        int ub = S.loopBound(n);
        if (beta == 0f) {
            for (; j < ub; j += L) FloatVector.fromArray(S, acc, j).mul(av).intoArray(c, cr + j);
            for (; j < n; j++) c[cr + j] = alpha * acc[j];
        } else {
            FloatVector bv = FloatVector.broadcast(S, beta);
            for (; j < ub; j += L) {
                FloatVector.fromArray(S, acc, j).mul(av).add(FloatVector.fromArray(S, c, cr + j).mul(bv)).intoArray(c, cr + j);
            }
            for (; j < n; j++) c[cr + j] = alpha * acc[j] + beta * c[cr + j];
        }
    }

    // ---------------------------------------------------------------- 16-bit B

    /**
     * B in 16 bits: little-endian BF16 ({@code bf16}) or F16 elements of a segment (a heap
     * {@code short[]} or a mapped file), indexed in elements like the float[] B of the F32 paths.
     */
    record B16(java.lang.foreign.MemorySegment seg, boolean bf16, dev.attn4j.tensor.QuantizedMatrix q) {
        private static final java.lang.foreign.ValueLayout.OfShort I16_LE =
                java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

        B16(java.lang.foreign.MemorySegment seg, boolean bf16) {
            this(seg, bf16, null);
        }

        /**
         * Block-quantized W [rows, cols] as a transposed B (element i is W[i / cols, i % cols],
         * ldb = cols): the packing paths dequantize the runs they read ({@link #widen}), so the
         * products are the F32 GEMM's on the dequantized weights. Only for the packed (blocked)
         * paths with transB: the direct loops read 16-bit elements.
         */
        static B16 quantized(dev.attn4j.tensor.QuantizedMatrix q) {
            return new B16(q.data(), false, q);
        }

        /** Element i widened to F32 (exact; a quantized element dequantizes its block). */
        float get(long i) {
            if (q != null) {
                float[] block = new float[q.type().blockSize()];
                int col = (int) (i % q.cols()), b = col / block.length;
                q.type().dequantizeBlock(seg, i / q.cols() * q.rowBytes() + (long) b * q.type().blockBytes(), block, 0);
                return block[col - b * block.length];
            }
            short bits = seg.getAtIndex(I16_LE, i);
            return bf16 ? Float.intBitsToFloat(bits << 16) : Float.float16ToFloat(bits);
        }
    }

    /** Shorts in one vector of L lanes (half the floats' width) and the ints they widen to (the floats' width). */
    private static final VectorSpecies<Short> SH = VectorSpecies.of(short.class, jdk.incubator.vector.VectorShape.forBitSize(L * 16));
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, S.vectorShape());

    /**
     * L BF16 elements from element {@code index} of {@code seg} as F32: sign-extended to 32 bits,
     * shifted into the high half (the low half, the mantissa bits bfloat16 lacks, is zero).
     */
    private static FloatVector bf16(java.lang.foreign.MemorySegment seg, long index) {
        ShortVector v = ShortVector.fromMemorySegment(SH, seg, index * 2, java.nio.ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) v.convertShape(jdk.incubator.vector.VectorOperators.S2I, SI, 0))
                .lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static final FloatVector TWO_POW_112 = FloatVector.broadcast(S, 0x1p112f);

    /**
     * L F16 elements from element {@code index} of {@code seg} as F32, what {@link Float#float16ToFloat}
     * gives each (the Vector API has no half-float conversion): exponent and mantissa shifted
     * into F32's fields, which reads as the value times 2^-112, then multiplied by 2^112 (exact
     * for normal and subnormal halves alike); infinities and NaNs (exponent all ones) get F32's
     * all-ones exponent instead; the sign moved to bit 31.
     */
    private static FloatVector f16(java.lang.foreign.MemorySegment seg, long index) {
        ShortVector v = ShortVector.fromMemorySegment(SH, seg, index * 2, java.nio.ByteOrder.LITTLE_ENDIAN);
        IntVector i = (IntVector) v.convertShape(jdk.incubator.vector.VectorOperators.S2I, SI, 0);
        IntVector em = i.and(0x7FFF), shifted = em.lanewise(jdk.incubator.vector.VectorOperators.LSHL, 13);
        IntVector sign = i.and(0x8000).lanewise(jdk.incubator.vector.VectorOperators.LSHL, 16);
        IntVector finite = shifted.reinterpretAsFloats().mul(TWO_POW_112).reinterpretAsInts();
        IntVector bits = finite.blend(shifted.or(0x7F800000), em.compare(jdk.incubator.vector.VectorOperators.GE, 0x7C00));
        return bits.or(sign).reinterpretAsFloats();
    }

    private static final ThreadLocal<float[]> BLOCK_SCRATCH = ThreadLocal.withInitial(() -> new float[256]);

    /** dst[d : d + len] = elements [i, i + len) of h widened to F32. */
    static void widen(B16 h, long i, float[] dst, int d, int len) {
        if (h.q != null) {
            dequantizeRun(h.q, i, dst, d, len);
            return;
        }
        int j = 0, ub = S.loopBound(len);
        if (h.bf16) {
            for (; j < ub; j += L) bf16(h.seg, i + j).intoArray(dst, d + j);
        } else {
            for (; j < ub; j += L) f16(h.seg, i + j).intoArray(dst, d + j);
        }
        for (; j < len; j++) dst[d + j] = h.get(i + j);
    }

    /**
     * {@link #direct} with a 16-bit B. Matrix-vector shapes (m = 1: a decode step) stream B in 16
     * bits: each row (B not transposed) or column (transposed) widened in registers as the axpy or
     * the dot product reads it (F16: into one row of L1 first), in the F32 loops' order, so the sums
     * are theirs. Small products widen op(B) once and run the F32 loops.
     */
    private static void direct16(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                 float[] a, int aOff, int lda, B16 h, int bOff, int ldb,
                                 float beta, float[] c, int cOff, int ldc) {
        Buffers buf = BUFFERS.get();
        boolean streams = transB ? k > SHORT_DOT : n > SHORT_ROW;
        if (!streams) {
            int rows = transB ? n : k, cols = transB ? k : n;
            if (buf.wide.length < rows * cols) buf.wide = new float[rows * cols];
            float[] wide = buf.wide;
            for (int r = 0; r < rows; r++) widen(h, bOff + (long) r * ldb, wide, r * cols, cols);   // op(B) [k, n] or [n, k], compact
            direct(transA, transB, m, n, k, alpha, a, aOff, lda, wide, 0, cols, beta, c, cOff, ldc);
            return;
        }
        if (buf.row.length < k) buf.row = new float[k];
        if (buf.acc.length < n) buf.acc = new float[n];
        float[] row = buf.row, acc = buf.acc;
        for (int i = 0; i < m; i++) {
            if (transA) {
                for (int p = 0; p < k; p++) row[p] = a[aOff + p * lda + i];
            } else {
                System.arraycopy(a, aOff + i * lda, row, 0, k);
            }
            if (transB) {
                for (int j = 0; j < n; j++) {
                    long y = bOff + (long) j * ldb;
                    acc[j] = h.bf16 ? dotBf16(row, h.seg, y, k) : dotF16(row, h.seg, y, k);
                }
            } else {
                java.util.Arrays.fill(acc, 0, n, 0f);
                if (h.bf16) axpyRowsBf16(row, h.seg, bOff, ldb, k, acc, n);
                else axpyRowsF16(row, h.seg, bOff, ldb, k, acc, n);
            }
            storeRow(acc, n, alpha, beta, c, cOff + i * ldc);
        }
    }

    /** {@link #dot} of x with n BF16 elements of seg from element yOff, the same sums. */
    private static float dotBf16(float[] x, java.lang.foreign.MemorySegment seg, long yOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int i = 0;
        int ub2 = n - 2 * L + 1;
        for (; i < ub2; i += 2 * L) {
            s0 = FloatVector.fromArray(S, x, i).fma(bf16(seg, yOff + i), s0);
            s1 = FloatVector.fromArray(S, x, i + L).fma(bf16(seg, yOff + i + L), s1);
        }
        int ub = S.loopBound(n);
        for (; i < ub; i += L) s0 = FloatVector.fromArray(S, x, i).fma(bf16(seg, yOff + i), s0);
        float s = Lanes.sum(s0.add(s1));
        for (; i < n; i++) s += x[i] * Float.intBitsToFloat(seg.getAtIndex(B16.I16_LE, yOff + i) << 16);
        return s;
    }

    /** {@link #axpy} of n BF16 elements of seg from element xOff: acc[0:n] += s x. */
    private static void axpyBf16(float s, java.lang.foreign.MemorySegment seg, long xOff, float[] acc, int n) {
        if (s == 0f) return;
        FloatVector sv = FloatVector.broadcast(S, s);
        int j = 0;
        int ub = S.loopBound(n);
        for (; j < ub; j += L) bf16(seg, xOff + j).fma(sv, FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
        for (; j < n; j++) acc[j] += s * Float.intBitsToFloat(seg.getAtIndex(B16.I16_LE, xOff + j) << 16);
    }

    /**
     * dst[d : d + len] = elements [i, i + len) of quantized W (one row's run: i % cols + len <=
     * cols) dequantized: whole blocks straight into dst ({@link SimdQuant#dequantizeBlocks}), a
     * partial block at either end through a scratch block.
     */
    private static void dequantizeRun(dev.attn4j.tensor.QuantizedMatrix q, long i, float[] dst, int d, int len) {
        int cols = q.cols(), bs = q.type().blockSize(), bb = q.type().blockBytes();
        long rowOff = i / cols * q.rowBytes();
        int col = (int) (i % cols), end = col + len;
        if (end > cols) throw new IllegalStateException("quantized run [" + col + ", " + end + ") crosses a row of " + cols);
        float[] scratch = null;
        while (col < end) {
            int b = col / bs, start = b * bs;
            if (start == col && end - col >= bs) {
                int blocks = (end - col) / bs;
                SimdQuant.dequantizeBlocks(q.type(), q.data(), rowOff + (long) b * bb, blocks, dst, d);
                col += blocks * bs;
                d += blocks * bs;
            } else {
                // a block cut by the run (a k-quant's 256 against KC = 384): whole into a scratch,
                // in vector registers as the whole ones (the reference here cost a third as much as
                // the products of a 128-token Q4_K prefill)
                if (scratch == null) scratch = BLOCK_SCRATCH.get();
                SimdQuant.dequantizeBlocks(q.type(), q.data(), rowOff + (long) b * bb, 1, scratch, 0);
                int take = Math.min(end, start + bs) - col;
                System.arraycopy(scratch, col - start, dst, d, take);
                col += take;
                d += take;
            }
        }
    }

    /** {@link #packAllB} from a 16-bit B: the same panels, each element widened as it is packed. */
    static void packAllB16(boolean transB, B16 h, int bOff, int ldb, int k, int n, float[] dst, int from, int to) {
        if (!transB) {
            for (int p = from; p < to; p++) packRowOfB16(h, bOff + (long) p * ldb, k, n, p, dst);
        } else {
            packAllBTransposed(null, h, bOff, ldb, k, n, dst, from, to);
        }
    }

    /**
     * Columns [from, to) of a transposed op(B) (column j is storage row j: F32 {@code b}, or 16-bit
     * {@code h} when b is null) into the fully packed layout: sixteen columns at a time through
     * {@link #packSixteenColumnsT} where sixteen lane-aligned columns lie in [from, to), the rest
     * element by element.
     */
    private static void packAllBTransposed(float[] b, B16 h, int bOff, int ldb, int k, int n, float[] dst, int from, int to) {
        float[] rows16 = L == 16 ? BUFFERS.get().rows16 : null;
        for (int j = from; j < to; ) {
            int jc = j / NC * NC, nc = Math.min(NC, n - jc), jj = j - jc;
            int lane = jj % NR, panel = jj / NR;
            boolean sixteen = L == 16 && lane % 16 == 0 && j + 16 <= to && jj + 16 <= nc;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                int d = packedBlockOffset(k, jc, pc, nc) + panel * NR * kc + lane;
                long src = bOff + (long) j * ldb + pc;
                if (sixteen) {
                    packSixteenColumnsT(b, h, src, ldb, kc, dst, d, rows16);
                } else if (b != null) {
                    for (int p = 0; p < kc; p++) dst[d + p * NR] = b[(int) src + p];
                } else if (h.q == null) {
                    for (int p = 0; p < kc; p++) dst[d + p * NR] = h.get(src + p);
                } else {
                    float[] run = new float[kc];                                  // a quantized column: its blocks once
                    widen(h, src, run, 0, kc);
                    for (int p = 0; p < kc; p++) dst[d + p * NR] = run[p];
                }
            }
            j += sixteen ? 16 : 1;
        }
    }

    /**
     * Sixteen columns of a transposed op(B) over kc depths into a panel: column c is the run of kc
     * elements from {@code src + c * ldb} (F32 {@code b}, or 16-bit {@code h} widened into
     * {@code rows16} first), written to dst[d + p * NR + c]. Sixteen depths at a time through an
     * in-register transpose, the last kc % 16 element by element. (Element by element throughout,
     * each store NR floats from the last, packing a 16-bit decoder weight for a prefill cost about
     * as much as the products.)
     */
    private static void packSixteenColumnsT(float[] b, B16 h, long src, int ldb, int kc, float[] dst, int d, float[] rows16) {
        float[] rows;
        int s, lds;
        if (b != null) {
            rows = b;
            s = (int) src;
            lds = ldb;
        } else {
            for (int c = 0; c < 16; c++) widen(h, src + (long) c * ldb, rows16, c * kc, kc);
            rows = rows16;
            s = 0;
            lds = kc;
        }
        int p = 0;
        for (; p + 16 <= kc; p += 16) transposeSixteen(rows, s + p, lds, dst, d + p * NR, NR);
        for (; p < kc; p++) {
            for (int c = 0; c < 16; c++) dst[d + p * NR + c] = rows[s + c * lds + p];
        }
    }

    /**
     * A 16 x 16 block transposed: rows r = 0..15 of {@code src} (sixteen floats each from
     * {@code s + r * lds}) become the columns of {@code dst} (row p, sixteen floats, at
     * {@code d + p * ldd}): dst[p][r] = src[r][p]. Sixteen loads, four rounds of sixteen two-vector
     * permutes (row i zipped with row i + 8, the results in order: four rounds of that perfect
     * shuffle transpose 16 x 16), sixteen stores. Pure data movement: the values keep their bits.
     */
    static void transposeSixteen(float[] src, int s, int lds, float[] dst, int d, int ldd) {
        IntVector r0 = FloatVector.fromArray(S16, src, s + 0 * lds).reinterpretAsInts();
        IntVector r1 = FloatVector.fromArray(S16, src, s + 1 * lds).reinterpretAsInts();
        IntVector r2 = FloatVector.fromArray(S16, src, s + 2 * lds).reinterpretAsInts();
        IntVector r3 = FloatVector.fromArray(S16, src, s + 3 * lds).reinterpretAsInts();
        IntVector r4 = FloatVector.fromArray(S16, src, s + 4 * lds).reinterpretAsInts();
        IntVector r5 = FloatVector.fromArray(S16, src, s + 5 * lds).reinterpretAsInts();
        IntVector r6 = FloatVector.fromArray(S16, src, s + 6 * lds).reinterpretAsInts();
        IntVector r7 = FloatVector.fromArray(S16, src, s + 7 * lds).reinterpretAsInts();
        IntVector r8 = FloatVector.fromArray(S16, src, s + 8 * lds).reinterpretAsInts();
        IntVector r9 = FloatVector.fromArray(S16, src, s + 9 * lds).reinterpretAsInts();
        IntVector r10 = FloatVector.fromArray(S16, src, s + 10 * lds).reinterpretAsInts();
        IntVector r11 = FloatVector.fromArray(S16, src, s + 11 * lds).reinterpretAsInts();
        IntVector r12 = FloatVector.fromArray(S16, src, s + 12 * lds).reinterpretAsInts();
        IntVector r13 = FloatVector.fromArray(S16, src, s + 13 * lds).reinterpretAsInts();
        IntVector r14 = FloatVector.fromArray(S16, src, s + 14 * lds).reinterpretAsInts();
        IntVector r15 = FloatVector.fromArray(S16, src, s + 15 * lds).reinterpretAsInts();
        IntVector a0 = ZIP1_LO.selectFrom(r0, r8), a1 = ZIP1_HI.selectFrom(r0, r8);
        IntVector a2 = ZIP1_LO.selectFrom(r1, r9), a3 = ZIP1_HI.selectFrom(r1, r9);
        IntVector a4 = ZIP1_LO.selectFrom(r2, r10), a5 = ZIP1_HI.selectFrom(r2, r10);
        IntVector a6 = ZIP1_LO.selectFrom(r3, r11), a7 = ZIP1_HI.selectFrom(r3, r11);
        IntVector a8 = ZIP1_LO.selectFrom(r4, r12), a9 = ZIP1_HI.selectFrom(r4, r12);
        IntVector a10 = ZIP1_LO.selectFrom(r5, r13), a11 = ZIP1_HI.selectFrom(r5, r13);
        IntVector a12 = ZIP1_LO.selectFrom(r6, r14), a13 = ZIP1_HI.selectFrom(r6, r14);
        IntVector a14 = ZIP1_LO.selectFrom(r7, r15), a15 = ZIP1_HI.selectFrom(r7, r15);
        IntVector b0 = ZIP1_LO.selectFrom(a0, a8), b1 = ZIP1_HI.selectFrom(a0, a8);
        IntVector b2 = ZIP1_LO.selectFrom(a1, a9), b3 = ZIP1_HI.selectFrom(a1, a9);
        IntVector b4 = ZIP1_LO.selectFrom(a2, a10), b5 = ZIP1_HI.selectFrom(a2, a10);
        IntVector b6 = ZIP1_LO.selectFrom(a3, a11), b7 = ZIP1_HI.selectFrom(a3, a11);
        IntVector b8 = ZIP1_LO.selectFrom(a4, a12), b9 = ZIP1_HI.selectFrom(a4, a12);
        IntVector b10 = ZIP1_LO.selectFrom(a5, a13), b11 = ZIP1_HI.selectFrom(a5, a13);
        IntVector b12 = ZIP1_LO.selectFrom(a6, a14), b13 = ZIP1_HI.selectFrom(a6, a14);
        IntVector b14 = ZIP1_LO.selectFrom(a7, a15), b15 = ZIP1_HI.selectFrom(a7, a15);
        IntVector c0 = ZIP1_LO.selectFrom(b0, b8), c1 = ZIP1_HI.selectFrom(b0, b8);
        IntVector c2 = ZIP1_LO.selectFrom(b1, b9), c3 = ZIP1_HI.selectFrom(b1, b9);
        IntVector c4 = ZIP1_LO.selectFrom(b2, b10), c5 = ZIP1_HI.selectFrom(b2, b10);
        IntVector c6 = ZIP1_LO.selectFrom(b3, b11), c7 = ZIP1_HI.selectFrom(b3, b11);
        IntVector c8 = ZIP1_LO.selectFrom(b4, b12), c9 = ZIP1_HI.selectFrom(b4, b12);
        IntVector c10 = ZIP1_LO.selectFrom(b5, b13), c11 = ZIP1_HI.selectFrom(b5, b13);
        IntVector c12 = ZIP1_LO.selectFrom(b6, b14), c13 = ZIP1_HI.selectFrom(b6, b14);
        IntVector c14 = ZIP1_LO.selectFrom(b7, b15), c15 = ZIP1_HI.selectFrom(b7, b15);
        IntVector d0 = ZIP1_LO.selectFrom(c0, c8), d1 = ZIP1_HI.selectFrom(c0, c8);
        IntVector d2 = ZIP1_LO.selectFrom(c1, c9), d3 = ZIP1_HI.selectFrom(c1, c9);
        IntVector d4 = ZIP1_LO.selectFrom(c2, c10), d5 = ZIP1_HI.selectFrom(c2, c10);
        IntVector d6 = ZIP1_LO.selectFrom(c3, c11), d7 = ZIP1_HI.selectFrom(c3, c11);
        IntVector d8 = ZIP1_LO.selectFrom(c4, c12), d9 = ZIP1_HI.selectFrom(c4, c12);
        IntVector d10 = ZIP1_LO.selectFrom(c5, c13), d11 = ZIP1_HI.selectFrom(c5, c13);
        IntVector d12 = ZIP1_LO.selectFrom(c6, c14), d13 = ZIP1_HI.selectFrom(c6, c14);
        IntVector d14 = ZIP1_LO.selectFrom(c7, c15), d15 = ZIP1_HI.selectFrom(c7, c15);
        d0.reinterpretAsFloats().intoArray(dst, d + 0 * ldd);
        d1.reinterpretAsFloats().intoArray(dst, d + 1 * ldd);
        d2.reinterpretAsFloats().intoArray(dst, d + 2 * ldd);
        d3.reinterpretAsFloats().intoArray(dst, d + 3 * ldd);
        d4.reinterpretAsFloats().intoArray(dst, d + 4 * ldd);
        d5.reinterpretAsFloats().intoArray(dst, d + 5 * ldd);
        d6.reinterpretAsFloats().intoArray(dst, d + 6 * ldd);
        d7.reinterpretAsFloats().intoArray(dst, d + 7 * ldd);
        d8.reinterpretAsFloats().intoArray(dst, d + 8 * ldd);
        d9.reinterpretAsFloats().intoArray(dst, d + 9 * ldd);
        d10.reinterpretAsFloats().intoArray(dst, d + 10 * ldd);
        d11.reinterpretAsFloats().intoArray(dst, d + 11 * ldd);
        d12.reinterpretAsFloats().intoArray(dst, d + 12 * ldd);
        d13.reinterpretAsFloats().intoArray(dst, d + 13 * ldd);
        d14.reinterpretAsFloats().intoArray(dst, d + 14 * ldd);
        d15.reinterpretAsFloats().intoArray(dst, d + 15 * ldd);
    }


    /** {@link #packRowOfB} from a 16-bit B. */
    private static void packRowOfB16(B16 h, long src, int k, int n, int p, float[] dst) {
        int pc = p / KC * KC, kc = Math.min(KC, k - pc), row = p - pc;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc), full = nc / NR * NR, w = nc - full;
            int base = packedBlockOffset(k, jc, pc, nc) + row * NR;
            for (int j0 = 0; j0 < full; j0 += NR) widen(h, src + jc + j0, dst, base + j0 * kc, NR);
            if (w > 0) {
                int d = base + full * kc;
                widen(h, src + jc + full, dst, d, w);
                java.util.Arrays.fill(dst, d + w, d + NR, 0f);
            }
        }
    }

    /** {@link #packB} from a 16-bit B: the same panels, each element widened as it is packed. */
    static void packB16(boolean transB, B16 h, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp) {
        int full = nc / NR * NR, w = nc - full;
        if (!transB) {
            for (int p = 0; p < kc; p++) {
                long src = bOff + (long) (pc + p) * ldb + jc;
                for (int j0 = 0; j0 < full; j0 += NR) widen(h, src + j0, bp, j0 * kc + p * NR, NR);
                if (w > 0) {
                    int d = full * kc + p * NR;
                    widen(h, src + full, bp, d, w);
                    java.util.Arrays.fill(bp, d + w, d + NR, 0f);
                }
            }
        } else {
            float[] rows16 = L == 16 ? BUFFERS.get().rows16 : null;
            for (int j0 = 0; j0 < nc; j0 += NR) {
                int cols = Math.min(NR, nc - j0), dst = j0 * kc;
                int jj = 0;
                if (L == 16) {
                    for (; jj + 16 <= cols; jj += 16) {
                        packSixteenColumnsT(null, h, bOff + (long) (jc + j0 + jj) * ldb + pc, ldb, kc, bp, dst + jj, rows16);
                    }
                }
                float[] run = h.q == null ? null : new float[kc];
                for (; jj < cols; jj++) {
                    long src = bOff + (long) (jc + j0 + jj) * ldb + pc;
                    if (run == null) {
                        for (int p = 0; p < kc; p++) bp[dst + p * NR + jj] = h.get(src + p);
                    } else {
                        widen(h, src, run, 0, kc);                                 // a quantized column: its blocks once
                        for (int p = 0; p < kc; p++) bp[dst + p * NR + jj] = run[p];
                    }
                }
                if (cols < NR) {
                    for (int p = 0; p < kc; p++) java.util.Arrays.fill(bp, dst + p * NR + cols, dst + p * NR + NR, 0f);
                }
            }
        }
    }

    /** Longest reduction that the direct path runs as axpys over a transposed B rather than as dot products. */
    static final int SHORT_DOT = 64;
    /** Widest row of C (in floats) that {@link #shortRow} handles; wider ones run as axpys. */
    static final int SHORT_ROW = 4 * L;

    /**
     * acc[0:n] = sum_p x[p] * B[p, 0:n] (B row-major from b[bOff], row stride ldb), one vector
     * of columns at a time (the last one masked) with four partial sums over p in registers:
     * the axpy form stores acc and reloads it for every p, a store-to-load chain of about 9 cycles
     * per multiply-add when the row is one vector long.
     */
    private static void shortRow(float[] x, float[] b, int bOff, int ldb, int k, int n, float[] acc) {
        for (int j = 0; j < n; j += L) {
            var mask = S.indexInRange(j, n);
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            int p = 0;
            for (; p + 4 <= k; p += 4) {
                int o = bOff + p * ldb + j;
                s0 = FloatVector.fromArray(S, b, o, mask).fma(FloatVector.broadcast(S, x[p]), s0);
                s1 = FloatVector.fromArray(S, b, o + ldb, mask).fma(FloatVector.broadcast(S, x[p + 1]), s1);
                s2 = FloatVector.fromArray(S, b, o + 2 * ldb, mask).fma(FloatVector.broadcast(S, x[p + 2]), s2);
                s3 = FloatVector.fromArray(S, b, o + 3 * ldb, mask).fma(FloatVector.broadcast(S, x[p + 3]), s3);
            }
            for (; p < k; p++) {
                s0 = FloatVector.fromArray(S, b, bOff + p * ldb + j, mask).fma(FloatVector.broadcast(S, x[p]), s0);
            }
            s0.add(s1).add(s2.add(s3)).intoArray(acc, j, mask);
        }
    }

    private static float dot(float[] x, float[] y, int yOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int i = 0;
        int ub2 = n - 2 * L + 1;
        for (; i < ub2; i += 2 * L) {
            s0 = FloatVector.fromArray(S, x, i).fma(FloatVector.fromArray(S, y, yOff + i), s0);
            s1 = FloatVector.fromArray(S, x, i + L).fma(FloatVector.fromArray(S, y, yOff + i + L), s1);
        }
        int ub = S.loopBound(n);
        for (; i < ub; i += L) s0 = FloatVector.fromArray(S, x, i).fma(FloatVector.fromArray(S, y, yOff + i), s0);
        float s = Lanes.sum(s0.add(s1));
        for (; i < n; i++) s += x[i] * y[yOff + i];
        return s;
    }

    /**
     * acc[0:n] += sum over p &lt; k of x[p] * B[p, 0:n] (B row-major from b[bOff], row stride ldb):
     * {@link #axpy} row after row, but four rows per pass over acc, so acc is loaded and stored a
     * quarter as often (a matrix-vector product is otherwise bound by those L1 accesses, not by
     * reading B). Each element still takes the rows' FMAs one at a time in order p, and a group
     * with a zero x[p] (which axpy skips) runs row by row: the bits of the one-row loop.
     */
    private static void axpyRows(float[] x, float[] b, int bOff, int ldb, int k, float[] acc, int n) {
        int p = 0, ub = S.loopBound(n);
        for (; p + 4 <= k; p += 4) {
            float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
            int o0 = bOff + p * ldb, o1 = o0 + ldb, o2 = o1 + ldb, o3 = o2 + ldb;
            if (x0 == 0f || x1 == 0f || x2 == 0f || x3 == 0f) {
                axpy(x0, b, o0, acc, n);
                axpy(x1, b, o1, acc, n);
                axpy(x2, b, o2, acc, n);
                axpy(x3, b, o3, acc, n);
                continue;
            }
            FloatVector v0 = FloatVector.broadcast(S, x0), v1 = FloatVector.broadcast(S, x1),
                    v2 = FloatVector.broadcast(S, x2), v3 = FloatVector.broadcast(S, x3);
            int j = 0;
            for (; j < ub; j += L) {
                FloatVector a = FloatVector.fromArray(S, b, o0 + j).fma(v0, FloatVector.fromArray(S, acc, j));
                a = FloatVector.fromArray(S, b, o1 + j).fma(v1, a);
                a = FloatVector.fromArray(S, b, o2 + j).fma(v2, a);
                FloatVector.fromArray(S, b, o3 + j).fma(v3, a).intoArray(acc, j);
            }
            for (; j < n; j++) {
                acc[j] += x0 * b[o0 + j];
                acc[j] += x1 * b[o1 + j];
                acc[j] += x2 * b[o2 + j];
                acc[j] += x3 * b[o3 + j];
            }
        }
        for (; p < k; p++) axpy(x[p], b, bOff + p * ldb, acc, n);
    }

    /** {@link #axpyRows} over a BF16 B (elements of seg from element bOff), widened in registers: the same bits. */
    private static void axpyRowsBf16(float[] x, java.lang.foreign.MemorySegment seg, long bOff, int ldb, int k, float[] acc, int n) {
        int p = 0, ub = S.loopBound(n);
        for (; p + 4 <= k; p += 4) {
            float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
            long o0 = bOff + (long) p * ldb, o1 = o0 + ldb, o2 = o1 + ldb, o3 = o2 + ldb;
            if (x0 == 0f || x1 == 0f || x2 == 0f || x3 == 0f) {
                axpyBf16(x0, seg, o0, acc, n);
                axpyBf16(x1, seg, o1, acc, n);
                axpyBf16(x2, seg, o2, acc, n);
                axpyBf16(x3, seg, o3, acc, n);
                continue;
            }
            FloatVector v0 = FloatVector.broadcast(S, x0), v1 = FloatVector.broadcast(S, x1),
                    v2 = FloatVector.broadcast(S, x2), v3 = FloatVector.broadcast(S, x3);
            int j = 0;
            for (; j < ub; j += L) {
                FloatVector a = bf16(seg, o0 + j).fma(v0, FloatVector.fromArray(S, acc, j));
                a = bf16(seg, o1 + j).fma(v1, a);
                a = bf16(seg, o2 + j).fma(v2, a);
                bf16(seg, o3 + j).fma(v3, a).intoArray(acc, j);
            }
            for (; j < n; j++) {
                acc[j] += x0 * Float.intBitsToFloat(seg.getAtIndex(B16.I16_LE, o0 + j) << 16);
                acc[j] += x1 * Float.intBitsToFloat(seg.getAtIndex(B16.I16_LE, o1 + j) << 16);
                acc[j] += x2 * Float.intBitsToFloat(seg.getAtIndex(B16.I16_LE, o2 + j) << 16);
                acc[j] += x3 * Float.intBitsToFloat(seg.getAtIndex(B16.I16_LE, o3 + j) << 16);
            }
        }
        for (; p < k; p++) axpyBf16(x[p], seg, bOff + (long) p * ldb, acc, n);
    }

    /** {@link #dot} of x with n F16 elements of seg from element yOff, the same sums. */
    private static float dotF16(float[] x, java.lang.foreign.MemorySegment seg, long yOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0;
        int i = 0;
        int ub2 = n - 2 * L + 1;
        for (; i < ub2; i += 2 * L) {
            s0 = FloatVector.fromArray(S, x, i).fma(f16(seg, yOff + i), s0);
            s1 = FloatVector.fromArray(S, x, i + L).fma(f16(seg, yOff + i + L), s1);
        }
        int ub = S.loopBound(n);
        for (; i < ub; i += L) s0 = FloatVector.fromArray(S, x, i).fma(f16(seg, yOff + i), s0);
        float s = Lanes.sum(s0.add(s1));
        for (; i < n; i++) s += x[i] * Float.float16ToFloat(seg.getAtIndex(B16.I16_LE, yOff + i));
        return s;
    }

    /** {@link #axpy} of n F16 elements of seg from element xOff: acc[0:n] += s x. */
    private static void axpyF16(float s, java.lang.foreign.MemorySegment seg, long xOff, float[] acc, int n) {
        if (s == 0f) return;
        FloatVector sv = FloatVector.broadcast(S, s);
        int j = 0;
        int ub = S.loopBound(n);
        for (; j < ub; j += L) f16(seg, xOff + j).fma(sv, FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
        for (; j < n; j++) acc[j] += s * Float.float16ToFloat(seg.getAtIndex(B16.I16_LE, xOff + j));
    }

    /** {@link #axpyRows} over a F16 B (elements of seg from element bOff), widened in registers: the same bits. */
    private static void axpyRowsF16(float[] x, java.lang.foreign.MemorySegment seg, long bOff, int ldb, int k, float[] acc, int n) {
        int p = 0, ub = S.loopBound(n);
        for (; p + 4 <= k; p += 4) {
            float x0 = x[p], x1 = x[p + 1], x2 = x[p + 2], x3 = x[p + 3];
            long o0 = bOff + (long) p * ldb, o1 = o0 + ldb, o2 = o1 + ldb, o3 = o2 + ldb;
            if (x0 == 0f || x1 == 0f || x2 == 0f || x3 == 0f) {
                axpyF16(x0, seg, o0, acc, n);
                axpyF16(x1, seg, o1, acc, n);
                axpyF16(x2, seg, o2, acc, n);
                axpyF16(x3, seg, o3, acc, n);
                continue;
            }
            FloatVector v0 = FloatVector.broadcast(S, x0), v1 = FloatVector.broadcast(S, x1),
                    v2 = FloatVector.broadcast(S, x2), v3 = FloatVector.broadcast(S, x3);
            int j = 0;
            for (; j < ub; j += L) {
                FloatVector a = f16(seg, o0 + j).fma(v0, FloatVector.fromArray(S, acc, j));
                a = f16(seg, o1 + j).fma(v1, a);
                a = f16(seg, o2 + j).fma(v2, a);
                f16(seg, o3 + j).fma(v3, a).intoArray(acc, j);
            }
            for (; j < n; j++) {
                acc[j] += x0 * Float.float16ToFloat(seg.getAtIndex(B16.I16_LE, o0 + j));
                acc[j] += x1 * Float.float16ToFloat(seg.getAtIndex(B16.I16_LE, o1 + j));
                acc[j] += x2 * Float.float16ToFloat(seg.getAtIndex(B16.I16_LE, o2 + j));
                acc[j] += x3 * Float.float16ToFloat(seg.getAtIndex(B16.I16_LE, o3 + j));
            }
        }
        for (; p < k; p++) axpyF16(x[p], seg, bOff + (long) p * ldb, acc, n);
    }

    /** acc[0:n] += s * x[xOff : xOff + n]. */
    private static void axpy(float s, float[] x, int xOff, float[] acc, int n) {
        if (s == 0f) return;
        FloatVector sv = FloatVector.broadcast(S, s);
        int j = 0;
        int ub = S.loopBound(n);
        for (; j < ub; j += L) FloatVector.fromArray(S, x, xOff + j).fma(sv, FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
        for (; j < n; j++) acc[j] += s * x[xOff + j];
    }

    /**
     * The packed algorithm on one slab of C, on the calling thread. {@code packedB}: all of B
     * already packed by {@link #packAllB} (shared between threads), or null to pack block by block.
     * {@code init}: null, or C's initial value (beta is then 1), written panel by panel just before
     * the first depth block's products, so the kernels find it in L1, and its activation, applied
     * panel by panel right after the last depth block's.
     */
    static void blocked(boolean transA, boolean transB, int m, int n, int k, float alpha,
                        float[] a, int aOff, int lda, float[] b, B16 h, int bOff, int ldb,
                        float beta, float[] c, int cOff, int ldc, float[] packedB, CInit init) {
        Buffers buf = BUFFERS.get();
        if (packedB != null && k > KC && (long) GROUP_PANELS * MP * k <= MAX_PACKED_A) {
            groupedBlocked(transA, m, n, k, alpha, a, aOff, lda, beta, c, cOff, ldc, packedB, init,
                    buf.a(GROUP_PANELS * MP * k), buf.tile, buf.gather(lda));
            return;
        }
        blockedColumns(transA, transB, m, n, k, alpha, a, aOff, lda, b, h, bOff, ldb, beta, c, cOff, ldc, packedB, init, 0, n);
    }

    /** All of op(B) [k, n] in the fully packed layout ({@link #packAllB}, zero padding included): a B packed once. */
    static float[] packWhole(boolean transB, float[] b, int bOff, int ldb, int k, int n) {
        float[] dst = new float[Math.multiplyExact(k, packedWidth(n))];
        packAllB(transB, b, null, bOff, ldb, k, n, dst, 0, transB ? n : k);
        if (transB) zeroPackedPadding(k, n, dst);
        return dst;
    }

    /**
     * Columns [j0, j1) of C (j0 a multiple of NR): for each depth block, each column block those
     * columns meet, entered at the panel of its first column, and each A panel against it. B comes
     * from {@code packedB} (all of it packed, {@link #packAllB}'s layout) or, when that is null, is
     * packed block by block here (then the range must be all of [0, n)). With several column
     * blocks the A panels of a depth block are packed once for all of them (up to MAX_PACKED_A
     * floats) instead of once per block: QKV and FFN projections (n = 1152, 1536 over NC = 768)
     * packed every row of A twice; otherwise each panel is packed just before its products, while
     * it is in L1.
     */
    private static void blockedColumns(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                       float[] a, int aOff, int lda, float[] b, B16 h, int bOff, int ldb,
                                       float beta, float[] c, int cOff, int ldc, float[] packedB, CInit init, int j0, int j1) {
        if (packedB == null && (j0 != 0 || j1 != n)) {
            throw new IllegalStateException("blockedColumns: columns [" + j0 + ", " + j1 + ") of " + n + " need a packed B");
        }
        Buffers buf = BUFFERS.get();
        int kcMax = Math.min(KC, k);
        int panels = (m + MR - 1) / MR;
        boolean packAOnce = (j1 - 1) / NC != j0 / NC && (long) panels * MP * kcMax <= MAX_PACKED_A;
        float[] ap = buf.a((packAOnce ? panels : 1) * MP * kcMax);
        float[] bp = packedB != null ? packedB : buf.b(Math.min(NC, roundUp(n, NR)) * kcMax);
        float[] tile = buf.tile;
        int[] gather = buf.gather(lda);   // {0, lda, ..., 6 lda, 6 lda}: A rows of one panel
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            if (packAOnce) packA(transA, a, aOff, lda, 0, m, pc, kc, alpha, ap, gather);   // panel ir / MR at ir / MR * kc * MP
            // The first depth block applies beta; later ones add to what it wrote.
            float betaHere = pc == 0 ? beta : 1f;
            for (int jc = j0 / NC * NC; jc < j1; jc += NC) {
                int nc = Math.min(NC, n - jc);
                int from = Math.max(jc, j0), width = Math.min(jc + nc, j1) - from;
                int bBase = (from - jc) * kc;                                         // panel (from - jc) / NR: [kc, NR] each
                if (packedB == null) {
                    if (h == null) packB(transB, b, bOff, ldb, pc, kc, jc, nc, bp);
                    else packB16(transB, h, bOff, ldb, pc, kc, jc, nc, bp);
                } else {
                    bBase += packedBlockOffset(k, jc, pc, nc);
                }
                for (int ir = 0; ir < m; ir += MR) {
                    int mr = Math.min(MR, m - ir);
                    // One A panel [kc, MP] (12 KiB at kc = 384) stays in L1 while the B panels of
                    // the block stream past it from L2.
                    int ai = 0;
                    if (packAOnce) ai = ir / MR * kc * MP;
                    else packA(transA, a, aOff, lda, ir, mr, pc, kc, alpha, ap, gather);
                    if (pc == 0 && init != null) init.fill(c, cOff, ldc, ir, mr, from, width);
                    panelTimesBlock(kc, ap, ai, bp, bBase, mr, width, c, cOff + ir * ldc + from, ldc, betaHere, tile);
                    if (pc + kc >= k && init != null) init.activate(c, cOff, ldc, ir, mr, from, width);
                }
            }
        }
    }

    /**
     * {@link #blocked} over all of B packed, for k deeper than KC, in groups of GROUP_PANELS A
     * panels: for each group, every column block and depth block in turn, so the group's rows of
     * C are still in L2 when the next depth block adds to them. {@code ag}: room for one group's
     * panels over the whole depth, packed up front ({@code [k / kc blocks][panels][kc, MP]}).
     * Each element of C sums its depth blocks in the same order as {@link #blocked}: the same bits.
     */
    private static void groupedBlocked(boolean transA, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                                       float beta, float[] c, int cOff, int ldc, float[] packedB, CInit init,
                                       float[] ag, float[] tile, int[] gather) {
        int groupRows = GROUP_PANELS * MR;
        for (int g0 = 0; g0 < m; g0 += groupRows) {
            int gm = Math.min(groupRows, m - g0), panels = (gm + MR - 1) / MR;
            // Depth block pc of the group starts at pc * panels * MP (the blocks before it hold pc steps).
            for (int pc = 0; pc < k; pc += KC) {
                packA(transA, a, aOff, lda, g0, gm, pc, Math.min(KC, k - pc), alpha, ag, pc * panels * MP, gather);
            }
            for (int jc = 0; jc < n; jc += NC) {
                int nc = Math.min(NC, n - jc);
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    float betaHere = pc == 0 ? beta : 1f;
                    int bBase = packedBlockOffset(k, jc, pc, nc);
                    for (int ir = g0; ir < g0 + gm; ir += MR) {
                        int mr = Math.min(MR, m - ir);
                        int ai = pc * panels * MP + (ir - g0) / MR * kc * MP;
                        if (pc == 0 && init != null) init.fill(c, cOff, ldc, ir, mr, jc, nc);
                        panelTimesBlock(kc, ag, ai, packedB, bBase, mr, nc, c, cOff + ir * ldc + jc, ldc, betaHere, tile);
                        if (pc + kc >= k && init != null) init.activate(c, cOff, ldc, ir, mr, jc, nc);
                    }
                }
            }
        }
    }

    /**
     * C[0:mr, 0:nc] at {@code cIdx} (+)= one A panel (at {@code ai}) times the NR-wide panels of one
     * packed B block (at {@code bBase}, each [kc, NR]); beta as in the kernels.
     */
    private static void panelTimesBlock(int kc, float[] ap, int ai, float[] bp, int bBase, int mr, int nc,
                                        float[] c, int cIdx, int ldc, float beta, float[] tile) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int bIdx = bBase + jr * kc;                  // panel jr / NR: [kc, NR]
            if (mr == MR && nr == NR) {
                if (beta == 0f) kernelSet(kc, ap, ai, bp, bIdx, c, cIdx + jr, ldc);
                else if (beta == 1f) kernelAdd(kc, ap, ai, bp, bIdx, c, cIdx + jr, ldc);
                else kernelBeta(kc, ap, ai, bp, bIdx, c, cIdx + jr, ldc, beta);
            } else {
                edgeTile(kc, ap, ai, bp, bIdx, mr, nr, c, cIdx + jr, ldc, beta, tile);
            }
        }
    }

    /**
     * A tile narrower than NR or shorter than MR. Right edges that are whole vectors (n = 256 leaves
     * 16 columns) go straight to C through the 2- or 1-vector kernels; anything else runs the
     * narrowest kernel that covers it into the scratch tile and copies the valid part.
     */
    private static void edgeTile(int kc, float[] ap, int ai, float[] bp, int bIdx, int mr, int nr,
                                 float[] c, int cIdx, int ldc, float beta, float[] tile) {
        if (mr == MR && nr == 2 * L) {
            if (beta == 0f) kernelSet2(kc, ap, ai, bp, bIdx, c, cIdx, ldc);
            else if (beta == 1f) kernelAdd2(kc, ap, ai, bp, bIdx, c, cIdx, ldc);
            else kernelBeta2(kc, ap, ai, bp, bIdx, c, cIdx, ldc, beta);
            return;
        }
        if (mr == MR && nr == L) {
            if (beta == 0f) kernelSet1(kc, ap, ai, bp, bIdx, c, cIdx, ldc);
            else if (beta == 1f) kernelAdd1(kc, ap, ai, bp, bIdx, c, cIdx, ldc);
            else kernelBeta1(kc, ap, ai, bp, bIdx, c, cIdx, ldc, beta);
            return;
        }
        if (mr < MR) {
            // The last panel of an m that is not a multiple of MR: only its rows' products (16
            // rows, one sentence of a small request, are panels of 7, 7 and 2: the full kernel
            // there computed 21 rows).
            switch (mr) {
                case 1 -> kernelSetRows1(kc, ap, ai, bp, bIdx, tile, 0, NR);
                case 2 -> kernelSetRows2(kc, ap, ai, bp, bIdx, tile, 0, NR);
                case 3 -> kernelSetRows3(kc, ap, ai, bp, bIdx, tile, 0, NR);
                case 4 -> kernelSetRows4(kc, ap, ai, bp, bIdx, tile, 0, NR);
                case 5 -> kernelSetRows5(kc, ap, ai, bp, bIdx, tile, 0, NR);
                default -> kernelSetRows6(kc, ap, ai, bp, bIdx, tile, 0, NR);
            }
        } else if (nr <= L) {
            kernelSet1(kc, ap, ai, bp, bIdx, tile, 0, NR);
        } else if (nr <= 2 * L) {
            kernelSet2(kc, ap, ai, bp, bIdx, tile, 0, NR);
        } else {
            kernelSet(kc, ap, ai, bp, bIdx, tile, 0, NR);
        }
        mergeTile(tile, mr, nr, c, cIdx, ldc, beta);
    }

    /** C[0:mr, 0:nr] = tile + beta C (beta = 0: C not read). */
    private static void mergeTile(float[] tile, int mr, int nr, float[] c, int cIdx, int ldc, float beta) {
        for (int i = 0; i < mr; i++) {
            int cr = cIdx + i * ldc, tr = i * NR;
            if (beta == 0f) {
                System.arraycopy(tile, tr, c, cr, nr);
            } else {
                for (int j = 0; j < nr; j++) c[cr + j] = tile[tr + j] + beta * c[cr + j];
            }
        }
    }

    /** Columns of all of B once packed: each NC block rounded up to whole panels. */
    static int packedWidth(int n) {
        return n / NC * NC + roundUp(n % NC, NR);
    }

    /**
     * Where block (jc, pc) of the fully packed B starts. Blocks run jc-major; each is [kc, ncPad]
     * as {@link #packB} lays it out, and every block before column jc is a full NC wide.
     */
    static int packedBlockOffset(int k, int jc, int pc, int nc) {
        return jc * k + pc * roundUp(nc, NR);
    }

    /**
     * Packs rows [from, to) of op(B) (B not transposed: read row by row) or its columns [from, to)
     * (B transposed: each column is a contiguous run of the storage) into the fully packed layout.
     */
    static void packAllB(boolean transB, float[] b, B16 h, int bOff, int ldb, int k, int n, float[] dst, int from, int to) {
        if (h != null) {
            packAllB16(transB, h, bOff, ldb, k, n, dst, from, to);
            return;
        }
        if (!transB) {
            // One call per row: a method invoked this often reaches C2 within a few GEMMs, while
            // a long loop inside one rarely-called method sat in C1 (Vector API ops not
            // intrinsified there) for seconds.
            for (int p = from; p < to; p++) packRowOfB(b, bOff + p * ldb, k, n, p, dst);
        } else {
            packAllBTransposed(b, null, bOff, ldb, k, n, dst, from, to);
        }
    }

    /** Packs row p of B (not transposed, starting at b[src]) into every block of the fully packed layout. */
    private static void packRowOfB(float[] b, int src, int k, int n, int p, float[] dst) {
        int pc = p / KC * KC, kc = Math.min(KC, k - pc), row = p - pc;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc), full = nc / NR * NR, w = nc - full;
            int base = packedBlockOffset(k, jc, pc, nc) + row * NR;
            for (int j0 = 0; j0 < full; j0 += NR) {
                int d = base + j0 * kc, s0 = src + jc + j0;
                FloatVector.fromArray(S, b, s0).intoArray(dst, d);
                FloatVector.fromArray(S, b, s0 + L).intoArray(dst, d + L);
                FloatVector.fromArray(S, b, s0 + 2 * L).intoArray(dst, d + 2 * L);
            }
            if (w > 0) {
                int d = base + full * kc;
                System.arraycopy(b, src + jc + full, dst, d, w);
                java.util.Arrays.fill(dst, d + w, d + NR, 0f);
            }
        }
    }

    /** Zeroes the padding columns of the last partial panel of a fully packed transposed B. */
    static void zeroPackedPadding(int k, int n, float[] dst) {
        int jc = (n - 1) / NC * NC, nc = n - jc, w = nc % NR;
        if (w == 0) return;
        int panel = nc / NR;
        for (int pc = 0; pc < k; pc += KC) {
            int kc = Math.min(KC, k - pc);
            int d = packedBlockOffset(k, jc, pc, nc) + panel * NR * kc;
            for (int p = 0; p < kc; p++) java.util.Arrays.fill(dst, d + p * NR + w, d + p * NR + NR, 0f);
        }
    }

    /**
     * Packs op(B)[pc:pc+kc, jc:jc+nc] into ceil(nc / NR) panels of [kc, NR], panel j0 / NR at
     * j0 * kc, zero padding the columns past nc.
     */
    static void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, float[] bp) {
        int full = nc / NR * NR, w = nc - full;
        if (!transB) {
            // B row-major [k, n]. Walk B row by row, so reads are sequential; going panel by panel
            // instead reads kc rows with a stride of ldb, which for ldb = 1024 maps every row to the
            // same L1 sets and ran 5x slower.
            for (int p = 0; p < kc; p++) packRowOfBlock(b, bOff + (pc + p) * ldb + jc, full, w, kc, p, bp);
        } else {
            // B stored [n, k]: column jj of a panel is a contiguous run of row jc+j0+jj of the
            // storage. (Gathering panel rows instead was 2x slower: 48 rows ldb apart thrash L1.)
            for (int j0 = 0; j0 < nc; j0 += NR) {
                int cols = Math.min(NR, nc - j0), dst = j0 * kc;
                int jj = 0;
                if (L == 16) {
                    for (; jj + 16 <= cols; jj += 16) packSixteenColumnsT(b, null, bOff + (jc + j0 + jj) * ldb + pc, ldb, kc, bp, dst + jj, null);
                }
                for (; jj < cols; jj++) {
                    int src = bOff + (jc + j0 + jj) * ldb + pc;
                    for (int p = 0; p < kc; p++) bp[dst + p * NR + jj] = b[src + p];
                }
                if (cols < NR) {
                    for (int p = 0; p < kc; p++) java.util.Arrays.fill(bp, dst + p * NR + cols, dst + p * NR + NR, 0f);
                }
            }
        }
    }

    /** Row p of one B block: nc = full + w columns from b[src] into the panels of bp (a call per row: see packAllB). */
    private static void packRowOfBlock(float[] b, int src, int full, int w, int kc, int p, float[] bp) {
        for (int j0 = 0; j0 < full; j0 += NR) {
            int d = j0 * kc + p * NR;
            FloatVector.fromArray(S, b, src + j0).intoArray(bp, d);
            FloatVector.fromArray(S, b, src + j0 + L).intoArray(bp, d + L);
            FloatVector.fromArray(S, b, src + j0 + 2 * L).intoArray(bp, d + 2 * L);
        }
        if (w > 0) {
            int d = full * kc + p * NR;
            System.arraycopy(b, src + full, bp, d, w);
            java.util.Arrays.fill(bp, d + w, d + NR, 0f);
        }
    }

    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;

    /** The MR valid lanes of an MP-float panel step. */
    private static final jdk.incubator.vector.VectorMask<Float> PANEL_ROWS = S8.indexInRange(0, MR);

    /**
     * Packs alpha * op(A)[ic:ic+mc, pc:pc+kc] into ceil(mc / MR) panels of [kc, MP] (rows past mc
     * zero, the lanes past MR unused), panel i0 / MR at i0 / MR * kc * MP. Folding alpha in here
     * costs nothing extra.
     */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float alpha,
                      float[] ap, int[] rowOffsets) {
        packA(transA, a, aOff, lda, ic, mc, pc, kc, alpha, ap, 0, rowOffsets);
    }

    /** {@link #packA} writing its panels from {@code ap[apOff]} on. */
    static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float alpha,
                      float[] ap, int apOff, int[] rowOffsets) {
        for (int i0 = 0; i0 < mc; i0 += MR) {
            int h = Math.min(MR, mc - i0);
            int dst = apOff + i0 / MR * kc * MP;
            if (transA) {
                // A stored [k, m]: the MR values of one panel column are contiguous: one masked copy.
                int src = aOff + pc * lda + ic + i0;
                if (h == MR) {
                    for (int p = 0; p < kc; p++, src += lda) {
                        FloatVector.fromArray(S8, a, src, PANEL_ROWS).mul(alpha).intoArray(ap, dst + p * MP);
                    }
                } else {
                    for (int p = 0; p < kc; p++, src += lda) {
                        int d = dst + p * MP;
                        for (int ii = 0; ii < h; ii++) ap[d + ii] = alpha * a[src + ii];
                        for (int ii = h; ii < MP; ii++) ap[d + ii] = 0f;
                    }
                }
            } else if (h == MR) {
                // A row-major [m, k]: a panel column is A[i0:i0+7, p], 7 values lda apart. Sixteen
                // columns at a time go through an in-register transpose; the rest (and everything
                // when vectors are not 16 wide) take one gather per column, which with its
                // per-lane index checks cost about 9 cycles per column (4-9% of a GEMM).
                int src = aOff + (ic + i0) * lda + pc;
                int p = 0;
                if (L == 16) {
                    for (; p + 16 <= kc; p += 16) transposeSixteenColumns(a, src + p, lda, alpha, ap, dst + p * MP);
                }
                for (; p < kc; p++) {
                    FloatVector.fromArray(S8, a, src + p, rowOffsets, 0).mul(alpha).intoArray(ap, dst + p * MP);
                }
            } else {
                for (int ii = 0; ii < h; ii++) {
                    int src = aOff + (ic + i0 + ii) * lda + pc;
                    for (int p = 0; p < kc; p++) ap[dst + p * MP + ii] = alpha * a[src + p];
                }
                for (int ii = h; ii < MP; ii++) {
                    for (int p = 0; p < kc; p++) ap[dst + p * MP + ii] = 0f;
                }
            }
        }
    }

    private static final VectorSpecies<Float> S16 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I16 = IntVector.SPECIES_512;
    /** Index vectors for {@link #transposeSixteenColumns}: zip groups of 1, 2 and 4 lanes, low and high halves. */
    private static final IntVector ZIP1_LO = zipIndex(1, 0), ZIP1_HI = zipIndex(1, 1), ZIP2_LO = zipIndex(2, 0),
            ZIP2_HI = zipIndex(2, 1), ZIP4_LO = zipIndex(4, 0), ZIP4_HI = zipIndex(4, 1);

    /**
     * Lane j of the result picks, from two 16-lane vectors x (indexes 0-15) and y (16-31), the
     * groups of {@code s} lanes alternately: x's group, then y's group of the same number, starting
     * at group 0 ({@code half} = 0) or at group 8 / s ({@code half} = 1).
     */
    private static IntVector zipIndex(int s, int half) {
        int[] idx = new int[16];
        for (int j = 0; j < 16; j++) {
            int group = j / (2 * s) + half * (8 / s), w = j % (2 * s);
            idx[j] = w < s ? group * s + w : 16 + group * s + w - s;
        }
        return IntVector.fromArray(I16, idx, 0);
    }

    /**
     * Sixteen panel steps (A[r, p:p+16] of the seven rows r = 0..6 starting at a[src], lda apart)
     * into ap[dst:dst+128] as [16, MP] (lane 7 repeats row 6), times alpha: seven row loads, three
     * rounds of two-vector permutes (zip rows in pairs, pairs in fours, fours in eights: 24 in all),
     * eight stores of two steps each.
     */
    private static void transposeSixteenColumns(float[] a, int src, int lda, float alpha, float[] ap, int dst) {
        IntVector r0 = FloatVector.fromArray(S16, a, src).reinterpretAsInts();                  // [16] each: one row
        IntVector r1 = FloatVector.fromArray(S16, a, src + lda).reinterpretAsInts();
        IntVector r2 = FloatVector.fromArray(S16, a, src + 2 * lda).reinterpretAsInts();
        IntVector r3 = FloatVector.fromArray(S16, a, src + 3 * lda).reinterpretAsInts();
        IntVector r4 = FloatVector.fromArray(S16, a, src + 4 * lda).reinterpretAsInts();
        IntVector r5 = FloatVector.fromArray(S16, a, src + 5 * lda).reinterpretAsInts();
        IntVector r6 = FloatVector.fromArray(S16, a, src + 6 * lda).reinterpretAsInts();
        // rows in pairs: [r0[0], r1[0], r0[1], r1[1], ...], columns 0-7 (lo) and 8-15 (hi)
        IntVector p01l = ZIP1_LO.selectFrom(r0, r1), p01h = ZIP1_HI.selectFrom(r0, r1);
        IntVector p23l = ZIP1_LO.selectFrom(r2, r3), p23h = ZIP1_HI.selectFrom(r2, r3);
        IntVector p45l = ZIP1_LO.selectFrom(r4, r5), p45h = ZIP1_HI.selectFrom(r4, r5);
        IntVector p66l = ZIP1_LO.selectFrom(r6, r6), p66h = ZIP1_HI.selectFrom(r6, r6);
        // rows 0-3 and 4-7 in fours, four columns each: q0 = columns 0-3, ..., q3 = columns 12-15
        IntVector q0 = ZIP2_LO.selectFrom(p01l, p23l), q1 = ZIP2_HI.selectFrom(p01l, p23l);
        IntVector q2 = ZIP2_LO.selectFrom(p01h, p23h), q3 = ZIP2_HI.selectFrom(p01h, p23h);
        IntVector u0 = ZIP2_LO.selectFrom(p45l, p66l), u1 = ZIP2_HI.selectFrom(p45l, p66l);
        IntVector u2 = ZIP2_LO.selectFrom(p45h, p66h), u3 = ZIP2_HI.selectFrom(p45h, p66h);
        // all eight lanes of two columns per vector: panel steps 2t and 2t + 1
        store(ZIP4_LO.selectFrom(q0, u0), alpha, ap, dst);
        store(ZIP4_HI.selectFrom(q0, u0), alpha, ap, dst + 2 * MP);
        store(ZIP4_LO.selectFrom(q1, u1), alpha, ap, dst + 4 * MP);
        store(ZIP4_HI.selectFrom(q1, u1), alpha, ap, dst + 6 * MP);
        store(ZIP4_LO.selectFrom(q2, u2), alpha, ap, dst + 8 * MP);
        store(ZIP4_HI.selectFrom(q2, u2), alpha, ap, dst + 10 * MP);
        store(ZIP4_LO.selectFrom(q3, u3), alpha, ap, dst + 12 * MP);
        store(ZIP4_HI.selectFrom(q3, u3), alpha, ap, dst + 14 * MP);
    }

    private static void store(IntVector bits, float alpha, float[] ap, int dst) {
        FloatVector v = bits.reinterpretAsFloats();
        (alpha == 1f ? v : v.mul(alpha)).intoArray(ap, dst);
    }

    /*
     * Micro-kernels: C[MR, NR] at c[ci] (row stride ldc) from the A panel [kc, MR] at ap[ai] and
     * the B panel [kc, NR] at bp[bi]. The MR * NR / L accumulators are separate locals so C2 keeps
     * them in registers. One method per beta mode rather than a branch in the epilogue: with all
     * three epilogues in one method C2 hit its inlining node limit, left Vector API calls out of
     * line and boxed every vector (50x slower, depending on the order it saw the branches).
     */
    // ---- generated by scripts/gen-gemm-kernels.py 7 2: do not edit by hand ----
    /** C[MR, NR] = A panel * B panel (C not read). */
    static void kernelSet(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00, c30 = c00;
        FloatVector c31 = c00, c32 = c00, c40 = c00;
        FloatVector c41 = c00, c42 = c00, c50 = c00;
        FloatVector c51 = c00, c52 = c00, c60 = c00;
        FloatVector c61 = c00, c62 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
                c62 = av.fma(b2, c62);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
                c62 = av.fma(b2, c62);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            c42 = av.fma(b2, c42);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            c52 = av.fma(b2, c52);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            c62 = av.fma(b2, c62);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c12.intoArray(c, ci + ldc + 2 * L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c22.intoArray(c, ci + 2 * ldc + 2 * L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c32.intoArray(c, ci + 3 * ldc + 2 * L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c42.intoArray(c, ci + 4 * ldc + 2 * L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
        c52.intoArray(c, ci + 5 * ldc + 2 * L);
        c60.intoArray(c, ci + 6 * ldc);
        c61.intoArray(c, ci + 6 * ldc + L);
        c62.intoArray(c, ci + 6 * ldc + 2 * L);
    }

    /** C[MR, NR] += A panel * B panel. */
    static void kernelAdd(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00, c30 = c00;
        FloatVector c31 = c00, c32 = c00, c40 = c00;
        FloatVector c41 = c00, c42 = c00, c50 = c00;
        FloatVector c51 = c00, c52 = c00, c60 = c00;
        FloatVector c61 = c00, c62 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
                c62 = av.fma(b2, c62);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
                c62 = av.fma(b2, c62);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            c42 = av.fma(b2, c42);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            c52 = av.fma(b2, c52);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            c62 = av.fma(b2, c62);
        }
        c00.add(FloatVector.fromArray(S, c, ci)).intoArray(c, ci);
        c01.add(FloatVector.fromArray(S, c, ci + L)).intoArray(c, ci + L);
        c02.add(FloatVector.fromArray(S, c, ci + 2 * L)).intoArray(c, ci + 2 * L);
        c10.add(FloatVector.fromArray(S, c, ci + ldc)).intoArray(c, ci + ldc);
        c11.add(FloatVector.fromArray(S, c, ci + ldc + L)).intoArray(c, ci + ldc + L);
        c12.add(FloatVector.fromArray(S, c, ci + ldc + 2 * L)).intoArray(c, ci + ldc + 2 * L);
        c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
        c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + L)).intoArray(c, ci + 2 * ldc + L);
        c22.add(FloatVector.fromArray(S, c, ci + 2 * ldc + 2 * L)).intoArray(c, ci + 2 * ldc + 2 * L);
        c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
        c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + L)).intoArray(c, ci + 3 * ldc + L);
        c32.add(FloatVector.fromArray(S, c, ci + 3 * ldc + 2 * L)).intoArray(c, ci + 3 * ldc + 2 * L);
        c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
        c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + L)).intoArray(c, ci + 4 * ldc + L);
        c42.add(FloatVector.fromArray(S, c, ci + 4 * ldc + 2 * L)).intoArray(c, ci + 4 * ldc + 2 * L);
        c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
        c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + L)).intoArray(c, ci + 5 * ldc + L);
        c52.add(FloatVector.fromArray(S, c, ci + 5 * ldc + 2 * L)).intoArray(c, ci + 5 * ldc + 2 * L);
        c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc)).intoArray(c, ci + 6 * ldc);
        c61.add(FloatVector.fromArray(S, c, ci + 6 * ldc + L)).intoArray(c, ci + 6 * ldc + L);
        c62.add(FloatVector.fromArray(S, c, ci + 6 * ldc + 2 * L)).intoArray(c, ci + 6 * ldc + 2 * L);
    }

    /** C[MR, NR] = A panel * B panel + beta * C. */
    static void kernelBeta(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, float beta) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00, c30 = c00;
        FloatVector c31 = c00, c32 = c00, c40 = c00;
        FloatVector c41 = c00, c42 = c00, c50 = c00;
        FloatVector c51 = c00, c52 = c00, c60 = c00;
        FloatVector c61 = c00, c62 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
                c62 = av.fma(b2, c62);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
                c62 = av.fma(b2, c62);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            c42 = av.fma(b2, c42);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            c52 = av.fma(b2, c52);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            c62 = av.fma(b2, c62);
        }
        FloatVector bv = FloatVector.broadcast(S, beta);
        FloatVector.fromArray(S, c, ci).fma(bv, c00).intoArray(c, ci);
        FloatVector.fromArray(S, c, ci + L).fma(bv, c01).intoArray(c, ci + L);
        FloatVector.fromArray(S, c, ci + 2 * L).fma(bv, c02).intoArray(c, ci + 2 * L);
        FloatVector.fromArray(S, c, ci + ldc).fma(bv, c10).intoArray(c, ci + ldc);
        FloatVector.fromArray(S, c, ci + ldc + L).fma(bv, c11).intoArray(c, ci + ldc + L);
        FloatVector.fromArray(S, c, ci + ldc + 2 * L).fma(bv, c12).intoArray(c, ci + ldc + 2 * L);
        FloatVector.fromArray(S, c, ci + 2 * ldc).fma(bv, c20).intoArray(c, ci + 2 * ldc);
        FloatVector.fromArray(S, c, ci + 2 * ldc + L).fma(bv, c21).intoArray(c, ci + 2 * ldc + L);
        FloatVector.fromArray(S, c, ci + 2 * ldc + 2 * L).fma(bv, c22).intoArray(c, ci + 2 * ldc + 2 * L);
        FloatVector.fromArray(S, c, ci + 3 * ldc).fma(bv, c30).intoArray(c, ci + 3 * ldc);
        FloatVector.fromArray(S, c, ci + 3 * ldc + L).fma(bv, c31).intoArray(c, ci + 3 * ldc + L);
        FloatVector.fromArray(S, c, ci + 3 * ldc + 2 * L).fma(bv, c32).intoArray(c, ci + 3 * ldc + 2 * L);
        FloatVector.fromArray(S, c, ci + 4 * ldc).fma(bv, c40).intoArray(c, ci + 4 * ldc);
        FloatVector.fromArray(S, c, ci + 4 * ldc + L).fma(bv, c41).intoArray(c, ci + 4 * ldc + L);
        FloatVector.fromArray(S, c, ci + 4 * ldc + 2 * L).fma(bv, c42).intoArray(c, ci + 4 * ldc + 2 * L);
        FloatVector.fromArray(S, c, ci + 5 * ldc).fma(bv, c50).intoArray(c, ci + 5 * ldc);
        FloatVector.fromArray(S, c, ci + 5 * ldc + L).fma(bv, c51).intoArray(c, ci + 5 * ldc + L);
        FloatVector.fromArray(S, c, ci + 5 * ldc + 2 * L).fma(bv, c52).intoArray(c, ci + 5 * ldc + 2 * L);
        FloatVector.fromArray(S, c, ci + 6 * ldc).fma(bv, c60).intoArray(c, ci + 6 * ldc);
        FloatVector.fromArray(S, c, ci + 6 * ldc + L).fma(bv, c61).intoArray(c, ci + 6 * ldc + L);
        FloatVector.fromArray(S, c, ci + 6 * ldc + 2 * L).fma(bv, c62).intoArray(c, ci + 6 * ldc + 2 * L);
    }

    /** C[MR, 2 * L] = A panel * B panel (C not read). */
    static void kernelSet2(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c10 = c00;
        FloatVector c11 = c00, c20 = c00;
        FloatVector c21 = c00, c30 = c00;
        FloatVector c31 = c00, c40 = c00;
        FloatVector c41 = c00, c50 = c00;
        FloatVector c51 = c00, c60 = c00;
        FloatVector c61 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
        c60.intoArray(c, ci + 6 * ldc);
        c61.intoArray(c, ci + 6 * ldc + L);
    }

    /** C[MR, 2 * L] += A panel * B panel. */
    static void kernelAdd2(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c10 = c00;
        FloatVector c11 = c00, c20 = c00;
        FloatVector c21 = c00, c30 = c00;
        FloatVector c31 = c00, c40 = c00;
        FloatVector c41 = c00, c50 = c00;
        FloatVector c51 = c00, c60 = c00;
        FloatVector c61 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
        }
        c00.add(FloatVector.fromArray(S, c, ci)).intoArray(c, ci);
        c01.add(FloatVector.fromArray(S, c, ci + L)).intoArray(c, ci + L);
        c10.add(FloatVector.fromArray(S, c, ci + ldc)).intoArray(c, ci + ldc);
        c11.add(FloatVector.fromArray(S, c, ci + ldc + L)).intoArray(c, ci + ldc + L);
        c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
        c21.add(FloatVector.fromArray(S, c, ci + 2 * ldc + L)).intoArray(c, ci + 2 * ldc + L);
        c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
        c31.add(FloatVector.fromArray(S, c, ci + 3 * ldc + L)).intoArray(c, ci + 3 * ldc + L);
        c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
        c41.add(FloatVector.fromArray(S, c, ci + 4 * ldc + L)).intoArray(c, ci + 4 * ldc + L);
        c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
        c51.add(FloatVector.fromArray(S, c, ci + 5 * ldc + L)).intoArray(c, ci + 5 * ldc + L);
        c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc)).intoArray(c, ci + 6 * ldc);
        c61.add(FloatVector.fromArray(S, c, ci + 6 * ldc + L)).intoArray(c, ci + 6 * ldc + L);
    }

    /** C[MR, 2 * L] = A panel * B panel + beta * C. */
    static void kernelBeta2(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, float beta) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c10 = c00;
        FloatVector c11 = c00, c20 = c00;
        FloatVector c21 = c00, c30 = c00;
        FloatVector c31 = c00, c40 = c00;
        FloatVector c41 = c00, c50 = c00;
        FloatVector c51 = c00, c60 = c00;
        FloatVector c61 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
                c61 = av.fma(b1, c61);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
        }
        FloatVector bv = FloatVector.broadcast(S, beta);
        FloatVector.fromArray(S, c, ci).fma(bv, c00).intoArray(c, ci);
        FloatVector.fromArray(S, c, ci + L).fma(bv, c01).intoArray(c, ci + L);
        FloatVector.fromArray(S, c, ci + ldc).fma(bv, c10).intoArray(c, ci + ldc);
        FloatVector.fromArray(S, c, ci + ldc + L).fma(bv, c11).intoArray(c, ci + ldc + L);
        FloatVector.fromArray(S, c, ci + 2 * ldc).fma(bv, c20).intoArray(c, ci + 2 * ldc);
        FloatVector.fromArray(S, c, ci + 2 * ldc + L).fma(bv, c21).intoArray(c, ci + 2 * ldc + L);
        FloatVector.fromArray(S, c, ci + 3 * ldc).fma(bv, c30).intoArray(c, ci + 3 * ldc);
        FloatVector.fromArray(S, c, ci + 3 * ldc + L).fma(bv, c31).intoArray(c, ci + 3 * ldc + L);
        FloatVector.fromArray(S, c, ci + 4 * ldc).fma(bv, c40).intoArray(c, ci + 4 * ldc);
        FloatVector.fromArray(S, c, ci + 4 * ldc + L).fma(bv, c41).intoArray(c, ci + 4 * ldc + L);
        FloatVector.fromArray(S, c, ci + 5 * ldc).fma(bv, c50).intoArray(c, ci + 5 * ldc);
        FloatVector.fromArray(S, c, ci + 5 * ldc + L).fma(bv, c51).intoArray(c, ci + 5 * ldc + L);
        FloatVector.fromArray(S, c, ci + 6 * ldc).fma(bv, c60).intoArray(c, ci + 6 * ldc);
        FloatVector.fromArray(S, c, ci + 6 * ldc + L).fma(bv, c61).intoArray(c, ci + 6 * ldc + L);
    }

    /** C[MR, 1 * L] = A panel * B panel (C not read). */
    static void kernelSet1(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c10 = c00;
        FloatVector c20 = c00;
        FloatVector c30 = c00;
        FloatVector c40 = c00;
        FloatVector c50 = c00;
        FloatVector c60 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
        }
        c00.intoArray(c, ci);
        c10.intoArray(c, ci + ldc);
        c20.intoArray(c, ci + 2 * ldc);
        c30.intoArray(c, ci + 3 * ldc);
        c40.intoArray(c, ci + 4 * ldc);
        c50.intoArray(c, ci + 5 * ldc);
        c60.intoArray(c, ci + 6 * ldc);
    }

    /** C[MR, 1 * L] += A panel * B panel. */
    static void kernelAdd1(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c10 = c00;
        FloatVector c20 = c00;
        FloatVector c30 = c00;
        FloatVector c40 = c00;
        FloatVector c50 = c00;
        FloatVector c60 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
        }
        c00.add(FloatVector.fromArray(S, c, ci)).intoArray(c, ci);
        c10.add(FloatVector.fromArray(S, c, ci + ldc)).intoArray(c, ci + ldc);
        c20.add(FloatVector.fromArray(S, c, ci + 2 * ldc)).intoArray(c, ci + 2 * ldc);
        c30.add(FloatVector.fromArray(S, c, ci + 3 * ldc)).intoArray(c, ci + 3 * ldc);
        c40.add(FloatVector.fromArray(S, c, ci + 4 * ldc)).intoArray(c, ci + 4 * ldc);
        c50.add(FloatVector.fromArray(S, c, ci + 5 * ldc)).intoArray(c, ci + 5 * ldc);
        c60.add(FloatVector.fromArray(S, c, ci + 6 * ldc)).intoArray(c, ci + 6 * ldc);
    }

    /** C[MR, 1 * L] = A panel * B panel + beta * C. */
    static void kernelBeta1(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc, float beta) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c10 = c00;
        FloatVector c20 = c00;
        FloatVector c30 = c00;
        FloatVector c40 = c00;
        FloatVector c50 = c00;
        FloatVector c60 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                av = FloatVector.broadcast(S, ap[ao + 6]);
                c60 = av.fma(b0, c60);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                av = FloatVector.broadcast(S, ap[ao + MP + 6]);
                c60 = av.fma(b0, c60);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            av = FloatVector.broadcast(S, ap[ao + 6]);
            c60 = av.fma(b0, c60);
        }
        FloatVector bv = FloatVector.broadcast(S, beta);
        FloatVector.fromArray(S, c, ci).fma(bv, c00).intoArray(c, ci);
        FloatVector.fromArray(S, c, ci + ldc).fma(bv, c10).intoArray(c, ci + ldc);
        FloatVector.fromArray(S, c, ci + 2 * ldc).fma(bv, c20).intoArray(c, ci + 2 * ldc);
        FloatVector.fromArray(S, c, ci + 3 * ldc).fma(bv, c30).intoArray(c, ci + 3 * ldc);
        FloatVector.fromArray(S, c, ci + 4 * ldc).fma(bv, c40).intoArray(c, ci + 4 * ldc);
        FloatVector.fromArray(S, c, ci + 5 * ldc).fma(bv, c50).intoArray(c, ci + 5 * ldc);
        FloatVector.fromArray(S, c, ci + 6 * ldc).fma(bv, c60).intoArray(c, ci + 6 * ldc);
    }

    /** C[1, NR] = the first 1 rows of an A panel * B panel (C not read). */
    static void kernelSetRows1(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
    }

    /** C[2, NR] = the first 2 rows of an A panel * B panel (C not read). */
    static void kernelSetRows2(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c12.intoArray(c, ci + ldc + 2 * L);
    }

    /** C[3, NR] = the first 3 rows of an A panel * B panel (C not read). */
    static void kernelSetRows3(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c12.intoArray(c, ci + ldc + 2 * L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c22.intoArray(c, ci + 2 * ldc + 2 * L);
    }

    /** C[4, NR] = the first 4 rows of an A panel * B panel (C not read). */
    static void kernelSetRows4(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00, c30 = c00;
        FloatVector c31 = c00, c32 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c12.intoArray(c, ci + ldc + 2 * L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c22.intoArray(c, ci + 2 * ldc + 2 * L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c32.intoArray(c, ci + 3 * ldc + 2 * L);
    }

    /** C[5, NR] = the first 5 rows of an A panel * B panel (C not read). */
    static void kernelSetRows5(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00, c30 = c00;
        FloatVector c31 = c00, c32 = c00, c40 = c00;
        FloatVector c41 = c00, c42 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            c42 = av.fma(b2, c42);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c12.intoArray(c, ci + ldc + 2 * L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c22.intoArray(c, ci + 2 * ldc + 2 * L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c32.intoArray(c, ci + 3 * ldc + 2 * L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c42.intoArray(c, ci + 4 * ldc + 2 * L);
    }

    /** C[6, NR] = the first 6 rows of an A panel * B panel (C not read). */
    static void kernelSetRows6(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c10 = c00;
        FloatVector c11 = c00, c12 = c00, c20 = c00;
        FloatVector c21 = c00, c22 = c00, c30 = c00;
        FloatVector c31 = c00, c32 = c00, c40 = c00;
        FloatVector c41 = c00, c42 = c00, c50 = c00;
        FloatVector c51 = c00, c52 = c00;
        int bo = bi, ao = ai, bLast = bi + (kc - 1) * NR;   // bLast: the last step's panel row
        for (; bo < bLast; bo += 2 * NR, ao += 2 * MP) {
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
            }
            {
                FloatVector b0 = FloatVector.fromArray(S, bp, bo + NR);
                FloatVector b1 = FloatVector.fromArray(S, bp, bo + NR + L);
                FloatVector b2 = FloatVector.fromArray(S, bp, bo + NR + 2 * L);
                FloatVector av = FloatVector.broadcast(S, ap[ao + MP]);
                c00 = av.fma(b0, c00);
                c01 = av.fma(b1, c01);
                c02 = av.fma(b2, c02);
                av = FloatVector.broadcast(S, ap[ao + MP + 1]);
                c10 = av.fma(b0, c10);
                c11 = av.fma(b1, c11);
                c12 = av.fma(b2, c12);
                av = FloatVector.broadcast(S, ap[ao + MP + 2]);
                c20 = av.fma(b0, c20);
                c21 = av.fma(b1, c21);
                c22 = av.fma(b2, c22);
                av = FloatVector.broadcast(S, ap[ao + MP + 3]);
                c30 = av.fma(b0, c30);
                c31 = av.fma(b1, c31);
                c32 = av.fma(b2, c32);
                av = FloatVector.broadcast(S, ap[ao + MP + 4]);
                c40 = av.fma(b0, c40);
                c41 = av.fma(b1, c41);
                c42 = av.fma(b2, c42);
                av = FloatVector.broadcast(S, ap[ao + MP + 5]);
                c50 = av.fma(b0, c50);
                c51 = av.fma(b1, c51);
                c52 = av.fma(b2, c52);
            }
        }
        if (bo == bLast) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, bp, bo + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ao]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            c32 = av.fma(b2, c32);
            av = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            c42 = av.fma(b2, c42);
            av = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            c52 = av.fma(b2, c52);
        }
        c00.intoArray(c, ci);
        c01.intoArray(c, ci + L);
        c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, ci + ldc);
        c11.intoArray(c, ci + ldc + L);
        c12.intoArray(c, ci + ldc + 2 * L);
        c20.intoArray(c, ci + 2 * ldc);
        c21.intoArray(c, ci + 2 * ldc + L);
        c22.intoArray(c, ci + 2 * ldc + 2 * L);
        c30.intoArray(c, ci + 3 * ldc);
        c31.intoArray(c, ci + 3 * ldc + L);
        c32.intoArray(c, ci + 3 * ldc + 2 * L);
        c40.intoArray(c, ci + 4 * ldc);
        c41.intoArray(c, ci + 4 * ldc + L);
        c42.intoArray(c, ci + 4 * ldc + 2 * L);
        c50.intoArray(c, ci + 5 * ldc);
        c51.intoArray(c, ci + 5 * ldc + L);
        c52.intoArray(c, ci + 5 * ldc + 2 * L);
    }
    // ---- end of generated code ----
}
