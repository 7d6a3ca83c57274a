package dev.attn4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Block-quantized weight formats as GGUF (ggml) defines them: each row of a matrix is a run of
 * blocks of {@link #blockSize()} values stored in {@link #blockBytes()} bytes, little-endian,
 * no padding. Byte layouts (ggml's {@code block_q8_0} etc.; {@code d}, {@code m}, {@code dmin}
 * are IEEE half floats):
 * <pre>
 *   Q8_0   34 bytes: d (2)        | qs: 32 x int8            value[j] = d * qs[j]
 *   Q4_0   18 bytes: d (2)        | qs: 16 bytes of nibbles  value[j] = d * (nib[j] - 8)
 *   Q4_1   20 bytes: d (2), m (2) | qs: 16 bytes of nibbles  value[j] = d * nib[j] + m
 * </pre>
 * where for the 4-bit formats {@code nib[j] = qs[j] & 0xF} and {@code nib[j + 16] = qs[j] >> 4}
 * for j &lt; 16 (the low nibbles hold the first half of the block, the high nibbles the second).
 *
 * <p>The k-quants hold 256 values in a super-block of sub-blocks, each sub-block with its own
 * scale (and min), the scales themselves quantized against the super-block's d (and dmin):
 * <pre>
 *   Q4_K  144 bytes: d (2), dmin (2) | scales: 12 bytes | qs: 128 bytes
 *         8 sub-blocks of 32; sub-block s has a 6-bit scale sc[s] and min mn[s] packed in the 12
 *         bytes (s &lt; 4: sc = b[s] &amp; 63, mn = b[s + 4] &amp; 63; else sc = (b[s + 4] &amp; 0xF) | (b[s - 4] &gt;&gt; 6) &lt;&lt; 4,
 *         mn = (b[s + 4] &gt;&gt; 4) | (b[s] &gt;&gt; 6) &lt;&lt; 4); the 64 values of pair p (sub-blocks 2p, 2p + 1) are
 *         the low then the high nibbles of qs[32p .. 32p + 31]; value = d sc[s] q - dmin mn[s]
 *   Q5_K  176 bytes: d (2), dmin (2) | scales: 12 bytes | qh: 32 bytes | qs: 128 bytes
 *         as Q4_K with a fifth bit: bit 2p of qh[l] for the low nibble of qs[32p + l], bit 2p + 1
 *         for the high one (q in 0..31)
 *   Q6_K  210 bytes: ql: 128 bytes | qh: 64 bytes | scales: 16 x int8 | d (2)
 *         16 sub-blocks of 16; per half h (128 values) and l &lt; 32, with ql' = ql + 64h, qh' = qh + 32h:
 *         q[l]      = (ql'[l] &amp; 0xF)      | ((qh'[l] &gt;&gt; 0) &amp; 3) &lt;&lt; 4,   q[l + 32] = (ql'[l + 32] &amp; 0xF) | ((qh'[l] &gt;&gt; 2) &amp; 3) &lt;&lt; 4,
 *         q[l + 64] = (ql'[l] &gt;&gt; 4)        | ((qh'[l] &gt;&gt; 4) &amp; 3) &lt;&lt; 4,   q[l + 96] = (ql'[l + 32] &gt;&gt; 4)   | ((qh'[l] &gt;&gt; 6) &amp; 3) &lt;&lt; 4,
 *         value = d * scales[v / 16] * (q - 32) for the value's index v in the super-block
 * </pre>
 * {@link #dequantizeBlock} is the reference for every format (what the value of each element is);
 * the kernels ({@code kernels.Quants}, {@code kernels.simd.SimdQuant}) compute with it.
 */
public enum QuantType {
    Q8_0(8, 32, 34),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210);

    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int ggmlType;
    private final int blockSize;
    private final int blockBytes;

    QuantType(int ggmlType, int blockSize, int blockBytes) {
        this.ggmlType = ggmlType;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The type's number in ggml's {@code enum ggml_type} (and GGUF tensor infos). */
    public int ggmlType() { return ggmlType; }

    /** Values per block. */
    public int blockSize() { return blockSize; }

    /** Bytes per block. */
    public int blockBytes() { return blockBytes; }

    /** Whether this is one of the 256-value k-quants. */
    public boolean isK() { return blockSize == 256; }

    /** Bits per weight, scales included (8.5 for Q8_0, 4.5 for Q4_K, ...). */
    public double bitsPerWeight() { return blockBytes * 8.0 / blockSize; }

    /** Bytes of one row of {@code cols} values; cols must be a multiple of the block size. */
    public long rowBytes(long cols) {
        if (cols % blockSize != 0) {
            throw new IllegalArgumentException(this + " rows need a multiple of " + blockSize + " values, got " + cols);
        }
        return cols / blockSize * blockBytes;
    }

    /** The format with ggml type number {@code id}, or null. */
    public static QuantType ofGgml(int id) {
        for (QuantType t : values()) if (t.ggmlType == id) return t;
        return null;
    }

    /** The format named {@code name} (case-insensitive: "q8_0", "Q4_K"), or an error listing the names. */
    public static QuantType byName(String name) {
        for (QuantType t : values()) if (t.name().equalsIgnoreCase(name)) return t;
        throw new IllegalArgumentException("unknown quantization type '" + name + "'; known: "
                + java.util.Arrays.stream(values()).map(t -> t.name().toLowerCase(java.util.Locale.ROOT)).toList());
    }

    /** The half float at byte {@code off} widened to F32. */
    public static float half(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(F16, off));
    }

    private static int u8(MemorySegment s, long off) {
        return s.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    /**
     * The 6-bit scale ({@code wantMin} false) or min of sub-block {@code j} (0..7) of a Q4_K / Q5_K
     * super-block whose 12 scale bytes start at {@code off} (ggml's {@code get_scale_min_k4}).
     */
    public static int scaleMinK4(MemorySegment s, long off, int j, boolean wantMin) {
        if (j < 4) return u8(s, off + j + (wantMin ? 4 : 0)) & 63;
        int b = u8(s, off + j + 4);
        return wantMin ? (b >>> 4) | ((u8(s, off + j) >>> 6) << 4) : (b & 0xF) | ((u8(s, off + j - 4) >>> 6) << 4);
    }

    /** Dequantizes the one block at byte {@code off} of {@code in} into y[yOff : yOff + blockSize]. */
    public void dequantizeBlock(MemorySegment in, long off, float[] y, int yOff) {
        switch (this) {
            case Q8_0 -> {
                float d = half(in, off);
                for (int j = 0; j < 32; j++) y[yOff + j] = in.get(ValueLayout.JAVA_BYTE, off + 2 + j) * d;
            }
            case Q4_0 -> {
                float d = half(in, off);
                for (int j = 0; j < 16; j++) {
                    int q = u8(in, off + 2 + j);
                    y[yOff + j] = ((q & 0xF) - 8) * d;
                    y[yOff + 16 + j] = ((q >>> 4) - 8) * d;
                }
            }
            case Q4_1 -> {
                float d = half(in, off), m = half(in, off + 2);
                for (int j = 0; j < 16; j++) {
                    int q = u8(in, off + 4 + j);
                    y[yOff + j] = (q & 0xF) * d + m;
                    y[yOff + 16 + j] = (q >>> 4) * d + m;
                }
            }
            case Q4_K, Q5_K -> {
                float d = half(in, off), dmin = half(in, off + 2);
                boolean five = this == Q5_K;
                long qs = off + (five ? 48 : 16), qh = off + 16;
                for (int p = 0; p < 4; p++) {
                    float d1 = d * scaleMinK4(in, off + 4, 2 * p, false), m1 = dmin * scaleMinK4(in, off + 4, 2 * p, true);
                    float d2 = d * scaleMinK4(in, off + 4, 2 * p + 1, false), m2 = dmin * scaleMinK4(in, off + 4, 2 * p + 1, true);
                    int base = yOff + 64 * p;
                    for (int l = 0; l < 32; l++) {
                        int q = u8(in, qs + 32 * p + l);
                        int h = five ? u8(in, qh + l) : 0;
                        y[base + l] = d1 * ((q & 0xF) + (((h >>> (2 * p)) & 1) << 4)) - m1;
                        y[base + 32 + l] = d2 * ((q >>> 4) + (((h >>> (2 * p + 1)) & 1) << 4)) - m2;
                    }
                }
            }
            case Q6_K -> {
                float d = half(in, off + 208);
                for (int h = 0; h < 2; h++) {
                    long ql = off + 64 * h, qh = off + 128 + 32 * h, sc = off + 192 + 8 * h;
                    int base = yOff + 128 * h;
                    for (int l = 0; l < 32; l++) {
                        int is = l / 16, hb = u8(in, qh + l), lo = u8(in, ql + l), hi = u8(in, ql + l + 32);
                        int q1 = ((lo & 0xF) | ((hb & 3) << 4)) - 32;
                        int q2 = ((hi & 0xF) | (((hb >>> 2) & 3) << 4)) - 32;
                        int q3 = ((lo >>> 4) | (((hb >>> 4) & 3) << 4)) - 32;
                        int q4 = ((hi >>> 4) | (((hb >>> 6) & 3) << 4)) - 32;
                        y[base + l] = d * in.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                        y[base + l + 32] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                        y[base + l + 64] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                        y[base + l + 96] = d * in.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
                    }
                }
            }
        }
    }
}
