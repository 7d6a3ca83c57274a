package dev.attn4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The flat memory behind one or more {@link NDArray} views: a Java array on the heap, or a
 * {@link MemorySegment} (for example a memory-mapped safetensors file). Element indices are
 * in units of the element type, not bytes.
 */
public sealed interface Storage permits Storage.Floats, Storage.Doubles, Storage.Segment {

    DType dtype();

    /** Number of elements. */
    long size();

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
}
