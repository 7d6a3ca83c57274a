package dev.attn4j.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * An N-dimensional array of F32 (or, for reference checks, F64; or, for frozen weights, BF16 / F16) elements: a {@link Storage}, an
 * element offset into it, a {@link Shape} and per-dimension strides (in elements).
 *
 * <p>View methods ({@link #transpose}, {@link #permute}, {@link #narrow}, {@link #select},
 * {@link #expand}, {@link #view}, {@link #unsqueeze}, {@link #squeeze}) share storage and copy
 * nothing; {@link #reshape} is a view when the layout allows it and a copy otherwise, as in
 * PyTorch. Writing through a view writes the shared storage. This class knows nothing about
 * gradients: see {@code dev.attn4j.autograd.Tensor} for the differentiable tensor.
 */
public final class NDArray {
    private final Storage storage;
    private final int offset;
    private final Shape shape;
    private final int[] strides;

    private NDArray(Storage storage, int offset, Shape shape, int[] strides) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
    }

    /** A view over existing storage; checks that every addressed element is inside it. */
    public static NDArray of(Storage storage, int offset, Shape shape, int[] strides) {
        if (strides.length != shape.rank()) {
            throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " do not match shape " + shape);
        }
        if (shape.numel() > 0) {
            long lo = offset, hi = offset;
            for (int i = 0; i < strides.length; i++) {
                long span = (long) strides[i] * (shape.dim(i) - 1);
                if (span < 0) lo += span; else hi += span;
            }
            if (lo < 0 || hi >= storage.size()) {
                throw new IllegalArgumentException("view " + shape + " strides " + Arrays.toString(strides)
                        + " offset " + offset + " reaches elements [" + lo + ", " + hi + "] outside storage of "
                        + storage.size() + " elements");
            }
        }
        return new NDArray(storage, offset, shape, strides.clone());
    }

    // ---------------------------------------------------------------- factories

    public static NDArray zeros(int... shape) {
        return zeros(DType.F32, Shape.of(shape));
    }

    public static NDArray zeros(Shape shape) {
        return zeros(DType.F32, shape);
    }

    public static NDArray zeros(DType dtype, Shape shape) {
        Storage s = switch (dtype) {
            case F32 -> Storage.floats(shape.numel());
            case F64 -> Storage.doubles(shape.numel());
            case BF16, F16 -> Storage.halfs(dtype, shape.numel());
            case QUANTIZED -> throw new IllegalArgumentException("QUANTIZED arrays come from weights (NDArray.of(QuantizedMatrix)), "
                    + "not zeros; quantize with kernels.Quants");
        };
        return new NDArray(s, 0, shape, shape.contiguousStrides());
    }

    public static NDArray full(Shape shape, double value) {
        return full(DType.F32, shape, value);
    }

    public static NDArray full(DType dtype, Shape shape, double value) {
        NDArray a = zeros(dtype, shape);
        if (value != 0) {
            if (a.storage instanceof Storage.Floats f) Arrays.fill(f.array(), (float) value);
            else if (a.storage instanceof Storage.Doubles d) Arrays.fill(d.array(), value);
            else a.fill(value);
        }
        return a;
    }

    public static NDArray ones(int... shape) {
        return full(Shape.of(shape), 1);
    }

    public static NDArray scalar(double value) {
        return full(Shape.scalar(), value);
    }

    /** Wraps {@code data} (not copied) as a contiguous F32 array of the given shape. */
    public static NDArray of(float[] data, int... shape) {
        Shape s = Shape.of(shape);
        if (s.numel() != data.length) {
            throw new IllegalArgumentException("shape " + s + " needs " + s.numel() + " elements, got " + data.length);
        }
        return new NDArray(new Storage.Floats(data), 0, s, s.contiguousStrides());
    }

    /** Wraps {@code data} (not copied) as a contiguous F64 array of the given shape. */
    public static NDArray of(double[] data, int... shape) {
        Shape s = Shape.of(shape);
        if (s.numel() != data.length) {
            throw new IllegalArgumentException("shape " + s + " needs " + s.numel() + " elements, got " + data.length);
        }
        return new NDArray(new Storage.Doubles(data), 0, s, s.contiguousStrides());
    }

    /** A zero-copy contiguous F32 view of a little-endian memory segment (e.g. memory-mapped weights). */
    public static NDArray of(MemorySegment segment, int... shape) {
        Shape s = Shape.of(shape);
        if (segment.byteSize() != (long) s.numel() * 4) {
            throw new IllegalArgumentException("shape " + s + " needs " + (long) s.numel() * 4
                    + " bytes of F32, segment has " + segment.byteSize());
        }
        return new NDArray(new Storage.Segment(segment), 0, s, s.contiguousStrides());
    }

    /**
     * A zero-copy contiguous 16-bit ({@link DType#BF16} or {@link DType#F16}) view of a
     * little-endian memory segment, e.g. a BF16 tensor of a memory-mapped safetensors file. Any
     * alignment works (the kernels load it unaligned).
     */
    public static NDArray of(MemorySegment segment, DType dtype, int... shape) {
        Shape s = Shape.of(shape);
        if (dtype == DType.F32) return of(segment, shape);
        if (dtype == null || !dtype.is16Bit()) {
            throw new IllegalArgumentException("a segment view needs F32, BF16 or F16, got " + dtype);
        }
        if (segment.byteSize() != (long) s.numel() * 2) {
            throw new IllegalArgumentException("shape " + s + " needs " + (long) s.numel() * 2 + " bytes of " + dtype
                    + ", segment has " + segment.byteSize());
        }
        return new NDArray(new Storage.Halfs(dtype, segment), 0, s, s.contiguousStrides());
    }

    /**
     * A zero-copy view of block-quantized weights as a QUANTIZED array [rows, cols] (read-only: a
     * Linear weight, an embedding table). {@code to(DType.F32)} dequantizes; {@code matmul} with its
     * transpose as the right operand runs {@code Kernels.gemmQ}.
     */
    public static NDArray of(QuantizedMatrix q) {
        Shape s = Shape.of(q.rows(), q.cols());
        return new NDArray(new Storage.Quantized(q), 0, s, s.contiguousStrides());
    }

    /** Wraps the 16-bit patterns {@code bits} (not copied) as a contiguous BF16 or F16 array. */
    public static NDArray of(short[] bits, DType dtype, int... shape) {
        Shape s = Shape.of(shape);
        if (s.numel() != bits.length) {
            throw new IllegalArgumentException("shape " + s + " needs " + s.numel() + " elements, got " + bits.length);
        }
        return new NDArray(Storage.Halfs.of(dtype, bits), 0, s, s.contiguousStrides());
    }

    /** 0, 1, ..., n-1 as F32. */
    public static NDArray arange(int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i;
        return of(d, n);
    }

    /** Uniform in [lo, hi). */
    public static NDArray uniform(SplittableRandom rng, Shape shape, double lo, double hi) {
        NDArray a = zeros(shape);
        float[] d = a.floatArray();
        for (int i = 0; i < d.length; i++) d[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        return a;
    }

    /** Normal with the given mean and standard deviation. */
    public static NDArray normal(SplittableRandom rng, Shape shape, double mean, double std) {
        NDArray a = zeros(shape);
        float[] d = a.floatArray();
        for (int i = 0; i < d.length; i++) d[i] = (float) (mean + std * gaussian(rng));
        return a;
    }

    /** A standard normal draw (Marsaglia polar method). */
    public static double gaussian(SplittableRandom rng) {
        double u, v, s;
        do {
            u = 2 * rng.nextDouble() - 1;
            v = 2 * rng.nextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return u * Math.sqrt(-2 * Math.log(s) / s);
    }

    // ---------------------------------------------------------------- accessors

    public Shape shape() { return shape; }

    public int rank() { return shape.rank(); }

    public int dim(int d) { return shape.dim(d); }

    public int numel() { return shape.numel(); }

    public DType dtype() { return storage.dtype(); }

    public Storage storage() { return storage; }

    /** Element offset of the first element in {@link #storage()}. */
    public int offset() { return offset; }

    public int[] strides() { return strides.clone(); }

    public int stride(int d) { return strides[shape.axis(d)]; }

    /** Row-major with no gaps (size-1 dimensions may have any stride). */
    public boolean isContiguous() {
        int expected = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int n = shape.dim(i);
            if (n != 1 && strides[i] != expected) return false;
            expected *= n;
        }
        return true;
    }

    /**
     * The heap float array behind a contiguous F32 array on the heap; elements start at
     * {@link #offset()}. Throws when the storage is not a heap float array.
     */
    public float[] floatArray() {
        if (storage instanceof Storage.Floats f) return f.array();
        throw new IllegalStateException("not a heap F32 array: " + storage.getClass().getSimpleName() + " " + dtype());
    }

    /** The heap double array behind an F64 array; elements start at {@link #offset()}. */
    public double[] doubleArray() {
        if (storage instanceof Storage.Doubles d) return d.array();
        throw new IllegalStateException("not an F64 array: " + dtype());
    }

    /** Whether kernels can use {@link #floatArray()} from {@link #offset()} for numel() elements. */
    public boolean isDenseHeapF32() {
        return storage instanceof Storage.Floats && isContiguous();
    }

    /** Storage index of the element at {@code index} (one index per dimension). */
    public int storageIndex(int... index) {
        if (index.length != shape.rank()) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates, shape " + shape + " needs " + shape.rank());
        }
        int p = offset;
        for (int i = 0; i < index.length; i++) {
            int n = shape.dim(i);
            int ix = index[i];
            if (ix < 0 || ix >= n) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for shape " + shape);
            }
            p += ix * strides[i];
        }
        return p;
    }

    public float getFloat(int... index) { return storage.getFloat(storageIndex(index)); }

    public double getDouble(int... index) { return storage.getDouble(storageIndex(index)); }

    public void set(double value, int... index) { storage.setDouble(storageIndex(index), value); }

    /** The single value of a one-element array. */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item() needs one element, shape is " + shape);
        return storage.getDouble(offset);
    }

    /** Storage index of the element at row-major logical position {@code flat}. */
    public int storageIndexOfFlat(int flat) {
        int p = offset;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int n = shape.dim(i);
            p += (flat % n) * strides[i];
            flat /= n;
        }
        return p;
    }

    /** All elements in row-major order as a new float array. */
    public float[] toFloatArray() {
        float[] out = new float[numel()];
        if (isDenseHeapF32()) {
            System.arraycopy(floatArray(), offset, out, 0, out.length);
            return out;
        }
        if (storage instanceof Storage.Floats && rank() > 0 && out.length > 0) {
            copyStridedF32(this, out, 0);
            return out;
        }
        ElementCursor c = new ElementCursor(this);
        for (int i = 0; i < out.length; i++) out[i] = storage.getFloat(c.next());
        return out;
    }

    /** All elements in row-major order as a new double array. */
    public double[] toDoubleArray() {
        double[] out = new double[numel()];
        if (isDenseHeapF32()) {
            float[] a = floatArray();
            for (int i = 0; i < out.length; i++) out[i] = a[offset + i];
            return out;
        }
        ElementCursor c = new ElementCursor(this);
        for (int i = 0; i < out.length; i++) out[i] = storage.getDouble(c.next());
        return out;
    }

    // ---------------------------------------------------------------- copies

    /** This array if already contiguous on the heap, else a contiguous heap copy (same dtype). */
    public NDArray contiguous() {
        if (isContiguous() && !(storage instanceof Storage.Segment)) return this;
        return copy();
    }

    /** A new contiguous heap array with the same dtype and values. */
    public NDArray copy() {
        return to(dtype());
    }

    /** A contiguous heap copy converted to {@code target}. */
    public NDArray to(DType target) {
        NDArray out = zeros(target, shape);
        out.copyFrom(this);
        return out;
    }

    /** Copies {@code src} (same shape, or broadcastable to this shape) into this array. */
    public void copyFrom(NDArray src) {
        NDArray s = src.shape.equals(shape) ? src : src.expand(shape.toArray());
        int n = numel();
        if (storage instanceof Storage.Quantized && n > 0) {
            throw new IllegalArgumentException("cannot write into quantized weights " + shape + "; they are read-only");
        }
        if (isDenseHeapF32() && s.storage instanceof Storage.Quantized q && s.isContiguous() && n > 0
                && s.offset % q.matrix().type().blockSize() == 0 && n % q.matrix().type().blockSize() == 0) {
            // whole blocks, which lie one after another in the bytes: dequantize them
            dev.attn4j.tensor.QuantType t = q.matrix().type();
            for (int b = 0; b < n / t.blockSize(); b++) {
                t.dequantizeBlock(q.matrix().data(), (long) (s.offset / t.blockSize() + b) * t.blockBytes(), floatArray(), offset + b * t.blockSize());
            }
            return;
        }
        if (storage instanceof Storage.Halfs h && h.segment().isReadOnly() && n > 0) {
            throw new IllegalArgumentException("cannot write into a read-only " + dtype() + " array " + shape
                    + " (a view of a memory-mapped file); copy() it first");
        }
        if (isDenseHeapF32() && s.isDenseHeapF32()) {
            System.arraycopy(s.floatArray(), s.offset, floatArray(), offset, n);
            return;
        }
        if (isDenseHeapF32() && s.storage instanceof Storage.Segment seg && s.isContiguous()) {
            // bulk copy out of (possibly memory-mapped) little-endian memory
            MemorySegment.copy(seg.segment(), Storage.Segment.F32_LE, (long) s.offset * 4, floatArray(), offset, n);
            return;
        }
        if (isDenseHeapF32() && s.storage instanceof Storage.Halfs h && s.isContiguous()) {
            // widen 16-bit elements (exact)
            float[] d = floatArray();
            DType t = h.dtype();
            for (int i = 0; i < n; i++) d[offset + i] = t.widen(h.getBits(s.offset + i));
            return;
        }
        if (storage instanceof Storage.Halfs h && isContiguous() && s.isDenseHeapF32()) {
            // round F32 to 16 bits, to nearest even
            float[] from32 = s.floatArray();
            DType t = h.dtype();
            for (int i = 0; i < n; i++) h.setBits(offset + i, t.roundBits(from32[s.offset + i]));
            return;
        }
        if (storage instanceof Storage.Halfs hd && s.storage instanceof Storage.Halfs hs && hd.dtype() == hs.dtype()) {
            // same 16-bit type, any layouts: the bits as they are
            ElementCursor dst = new ElementCursor(this), from = new ElementCursor(s);
            for (int i = 0; i < n; i++) hd.setBits(dst.next(), hs.getBits(from.next()));
            return;
        }
        if (isDenseHeapF32() && s.storage instanceof Storage.Floats && s.rank() > 0 && n > 0) {
            copyStridedF32(s, floatArray(), offset);
            return;
        }
        if (storage instanceof Storage.Floats && s.storage instanceof Storage.Floats && s.rank() > 0 && n > 0) {
            copyStridedF32ToStrided(s, this);
            return;
        }
        ElementCursor dst = new ElementCursor(this);
        ElementCursor from = new ElementCursor(s);
        if (dtype() != DType.F64 && s.dtype() != DType.F64) {             // F32 and 16-bit: through float, exact
            for (int i = 0; i < n; i++) storage.setFloat(dst.next(), s.storage.getFloat(from.next()));
        } else {
            for (int i = 0; i < n; i++) storage.setDouble(dst.next(), s.storage.getDouble(from.next()));
        }
    }

    /**
     * Copies the heap F32 array {@code s} (any strides) in row-major order into {@code out} from
     * {@code outOff}: an odometer over the leading dimensions, a plain loop over the last one.
     */
    private static void copyStridedF32(NDArray s, float[] out, int outOff) {
        float[] src = s.floatArray();
        int r = s.rank(), last = s.shape.dim(r - 1), ls = s.strides[r - 1];
        int rows = s.numel() / last;
        int[] counter = new int[r - 1];
        int pos = s.offset, o = outOff;
        for (int row = 0; row < rows; row++) {
            if (ls == 1) {
                System.arraycopy(src, pos, out, o, last);
            } else {
                for (int j = 0, p = pos; j < last; j++, p += ls) out[o + j] = src[p];
            }
            o += last;
            for (int d = r - 2; d >= 0; d--) {                                  // advance to the next row
                if (++counter[d] < s.shape.dim(d)) {
                    pos += s.strides[d];
                    break;
                }
                pos -= s.strides[d] * (s.shape.dim(d) - 1);
                counter[d] = 0;
            }
        }
    }

    /** Copies heap F32 {@code s} into heap F32 {@code d} of the same shape, both with any strides, row by row. */
    private static void copyStridedF32ToStrided(NDArray s, NDArray d) {
        float[] src = s.floatArray(), dst = d.floatArray();
        int r = s.rank(), last = s.shape.dim(r - 1), ls = s.strides[r - 1], ld = d.strides[r - 1];
        int rows = s.numel() / last;
        int[] counter = new int[r - 1];
        int ps = s.offset, pd = d.offset;
        for (int row = 0; row < rows; row++) {
            if (ls == 1 && ld == 1) {
                System.arraycopy(src, ps, dst, pd, last);
            } else {
                for (int j = 0; j < last; j++) dst[pd + j * ld] = src[ps + j * ls];
            }
            for (int k = r - 2; k >= 0; k--) {                                  // advance both to the next row
                if (++counter[k] < s.shape.dim(k)) {
                    ps += s.strides[k];
                    pd += d.strides[k];
                    break;
                }
                ps -= s.strides[k] * (s.shape.dim(k) - 1);
                pd -= d.strides[k] * (d.shape.dim(k) - 1);
                counter[k] = 0;
            }
        }
    }

    /** Sets every element to {@code value}. */
    public void fill(double value) {
        if (isDenseHeapF32()) {
            Arrays.fill(floatArray(), offset, offset + numel(), (float) value);
            return;
        }
        ElementCursor c = new ElementCursor(this);
        for (int i = 0, n = numel(); i < n; i++) storage.setDouble(c.next(), value);
    }

    // ---------------------------------------------------------------- views

    /** Swaps two dimensions (a view). */
    public NDArray transpose(int d0, int d1) {
        int a = shape.axis(d0), b = shape.axis(d1);
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    /** Reorders dimensions: output dimension i is input dimension {@code order[i]} (a view). */
    public NDArray permute(int... order) {
        if (order.length != rank()) {
            throw new IllegalArgumentException("permute order " + Arrays.toString(order) + " does not match rank of " + shape);
        }
        int[] dims = new int[order.length];
        int[] st = new int[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int a = shape.axis(order[i]);
            if (seen[a]) throw new IllegalArgumentException("permute order " + Arrays.toString(order) + " repeats dimension " + a);
            seen[a] = true;
            dims[i] = shape.dim(a);
            st[i] = strides[a];
        }
        return new NDArray(storage, offset, Shape.of(dims), st);
    }

    /** Elements {@code start .. start+length-1} along {@code dim} (a view). */
    public NDArray narrow(int dim, int start, int length) {
        int a = shape.axis(dim);
        if (start < 0 || length < 0 || start + length > shape.dim(a)) {
            throw new IllegalArgumentException("narrow(dim=" + dim + ", start=" + start + ", length=" + length
                    + ") out of range for shape " + shape);
        }
        return new NDArray(storage, offset + start * strides[a], shape.with(a, length), strides);
    }

    /** The slice at {@code index} along {@code dim}, removing that dimension (a view). */
    public NDArray select(int dim, int index) {
        int a = shape.axis(dim);
        if (index < 0 || index >= shape.dim(a)) {
            throw new IndexOutOfBoundsException("select(dim=" + dim + ", index=" + index + ") out of range for shape " + shape);
        }
        int[] dims = new int[rank() - 1];
        int[] st = new int[rank() - 1];
        for (int i = 0, j = 0; i < rank(); i++) {
            if (i == a) continue;
            dims[j] = shape.dim(i);
            st[j++] = strides[i];
        }
        return new NDArray(storage, offset + index * strides[a], Shape.of(dims), st);
    }

    /** Inserts a size-1 dimension at {@code dim} (0..rank; negative counts from rank+1). */
    public NDArray unsqueeze(int dim) {
        int r = rank();
        int a = dim < 0 ? dim + r + 1 : dim;
        if (a < 0 || a > r) throw new IllegalArgumentException("unsqueeze(" + dim + ") out of range for shape " + shape);
        int[] dims = new int[r + 1];
        int[] st = new int[r + 1];
        for (int i = 0, j = 0; i <= r; i++) {
            if (i == a) {
                dims[i] = 1;
                st[i] = j < r ? strides[j] * shape.dim(j) : 1;
            } else {
                dims[i] = shape.dim(j);
                st[i] = strides[j++];
            }
        }
        return new NDArray(storage, offset, Shape.of(dims), st);
    }

    /** Removes dimension {@code dim}, which must have size 1. */
    public NDArray squeeze(int dim) {
        int a = shape.axis(dim);
        if (shape.dim(a) != 1) throw new IllegalArgumentException("squeeze(" + dim + ") on shape " + shape + ": size is not 1");
        return select(a, 0);
    }

    /**
     * Broadcasts to {@code target} (a view with stride 0 on expanded dimensions). Leading
     * dimensions may be added; -1 keeps a dimension's size.
     */
    public NDArray expand(int... target) {
        int r = target.length;
        if (r < rank()) throw new IllegalArgumentException("cannot expand shape " + shape + " to fewer dimensions " + Arrays.toString(target));
        int[] dims = new int[r];
        int[] st = new int[r];
        int lead = r - rank();
        for (int i = 0; i < r; i++) {
            if (i < lead) {
                if (target[i] < 0) throw new IllegalArgumentException("expand: -1 not allowed for new leading dimension in " + Arrays.toString(target));
                dims[i] = target[i];
                st[i] = 0;
            } else {
                int have = shape.dim(i - lead);
                int want = target[i] == -1 ? have : target[i];
                if (have == want) {
                    dims[i] = have;
                    st[i] = strides[i - lead];
                } else if (have == 1) {
                    dims[i] = want;
                    st[i] = 0;
                } else {
                    throw new IllegalArgumentException("cannot expand shape " + shape + " to " + Arrays.toString(target)
                            + " (dimension " + i + " has size " + have + ")");
                }
            }
        }
        return new NDArray(storage, offset, Shape.of(dims), st);
    }

    public NDArray expand(Shape target) {
        return expand(target.toArray());
    }

    /**
     * A view with a new shape, as {@code torch.Tensor.view}: one dimension may be -1; fails when
     * the strides cannot express it without a copy.
     */
    public NDArray view(int... newShape) {
        NDArray v = tryView(inferShape(newShape));
        if (v == null) {
            throw new IllegalArgumentException("view " + Arrays.toString(newShape) + " of shape " + shape + " with strides "
                    + Arrays.toString(strides) + " needs a copy; use reshape");
        }
        return v;
    }

    /** As {@code torch.reshape}: a view when possible, otherwise a contiguous copy. */
    public NDArray reshape(int... newShape) {
        Shape target = inferShape(newShape);
        NDArray v = tryView(target);
        return v != null ? v : copy().tryView(target);
    }

    /** Resolves one -1 in {@code newShape} and checks the element count. */
    public Shape inferShape(int... newShape) {
        int[] dims = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one -1 allowed in shape " + Arrays.toString(newShape));
                infer = i;
            } else if (dims[i] < 0) {
                throw new IllegalArgumentException("invalid size " + dims[i] + " in shape " + Arrays.toString(newShape));
            } else {
                known *= dims[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0) {
                throw new IllegalArgumentException("shape " + Arrays.toString(newShape) + " is invalid for " + numel() + " elements");
            }
            dims[infer] = (int) (numel() / known);
        } else if (known != numel()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(newShape) + " is invalid for input of shape "
                    + shape + " (" + numel() + " elements)");
        }
        return Shape.of(dims);
    }

    /**
     * Strides for {@code target} over the same memory, or null. Groups of old dimensions that are
     * contiguous among themselves can be split or merged (the rule torch.view uses).
     */
    private NDArray tryView(Shape target) {
        if (isContiguous() || numel() == 0) return new NDArray(storage, offset, target, target.contiguousStrides());
        // Walk the old dimensions from the innermost, cutting them into chunks that are contiguous
        // among themselves; each chunk must be covered exactly by a run of new dimensions, which
        // then get strides inside that chunk. This is the rule torch.view follows.
        int[] newStrides = new int[target.rank()];
        int vd = target.rank() - 1;
        long chunkBaseStride = strides[rank() - 1];
        long oldNumel = 1, newNumel = 1;
        for (int d = rank() - 1; d >= 0; d--) {
            oldNumel *= shape.dim(d);
            boolean chunkEnds = d == 0
                    || (shape.dim(d - 1) != 1 && strides[d - 1] != oldNumel * chunkBaseStride);
            if (!chunkEnds) continue;
            while (vd >= 0 && (newNumel < oldNumel || target.dim(vd) == 1)) {
                newStrides[vd] = (int) (newNumel * chunkBaseStride);
                newNumel *= target.dim(vd);
                vd--;
            }
            if (newNumel != oldNumel) return null;
            if (d > 0) {
                chunkBaseStride = strides[d - 1];
                oldNumel = 1;
                newNumel = 1;
            }
        }
        if (vd != -1) return null;
        return new NDArray(storage, offset, target, newStrides);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NDArray").append(shape).append(' ').append(dtype()).append(' ');
        int n = numel();
        double[] v = n <= 64 ? toDoubleArray() : null;
        if (v == null) return sb.append("(").append(n).append(" elements)").toString();
        sb.append(Arrays.toString(v));
        return sb.toString();
    }

    /**
     * Walks the storage indices of an array's elements in row-major logical order, with an
     * odometer over the dimensions (no division per element).
     */
    public static final class ElementCursor {
        private final int[] dims;
        private final int[] strides;
        private final int[] counter;
        private int pos;
        private boolean started;

        public ElementCursor(NDArray a) {
            this.dims = a.shape.toArray();
            this.strides = a.strides.clone();
            this.counter = new int[dims.length];
            this.pos = a.offset;
        }

        /** Storage index of the next element. */
        public int next() {
            if (!started) {
                started = true;
                return pos;
            }
            for (int d = dims.length - 1; d >= 0; d--) {
                if (++counter[d] < dims[d]) {
                    pos += strides[d];
                    return pos;
                }
                pos -= strides[d] * (dims[d] - 1);
                counter[d] = 0;
            }
            return pos;
        }
    }
}
