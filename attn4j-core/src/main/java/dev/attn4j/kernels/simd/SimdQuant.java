package dev.attn4j.kernels.simd;

import dev.attn4j.kernels.Parallel;
import dev.attn4j.kernels.Quants;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Matrix-vector products with block-quantized weights (decode: y = W x, W [out, in]) on the
 * Vector API. Each block's bytes are loaded as a byte vector of as many lanes as the float
 * species has (16 bytes with AVX-512, 8 with AVX2), widened to floats in registers (B2F) and
 * multiplied into a per-block float sum, which is scaled by the block's d into the row's
 * accumulator; the weights are read once, in their packed size. The k-quants do the same per
 * sub-block (its 6-bit or int8 scale times d), Q4_K / Q5_K subtracting their mins through sums of
 * x per 32 values computed once per product. Rows are split over {@link Parallel}. Species narrower than 8 floats (or not dividing a block) use the reference.
 */
final class SimdQuant {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Byte> B = L >= 8 && L <= 64
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    static final boolean SUPPORTED = B != null && 16 % L == 0;
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SimdQuant() {
    }

    static void matVec(QuantizedMatrix w, float[] x, int xOff, float[] y, int yOff) {
        Quants.checkMatVec(w, x, xOff, y, yOff);
        if (!SUPPORTED) {
            dev.attn4j.kernels.Kernels.scalar().matVecQ(w, x, xOff, y, yOff);
            return;
        }
        long rb = w.rowBytes();
        int blocks = w.blocksPerRow();
        MemorySegment seg = w.data();
        QuantType type = w.type();
        float[] xsum = type == QuantType.Q4_1 || type == QuantType.Q4_K || type == QuantType.Q5_K
                ? blockSums(x, xOff, w.cols() / 32) : null;
        Parallel.forRange(w.rows(), Quants.rowGrain(w.cols()), (from, to) -> {
            switch (type) {
                case Q8_0 -> { for (int r = from; r < to; r++) y[yOff + r] = dotQ8_0(seg, r * rb, blocks, x, xOff); }
                case Q4_0 -> { for (int r = from; r < to; r++) y[yOff + r] = dotQ4_0(seg, r * rb, blocks, x, xOff); }
                case Q4_1 -> { for (int r = from; r < to; r++) y[yOff + r] = dotQ4_1(seg, r * rb, blocks, x, xOff, xsum); }
                case Q4_K -> { for (int r = from; r < to; r++) y[yOff + r] = dotQ45K(seg, r * rb, blocks, x, xOff, xsum, false); }
                case Q5_K -> { for (int r = from; r < to; r++) y[yOff + r] = dotQ45K(seg, r * rb, blocks, x, xOff, xsum, true); }
                case Q6_K -> { for (int r = from; r < to; r++) y[yOff + r] = dotQ6K(seg, r * rb, blocks, x, xOff); }
            }
        });
    }

    /**
     * Rows {@code from ..} of W dequantized to F32 (row-major, row stride cols) as
     * {@link Quants#dequantizeRow} does, Q8_0 and Q4_0 widened in vector registers (each value the
     * same float product d * q); other types, and species that do not fit, use the reference.
     */
    static void dequantizeRows(QuantizedMatrix w, int from, int rows, float[] y, int yOff) {
        QuantType type = w.type();
        int k = w.cols();
        long rb = w.rowBytes();
        int blocks = w.blocksPerRow();
        MemorySegment seg = w.data();
        boolean simd = SUPPORTED && (type == QuantType.Q8_0 || type == QuantType.Q4_0);
        Parallel.forRange(rows, Quants.rowGrain(k), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long off = (from + r) * rb;
                int yo = yOff + r * k;
                if (!simd) {
                    Quants.dequantizeRow(type, seg, off, y, yo, k);
                } else if (type == QuantType.Q8_0) {
                    dequantQ8_0(seg, off, blocks, y, yo);
                } else {
                    dequantQ4_0(seg, off, blocks, y, yo);
                }
            }
        });
    }

    /**
     * {@code blocks} consecutive blocks of {@code type} from byte {@code off} dequantized into
     * y[yOff ...] (the same values as {@link QuantType#dequantizeBlock}): Q8_0 / Q4_0 in vector
     * registers, the rest through the reference.
     */
    static void dequantizeBlocks(QuantType type, MemorySegment seg, long off, int blocks, float[] y, int yOff) {
        if (SUPPORTED && type == QuantType.Q8_0) {
            dequantQ8_0(seg, off, blocks, y, yOff);
        } else if (SUPPORTED && type == QuantType.Q4_0) {
            dequantQ4_0(seg, off, blocks, y, yOff);
        } else {
            for (int b = 0; b < blocks; b++) type.dequantizeBlock(seg, off + (long) b * type.blockBytes(), y, yOff + b * type.blockSize());
        }
    }

    private static void dequantQ8_0(MemorySegment w, long off, int blocks, float[] y, int yOff) {
        for (int b = 0; b < blocks; b++) {
            long o = off + b * 34L;
            int yb = yOff + b * 32;
            float d = Float.float16ToFloat(w.get(F16, o));
            for (int p = 0; p < 32; p += L) {
                widen(ByteVector.fromMemorySegment(B, w, o + 2 + p, ByteOrder.LITTLE_ENDIAN)).mul(d).intoArray(y, yb + p);
            }
        }
    }

    private static void dequantQ4_0(MemorySegment w, long off, int blocks, float[] y, int yOff) {
        for (int b = 0; b < blocks; b++) {
            long o = off + b * 18L;
            int yb = yOff + b * 32;
            float d = Float.float16ToFloat(w.get(F16, o));
            for (int p = 0; p < 16; p += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2 + p, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, I, 0);
                toFloat(q.and(0xF).sub(8)).mul(d).intoArray(y, yb + p);
                toFloat(q.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8)).mul(d).intoArray(y, yb + 16 + p);
            }
        }
    }

    private static FloatVector widen(ByteVector q) {
        return (FloatVector) q.convertShape(VectorOperators.B2F, S, 0);
    }

    /** Sum of x over each block of 32 (the same for every row: Q4_1's m term). */
    private static float[] blockSums(float[] x, int xOff, int blocks) {
        float[] sums = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            FloatVector v = FloatVector.zero(S);
            for (int p = 0; p < 32; p += L) v = v.add(FloatVector.fromArray(S, x, xOff + b * 32 + p));
            sums[b] = Lanes.sum(v);
        }
        return sums;
    }

    private static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convertShape(VectorOperators.I2F, S, 0);
    }

    // Q8_0 block: d (f16) | 32 x int8.
    static float dotQ8_0(MemorySegment w, long off, int blocks, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0; b < blocks; b++) {
            long o = off + b * 34L;
            int xb = xOff + b * 32;
            FloatVector s = FloatVector.zero(S);
            for (int p = 0; p < 32; p += L) {
                ByteVector q = ByteVector.fromMemorySegment(B, w, o + 2 + p, ByteOrder.LITTLE_ENDIAN);
                s = widen(q).fma(FloatVector.fromArray(S, x, xb + p), s);
            }
            acc = s.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, o))), acc);
        }
        return Lanes.sum(acc);
    }

    // Q4_0 block: d (f16) | 16 bytes, low nibbles values 0..15, high nibbles 16..31, each minus 8.
    static float dotQ4_0(MemorySegment w, long off, int blocks, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0; b < blocks; b++) {
            long o = off + b * 18L;
            int xb = xOff + b * 32;
            FloatVector s = FloatVector.zero(S);
            for (int p = 0; p < 16; p += L) {
                // nibbles split in 32-bit lanes (x86 has no byte shifts): sign-extended bytes, then
                // the low four bits, and the next four (arithmetic shift, masked)
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 2 + p, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, I, 0);
                IntVector lo = q.and(0xF).sub(8);
                IntVector hi = q.lanewise(VectorOperators.ASHR, 4).and(0xF).sub(8);
                s = toFloat(lo).fma(FloatVector.fromArray(S, x, xb + p), s);
                s = toFloat(hi).fma(FloatVector.fromArray(S, x, xb + 16 + p), s);
            }
            acc = s.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, o))), acc);
        }
        return Lanes.sum(acc);
    }

    // Q4_1 block: d (f16), m (f16) | 16 bytes of nibbles as Q4_0, unsigned; value = d * q + m.
    static float dotQ4_1(MemorySegment w, long off, int blocks, float[] x, int xOff, float[] xsum) {
        FloatVector acc = FloatVector.zero(S);
        float mx = 0f;                                                       // sum over blocks of m * sum(x in block)
        for (int b = 0; b < blocks; b++) {
            long o = off + b * 20L;
            int xb = xOff + b * 32;
            FloatVector s = FloatVector.zero(S);
            for (int p = 0; p < 16; p += L) {
                IntVector q = (IntVector) ByteVector.fromMemorySegment(B, w, o + 4 + p, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, I, 0);
                FloatVector x0 = FloatVector.fromArray(S, x, xb + p), x1 = FloatVector.fromArray(S, x, xb + 16 + p);
                s = toFloat(q.and(0xF)).fma(x0, s);
                s = toFloat(q.lanewise(VectorOperators.ASHR, 4).and(0xF)).fma(x1, s);
            }
            acc = s.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, o))), acc);
            mx += Float.float16ToFloat(w.get(F16, o + 2)) * xsum[b];
        }
        return Lanes.sum(acc) + mx;
    }

    private static IntVector bytesAsInts(MemorySegment w, long off) {
        return (IntVector) ByteVector.fromMemorySegment(B, w, off, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, I, 0);
    }

    // Q4_K / Q5_K super-block: d, dmin (f16) | 12 bytes of 6-bit scales and mins | (Q5_K: qh[32]) | qs[128]
    static float dotQ45K(MemorySegment w, long off, int blocks, float[] x, int xOff, float[] xsum, boolean five) {
        FloatVector acc = FloatVector.zero(S);
        float mins = 0f;
        int size = five ? 176 : 144;
        for (int b = 0; b < blocks; b++) {
            long o = off + (long) b * size, qs = o + (five ? 48 : 16), qh = o + 16;
            int xb = xOff + b * 256;
            float d = Float.float16ToFloat(w.get(F16, o)), dmin = Float.float16ToFloat(w.get(F16, o + 2));
            float m = 0f;
            for (int p = 0; p < 4; p++) {
                FloatVector s1 = FloatVector.zero(S), s2 = FloatVector.zero(S);
                for (int l = 0; l < 32; l += L) {
                    IntVector q = bytesAsInts(w, qs + 32 * p + l);
                    IntVector lo = q.and(0xF), hi = q.lanewise(VectorOperators.ASHR, 4).and(0xF);
                    if (five) {
                        IntVector h = bytesAsInts(w, qh + l);
                        lo = lo.or(h.lanewise(VectorOperators.ASHR, 2 * p).and(1).lanewise(VectorOperators.LSHL, 4));
                        hi = hi.or(h.lanewise(VectorOperators.ASHR, 2 * p + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    }
                    s1 = toFloat(lo).fma(FloatVector.fromArray(S, x, xb + 64 * p + l), s1);
                    s2 = toFloat(hi).fma(FloatVector.fromArray(S, x, xb + 64 * p + 32 + l), s2);
                }
                int j = 2 * p;
                acc = s1.fma(FloatVector.broadcast(S, d * QuantType.scaleMinK4(w, o + 4, j, false)), acc);
                acc = s2.fma(FloatVector.broadcast(S, d * QuantType.scaleMinK4(w, o + 4, j + 1, false)), acc);
                m += QuantType.scaleMinK4(w, o + 4, j, true) * xsum[b * 8 + j] + QuantType.scaleMinK4(w, o + 4, j + 1, true) * xsum[b * 8 + j + 1];
            }
            mins += dmin * m;
        }
        return Lanes.sum(acc) - mins;
    }

    // Q6_K super-block: ql[128] | qh[64] | 16 x int8 scales | d (f16)
    static float dotQ6K(MemorySegment w, long off, int blocks, float[] x, int xOff) {
        FloatVector acc = FloatVector.zero(S);
        for (int b = 0; b < blocks; b++) {
            long o = off + (long) b * 210;
            int xb0 = xOff + b * 256;
            float d = Float.float16ToFloat(w.get(F16, o + 208));
            for (int h = 0; h < 2; h++) {
                long ql = o + 64 * h, qh = o + 128 + 32 * h, sc = o + 192 + 8 * h;
                int xb = xb0 + 128 * h;
                for (int l = 0; l < 32; l += L) {
                    IntVector lo = bytesAsInts(w, ql + l), hi = bytesAsInts(w, ql + l + 32), hb = bytesAsInts(w, qh + l);
                    IntVector q1 = lo.and(0xF).or(hb.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q2 = hi.and(0xF).or(hb.lanewise(VectorOperators.ASHR, 2).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q3 = lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.lanewise(VectorOperators.ASHR, 4).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    IntVector q4 = hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.lanewise(VectorOperators.ASHR, 6).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32);
                    int is = l / 16;
                    acc = toFloat(q1).mul(FloatVector.fromArray(S, x, xb + l)).fma(FloatVector.broadcast(S, d * w.get(ValueLayout.JAVA_BYTE, sc + is)), acc);
                    acc = toFloat(q2).mul(FloatVector.fromArray(S, x, xb + l + 32)).fma(FloatVector.broadcast(S, d * w.get(ValueLayout.JAVA_BYTE, sc + is + 2)), acc);
                    acc = toFloat(q3).mul(FloatVector.fromArray(S, x, xb + l + 64)).fma(FloatVector.broadcast(S, d * w.get(ValueLayout.JAVA_BYTE, sc + is + 4)), acc);
                    acc = toFloat(q4).mul(FloatVector.fromArray(S, x, xb + l + 96)).fma(FloatVector.broadcast(S, d * w.get(ValueLayout.JAVA_BYTE, sc + is + 6)), acc);
                }
            }
        }
        return Lanes.sum(acc);
    }
}
