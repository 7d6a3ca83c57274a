package dev.attn4j.kernels.simd;

import dev.attn4j.kernels.Parallel;
import dev.attn4j.kernels.Quants;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
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
 * sub-block (its 6-bit or int8 scale times d), Q4_K / Q5_K subtracting their mins and Q6_K its
 * offset of 32 through sums of x per 32 (16) values computed once per product. With 16-float
 * vectors (AVX-512) Q4_K, Q5_K and Q6_K skip the widening instead: their bytes are loaded as int
 * lanes and each value masked where it stands, against x laid out once per product to match
 * ({@link #dotQ4KMasks}). Rows are split over {@link Parallel}. Species narrower than 8 floats (or
 * not dividing a block) use the reference.
 *
 * <p>C2 compiles these kernels well only while each method stays within its inlining node budget
 * (NodeCountInliningCutoff): past it, calls to this class's own helpers are no longer inlined
 * (the Vector API's @ForceInline methods still are), and a vector passed to or returned from a
 * call that is not inlined, or live across one, is boxed: each such call allocates, and the
 * kernel runs many times slower. Hence the shapes below: Q6_K split into per-super-block calls
 * that keep their sums in memory, reductions done by the callers, no helper calls in inner loops.
 */
final class SimdQuant {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorSpecies<Byte> B = L >= 8 && L <= 64
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, S.vectorShape());
    /** One Q8_0 block's 32 int8. */
    private static final VectorSpecies<Byte> B32 = ByteVector.SPECIES_256;
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
                ? blockSums(x, xOff, w.cols() / 32, 32) : null;
        boolean q4Masks = type == QuantType.Q4_K && Q4K_NIBBLE_MASKS, q6Masks = type == QuantType.Q6_K && Q6K_NIBBLE_MASKS,
                q5Masks = type == QuantType.Q5_K && Q5K_NIBBLE_MASKS;
        if (L == 16 && (q4Masks || q5Masks || q6Masks)) {
            // 16-float vectors: the nibbles masked in int lanes, x laid out to match (see dotQ4KMasks)
            float[] xp = q4Masks ? q4KMaskedX(x, xOff, blocks) : q5Masks ? q5KMaskedX(x, xOff, blocks) : q6KMaskedX(x, xOff, blocks);
            float[] sums = q6Masks ? blockSums(x, xOff, w.cols() / 16, 16) : q4KSubBlockSums(xsum);
            Parallel.forPieces(w.rows(), Quants.rowGrain(w.cols()), (from, to) -> rowRanges(seg, rb, from, to,
                    (part, n, r0) -> rowsMasked(type, part, (int) rb, n, blocks, xp, sums, y, yOff + r0)));
            return;
        }
        if (type == QuantType.Q4_K || type == QuantType.Q6_K) {
            // straight from the segment, so the hardware prefetcher streams the weights while the
            // kernel computes (from a copied slab the two alternate)
            float[] xsum16 = type == QuantType.Q6_K ? blockSums(x, xOff, w.cols() / 16, 16) : null;
            Parallel.forPieces(w.rows(), Quants.rowGrain(w.cols()), (from, to) -> rowRanges(seg, rb, from, to,
                    type == QuantType.Q4_K
                            ? (part, n, r0) -> rowsQ4K(part, (int) rb, n, blocks, x, xOff, xsum, y, yOff + r0)
                            : (part, n, r0) -> rowsQ6K(part, (int) rb, n, blocks, x, xOff, xsum16, y, yOff + r0)));
            return;
        }
        if (type == QuantType.Q5_K) {
            // Q5_K reads its rows from a per-thread byte[] slab: plain array loads and int indices in
            // the unpacking (Q4_K this way on one 8192 x 2048 matrix: 2.9 -> 7 GB/s against the
            // segment reads of that kernel)
            int slab = (int) Math.max(1, SLAB_BYTES / rb);
            Parallel.forPieces(w.rows(), Quants.rowGrain(w.cols()), (from, to) -> {
                byte[] buf = scratch((int) (slab * rb));
                for (int r0 = from; r0 < to; r0 += slab) {
                    int n = Math.min(slab, to - r0);
                    MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, r0 * rb, buf, 0, (int) (n * rb));
                    for (int i = 0; i < n; i++) y[yOff + r0 + i] = dotQ5K(buf, (int) (i * rb), blocks, x, xOff, xsum);
                }
            });
            return;
        }
        Parallel.forPieces(w.rows(), Quants.rowGrain(w.cols()), (from, to) -> dotRows(type, seg, from * rb, rb, to - from, blocks, x, xOff,
                xsum, y, yOff + from));
    }

    /**
     * Rows from .. to of a k-quant W . x, in ranges of fewer than 2^31 bytes, each a slice
     * that the kernels index with int offsets: C2 compiles those to plain address arithmetic, while
     * long offsets into a segment cost checks on every load (a streaming sum over a segment ran 3x
     * slower in L2; Q4_K 6.0 -> 7.0 GB/s on one thread). One method per type below, each small
     * enough for C2 to compile whole. (Q8_0 gained nothing this way: memory-bound at the machine's
     * read bandwidth already in a mat-vec loop of its own, and no faster decoding the 1B model.)
     */
    private static void rowRanges(MemorySegment seg, long rb, int from, int to, SliceRows rows) {
        for (int r0 = from; r0 < to; ) {
            int r1 = (int) Math.min(to, r0 + Math.max(1, (Integer.MAX_VALUE - 4096) / rb));
            rows.run(seg.asSlice(r0 * rb, (r1 - r0) * rb), r1 - r0, r0);
            r0 = r1;
        }
    }

    /** The n rows of a slice that starts at row r0 of the matrix, its rows at int offsets i * rowBytes. */
    private interface SliceRows {
        void run(MemorySegment part, int n, int r0);
    }

    /** One Q4_K super-block at o into y[yo : yo + 256]: d * scale * q - dmin * min per sub-block of 32. */
    private static void dequantQ4K(byte[] w, int o, float[] y, int yo) {
        float d = f16(w, o), dmin = f16(w, o + 2);
        int qs = o + 16;
        for (int p = 0; p < 4; p++) {
            int j = 2 * p;
            FloatVector d1 = FloatVector.broadcast(S, d * scaleMinK4(w, o + 4, j, false));
            FloatVector m1 = FloatVector.broadcast(S, dmin * scaleMinK4(w, o + 4, j, true));
            FloatVector d2 = FloatVector.broadcast(S, d * scaleMinK4(w, o + 4, j + 1, false));
            FloatVector m2 = FloatVector.broadcast(S, dmin * scaleMinK4(w, o + 4, j + 1, true));
            for (int l = 0; l < 32; l += L) {
                IntVector q = bytesAsInts(w, qs + 32 * p + l);
                toFloat(q.and(0xF)).mul(d1).sub(m1).intoArray(y, yo + 64 * p + l);
                toFloat(q.lanewise(VectorOperators.ASHR, 4).and(0xF)).mul(d2).sub(m2).intoArray(y, yo + 64 * p + 32 + l);
            }
        }
    }

    /** One Q6_K super-block at o into y[yo : yo + 256]: d * scale * (q - 32) per 16 values. */
    private static void dequantQ6K(byte[] w, int o, float[] y, int yo) {
        float d = f16(w, o + 208);
        for (int h = 0; h < 2; h++) {
            int ql = o + 64 * h, qh = o + 128 + 32 * h, sc = o + 192 + 8 * h, yb = yo + 128 * h;
            for (int l = 0; l < 32; l += L) {
                IntVector lo = bytesAsInts(w, ql + l), hi = bytesAsInts(w, ql + l + 32), hb = bytesAsInts(w, qh + l);
                int is = sc + l / 16;
                toFloat(lo.and(0xF).or(hb.and(3).lanewise(VectorOperators.LSHL, 4)).sub(32)).mul(d * w[is]).intoArray(y, yb + l);
                toFloat(hi.and(0xF).or(hb.and(12).lanewise(VectorOperators.LSHL, 2)).sub(32)).mul(d * w[is + 2]).intoArray(y, yb + l + 32);
                toFloat(lo.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.and(48)).sub(32)).mul(d * w[is + 4]).intoArray(y, yb + l + 64);
                toFloat(hi.lanewise(VectorOperators.ASHR, 4).and(0xF).or(hb.lanewise(VectorOperators.ASHR, 2).and(48)).sub(32))
                        .mul(d * w[is + 6]).intoArray(y, yb + l + 96);
            }
        }
    }

    private static final long SLAB_BYTES = 16 * 1024;
    private static final ThreadLocal<byte[][]> SCRATCH = ThreadLocal.withInitial(() -> new byte[1][]);

    /** This thread's buffer of at least {@code bytes}. */
    private static byte[] scratch(int bytes) {
        byte[][] holder = SCRATCH.get();
        if (holder[0] == null || holder[0].length < bytes) holder[0] = new byte[bytes];
        return holder[0];
    }

    private static IntVector bytesAsInts(byte[] w, int off) {
        return (IntVector) ByteVector.fromArray(B, w, off).convertShape(VectorOperators.B2I, I, 0);
    }

    private static float f16(byte[] w, int off) {
        return Float.float16ToFloat((short) ((w[off] & 0xFF) | (w[off + 1] << 8)));
    }

    /** get_scale_min_k4 over the 12 scale bytes at {@code off}: sub-block j's 6-bit scale (or min). */
    private static int scaleMinK4(byte[] s, int off, int j, boolean wantMin) {
        if (j < 4) return s[off + j + (wantMin ? 4 : 0)] & 63;
        int b = s[off + j + 4] & 0xFF;
        return wantMin ? (b >>> 4) | (((s[off + j] & 0xFF) >>> 6) << 4) : (b & 0xF) | (((s[off + j - 4] & 0xFF) >>> 6) << 4);
    }

    // Q5_K super-block: d, dmin (f16) | 12 bytes of 6-bit scales and mins | qh[32] | qs[128]
    static float dotQ5K(byte[] w, int off, int blocks, float[] x, int xOff, float[] xsum) {
        FloatVector acc1 = FloatVector.zero(S), acc2 = acc1;
        float mins = 0f;
        for (int b = 0; b < blocks; b++) {
            int o = off + b * 176, qs = o + 48, qh = o + 16;
            int xb = xOff + b * 256;
            float d = f16(w, o), dmin = f16(w, o + 2);
            float m = 0f;
            for (int p = 0; p < 4; p++) {
                FloatVector s1 = FloatVector.zero(S), s2 = s1;
                for (int l = 0; l < 32; l += L) {
                    IntVector q = bytesAsInts(w, qs + 32 * p + l);
                    IntVector lo = q.and(0xF), hi = q.lanewise(VectorOperators.ASHR, 4).and(0xF);
                    IntVector h = bytesAsInts(w, qh + l);
                    lo = lo.or(h.lanewise(VectorOperators.ASHR, 2 * p).and(1).lanewise(VectorOperators.LSHL, 4));
                    hi = hi.or(h.lanewise(VectorOperators.ASHR, 2 * p + 1).and(1).lanewise(VectorOperators.LSHL, 4));
                    s1 = toFloat(lo).fma(FloatVector.fromArray(S, x, xb + 64 * p + l), s1);
                    s2 = toFloat(hi).fma(FloatVector.fromArray(S, x, xb + 64 * p + 32 + l), s2);
                }
                int j = 2 * p;
                acc1 = s1.fma(FloatVector.broadcast(S, d * scaleMinK4(w, o + 4, j, false)), acc1);
                acc2 = s2.fma(FloatVector.broadcast(S, d * scaleMinK4(w, o + 4, j + 1, false)), acc2);
                m += scaleMinK4(w, o + 4, j, true) * xsum[b * 8 + j] + scaleMinK4(w, o + 4, j + 1, true) * xsum[b * 8 + j + 1];
            }
            mins += dmin * m;
        }
        return Lanes.sum(acc1.add(acc2)) - mins;
    }

    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final java.lang.invoke.VarHandle LONG_LE =
            java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /**
     * One Q4_K row: per super-block the eight 6-bit scales and mins are unpacked together from
     * their 12 bytes (a long and an int, bit fields moved in parallel, as get_scale_min_k4 reads
     * them one at a time), widened to floats in one vector each; the mins' term is an 8-lane
     * product with the sums of x per 32 values; the nibbles go through int lanes into two float
     * accumulators. Leaves the row's sum as a vector at scales[16 ..] and the mins' term as eight
     * lanes at scales[8 .. 16], for the caller to reduce: C2 stops inlining the Vector API past its
     * node budget (NodeCountInliningCutoff), which this loop nearly fills, and a method it leaves out
     * (a lane reduction) runs boxed, many times slower.
     */
    static void dotQ4K(MemorySegment w, int off, int blocks, float[] x, int xOff, float[] xsum, float[] scales, byte[] tmp) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        FloatVector mins = FloatVector.zero(S8);
        for (int b = 0; b < blocks; b++) {
            int o = off + b * 144;
            float d = Float.float16ToFloat(w.get(F16, o)), dmin = Float.float16ToFloat(w.get(F16, o + 2));
            long s8 = w.get(I64, o + 4);                                   // scale bytes 0..7
            long s4 = w.get(I32, o + 12) & 0xFFFFFFFFL;                    // scale bytes 8..11
            // sub-blocks 0..3: low 6 bits of bytes 0..3 (scales) and 4..7 (mins); 4..7: low / high
            // nibble of bytes 8..11 with the top two bits of bytes 0..3 (scales) / 4..7 (mins) above
            long sc = (s8 & 0x3F3F3F3FL) | (((s4 & 0x0F0F0F0FL) | ((s8 >>> 2) & 0x30303030L)) << 32);
            long mn = ((s8 >>> 32) & 0x3F3F3F3FL) | ((((s4 >>> 4) & 0x0F0F0F0FL) | ((s8 >>> 34) & 0x30303030L)) << 32);
            LONG_LE.set(tmp, 0, sc);                                       // eight bytes widened to eight floats
            LONG_LE.set(tmp, 8, mn);
            ((FloatVector) ByteVector.fromArray(ByteVector.SPECIES_64, tmp, 0).convertShape(VectorOperators.B2F, S8, 0)).mul(d).intoArray(scales, 0);
            mins = ((FloatVector) ByteVector.fromArray(ByteVector.SPECIES_64, tmp, 8).convertShape(VectorOperators.B2F, S8, 0)).mul(dmin)
                    .fma(FloatVector.fromArray(S8, xsum, b * 8), mins);
            int qs = o + 16;
            int xb = xOff + b * 256;
            for (int p = 0; p < 4; p++) {                                  // 32 bytes: sub-blocks 2p (low nibbles), 2p + 1 (high)
                int q = qs + 32 * p;
                int xp = xb + 64 * p;
                FloatVector s1 = FloatVector.zero(S), s2 = s1;
                for (int l = 0; l < 32; l += 2 * L) {                      // two loads per step (one step with AVX-512)
                    // (no calls to helpers of this class in here: past C2's node cutoff only the
                    // Vector API's own @ForceInline methods still get inlined)
                    // zero-extended bytes: the high nibble is the byte shifted right, no mask (one
                    // vector operation fewer per 16 weights than sign-extending; one thread in L1/L2
                    // 6.6-7.6 against 6.5-7.2 GB/s interleaved, within this machine's noise)
                    IntVector q0 = (IntVector) ByteVector.fromMemorySegment(B, w, q + l, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    IntVector q1 = (IntVector) ByteVector.fromMemorySegment(B, w, q + l + L, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
                    s1 = ((FloatVector) q0.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, x, xp + l), s1);
                    s2 = ((FloatVector) q0.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, x, xp + 32 + l), s2);
                    s1 = ((FloatVector) q1.and(0xF).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, x, xp + l + L), s1);
                    s2 = ((FloatVector) q1.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, x, xp + 32 + l + L), s2);
                }
                acc0 = s1.fma(FloatVector.broadcast(S, scales[2 * p]), acc0);
                acc1 = s2.fma(FloatVector.broadcast(S, scales[2 * p + 1]), acc1);
            }
        }
        acc0.add(acc1).intoArray(scales, 16);
        mins.intoArray(scales, 8);
    }

    /**
     * Whether Q4_K products with 16-float vectors (AVX-512) take {@link #dotQ4KMasks} (package-private
     * and mutable so that tests cover both kernels and benchmarks compare them in one process).
     */
    static volatile boolean Q4K_NIBBLE_MASKS = true;

    /** Per 16 int lanes of a 64-byte load, the sub-blocks of lanes 0-7 and 8-15 for low (n = 0) and high (n = 1) nibbles. */
    private static final VectorShuffle<Float> SUB_H0_LO = subBlockShuffle(0, 0), SUB_H0_HI = subBlockShuffle(0, 1),
            SUB_H1_LO = subBlockShuffle(1, 0), SUB_H1_HI = subBlockShuffle(1, 1);

    private static VectorShuffle<Float> subBlockShuffle(int h, int n) {
        if (L != 16) return null;
        int[] idx = new int[16];
        for (int i = 0; i < 16; i++) idx[i] = 4 * h + n + (i < 8 ? 0 : 2);
        return VectorShuffle.fromArray(S, idx, 0);
    }

    private static final VectorSpecies<Long> L128 = LongVector.SPECIES_128;

    /**
     * x laid out for {@link #dotQ4KMasks}: per super-block b, per half h (its quant bytes 64 h ..
     * 64 h + 63 read as 16 int lanes) and per nibble k = 0..7 of an int (bits 4k .. 4k + 3, byte
     * k / 2's low or high nibble), the 16 values of x those nibbles multiply, times 2^-4k (the
     * masked nibble's place value; 1 for k = 7, which is shifted down instead): lane i holds the
     * weight of 32-byte group p = 2h + i / 8, byte l = 4 (i mod 8) + k / 2, nibble k mod 2, that is
     * x[256 b + 64 p + 32 (k mod 2) + l]. Scaling by a power of two is exact, so each product equals
     * the plain one.
     */
    static float[] q4KMaskedX(float[] x, int xOff, int blocks) {
        return nibbleLayout(x, xOff, blocks, 32, 64, false);
    }

    /**
     * Per super-block of 256, per half h and nibble k = 0..7 of an int lane: lane i (< 8) takes
     * x[256 b + 128 h + (k odd ? highNibble : 0) + k / 2 + 4 i], lane 8 + i the same plus secondLanes,
     * times 2^-4k (k = 7: 1), or with {@code perByte} 2^-8(k / 2) (the value sits at the bottom of
     * byte k / 2). Q4_K: a byte's high nibble 32 weights on, bytes 32 .. 63 of a half 64 on; Q6_K: 64
     * and 32.
     */
    private static float[] nibbleLayout(float[] x, int xOff, int blocks, int highNibble, int secondLanes, boolean perByte) {
        float[] xp = new float[blocks * 256];
        for (int b = 0; b < blocks; b++) {
            for (int h = 0; h < 2; h++) {
                for (int k = 0; k < 8; k++) {
                    float scale = perByte ? Math.scalb(1f, -8 * (k >> 1)) : k == 7 ? 1f : Math.scalb(1f, -4 * k);
                    int dst = b * 256 + 128 * h + 16 * k, src = xOff + b * 256 + 128 * h + highNibble * (k & 1) + (k >> 1);
                    for (int i = 0; i < 8; i++) {
                        xp[dst + i] = x[src + 4 * i] * scale;
                        xp[dst + 8 + i] = x[src + secondLanes + 4 * i] * scale;
                    }
                }
            }
        }
        return xp;
    }

    /** Per super-block 16 floats: zeros, then the sums of x over its eight sub-blocks (lanes of the scale-and-min vector). */
    static float[] q4KSubBlockSums(float[] xsum) {
        float[] xs16 = new float[xsum.length * 2];
        for (int b = 0; b < xsum.length / 8; b++) System.arraycopy(xsum, b * 8, xs16, b * 16 + 8, 8);
        return xs16;
    }

    /**
     * One Q4_K row with 16-float vectors, the nibbles never widened: each 64 quant bytes are loaded as
     * 16 int lanes and each of the 8 nibbles of an int is masked in place (k = 7 shifted down), turned
     * to a float, q 2^4k, and multiplied by x laid out and scaled by 2^-4k ({@link #q4KMaskedX}), so
     * per 16 weights an and, a conversion and an FMA; the byte widening of {@link #dotQ4K} is gone.
     * The even nibbles belong to sub-blocks 4h and 4h + 2 (lanes 0-7, 8-15), the odd ones to 4h + 1
     * and 4h + 3, whose scales one rearrangement of the super-block's 16 scales and mins puts in
     * place. The mins' term is a product with xs16 in the same vector. One thread, a Q4_K matrix in
     * L2 / beyond it, two threads: 6.9 / 7.3 / 13.3 GB/s against 5.3 / 6.3 / 11.5 for dotQ4K; the
     * Q4_K 1B model's decode, one JVM per setting, two pairs: 55.9 / 62.8 against 63.4 / 65.4 ms per
     * token. (Steps alternating between the two kernels in one process read 1.06-1.13x, but that
     * way of comparing favours the kernel that allocates: see the README.)
     * Leaves the row's sum as a vector at out[0 ..] for the caller to reduce.
     */
    static void dotQ4KMasks(MemorySegment w, int off, int blocks, float[] xp, float[] xs16, float[] out) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0, mins = acc0;
        for (int b = 0; b < blocks; b++) {
            int o = off + b * 144;
            float d = Float.float16ToFloat(w.get(F16, o)), dmin = Float.float16ToFloat(w.get(F16, o + 2));
            long s8 = w.get(I64, o + 4);
            long s4 = w.get(I32, o + 12) & 0xFFFFFFFFL;
            long sc = (s8 & 0x3F3F3F3FL) | (((s4 & 0x0F0F0F0FL) | ((s8 >>> 2) & 0x30303030L)) << 32);
            long mn = ((s8 >>> 32) & 0x3F3F3F3FL) | ((((s4 >>> 4) & 0x0F0F0F0FL) | ((s8 >>> 34) & 0x30303030L)) << 32);
            // lanes 0-7: the eight scales, 8-15: the eight mins, as floats
            FloatVector v = (FloatVector) LongVector.zero(L128).withLane(0, sc).withLane(1, mn).reinterpretAsBytes()
                    .convertShape(VectorOperators.B2F, S, 0);
            FloatVector scales = v.mul(d);
            mins = v.mul(dmin).fma(FloatVector.fromArray(S, xs16, b * 16), mins);
            int xb = b * 256;
            // (no calls to helpers of this class in here: past C2's node cutoff only the Vector API's
            // own @ForceInline methods still get inlined)
            for (int h = 0; h < 2; h++) {                                  // quant bytes 64 h .. 64 h + 63: 128 weights
                IntVector q = IntVector.fromMemorySegment(I, w, o + 16 + 64 * h, ByteOrder.LITTLE_ENDIAN);
                int xh = xb + 128 * h;
                FloatVector t0 = ((FloatVector) q.and(0xF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, xp, xh));
                FloatVector t1 = ((FloatVector) q.and(0xF0).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, xp, xh + 16));
                t0 = ((FloatVector) q.and(0xF00).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 32), t0);
                t1 = ((FloatVector) q.and(0xF000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 48), t1);
                t0 = ((FloatVector) q.and(0xF0000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 64), t0);
                t1 = ((FloatVector) q.and(0xF00000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 80), t1);
                t0 = ((FloatVector) q.and(0xF000000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 96), t0);
                t1 = ((FloatVector) q.lanewise(VectorOperators.LSHR, 28).convert(VectorOperators.I2F, 0))
                        .fma(FloatVector.fromArray(S, xp, xh + 112), t1);
                acc0 = t0.fma(scales.rearrange(h == 0 ? SUB_H0_LO : SUB_H1_LO), acc0);
                acc1 = t1.fma(scales.rearrange(h == 0 ? SUB_H0_HI : SUB_H1_HI), acc1);
            }
        }
        acc0.add(acc1).sub(mins).intoArray(out, 0);
    }

    /** Whether Q5_K products with 16-float vectors take {@link #dotQ5KMasks} (mutable for tests and benchmarks). */
    static volatile boolean Q5K_NIBBLE_MASKS = true;

    /** x laid out for {@link #dotQ5KMasks}: Q4_K's places, each value scaled by 2^-8j for byte j of its int. */
    static float[] q5KMaskedX(float[] x, int xOff, int blocks) {
        return nibbleLayout(x, xOff, blocks, 32, 64, true);
    }

    /**
     * One Q5_K row with 16-float vectors: Q4_K's nibbles and scales ({@link #dotQ4KMasks}), each
     * weight's fifth bit from qh (bit 2p + m of qh byte l for byte l of 32-byte group p, low or high
     * nibble m) brought by per-lane shifts to bit 4 of the nibble's byte, so that two int vectors hold
     * the 5-bit values of the low and of the high nibbles as bytes (as {@link #dotQ6KMasks} does the
     * 6-bit ones); then a byte mask, a conversion and an FMA per 16 weights with x scaled by 2^-8j.
     * 8192 x 2048 matrices in native memory, calls alternating with the slab-copying widening
     * kernel ({@link #dotQ5K}): one thread 8.9 against 3.7 GB/s, two 16.3 against 6.7 (2.4x). Leaves
     * the row's sum minus the mins' term as a vector at out[0 ..].
     */
    static void dotQ5KMasks(MemorySegment w, int off, int blocks, float[] xp, float[] xs16, float[] out) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0, mins = acc0;
        for (int b = 0; b < blocks; b++) {
            int o = off + b * 176;
            float d = Float.float16ToFloat(w.get(F16, o)), dmin = Float.float16ToFloat(w.get(F16, o + 2));
            long s8 = w.get(I64, o + 4);
            long s4 = w.get(I32, o + 12) & 0xFFFFFFFFL;
            long sc = (s8 & 0x3F3F3F3FL) | (((s4 & 0x0F0F0F0FL) | ((s8 >>> 2) & 0x30303030L)) << 32);
            long mn = ((s8 >>> 32) & 0x3F3F3F3FL) | ((((s4 >>> 4) & 0x0F0F0F0FL) | ((s8 >>> 34) & 0x30303030L)) << 32);
            FloatVector v = (FloatVector) LongVector.zero(L128).withLane(0, sc).withLane(1, mn).reinterpretAsBytes()
                    .convertShape(VectorOperators.B2F, S, 0);
            FloatVector scales = v.mul(d);
            mins = v.mul(dmin).fma(FloatVector.fromArray(S, xs16, b * 16), mins);
            // qh's 32 bytes in both halves of 16 int lanes (the load's upper half is qs, unused)
            IntVector qh = IntVector.fromMemorySegment(I, w, o + 16, ByteOrder.LITTLE_ENDIAN).rearrange(QH_FIRST);
            int xb = b * 256;
            // (no calls to helpers of this class in here: past C2's node cutoff only the Vector API's
            // own @ForceInline methods still get inlined)
            for (int h = 0; h < 2; h++) {
                IntVector q = IntVector.fromMemorySegment(I, w, o + 48 + 64 * h, ByteOrder.LITTLE_ENDIAN);
                // bits 4h (+ 2 in lanes 8-15) and the next of each qh byte to bits 4 and 5
                IntVector hb = h == 0 ? qh.lanewise(VectorOperators.LSHL, QH_UP) : qh.lanewise(VectorOperators.LSHR, QH_DOWN);
                IntVector lo = q.and(0x0F0F0F0F).or(hb.and(0x10101010));
                IntVector hi = q.lanewise(VectorOperators.LSHR, 4).and(0x0F0F0F0F).or(hb.lanewise(VectorOperators.LSHR, 1).and(0x10101010));
                int xh = xb + 128 * h;
                FloatVector t0 = ((FloatVector) lo.and(0xFF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, xp, xh));
                FloatVector t1 = ((FloatVector) hi.and(0xFF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, xp, xh + 16));
                t0 = ((FloatVector) lo.and(0xFF00).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 32), t0);
                t1 = ((FloatVector) hi.and(0xFF00).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 48), t1);
                t0 = ((FloatVector) lo.and(0xFF0000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 64), t0);
                t1 = ((FloatVector) hi.and(0xFF0000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 80), t1);
                t0 = ((FloatVector) lo.and(0xFF000000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 96), t0);
                t1 = ((FloatVector) hi.and(0xFF000000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 112), t1);
                acc0 = t0.fma(scales.rearrange(h == 0 ? SUB_H0_LO : SUB_H1_LO), acc0);
                acc1 = t1.fma(scales.rearrange(h == 0 ? SUB_H0_HI : SUB_H1_HI), acc1);
            }
        }
        acc0.add(acc1).sub(mins).intoArray(out, 0);
    }

    /** Rows of a Q4_K, Q5_K or Q6_K slice through {@link #dotQ4KMasks} / {@link #dotQ5KMasks} / {@link #dotQ6KMasks} (sums: theirs of x). */
    private static void rowsMasked(QuantType type, MemorySegment seg, int rb, int n, int blocks, float[] xp, float[] sums, float[] y,
                                   int yOff) {
        float[] out = new float[L];
        for (int i = 0; i < n; i++) {
            switch (type) {
                case Q4_K -> dotQ4KMasks(seg, i * rb, blocks, xp, sums, out);
                case Q5_K -> dotQ5KMasks(seg, i * rb, blocks, xp, sums, out);
                default -> dotQ6KMasks(seg, i * rb, blocks, xp, sums, out);
            }
            y[yOff + i] = Lanes.sum(FloatVector.fromArray(S, out, 0));
        }
    }

    private static void rowsQ4K(MemorySegment seg, int rb, int n, int blocks, float[] x, int xOff, float[] xsum, float[] y, int yOff) {
        float[] scales = new float[16 + L];
        byte[] tmp = new byte[16];
        for (int i = 0; i < n; i++) {
            dotQ4K(seg, i * rb, blocks, x, xOff, xsum, scales, tmp);
            float mins = 0f;
            for (int j = 8; j < 16; j++) mins += scales[j];
            y[yOff + i] = Lanes.sum(FloatVector.fromArray(S, scales, 16)) - mins;
        }
    }

    /** Whether Q6_K products with 16-float vectors take {@link #dotQ6KMasks} (mutable for tests and benchmarks). */
    static volatile boolean Q6K_NIBBLE_MASKS = true;

    /** The two qh halves (lanes 0-7, 8-15 of a 64-byte load) each copied into both halves of 16 int lanes. */
    private static final VectorShuffle<Integer> QH_FIRST = intShuffle(i -> i % 8), QH_SECOND = intShuffle(i -> 8 + i % 8);
    /**
     * Per-lane shifts that bring the two high bits of a low nibble's weight (qh field 0 in lanes 0-7,
     * field 1 in lanes 8-15) and of a high nibble's (fields 2 and 3) to bits 4, 5 of each byte.
     */
    private static final IntVector QH_UP = laneShifts(4, 2), QH_DOWN = laneShifts(0, 2);
    /** Q6_K sub-blocks of 16 per lane quarter, half n, low (m = 0) or high (m = 1) nibbles. */
    private static final VectorShuffle<Float> Q6_N0_LO = q6SubBlocks(0, 0), Q6_N0_HI = q6SubBlocks(0, 1),
            Q6_N1_LO = q6SubBlocks(1, 0), Q6_N1_HI = q6SubBlocks(1, 1);

    private static VectorShuffle<Integer> intShuffle(java.util.function.IntUnaryOperator index) {
        if (L != 16) return null;
        int[] idx = new int[16];
        for (int i = 0; i < 16; i++) idx[i] = index.applyAsInt(i);
        return VectorShuffle.fromArray(I, idx, 0);
    }

    private static IntVector laneShifts(int first, int second) {
        if (L != 16) return null;
        int[] s = new int[16];
        for (int i = 0; i < 16; i++) s[i] = i < 8 ? first : second;
        return IntVector.fromArray(I, s, 0);
    }

    private static VectorShuffle<Float> q6SubBlocks(int n, int m) {
        if (L != 16) return null;
        int[] idx = new int[16];
        for (int i = 0; i < 16; i++) idx[i] = 8 * n + 2 * ((i < 8 ? 0 : 1) + 2 * m) + (i % 8 < 4 ? 0 : 1);
        return VectorShuffle.fromArray(S, idx, 0);
    }

    /**
     * x laid out for {@link #dotQ6KMasks}: per super-block b, half n (ql bytes 64 n .. 64 n + 63 as 16
     * int lanes) and nibble k = 0..7 of an int, the 16 values of x those weights multiply, times
     * 2^-8(k / 2) (the 6-bit value sits at the bottom of byte k / 2): lane i holds the weight of ql byte 32 (i / 8) + l, l = 4 (i mod 8) + k / 2,
     * low (k even) or high nibble, which Q6_K puts at 128 n + 32 g + l with g = i / 8 + 2 (k mod 2).
     */
    static float[] q6KMaskedX(float[] x, int xOff, int blocks) {
        return nibbleLayout(x, xOff, blocks, 64, 32, true);
    }

    /**
     * One Q6_K row with 16-float vectors, as {@link #dotQ4KMasks} does Q4_K: per half, its 64 ql
     * bytes as 16 int lanes and its 32 qh bytes in both halves of 16 int lanes, shifted per lane so
     * that the two high bits of each weight land right above its nibble: two int vectors whose bytes
     * are the 6-bit values of the low nibbles and of the high nibbles (ten integer operations per
     * 128 weights). Then per 16 weights a mask of one byte (the value times 2^8j), a conversion and
     * an FMA with x laid out and scaled by 2^-8j ({@link #q6KMaskedX}). The scales of 16 weights come
     * by rearrangement of the super-block's 16, the -32 offset through the sums of x per 16. Against
     * three widenings per 64 weights and nine integer operations besides in {@link #halfQ6K}: the
     * Q4_K 1B model's output projection (Q6_K) alone on one thread 34 -> 20.4 ms; its decode, one JVM
     * per setting, two pairs: 55.9 / 62.8 against 68.8 / 88.8 ms per token. Leaves acc - 32 offsets
     * as a vector at out[0 ..] for the caller to reduce.
     */
    static void dotQ6KMasks(MemorySegment w, int off, int blocks, float[] xp, float[] xsum16, float[] out) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0, offsets = acc0;
        for (int b = 0; b < blocks; b++) {
            int o = off + b * 210;
            FloatVector scales = ((FloatVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, w, o + 192, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, S, 0)).mul(Float.float16ToFloat(w.get(F16, o + 208)));
            offsets = scales.fma(FloatVector.fromArray(S, xsum16, b * 16), offsets);
            IntVector qh = IntVector.fromMemorySegment(I, w, o + 128, ByteOrder.LITTLE_ENDIAN);
            int xb = b * 256;
            // (no calls to helpers of this class in here: past C2's node cutoff only the Vector API's
            // own @ForceInline methods still get inlined)
            for (int n = 0; n < 2; n++) {
                IntVector q = IntVector.fromMemorySegment(I, w, o + 64 * n, ByteOrder.LITTLE_ENDIAN);
                IntVector h = qh.rearrange(n == 0 ? QH_FIRST : QH_SECOND);
                IntVector up = h.lanewise(VectorOperators.LSHL, QH_UP);
                // byte j of lo: the 6-bit value of nibble 2j (its low nibble, two high bits above);
                // of hi: that of nibble 2j + 1
                IntVector lo = q.and(0x0F0F0F0F).or(up.and(0x30303030));
                IntVector hi = q.lanewise(VectorOperators.LSHR, 4).and(0x0F0F0F0F)
                        .or(h.lanewise(VectorOperators.LSHR, QH_DOWN).and(0x30303030));
                int xh = xb + 128 * n;
                FloatVector t0 = ((FloatVector) lo.and(0xFF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, xp, xh));
                FloatVector t1 = ((FloatVector) hi.and(0xFF).convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, xp, xh + 16));
                t0 = ((FloatVector) lo.and(0xFF00).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 32), t0);
                t1 = ((FloatVector) hi.and(0xFF00).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 48), t1);
                t0 = ((FloatVector) lo.and(0xFF0000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 64), t0);
                t1 = ((FloatVector) hi.and(0xFF0000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 80), t1);
                t0 = ((FloatVector) lo.and(0xFF000000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 96), t0);
                t1 = ((FloatVector) hi.and(0xFF000000).convert(VectorOperators.I2F, 0)).fma(FloatVector.fromArray(S, xp, xh + 112), t1);
                acc0 = t0.fma(scales.rearrange(n == 0 ? Q6_N0_LO : Q6_N1_LO), acc0);
                acc1 = t1.fma(scales.rearrange(n == 0 ? Q6_N0_HI : Q6_N1_HI), acc1);
            }
        }
        acc0.add(acc1).sub(offsets.mul(32f)).intoArray(out, 0);
    }

    private static void rowsQ6K(MemorySegment seg, int rb, int n, int blocks, float[] x, int xOff, float[] xsum16, float[] y, int yOff) {
        float[] work = new float[16 + 2 * L];
        for (int i = 0; i < n; i++) {
            FloatVector.zero(S).intoArray(work, 16);
            FloatVector.zero(S).intoArray(work, 16 + L);
            for (int b = 0; b < blocks; b++) {
                int o = i * rb + b * 210, xb = xOff + b * 256;
                scalesQ6K(seg, o, xsum16, b * 16, work);
                halfQ6K(seg, o, o + 128, x, xb, work, 0);
                halfQ6K(seg, o + 64, o + 160, x, xb + 128, work, 8);
            }
            y[yOff + i] = Lanes.sum(FloatVector.fromArray(S, work, 16).sub(FloatVector.fromArray(S, work, 16 + L).mul(32f)));
        }
    }

    // Q6_K super-block: ql[128] | qh[64] | 16 x int8 scales | d (f16)
    /**
     * A Q6_K super-block's 16 int8 scales times d into work[0 .. 16], and their products with the
     * sums of x per 16 values (the -32 offset's term) added into work[16 + L ..]. Q6_K's row loop
     * calls this and {@link #halfQ6K} twice per super-block and keeps no vector across the calls
     * (one live across a call is boxed where C2 cannot prove otherwise).
     */
    private static void scalesQ6K(MemorySegment w, int o, float[] xsum16, int xs, float[] work) {
        float d = Float.float16ToFloat(w.get(F16, o + 208));
        FloatVector offsets = FloatVector.fromArray(S, work, 16 + L);
        for (int i = 0; i < 16; i += L) {
            FloatVector sc = ((FloatVector) ByteVector.fromMemorySegment(B, w, o + 192 + i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, S, 0)).mul(d);
            sc.intoArray(work, i);
            offsets = sc.fma(FloatVector.fromArray(S, xsum16, xs + i), offsets);
        }
        offsets.intoArray(work, 16 + L);
    }

    /**
     * Values 0..127 (or 128..255) of a Q6_K super-block, without the -32, added into the running
     * sum at scales[16 ..]: low nibbles at ql, two high bits each at qh, in int lanes; scales from
     * sc0. A method of its own, and its sum kept in memory rather than reduced here, on purpose: the
     * whole super-block in one method passed C2's inlining node budget (NodeCountInliningCutoff), as
     * did a lane reduction at its end, and the Vector API calls left out ran their boxed fallbacks
     * (one 8192 x 2048 matrix at 1 GB/s against 5.5-6.5).
     */
    private static void halfQ6K(MemorySegment w, int ql, int qh, float[] x, int xb, float[] scales, int sc0) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        for (int l = 0; l < 32; l += L) {
            // (no calls to helpers of this class here: past C2's node cutoff only @ForceInline
            // methods, the Vector API's own, still get inlined)
            // zero-extended bytes: the high nibbles are shifts with no mask (as in Q4_K), two vector
            // operations fewer per 64 weights; decoding the Q4_K 1B model (Q6_K output), steps
            // alternating between the two in one process: 1.010-1.022x (3 runs)
            IntVector lo = (IntVector) ByteVector.fromMemorySegment(B, w, ql + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector hi = (IntVector) ByteVector.fromMemorySegment(B, w, ql + l + 32, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector hb = (IntVector) ByteVector.fromMemorySegment(B, w, qh + l, ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
            IntVector q1 = lo.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 4).and(48));
            IntVector q2 = hi.and(0xF).or(hb.lanewise(VectorOperators.LSHL, 2).and(48));
            IntVector q3 = lo.lanewise(VectorOperators.LSHR, 4).or(hb.and(48));
            IntVector q4 = hi.lanewise(VectorOperators.LSHR, 4).or(hb.lanewise(VectorOperators.LSHR, 2).and(48));
            int is = sc0 + l / 16;
            acc0 = ((FloatVector) q1.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, x, xb + l)).fma(FloatVector.broadcast(S, scales[is]), acc0);
            acc1 = ((FloatVector) q2.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, x, xb + l + 32)).fma(FloatVector.broadcast(S, scales[is + 2]), acc1);
            acc0 = ((FloatVector) q3.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, x, xb + l + 64)).fma(FloatVector.broadcast(S, scales[is + 4]), acc0);
            acc1 = ((FloatVector) q4.convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(S, x, xb + l + 96)).fma(FloatVector.broadcast(S, scales[is + 6]), acc1);
        }
        FloatVector.fromArray(S, scales, 16).add(acc0.add(acc1)).intoArray(scales, 16);
    }


    /** y[yOff + i] = row i . x for the n rows whose blocks start at off + i * rb in w (Q8_0, Q4_0, Q4_1). */
    private static void dotRows(QuantType type, MemorySegment w, long off, long rb, int n, int blocks, float[] x, int xOff, float[] xsum,
                                float[] y, int yOff) {
        switch (type) {
            case Q8_0 -> {
                int i = 0;
                if (blocks >= Q8_0_PAIRED_BLOCKS) {
                    for (; i + 2 <= n; i += 2) dotQ8_0Pair(w, off + i * rb, off + (i + 1) * rb, blocks, x, xOff, y, yOff + i);
                }
                for (; i < n; i++) y[yOff + i] = dotQ8_0(w, off + i * rb, blocks, x, xOff);
            }
            case Q4_0 -> { for (int i = 0; i < n; i++) y[yOff + i] = dotQ4_0(w, off + i * rb, blocks, x, xOff); }
            case Q4_1 -> { for (int i = 0; i < n; i++) y[yOff + i] = dotQ4_1(w, off + i * rb, blocks, x, xOff, xsum); }
            default -> throw new IllegalArgumentException(type.name());
        }
    }

    /**
     * Rows {@code from ..} of W dequantized to F32 (row-major, row stride cols) as
     * {@link Quants#dequantizeRow} does, Q8_0, Q4_0, Q4_K and Q6_K in vector registers (each value
     * the same float products as the reference); other types, and species that do not fit, use the
     * reference.
     */
    static void dequantizeRows(QuantizedMatrix w, int from, int rows, float[] y, int yOff) {
        QuantType type = w.type();
        int k = w.cols();
        long rb = w.rowBytes();
        int blocks = w.blocksPerRow();
        MemorySegment seg = w.data();
        Parallel.forRange(rows, Quants.rowGrain(k), (r0, r1) -> {
            for (int r = r0; r < r1; r++) dequantizeBlocks(type, seg, (from + r) * rb, blocks, y, yOff + r * k);
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
        } else if (SUPPORTED && (type == QuantType.Q4_K || type == QuantType.Q6_K)) {
            int bb = type.blockBytes();                                     // from a byte[] slab, as matVec reads them
            byte[] buf = scratch(blocks * bb);
            MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, off, buf, 0, blocks * bb);
            for (int b = 0; b < blocks; b++) {
                if (type == QuantType.Q6_K) dequantQ6K(buf, b * bb, y, yOff + b * 256);
                else dequantQ4K(buf, b * bb, y, yOff + b * 256);
            }
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

    /** Sum of x over each block of {@code size} values (the same for every row: the min or offset terms). */
    private static float[] blockSums(float[] x, int xOff, int blocks, int size) {
        float[] sums = new float[blocks];
        for (int b = 0; b < blocks; b++) {
            FloatVector v = FloatVector.zero(S);
            for (int p = 0; p < size; p += L) v = v.add(FloatVector.fromArray(S, x, xOff + b * size + p));
            sums[b] = Lanes.sum(v);
        }
        return sums;
    }

    private static FloatVector toFloat(IntVector v) {
        return (FloatVector) v.convert(VectorOperators.I2F, 0);
    }

    // Q8_0 block: d (f16) | 32 x int8.
    /**
     * One row of Q8_0, block pairs into two accumulators: one sequential stream per row and two
     * independent FMA chains. (Four rows at once, sharing each x load, decoded the 1B model 25%
     * slower: four interleaved streams per thread, 9.6 against 12.0 tokens/s, interleaved medians.)
     */
    static float dotQ8_0(MemorySegment w, long off, int blocks, float[] x, int xOff) {
        // each block's 32 int8 read by one 256-bit load and widened part by part (16 or 8 lanes):
        // half the segment loads, and their bounds checks, of a load per float vector (one thread
        // 10.8 -> 14.5 GB/s, two 18.0 -> 24.2 on a mapped 65536 x 2048 matrix, medians of 5)
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long o = off + b * 34L;
            int xb = xOff + b * 32;
            ByteVector q0 = ByteVector.fromMemorySegment(B32, w, o + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector q1 = ByteVector.fromMemorySegment(B32, w, o + 36, ByteOrder.LITTLE_ENDIAN);
            FloatVector s0 = FloatVector.zero(S), s1 = s0;
            for (int p = 0; p < 32; p += L) {
                s0 = ((FloatVector) q0.convertShape(VectorOperators.B2F, S, p / L)).fma(FloatVector.fromArray(S, x, xb + p), s0);
                s1 = ((FloatVector) q1.convertShape(VectorOperators.B2F, S, p / L)).fma(FloatVector.fromArray(S, x, xb + 32 + p), s1);
            }
            acc0 = s0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, o))), acc0);
            acc1 = s1.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, o + 34))), acc1);
        }
        for (; b < blocks; b++) {
            long o = off + b * 34L;
            int xb = xOff + b * 32;
            ByteVector q = ByteVector.fromMemorySegment(B32, w, o + 2, ByteOrder.LITTLE_ENDIAN);
            FloatVector s = FloatVector.zero(S);
            for (int p = 0; p < 32; p += L) {
                s = ((FloatVector) q.convertShape(VectorOperators.B2F, S, p / L)).fma(FloatVector.fromArray(S, x, xb + p), s);
            }
            acc0 = s.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, o))), acc0);
        }
        // Lanes.sum's tree written out here: C2 compiled this kernel with that call left out of line
        // in the 1B model (its inlining budget spent), boxing the vector on every row (4% of decode
        // samples in AbstractVector.species, under it); the Vector API's own methods are always
        // inlined. Same order, same bits. Decode 1.13x (median of six interleaved pairs of JVMs; 5 faster).
        FloatVector v = acc0.add(acc1);
        if (L != 16) return Lanes.sum(v);
        v = v.add(v.rearrange(Lanes.R8));
        v = v.add(v.rearrange(Lanes.R4));
        v = v.add(v.rearrange(Lanes.R2));
        v = v.add(v.rearrange(Lanes.R1));
        return v.lane(0);
    }

    /**
     * Rows at least this many Q8_0 blocks long (8192 columns) go two at a time through
     * {@link #dotQ8_0Pair}. Two threads, a mapped matrix, medians of 5 interleaved runs in a harness:
     * [2048, 8192] (the 1B model's down projection) 11.8 -> 14.6 and 13.2 -> 17.1 GB/s, [2048, 14336]
     * 13.9 -> 16.1; no gain at 4096 columns (11.8 / 11.9), a loss at 6144 (14.5 / 13.7), and at 2048
     * the pair ran 2x slower. Decoding the Q8_0 1B model, steps alternating between the two ways in
     * one process: 0.97-1.10x (median of six runs 1.03x).
     */
    static final int Q8_0_PAIRED_BLOCKS = 256;

    /**
     * Two Q8_0 rows (blocks at offA and offB) against x, into y[yi] and y[yi + 1]: each x load feeds
     * both rows. A long row's x (8192 floats: 32 KB, all of L1) does not stay in L1 beside the
     * streamed weights, and with two rows per pass it is read half as often. Each row keeps
     * {@link #dotQ8_0}'s accumulators and order, so the results are its bits.
     */
    static void dotQ8_0Pair(MemorySegment w, long offA, long offB, int blocks, float[] x, int xOff, float[] y, int yi) {
        FloatVector a0 = FloatVector.zero(S), a1 = a0, b0 = a0, b1 = a0;
        int b = 0;
        for (; b + 2 <= blocks; b += 2) {
            long oa = offA + b * 34L, ob = offB + b * 34L;
            int xb = xOff + b * 32;
            ByteVector qa0 = ByteVector.fromMemorySegment(B32, w, oa + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector qa1 = ByteVector.fromMemorySegment(B32, w, oa + 36, ByteOrder.LITTLE_ENDIAN);
            ByteVector qb0 = ByteVector.fromMemorySegment(B32, w, ob + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector qb1 = ByteVector.fromMemorySegment(B32, w, ob + 36, ByteOrder.LITTLE_ENDIAN);
            FloatVector sa0 = FloatVector.zero(S), sa1 = sa0, sb0 = sa0, sb1 = sa0;
            for (int p = 0; p < 32; p += L) {
                FloatVector x0 = FloatVector.fromArray(S, x, xb + p), x1 = FloatVector.fromArray(S, x, xb + 32 + p);
                sa0 = ((FloatVector) qa0.convertShape(VectorOperators.B2F, S, p / L)).fma(x0, sa0);
                sb0 = ((FloatVector) qb0.convertShape(VectorOperators.B2F, S, p / L)).fma(x0, sb0);
                sa1 = ((FloatVector) qa1.convertShape(VectorOperators.B2F, S, p / L)).fma(x1, sa1);
                sb1 = ((FloatVector) qb1.convertShape(VectorOperators.B2F, S, p / L)).fma(x1, sb1);
            }
            a0 = sa0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, oa))), a0);
            a1 = sa1.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, oa + 34))), a1);
            b0 = sb0.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, ob))), b0);
            b1 = sb1.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, ob + 34))), b1);
        }
        for (; b < blocks; b++) {
            long oa = offA + b * 34L, ob = offB + b * 34L;
            int xb = xOff + b * 32;
            ByteVector qa = ByteVector.fromMemorySegment(B32, w, oa + 2, ByteOrder.LITTLE_ENDIAN);
            ByteVector qb = ByteVector.fromMemorySegment(B32, w, ob + 2, ByteOrder.LITTLE_ENDIAN);
            FloatVector sa = FloatVector.zero(S), sb = sa;
            for (int p = 0; p < 32; p += L) {
                FloatVector xv = FloatVector.fromArray(S, x, xb + p);
                sa = ((FloatVector) qa.convertShape(VectorOperators.B2F, S, p / L)).fma(xv, sa);
                sb = ((FloatVector) qb.convertShape(VectorOperators.B2F, S, p / L)).fma(xv, sb);
            }
            a0 = sa.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, oa))), a0);
            b0 = sb.fma(FloatVector.broadcast(S, Float.float16ToFloat(w.get(F16, ob))), b0);
        }
        FloatVector va = a0.add(a1), vb = b0.add(b1);
        if (L != 16) {
            y[yi] = Lanes.sum(va);
            y[yi + 1] = Lanes.sum(vb);
            return;
        }
        // Lanes.sum's tree written out, as in dotQ8_0
        va = va.add(va.rearrange(Lanes.R8));
        vb = vb.add(vb.rearrange(Lanes.R8));
        va = va.add(va.rearrange(Lanes.R4));
        vb = vb.add(vb.rearrange(Lanes.R4));
        va = va.add(va.rearrange(Lanes.R2));
        vb = vb.add(vb.rearrange(Lanes.R2));
        va = va.add(va.rearrange(Lanes.R1));
        vb = vb.add(vb.rearrange(Lanes.R1));
        y[yi] = va.lane(0);
        y[yi + 1] = vb.lane(0);
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
}
