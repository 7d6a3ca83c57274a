package dev.attn4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The flat memory behind one or more {@link NDArray} views: a Java array on the heap, or a
 * {@link MemorySegment} (for example a memory-mapped safetensors file). Element indices are
 * in units of the element type, not bytes.
 */
public sealed interface Storage permits Storage.Floats, Storage.Doubles, Storage.Segment, Storage.Halfs, Storage.Quantized {

    DType dtype();

    /** Number of elements. */
    long size();

    /** Bytes the elements take in memory. */
    default long byteSize() {
        return size() * dtype().byteSize();
    }

    double getDouble(long i);

    void setDouble(long i, double v);

    float getFloat(long i);

    void setFloat(long i, float v);

    static Storage floats(int n) {
        return new Floats(new float[n]);
    }

    static Storage doubles(int n) {
        return new Doubles(new double[n]);
    }

    /** Zeroed 16-bit storage ({@link DType#BF16} or {@link DType#F16}) of n elements on the heap. */
    static Storage halfs(DType dtype, int n) {
        return Halfs.heap(dtype, n);
    }

    /** F32 storage on the heap; kernels work on {@link #array()} directly. */
    record Floats(float[] array) implements Storage {
        public DType dtype() { return DType.F32; }
        public long size() { return array.length; }
        public double getDouble(long i) { return array[(int) i]; }
        public void setDouble(long i, double v) { array[(int) i] = (float) v; }
        public float getFloat(long i) { return array[(int) i]; }
        public void setFloat(long i, float v) { array[(int) i] = v; }
    }

    /** F64 storage, for reference paths. */
    record Doubles(double[] array) implements Storage {
        public DType dtype() { return DType.F64; }
        public long size() { return array.length; }
        public double getDouble(long i) { return array[(int) i]; }
        public void setDouble(long i, double v) { array[(int) i] = v; }
        public float getFloat(long i) { return (float) array[(int) i]; }
        public void setFloat(long i, float v) { array[(int) i] = v; }
    }

    /**
     * Little-endian F32 elements in a memory segment (heap or off-heap, possibly memory-mapped and
     * read-only). No copy is made.
     */
    record Segment(MemorySegment segment) implements Storage {
        static final ValueLayout.OfFloat F32_LE =
                ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        public Segment {
            if (segment.byteSize() % 4 != 0) {
                throw new IllegalArgumentException("F32 segment of " + segment.byteSize()
                        + " bytes is not a multiple of 4");
            }
        }

        public DType dtype() { return DType.F32; }
        public long size() { return segment.byteSize() / 4; }
        public double getDouble(long i) { return segment.getAtIndex(F32_LE, i); }
        public void setDouble(long i, double v) { segment.setAtIndex(F32_LE, i, (float) v); }
        public float getFloat(long i) { return segment.getAtIndex(F32_LE, i); }
        public void setFloat(long i, float v) { segment.setAtIndex(F32_LE, i, v); }
    }

    /**
     * Little-endian 16-bit floats ({@link DType#BF16} or {@link DType#F16}): a heap {@code short[]}
     * ({@link #heap}, wrapped as a segment) or any other memory segment, such as a slice of a
     * memory-mapped safetensors file (read-only; no copy). Reading an element widens it to F32
     * exactly; writing one rounds to nearest even. The GEMM reads {@link #segment()} directly with
     * unaligned loads, so a mapped tensor needs no particular alignment.
     */
    record Halfs(DType dtype, MemorySegment segment) implements Storage {
        static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

        public Halfs {
            if (dtype == null || !dtype.is16Bit()) throw new IllegalArgumentException("Halfs storage needs BF16 or F16, got " + dtype);
            if (segment.byteSize() % 2 != 0) {
                throw new IllegalArgumentException(dtype + " segment of " + segment.byteSize() + " bytes is not a multiple of 2");
            }
        }

        /** Zeroed heap storage: n elements in a {@code short[]}. */
        public static Halfs heap(DType dtype, int n) {
            return new Halfs(dtype, MemorySegment.ofArray(new short[n]));
        }

        /** Wraps {@code bits} (not copied): element i is bits[i]. */
        public static Halfs of(DType dtype, short[] bits) {
            return new Halfs(dtype, MemorySegment.ofArray(bits));
        }

        /** Whether the elements live in a Java array (not mapped or off-heap memory). */
        public boolean isHeap() { return !segment.isNative() && !segment.isMapped(); }

        public long size() { return segment.byteSize() / 2; }
        public short getBits(long i) { return segment.getAtIndex(I16_LE, i); }
        public void setBits(long i, short bits) { segment.setAtIndex(I16_LE, i, bits); }
        public double getDouble(long i) { return dtype.widen(getBits(i)); }
        /** Rounds through F32 (v to F32, then to 16 bits): exact for F32 values, a double rounding for some F64 ones. */
        public void setDouble(long i, double v) { setBits(i, dtype.roundBits((float) v)); }
        public float getFloat(long i) { return dtype.widen(getBits(i)); }
        public void setFloat(long i, float v) { setBits(i, dtype.roundBits(v)); }
    }

    /**
     * Block-quantized weights ({@link QuantizedMatrix}, a heap {@code byte[]} or a slice of a mapped
     * GGUF file): element {@code i} is W[i / cols, i % cols]. Read-only. Reading one element
     * dequantizes its block (slow; the kernels read whole rows: {@code Kernels.matVecQ},
     * {@code Kernels.gemmQ}, {@code Quants.dequantizeRow}).
     */
    record Quantized(QuantizedMatrix matrix) implements Storage {
        public Quantized {
            if (matrix == null) throw new IllegalArgumentException("Quantized storage needs a matrix");
        }

        public DType dtype() { return DType.QUANTIZED; }
        public long size() { return (long) matrix.rows() * matrix.cols(); }
        @Override public long byteSize() { return matrix.data().byteSize(); }
        public double getDouble(long i) { return getFloat(i); }
        public void setDouble(long i, double v) { readOnly(); }
        public float getFloat(long i) {
            int cols = matrix.cols(), bs = matrix.type().blockSize();
            long r = i / cols;
            int c = (int) (i % cols), b = c / bs;
            float[] block = new float[bs];
            matrix.type().dequantizeBlock(matrix.data(), r * matrix.rowBytes() + (long) b * matrix.type().blockBytes(), block, 0);
            return block[c - b * bs];
        }
        public void setFloat(long i, float v) { readOnly(); }

        private void readOnly() {
            throw new UnsupportedOperationException(matrix.type() + " quantized weights are read-only; dequantize them with to(DType.F32)");
        }
    }
}
