package dev.attn4j.kernels;

import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The scalar reference for block-quantized weights ({@link QuantType}, byte layouts there):
 * quantize as ggml's {@code quantize_row_*_ref} does (the k-quants in {@link KQuants}) (so the bytes match llama.cpp's and the
 * {@code gguf} Python package's), dequantize, and the dot product of one quantized row with F32
 * activations. The SIMD matrix-vector kernel is {@code kernels.simd.SimdQuant}, reached through
 * {@link Kernels#matVecQ}.
 *
 * <p>Dot order (the SIMD kernel sums in another order, so results agree to rounding, not bits):
 * per block, {@code s = sum_j q[j] * x[j]} in element order, then {@code acc += s * d} (Q4_1 adds
 * {@code m * sum_j x[j]}).
 */
public final class Quants {
    static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quants() {
    }

    /** The half float at byte {@code off} widened to F32. */
    public static float half(MemorySegment s, long off) {
        return QuantType.half(s, off);
    }

    private static void putHalf(MemorySegment s, long off, float v) {
        s.set(F16, off, Float.floatToFloat16(v));
    }

    /** ggml's roundf: halves away from zero. */
    private static int roundf(float v) {
        return (int) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
    }

    /**
     * Quantizes {@code n} values of x (n a multiple of the block size) into {@code n / blockSize}
     * blocks at byte {@code outOff} of {@code out}, as ggml's reference quantizer.
     */
    public static void quantizeRow(QuantType type, float[] x, int xOff, int n, MemorySegment out, long outOff) {
        type.rowBytes(n);
        int bs = type.blockSize();
        if (type.isK()) {
            for (int b = 0; b < n / bs; b++) KQuants.quantizeBlock(type, x, xOff + b * bs, out, outOff + (long) b * type.blockBytes());
            return;
        }
        for (int b = 0; b < n / bs; b++) {
            int base = xOff + b * bs;
            long o = outOff + (long) b * type.blockBytes();
            switch (type) {
                case Q8_0 -> {
                    float amax = 0f;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[base + j]));
                    float d = amax / 127f;
                    float id = d != 0f ? 1f / d : 0f;
                    putHalf(out, o, d);
                    for (int j = 0; j < 32; j++) out.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) roundf(x[base + j] * id));
                }
                case Q4_0 -> {
                    float amax = 0f, max = 0f;
                    for (int j = 0; j < 32; j++) {
                        float v = x[base + j];
                        if (amax < Math.abs(v)) {
                            amax = Math.abs(v);
                            max = v;
                        }
                    }
                    float d = max / -8f;
                    float id = d != 0f ? 1f / d : 0f;
                    putHalf(out, o, d);
                    for (int j = 0; j < 16; j++) {
                        int lo = Math.min(15, (byte) (int) (x[base + j] * id + 8.5f));       // C's (int8_t) cast truncates
                        int hi = Math.min(15, (byte) (int) (x[base + 16 + j] * id + 8.5f));
                        out.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (lo | hi << 4));
                    }
                }
                case Q4_1 -> {
                    float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
                    for (int j = 0; j < 32; j++) {
                        float v = x[base + j];
                        if (v < min) min = v;
                        if (v > max) max = v;
                    }
                    float d = (max - min) / 15f;
                    float id = d != 0f ? 1f / d : 0f;
                    putHalf(out, o, d);
                    putHalf(out, o + 2, min);
                    for (int j = 0; j < 16; j++) {
                        int lo = Math.min(15, (byte) (int) ((x[base + j] - min) * id + 0.5f));
                        int hi = Math.min(15, (byte) (int) ((x[base + 16 + j] - min) * id + 0.5f));
                        out.set(ValueLayout.JAVA_BYTE, o + 4 + j, (byte) (lo | hi << 4));
                    }
                }
                default -> throw new IllegalStateException(type.toString());
            }
        }
    }

    /** Dequantizes the {@code n / blockSize} blocks at byte {@code off} of {@code in} into y ({@link QuantType#dequantizeBlock}). */
    public static void dequantizeRow(QuantType type, MemorySegment in, long off, float[] y, int yOff, int n) {
        type.rowBytes(n);
        int bs = type.blockSize();
        for (int b = 0; b < n / bs; b++) type.dequantizeBlock(in, off + (long) b * type.blockBytes(), y, yOff + b * bs);
    }

    /**
     * Dot product of the n quantized values at byte {@code off} of {@code w} with x[xOff : xOff + n].
     * The 32-value formats sum per block {@code s = sum_j q[j] * x[j]} in element order, then
     * {@code acc += s * d} (Q4_1 adds {@code m * sum_j x[j]}); the k-quants sum each dequantized
     * super-block's {@code value[j] * x[j]} in element order into {@code acc}.
     */
    public static float dot(QuantType type, MemorySegment w, long off, float[] x, int xOff, int n) {
        int bs = type.blockSize();
        float acc = 0f;
        float[] tmp = type.isK() ? new float[256] : null;
        for (int b = 0; b < n / bs; b++) {
            long o = off + (long) b * type.blockBytes();
            int base = xOff + b * bs;
            float s = 0f;
            switch (type) {
                case Q8_0 -> {
                    for (int j = 0; j < 32; j++) s += w.get(ValueLayout.JAVA_BYTE, o + 2 + j) * x[base + j];
                    acc += s * half(w, o);
                }
                case Q4_0 -> {
                    for (int j = 0; j < 16; j++) s += ((w.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xF) - 8) * x[base + j];
                    for (int j = 0; j < 16; j++) s += (((w.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF) >>> 4) - 8) * x[base + 16 + j];
                    acc += s * half(w, o);
                }
                case Q4_1 -> {
                    float xs = 0f;
                    for (int j = 0; j < 16; j++) s += (w.get(ValueLayout.JAVA_BYTE, o + 4 + j) & 0xF) * x[base + j];
                    for (int j = 0; j < 16; j++) s += ((w.get(ValueLayout.JAVA_BYTE, o + 4 + j) & 0xFF) >>> 4) * x[base + 16 + j];
                    for (int j = 0; j < 32; j++) xs += x[base + j];
                    acc += s * half(w, o) + half(w, o + 2) * xs;
                }
                case Q4_K, Q5_K, Q6_K -> {
                    type.dequantizeBlock(w, o, tmp, 0);
                    for (int j = 0; j < 256; j++) acc += tmp[j] * x[base + j];
                }
            }
        }
        return acc;
    }

    /** Quantizes w [rows, cols] (row-major at wOff) into a new heap matrix. */
    public static QuantizedMatrix quantize(QuantType type, float[] w, int wOff, int rows, int cols) {
        if (cols % type.blockSize() != 0) {
            throw new IllegalArgumentException(type + " needs rows of a multiple of " + type.blockSize() + " values; [" + rows + ", " + cols
                    + "] has " + cols);
        }
        QuantizedMatrix q = QuantizedMatrix.heap(type, rows, cols);
        if ((long) rows * cols > w.length - (long) wOff) {
            throw new IllegalArgumentException("quantize: [" + rows + ", " + cols + "] needs " + (long) rows * cols
                    + " values from offset " + wOff + ", array has " + w.length);
        }
        long rb = q.rowBytes();
        Parallel.forRange(rows, Math.max(1, 65536 / Math.max(1, cols)),
                (from, to) -> {
                    for (int r = from; r < to; r++) quantizeRow(type, w, wOff + r * cols, cols, q.data(), r * rb);
                });
        return q;
    }

    /** The whole matrix widened to F32 [rows, cols]. */
    public static float[] dequantize(QuantizedMatrix q) {
        float[] y = new float[Math.multiplyExact(q.rows(), q.cols())];
        long rb = q.rowBytes();
        Parallel.forRange(q.rows(), rowGrain(q.cols()), (from, to) -> {
            for (int r = from; r < to; r++) dequantizeRow(q.type(), q.data(), r * rb, y, r * q.cols(), q.cols());
        });
        return y;
    }

    /** Checks the operands of a quantized matrix-vector product. */
    public static void checkMatVec(QuantizedMatrix w, float[] x, int xOff, float[] y, int yOff) {
        if (xOff < 0 || (long) xOff + w.cols() > x.length) {
            throw new IllegalArgumentException("matVecQ: x needs " + w.cols() + " values from offset " + xOff + ", has " + x.length);
        }
        if (yOff < 0 || (long) yOff + w.rows() > y.length) {
            throw new IllegalArgumentException("matVecQ: y needs " + w.rows() + " values from offset " + yOff + ", has " + y.length);
        }
    }

    /** Rows of A from which {@link Kernels#gemmQ} dequantizes panels of W instead of running matrix-vector products. */
    public static final int GEMM_MIN_ROWS = Integer.getInteger("attn4j.quant.gemmMinRows", 4);

    /** Rows of W dequantized per panel in {@link Kernels#gemmQ}: about 4 MiB of F32, at least 64 rows. */
    static int panelRows(int k, int n) {
        return Math.min(n, Math.max(64, (1 << 20) / Math.max(1, k)));
    }

    /** Each calling thread's panel of dequantized weights for {@link Kernels#gemmQ}, reused from call to call (at most ~4 MiB). */
    private static final ThreadLocal<float[]> PANEL = ThreadLocal.withInitial(() -> new float[0]);

    /**
     * The calling thread's panel buffer of at least {@code n} floats (contents undefined). A call
     * holds it until it returns; the GEMM's worker threads only read it while the caller waits.
     */
    static float[] panelBuffer(int n) {
        float[] p = PANEL.get();
        if (p.length < n) {
            p = new float[n];
            PANEL.set(p);
        }
        return p;
    }

    /** Checks the operands of {@link Kernels#gemmQ}. */
    public static void checkGemmQ(int m, float[] a, int aOff, int lda, QuantizedMatrix w, float[] c, int cOff, int ldc) {
        int n = w.rows(), k = w.cols();
        if (m < 0) throw new IllegalArgumentException("gemmQ: negative m " + m);
        if (lda < k || ldc < n) throw new IllegalArgumentException("gemmQ: lda " + lda + " < k " + k + " or ldc " + ldc + " < n " + n);
        if (m > 0 && (aOff < 0 || aOff + (long) (m - 1) * lda + k > a.length)) {
            throw new IllegalArgumentException("gemmQ: A [" + m + ", " + k + "] (lda " + lda + ") from offset " + aOff + " exceeds its array of " + a.length);
        }
        if (m > 0 && (cOff < 0 || cOff + (long) (m - 1) * ldc + n > c.length)) {
            throw new IllegalArgumentException("gemmQ: C [" + m + ", " + n + "] (ldc " + ldc + ") from offset " + cOff + " exceeds its array of " + c.length);
        }
    }

    /** Rows per parallel chunk: enough work (about 64K weights) to be worth a thread. */
    public static int rowGrain(int cols) {
        return Math.max(1, 65536 / Math.max(1, cols));
    }

    /** The reference {@code y = W x}, rows split over {@link Parallel}. */
    static void matVec(QuantizedMatrix w, float[] x, int xOff, float[] y, int yOff) {
        checkMatVec(w, x, xOff, y, yOff);
        long rb = w.rowBytes();
        Parallel.forRange(w.rows(), rowGrain(w.cols()), (from, to) -> {
            for (int r = from; r < to; r++) y[yOff + r] = dot(w.type(), w.data(), r * rb, x, xOff, w.cols());
        });
    }
}
