package dev.attn4j.tensor;

import java.util.Arrays;

/**
 * An immutable tensor shape: the size of each dimension. Dimension indices may be negative,
 * counting from the end as in PyTorch ({@code dim(-1)} is the last one).
 */
public final class Shape {
    private static final Shape SCALAR = new Shape(new int[0]);

    private final int[] dims;
    private final long numel;

    private Shape(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(dims));
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + Arrays.toString(dims) + " has " + n
                    + " elements, more than one tensor can hold (" + Integer.MAX_VALUE + ")");
        }
        this.dims = dims;
        this.numel = n;
    }

    public static Shape of(int... dims) {
        return dims.length == 0 ? SCALAR : new Shape(dims.clone());
    }

    public static Shape scalar() {
        return SCALAR;
    }

    public int rank() {
        return dims.length;
    }

    /** Number of elements (1 for a scalar). */
    public int numel() {
        return (int) numel;
    }

    /** Size of dimension {@code d}; negative {@code d} counts from the end. */
    public int dim(int d) {
        return dims[axis(d)];
    }

    /** Resolves a possibly negative dimension index to 0..rank-1, or throws naming the shape. */
    public int axis(int d) {
        int r = dims.length;
        int a = d < 0 ? d + r : d;
        if (a < 0 || a >= r) {
            throw new IllegalArgumentException("dimension " + d + " out of range for shape " + this
                    + " (rank " + r + ")");
        }
        return a;
    }

    public int[] toArray() {
        return dims.clone();
    }

    /** Row-major (C-order) strides for this shape. */
    public int[] contiguousStrides() {
        int[] strides = new int[dims.length];
        int s = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= Math.max(dims[i], 1);
        }
        return strides;
    }

    /** Product of the sizes of dimensions [from, to). */
    public int numel(int from, int to) {
        int n = 1;
        for (int i = from; i < to; i++) n *= dims[i];
        return n;
    }

    /**
     * The shape two operands broadcast to, with NumPy/PyTorch rules: align trailing dimensions;
     * sizes must be equal or one of them 1.
     */
    public static Shape broadcast(Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.rank() ? 1 : a.dims[i - (r - a.rank())];
            int db = i < r - b.rank() ? 1 : b.dims[i - (r - b.rank())];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + a + " and " + b
                        + " cannot be broadcast together (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    /** Whether this shape can be broadcast to {@code target} (without changing target). */
    public boolean broadcastableTo(Shape target) {
        if (rank() > target.rank()) return false;
        int off = target.rank() - rank();
        for (int i = 0; i < rank(); i++) {
            if (dims[i] != 1 && dims[i] != target.dims[i + off]) return false;
        }
        return true;
    }

    /** A copy with dimension {@code d} set to {@code size}. */
    public Shape with(int d, int size) {
        int[] copy = dims.clone();
        copy[axis(d)] = size;
        return new Shape(copy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    public boolean equals(int... other) {
        return Arrays.equals(dims, other);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
