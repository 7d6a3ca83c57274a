package dev.attn4j.kernels;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.NDArray.ElementCursor;
import dev.attn4j.tensor.Shape;
import dev.attn4j.tensor.Storage;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Forward array math on {@link NDArray}s, without gradients. Every function returns a new array
 * (or, for {@link #split} and {@link #chunk}, views) and never modifies its inputs, except the
 * explicitly in-place {@link #addInto}.
 *
 * <p>Functions passed to {@link #map}, {@link #zip} and {@link #zip3} may run on several threads
 * at once and must not keep state.
 *
 * <p>Two paths: dense heap F32 operands go to {@link Kernels#get()} (same shape, scalar, and
 * "row"/"column" broadcasts), split over {@link Parallel} when large; everything else (any
 * strides, memory segments, F64) takes a generic strided loop computed in double. F64 inputs
 * give F64 outputs; mixing F32 and F64 operands is an error. Broadcasting follows NumPy/PyTorch.
 */
public final class ArrayOps {
    /** Elements per parallel task for elementwise work. */
    private static final int GRAIN = 1 << 15;

    private ArrayOps() {
    }

    /** A function of three doubles. */
    @FunctionalInterface
    public interface DoubleTernaryOperator {
        double apply(double a, double b, double c);
    }

    // ================================================================ checks

    /** The common dtype of two operands, or an exception naming the op and both dtypes and shapes. */
    public static DType sameDType(String op, NDArray a, NDArray b) {
        require32(op, a);
        require32(op, b);
        if (a.dtype() != b.dtype()) {
            throw new IllegalArgumentException(op + ": operands have different dtypes " + a.dtype() + " " + a.shape()
                    + " and " + b.dtype() + " " + b.shape() + "; convert one with to(DType)");
        }
        return a.dtype();
    }

    /**
     * Throws when {@code x} is BF16 or F16: those are storage types for frozen weights, which only
     * copies, views, {@code to(DType)} and {@link #matmul} (as the right operand of an F32 left
     * one) accept, so that no op quietly computes in 16 bits or in the wrong type.
     */
    public static void require32(String op, NDArray x) {
        if (x.dtype() == DType.QUANTIZED) {
            throw new IllegalArgumentException(op + ": " + x.shape() + " holds quantized weights, a storage type; only copies, views, "
                    + "to(DType), embedding lookups and matmul with it as the right operand take it; convert it with to(DType.F32)");
        }
        if (x.dtype().is16Bit()) {
            throw new IllegalArgumentException(op + ": " + x.dtype() + " array " + x.shape() + " is a 16-bit storage type "
                    + "(frozen weights); only copies, views, to(DType) and matmul with it as the right operand take it; "
                    + "convert it with to(DType.F32)");
        }
    }

    private static Shape broadcastShape(String op, Shape a, Shape b) {
        try {
            return Shape.broadcast(a, b);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": shapes " + a + " and " + b + " cannot be broadcast together", e);
        }
    }

    /**
     * {@code a} itself when dense with shape {@code s} or when it is a dense row/column/scalar
     * operand the kernels broadcast themselves; else a dense copy of a expanded to s.
     */
    private static NDArray denseLike(NDArray a, Shape s) {
        if (a.isDenseHeapF32() && (a.shape().equals(s) || a.numel() == 1 || isRowPattern(a.shape(), s))) return a;
        return expandTo(a, s).contiguous();
    }

    private static NDArray expandTo(NDArray a, Shape s) {
        return a.shape().equals(s) ? a : a.expand(s.toArray());
    }

    // ================================================================ scalar reference math

    /** The double-precision definition of each unary op (what the generic path computes). */
    public static double apply(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case TANH -> Math.tanh(x);
            case SQRT -> Math.sqrt(x);
            case RELU -> x > 0 ? x : 0;
            case GELU_ERF -> 0.5 * x * (1.0 + MathF.erf(x / Math.sqrt(2.0)));
            case GELU_TANH -> 0.5 * x * (1.0 + Math.tanh(MathF.SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1.0 + Math.exp(-x));
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case ABS -> Math.abs(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1.0 / x;
        };
    }

    /** The double-precision definition of each binary op. */
    public static double apply(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case POW -> Math.pow(a, b);
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }

    // ================================================================ elementwise unary

    /** {@code op(x)} elementwise. */
    public static NDArray unary(UnaryOp op, NDArray x) {
        require32(op.name().toLowerCase(), x);
        NDArray out = NDArray.zeros(x.dtype(), x.shape());
        int n = x.numel();
        if (x.isDenseHeapF32()) {
            float[] xa = x.floatArray(), oa = out.floatArray();
            int xo = x.offset();
            Kernels k = Kernels.get();
            Parallel.forRange(n, GRAIN, (from, to) -> k.unary(op, xa, xo + from, oa, from, to - from));
            return out;
        }
        Storage xs = x.storage(), os = out.storage();
        ElementCursor c = new ElementCursor(x);
        for (int i = 0; i < n; i++) os.setDouble(i, apply(op, xs.getDouble(c.next())));
        return out;
    }

    public static NDArray neg(NDArray x) { return unary(UnaryOp.NEG, x); }

    public static NDArray exp(NDArray x) { return unary(UnaryOp.EXP, x); }

    public static NDArray log(NDArray x) { return unary(UnaryOp.LOG, x); }

    public static NDArray tanh(NDArray x) { return unary(UnaryOp.TANH, x); }

    public static NDArray sqrt(NDArray x) { return unary(UnaryOp.SQRT, x); }

    public static NDArray square(NDArray x) { return unary(UnaryOp.SQUARE, x); }

    public static NDArray sigmoid(NDArray x) { return unary(UnaryOp.SIGMOID, x); }

    public static NDArray reciprocal(NDArray x) { return unary(UnaryOp.RECIPROCAL, x); }

    // ================================================================ elementwise binary

    /** {@code a op b} elementwise with broadcasting. */
    public static NDArray binary(BinaryOp op, NDArray a, NDArray b) {
        DType dt = sameDType(op.name().toLowerCase(), a, b);
        Shape s = broadcastShape(op.name().toLowerCase(), a.shape(), b.shape());
        NDArray out = NDArray.zeros(dt, s);
        int n = s.numel();
        if (n == 0) return out;
        if (a.isDenseHeapF32() && b.isDenseHeapF32()) {
            if (binaryFast(op, a, b, out)) return out;
        }
        if (a.storage() instanceof Storage.Floats && b.storage() instanceof Storage.Floats) {
            // strided or broadcast F32 operands: dense copies (fast row copies) then the kernels
            NDArray ad = denseLike(a, s), bd = denseLike(b, s);
            if (binaryFast(op, ad, bd, out)) return out;
        }
        NDArray ae = expandTo(a, s), be = expandTo(b, s);
        Storage as = ae.storage(), bs = be.storage(), os = out.storage();
        ElementCursor ca = new ElementCursor(ae), cb = new ElementCursor(be);
        for (int i = 0; i < n; i++) os.setDouble(i, apply(op, as.getDouble(ca.next()), bs.getDouble(cb.next())));
        return out;
    }

    /** Dense F32 cases the kernels handle; false when the pattern is not one of them. */
    private static boolean binaryFast(BinaryOp op, NDArray a, NDArray b, NDArray out) {
        Kernels k = Kernels.get();
        float[] aa = a.floatArray(), ba = b.floatArray(), oa = out.floatArray();
        int ao = a.offset(), bo = b.offset(), n = out.numel();
        Shape s = out.shape();
        if (a.shape().equals(s) && b.shape().equals(s)) {
            Parallel.forRange(n, GRAIN, (f, t) -> k.binary(op, aa, ao + f, ba, bo + f, oa, f, t - f));
            return true;
        }
        if (b.numel() == 1 && a.shape().equals(s)) {
            float v = ba[bo];
            Parallel.forRange(n, GRAIN, (f, t) -> k.binaryScalar(op, aa, ao + f, v, oa, f, t - f));
            return true;
        }
        if (a.numel() == 1 && b.shape().equals(s)) {
            float v = aa[ao];
            Parallel.forRange(n, GRAIN, (f, t) -> k.scalarBinary(op, v, ba, bo + f, oa, f, t - f));
            return true;
        }
        boolean aFull = a.shape().equals(s);
        NDArray small = aFull ? b : a;
        if (!aFull && !b.shape().equals(s)) return false;
        int sn = small.numel();
        if (sn == 0) return false;
        if (isRowPattern(small.shape(), s)) {
            // small repeats every sn elements: [rows, sn] op [sn]
            int rows = n / sn;
            Parallel.forRange(rows, Math.max(1, GRAIN / sn), (f, t) -> {
                for (int r = f; r < t; r++) {
                    if (aFull) k.binary(op, aa, ao + r * sn, ba, bo, oa, r * sn, sn);
                    else k.binary(op, aa, ao, ba, bo + r * sn, oa, r * sn, sn);
                }
            });
            return true;
        }
        if (isColumnPattern(small.shape(), s)) {
            // each element of small covers a block: [sn, inner] op [sn, 1]
            int inner = n / sn;
            Parallel.forRange(sn, Math.max(1, GRAIN / Math.max(1, inner)), (f, t) -> {
                for (int r = f; r < t; r++) {
                    if (aFull) k.binaryScalar(op, aa, ao + r * inner, ba[bo + r], oa, r * inner, inner);
                    else k.scalarBinary(op, aa[ao + r], ba, bo + r * inner, oa, r * inner, inner);
                }
            });
            return true;
        }
        return false;
    }

    /** small (right-aligned to full) is 1 on a leading run of dimensions and equal on the rest. */
    private static boolean isRowPattern(Shape small, Shape full) {
        int off = full.rank() - small.rank();
        int i = 0;
        while (i < small.rank() && small.dim(i) == 1) i++;
        for (int j = i; j < small.rank(); j++) if (small.dim(j) != full.dim(j + off)) return false;
        return true;
    }

    /** small (right-aligned to full) equals full on a leading run of dimensions and is 1 on the rest. */
    private static boolean isColumnPattern(Shape small, Shape full) {
        if (small.rank() != full.rank()) return false;
        int i = 0;
        while (i < small.rank() && small.dim(i) == full.dim(i)) i++;
        for (int j = i; j < small.rank(); j++) if (small.dim(j) != 1) return false;
        return true;
    }

    public static NDArray add(NDArray a, NDArray b) { return binary(BinaryOp.ADD, a, b); }

    public static NDArray sub(NDArray a, NDArray b) { return binary(BinaryOp.SUB, a, b); }

    public static NDArray mul(NDArray a, NDArray b) { return binary(BinaryOp.MUL, a, b); }

    public static NDArray div(NDArray a, NDArray b) { return binary(BinaryOp.DIV, a, b); }

    public static NDArray pow(NDArray a, NDArray b) { return binary(BinaryOp.POW, a, b); }

    public static NDArray maximum(NDArray a, NDArray b) { return binary(BinaryOp.MAX, a, b); }

    public static NDArray minimum(NDArray a, NDArray b) { return binary(BinaryOp.MIN, a, b); }

    /** {@code a op s} elementwise. */
    public static NDArray binaryScalar(BinaryOp op, NDArray a, double s) {
        require32(op.name().toLowerCase(), a);
        NDArray out = NDArray.zeros(a.dtype(), a.shape());
        int n = a.numel();
        if (a.isDenseHeapF32()) {
            float[] aa = a.floatArray(), oa = out.floatArray();
            int ao = a.offset();
            float v = (float) s;
            Kernels k = Kernels.get();
            Parallel.forRange(n, GRAIN, (f, t) -> k.binaryScalar(op, aa, ao + f, v, oa, f, t - f));
            return out;
        }
        Storage as = a.storage(), os = out.storage();
        ElementCursor c = new ElementCursor(a);
        for (int i = 0; i < n; i++) os.setDouble(i, apply(op, as.getDouble(c.next()), s));
        return out;
    }

    /** {@code s op b} elementwise. */
    public static NDArray scalarBinary(BinaryOp op, double s, NDArray b) {
        require32(op.name().toLowerCase(), b);
        NDArray out = NDArray.zeros(b.dtype(), b.shape());
        int n = b.numel();
        if (b.isDenseHeapF32()) {
            float[] ba = b.floatArray(), oa = out.floatArray();
            int bo = b.offset();
            float v = (float) s;
            Kernels k = Kernels.get();
            Parallel.forRange(n, GRAIN, (f, t) -> k.scalarBinary(op, v, ba, bo + f, oa, f, t - f));
            return out;
        }
        Storage bs = b.storage(), os = out.storage();
        ElementCursor c = new ElementCursor(b);
        for (int i = 0; i < n; i++) os.setDouble(i, apply(op, s, bs.getDouble(c.next())));
        return out;
    }

    public static NDArray addScalar(NDArray a, double s) { return binaryScalar(BinaryOp.ADD, a, s); }

    public static NDArray mulScalar(NDArray a, double s) { return binaryScalar(BinaryOp.MUL, a, s); }

    /** In place: {@code dst += src}, src broadcast to dst's shape. */
    public static void addInto(NDArray dst, NDArray src) {
        sameDType("addInto", dst, src);
        if (!src.shape().broadcastableTo(dst.shape())) {
            throw new IllegalArgumentException("addInto: source shape " + src.shape() + " cannot be broadcast to destination "
                    + dst.shape());
        }
        int n = dst.numel();
        if (dst.isDenseHeapF32() && src.isDenseHeapF32() && src.shape().equals(dst.shape())) {
            float[] d = dst.floatArray(), s = src.floatArray();
            int dOff = dst.offset(), sOff = src.offset();
            Kernels k = Kernels.get();
            Parallel.forRange(n, GRAIN, (f, t) -> k.axpy(1f, s, sOff + f, d, dOff + f, t - f));
            return;
        }
        if (dst.isDenseHeapF32() && src.storage() instanceof Storage.Floats) {
            NDArray sd = expandTo(src, dst.shape()).contiguous();           // dense copy of the broadcast source
            float[] d = dst.floatArray(), sa = sd.floatArray();
            int dOff = dst.offset(), sOff = sd.offset();
            Kernels k = Kernels.get();
            Parallel.forRange(n, GRAIN, (f, t) -> k.axpy(1f, sa, sOff + f, d, dOff + f, t - f));
            return;
        }
        NDArray se = expandTo(src, dst.shape());
        Storage ds = dst.storage(), ss = se.storage();
        ElementCursor cd = new ElementCursor(dst), cs = new ElementCursor(se);
        for (int i = 0; i < n; i++) {
            int p = cd.next();
            ds.setDouble(p, ds.getDouble(p) + ss.getDouble(cs.next()));
        }
    }

    // ================================================================ generic maps

    /** {@code f(x)} elementwise, computed in double; the output has x's dtype. */
    public static NDArray map(NDArray x, DoubleUnaryOperator f) {
        require32("map", x);
        NDArray out = NDArray.zeros(x.dtype(), x.shape());
        int n = x.numel();
        if (x.isDenseHeapF32()) {
            float[] xa = x.floatArray(), oa = out.floatArray();
            int xo = x.offset();
            Parallel.forRange(n, GRAIN, (from, to) -> {
                for (int i = from; i < to; i++) oa[i] = (float) f.applyAsDouble(xa[xo + i]);
            });
            return out;
        }
        Storage xs = x.storage(), os = out.storage();
        ElementCursor c = new ElementCursor(x);
        for (int i = 0; i < n; i++) os.setDouble(i, f.applyAsDouble(xs.getDouble(c.next())));
        return out;
    }

    /** {@code f(a, b)} elementwise with broadcasting, computed in double; same-dtype operands. */
    public static NDArray zip(NDArray a, NDArray b, DoubleBinaryOperator f) {
        DType dt = sameDType("zip", a, b);
        Shape s = broadcastShape("zip", a.shape(), b.shape());
        NDArray out = NDArray.zeros(dt, s);
        int n = s.numel();
        if (a.isDenseHeapF32() && b.isDenseHeapF32() && a.shape().equals(s) && b.shape().equals(s)) {
            float[] aa = a.floatArray(), ba = b.floatArray(), oa = out.floatArray();
            int ao = a.offset(), bo = b.offset();
            Parallel.forRange(n, GRAIN, (from, to) -> {
                for (int i = from; i < to; i++) oa[i] = (float) f.applyAsDouble(aa[ao + i], ba[bo + i]);
            });
            return out;
        }
        NDArray ae = expandTo(a, s), be = expandTo(b, s);
        Storage as = ae.storage(), bs = be.storage(), os = out.storage();
        ElementCursor ca = new ElementCursor(ae), cb = new ElementCursor(be);
        for (int i = 0; i < n; i++) os.setDouble(i, f.applyAsDouble(as.getDouble(ca.next()), bs.getDouble(cb.next())));
        return out;
    }

    /**
     * {@code f(a, b, c)} elementwise with broadcasting, computed in double; a, b and c must share
     * a dtype, which the output gets.
     */
    public static NDArray zip3(NDArray a, NDArray b, NDArray c, DoubleTernaryOperator f) {
        require32("zip3", c);
        sameDType("zip3", a, b);
        sameDType("zip3", a, c);
        return zip3Into(a.dtype(), a, b, c, f);
    }

    private static NDArray zip3Into(DType dt, NDArray a, NDArray b, NDArray c, DoubleTernaryOperator f) {
        Shape s = broadcastShape("zip3", broadcastShape("zip3", a.shape(), b.shape()), c.shape());
        NDArray out = NDArray.zeros(dt, s);
        int n = s.numel();
        if (a.isDenseHeapF32() && b.isDenseHeapF32() && c.isDenseHeapF32() && dt == DType.F32
                && a.shape().equals(s) && b.shape().equals(s) && c.shape().equals(s)) {
            float[] aa = a.floatArray(), ba = b.floatArray(), ca = c.floatArray(), oa = out.floatArray();
            int ao = a.offset(), bo = b.offset(), co = c.offset();
            Parallel.forRange(n, GRAIN, (from, to) -> {
                for (int i = from; i < to; i++) oa[i] = (float) f.apply(aa[ao + i], ba[bo + i], ca[co + i]);
            });
            return out;
        }
        NDArray ae = expandTo(a, s), be = expandTo(b, s), ce = expandTo(c, s);
        Storage as = ae.storage(), bs = be.storage(), cs = ce.storage(), os = out.storage();
        ElementCursor xa = new ElementCursor(ae), xb = new ElementCursor(be), xc = new ElementCursor(ce);
        for (int i = 0; i < n; i++) {
            os.setDouble(i, f.apply(as.getDouble(xa.next()), bs.getDouble(xb.next()), cs.getDouble(xc.next())));
        }
        return out;
    }

    // ================================================================ selection

    /**
     * Elementwise {@code cond != 0 ? a : b} with broadcasting of all three; cond may have any dtype,
     * a and b share one (the output's).
     */
    public static NDArray where(NDArray cond, NDArray a, NDArray b) {
        DType dt = sameDType("where", a, b);
        try {
            return zip3Into(dt, cond, a, b, (m, x, y) -> m != 0 ? x : y);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("where: shapes cond " + cond.shape() + ", a " + a.shape() + ", b " + b.shape()
                    + " cannot be broadcast together", e);
        }
    }

    /** A copy of {@code a} with {@code value} where {@code mask} (broadcast to a's shape) is nonzero. */
    public static NDArray maskedFill(NDArray a, NDArray mask, double value) {
        require32("maskedFill", a);
        if (!mask.shape().broadcastableTo(a.shape())) {
            throw new IllegalArgumentException("maskedFill: mask shape " + mask.shape() + " cannot be broadcast to shape "
                    + a.shape());
        }
        NDArray out = NDArray.zeros(a.dtype(), a.shape());
        int n = a.numel();
        NDArray me = expandTo(mask, a.shape());
        Storage as = a.storage(), ms = me.storage(), os = out.storage();
        ElementCursor ca = new ElementCursor(a), cm = new ElementCursor(me);
        for (int i = 0; i < n; i++) {
            double x = as.getDouble(ca.next());
            os.setDouble(i, ms.getDouble(cm.next()) != 0 ? value : x);
        }
        return out;
    }

    // ================================================================ reductions

    private enum Reduce { SUM, MAX, ARGMAX }

    /** Sum of all elements, as a rank-0 array. */
    public static NDArray sum(NDArray a) {
        return sum(a, allDims(a.rank()), false);
    }

    public static NDArray sum(NDArray a, int dim, boolean keepdim) {
        return sum(a, new int[] {dim}, keepdim);
    }

    /** Sum over {@code dims}; with keepdim they stay as size 1, else they are removed. */
    public static NDArray sum(NDArray a, int[] dims, boolean keepdim) {
        return reduce(Reduce.SUM, a, dims, keepdim);
    }

    /** Mean of all elements (NaN for an empty array). */
    public static NDArray mean(NDArray a) {
        return mean(a, allDims(a.rank()), false);
    }

    public static NDArray mean(NDArray a, int dim, boolean keepdim) {
        return mean(a, new int[] {dim}, keepdim);
    }

    public static NDArray mean(NDArray a, int[] dims, boolean keepdim) {
        NDArray s = sum(a, dims, keepdim);
        int count = a.numel() / Math.max(1, s.numel());
        if (a.numel() == 0) count = reducedCount(a, dims);
        return binaryScalar(BinaryOp.DIV, s, count);
    }

    private static int reducedCount(NDArray a, int[] dims) {
        int c = 1;
        for (int d : normalizeDims("mean", a.shape(), dims)) c *= a.dim(d);
        return c;
    }

    /** Maximum over {@code dim} (NaN propagates); the dimension must not be empty. */
    public static NDArray max(NDArray a, int dim, boolean keepdim) {
        return reduce(Reduce.MAX, a, new int[] {dim}, keepdim);
    }

    /** Index (as a float value) of the first maximum over {@code dim}; NaN counts as the maximum. */
    public static NDArray argmax(NDArray a, int dim, boolean keepdim) {
        return reduce(Reduce.ARGMAX, a, new int[] {dim}, keepdim);
    }

    /** The maximum of all elements as a double (NaN if any is NaN). */
    public static double maxAll(NDArray a) {
        require32("maxAll", a);
        if (a.numel() == 0) throw new IllegalArgumentException("maxAll of an empty array " + a.shape());
        return reduce(Reduce.MAX, a, allDims(a.rank()), false).item();
    }

    /** Sums {@code g} over broadcast dimensions so that it has {@code target}'s shape (broadcast backward). */
    public static NDArray sumTo(NDArray g, Shape target) {
        require32("sumTo", g);
        if (g.shape().equals(target)) return g;
        if (!target.broadcastableTo(g.shape())) {
            throw new IllegalArgumentException("sumTo: shape " + target + " does not broadcast to " + g.shape());
        }
        int lead = g.rank() - target.rank();
        int[] dims = new int[g.rank()];
        int nd = 0;
        for (int i = 0; i < g.rank(); i++) {
            if (i < lead || (target.dim(i - lead) == 1 && g.dim(i) != 1)) dims[nd++] = i;
        }
        NDArray s = sum(g, Arrays.copyOf(dims, nd), true);
        return s.reshape(target.toArray());
    }

    private static int[] allDims(int rank) {
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) d[i] = i;
        return d;
    }

    private static int[] normalizeDims(String op, Shape s, int[] dims) {
        boolean[] seen = new boolean[s.rank()];
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            int a;
            try {
                a = s.axis(dims[i]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(op + ": " + e.getMessage(), e);
            }
            if (seen[a]) throw new IllegalArgumentException(op + ": dimension " + dims[i] + " repeated in " + Arrays.toString(dims));
            seen[a] = true;
            out[i] = a;
        }
        Arrays.sort(out);
        return out;
    }

    private static NDArray reduce(Reduce kind, NDArray a, int[] dims, boolean keepdim) {
        require32(kind.name().toLowerCase(), a);
        String op = kind.name().toLowerCase();
        int r = a.rank();
        int[] red = normalizeDims(op, a.shape(), dims);
        boolean[] isRed = new boolean[r];
        for (int d : red) isRed[d] = true;
        int[] order = new int[r];
        int[] keepDims = new int[r];
        int nKept = 0, o = 0;
        int[] keepShape = a.shape().toArray();
        for (int i = 0; i < r; i++) {
            if (!isRed[i]) {
                order[o++] = i;
                keepDims[nKept++] = a.dim(i);
            } else {
                keepShape[i] = 1;
            }
        }
        for (int d : red) order[o++] = d;
        Shape outShape = keepdim ? Shape.of(keepShape) : Shape.of(Arrays.copyOf(keepDims, nKept));
        int redN = 1;
        for (int d : red) redN *= a.dim(d);
        int outN = outShape.numel();
        if (kind != Reduce.SUM && redN == 0 && outN > 0) {
            throw new IllegalArgumentException(op + " over an empty dimension: shape " + a.shape() + ", dims " + Arrays.toString(dims));
        }
        NDArray out = NDArray.zeros(kind == Reduce.ARGMAX ? DType.F32 : a.dtype(), outShape);
        if (outN == 0) return out;
        if (kind == Reduce.SUM && a.isDenseHeapF32() && red.length > 0 && red[red.length - 1] - red[0] == red.length - 1) {
            // dense [outer, redN, inner]
            int outer = a.shape().numel(0, red[0]);
            int inner = a.shape().numel(red[red.length - 1] + 1, r);
            sumDense(a.floatArray(), a.offset(), outer, redN, inner, out.floatArray());
            return out;
        }
        NDArray p = a.permute(order);
        Storage ps = p.storage(), os = out.storage();
        ElementCursor c = new ElementCursor(p);
        for (int i = 0; i < outN; i++) {
            if (kind == Reduce.SUM) {
                double acc = 0;
                for (int j = 0; j < redN; j++) acc += ps.getDouble(c.next());
                os.setDouble(i, acc);
            } else {
                double best = Double.NEGATIVE_INFINITY;
                int arg = 0;
                for (int j = 0; j < redN; j++) {
                    double v = ps.getDouble(c.next());
                    if (Double.isNaN(best)) continue;
                    if (Double.isNaN(v) || v > best || j == 0) {
                        best = v;
                        arg = j;
                    }
                }
                os.setDouble(i, kind == Reduce.MAX ? best : arg);
            }
        }
        return out;
    }

    private static void sumDense(float[] x, int xo, int outer, int redN, int inner, float[] out) {
        Kernels k = Kernels.get();
        if (inner == 1) {
            Parallel.forRange(outer, Math.max(1, GRAIN / Math.max(1, redN)), (f, t) -> {
                for (int i = f; i < t; i++) out[i] = k.sum(x, xo + i * redN, redN);
            });
            return;
        }
        Parallel.forRange(outer, Math.max(1, GRAIN / Math.max(1, redN * inner)), (f, t) -> {
            for (int i = f; i < t; i++) {
                int base = xo + i * redN * inner;
                for (int j = 0; j < redN; j++) k.axpy(1f, x, base + j * inner, out, i * inner, inner);
            }
        });
    }

    // ================================================================ matmul

    /**
     * Matrix product with {@code torch.matmul} semantics: 1-D x 1-D is a dot product (rank 0);
     * a 1-D left operand is a row vector and a 1-D right operand a column vector (the added
     * dimension is removed afterwards); otherwise the last two dimensions are multiplied and the
     * leading (batch) dimensions broadcast. F32 goes to {@link Kernels#gemm}/{@code gemmBatch}
     * reading transposed views in place when their strides allow it.
     */
    public static NDArray matmul(NDArray a, NDArray b) {
        if (a.rank() == 0 || b.rank() == 0) {
            throw new IllegalArgumentException("matmul: both operands need at least one dimension, got shapes "
                    + a.shape() + " and " + b.shape());
        }
        if (b.dtype().is16Bit() && a.dtype() == DType.F32) return matmul16(a, b);
        if (b.dtype() == DType.QUANTIZED && a.dtype() == DType.F32) return matmulQ(a, b);
        DType dt = sameDType("matmul", a, b);
        if (a.rank() == 1 && b.rank() == 1) {
            if (a.dim(0) != b.dim(0)) {
                throw new IllegalArgumentException("matmul: vectors of shapes " + a.shape() + " and " + b.shape() + " differ in length");
            }
            NDArray out = NDArray.zeros(dt, Shape.scalar());
            if (a.isDenseHeapF32() && b.isDenseHeapF32()) {
                out.set(Kernels.get().dot(a.floatArray(), a.offset(), b.floatArray(), b.offset(), a.dim(0)));
            } else {
                ElementCursor ca = new ElementCursor(a), cb = new ElementCursor(b);
                double s = 0;
                for (int i = 0; i < a.dim(0); i++) s += a.storage().getDouble(ca.next()) * b.storage().getDouble(cb.next());
                out.set(s);
            }
            return out;
        }
        if (a.rank() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
        if (b.rank() == 1) return matmul(a, b.unsqueeze(-1)).squeeze(-1);
        int m = a.dim(-2), k = a.dim(-1), k2 = b.dim(-2), n = b.dim(-1);
        if (k != k2) {
            throw new IllegalArgumentException("matmul: shapes " + a.shape() + " and " + b.shape()
                    + " cannot be multiplied (" + k + " columns vs " + k2 + " rows)");
        }
        if (b.rank() == 2 && a.rank() > 2 && dt == DType.F32) {
            // a [..., m, k] times one matrix b: one GEMM over all rows of a (a linear layer on [B, T, C]),
            // not a batch of m-row GEMMs that each pack b again
            int[] dims = a.shape().toArray();
            dims[dims.length - 1] = n;
            return matmul(a.reshape(-1, k), b).reshape(dims);
        }
        Shape aBatch = Shape.of(Arrays.copyOf(a.shape().toArray(), a.rank() - 2));
        Shape bBatch = Shape.of(Arrays.copyOf(b.shape().toArray(), b.rank() - 2));
        Shape batch;
        try {
            batch = Shape.broadcast(aBatch, bBatch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: batch dimensions of shapes " + a.shape() + " and " + b.shape()
                    + " cannot be broadcast together", e);
        }
        int br = batch.rank();
        int[] outDims = Arrays.copyOf(batch.toArray(), br + 2);
        outDims[br] = m;
        outDims[br + 1] = n;
        NDArray out = NDArray.zeros(dt, Shape.of(outDims));
        if (out.numel() == 0 || k == 0) return out;
        if (dt == DType.F32) gemmPath(a, b, batch, m, n, k, out);
        else naiveMatmul(a, b, batch, m, n, k, out);
        return out;
    }

    /**
     * F32 a [..., m, k] (or [k]) times a 16-bit matrix b [k, n] (BF16 / F16, any strides, e.g. a
     * Linear weight's transposed view): {@link Kernels#gemm16}, which reads b in 16 bits and gives
     * the bits of the F32 product with b widened. The result is F32 [..., m, n] (or [n]).
     */
    private static NDArray matmul16(NDArray a, NDArray b) {
        if (b.rank() != 2) {
            throw new IllegalArgumentException("matmul: a " + b.dtype() + " right operand must be a matrix [k, n], got "
                    + b.shape() + " (with left operand " + a.shape() + ")");
        }
        if (a.rank() == 1) return matmul16(a.unsqueeze(0), b).squeeze(0);
        int k = a.dim(-1), n = b.dim(1);
        if (b.dim(0) != k) {
            throw new IllegalArgumentException("matmul: shapes " + a.shape() + " and " + b.shape()
                    + " cannot be multiplied (" + k + " columns vs " + b.dim(0) + " rows)");
        }
        int[] outDims = a.shape().toArray();
        outDims[outDims.length - 1] = n;
        NDArray out = NDArray.zeros(DType.F32, Shape.of(outDims));
        int m = out.numel() / Math.max(1, n);
        if (out.numel() == 0) return out;
        if (k == 0) return out;
        NDArray a2 = a.reshape(-1, k);                                         // [M, k], a view when a's layout allows
        GemmOperand ga = gemmOperand(a2);
        NDArray bx = b;
        int bRows = b.dim(0), bCols = b.dim(1), s0 = b.stride(0), s1 = b.stride(1);
        boolean bTrans;
        int ldb;
        if ((bCols <= 1 || s1 == 1) && (bRows <= 1 || s0 >= bCols)) {          // [k, n] row-major
            bTrans = false;
            ldb = bRows <= 1 ? Math.max(bCols, 1) : s0;
        } else if ((bRows <= 1 || s0 == 1) && (bCols <= 1 || s1 >= bRows)) {   // [n, k] row-major underneath (W of a Linear)
            bTrans = true;
            ldb = bCols <= 1 ? Math.max(bRows, 1) : s1;
        } else {
            bx = b.copy();                                                     // contiguous 16-bit copy
            bTrans = false;
            ldb = bCols;
        }
        Storage.Halfs hs = (Storage.Halfs) bx.storage();
        Kernels.get().gemm16(ga.trans, bTrans, m, n, k, 1f, ga.x.floatArray(), ga.x.offset(), ga.ld,
                hs.segment(), hs.dtype(), bx.offset(), ldb, 0f, out.floatArray(), 0, n);
        return out;
    }

    /**
     * F32 a [..., m, k] (or [k]) times b [k, n], the transposed view of quantized weights W [n, k]
     * (a Linear's {@code x W^T}): {@link Kernels#gemmQ}, which reads W in its blocks. Any other
     * view of quantized weights is dequantized first (correct, not fast).
     */
    private static NDArray matmulQ(NDArray a, NDArray b) {
        if (b.rank() != 2) {
            throw new IllegalArgumentException("matmul: a quantized right operand must be a matrix [k, n], got " + b.shape());
        }
        if (a.rank() == 1) return matmulQ(a.unsqueeze(0), b).squeeze(0);
        dev.attn4j.tensor.QuantizedMatrix w = ((Storage.Quantized) b.storage()).matrix();
        int k = a.dim(-1), n = b.dim(1);
        if (b.dim(0) != k) {
            throw new IllegalArgumentException("matmul: shapes " + a.shape() + " and " + b.shape()
                    + " cannot be multiplied (" + k + " columns vs " + b.dim(0) + " rows)");
        }
        boolean wholeTransposed = b.offset() == 0 && w.cols() == k && w.rows() == n && (k <= 1 || b.stride(0) == 1)
                && (n <= 1 || b.stride(1) == k);
        if (!wholeTransposed) return matmul(a, b.to(DType.F32));
        int[] outDims = a.shape().toArray();
        outDims[outDims.length - 1] = n;
        NDArray out = NDArray.zeros(DType.F32, Shape.of(outDims));
        if (out.numel() == 0 || k == 0) return out;
        NDArray a2 = a.reshape(-1, k);                                         // [M, k]
        if (!a2.isDenseHeapF32()) a2 = a2.contiguous();
        Kernels.get().gemmQ(a2.dim(0), a2.floatArray(), a2.offset(), k, w, out.floatArray(), 0, n);
        return out;
    }

    /** How one F32 operand is handed to gemm: its heap array view, transposed or not, and ld. */
    private record GemmOperand(NDArray x, boolean trans, int ld) {
    }

    private static GemmOperand gemmOperand(NDArray x) {
        if (!(x.storage() instanceof Storage.Floats)) x = x.contiguous();
        GemmOperand g = gemmLayout(x);
        return g != null ? g : gemmLayout(x.contiguous());
    }

    private static GemmOperand gemmLayout(NDArray x) {
        int rows = x.dim(-2), cols = x.dim(-1), s2 = x.stride(-2), s1 = x.stride(-1);
        if ((cols <= 1 || s1 == 1) && (rows <= 1 || s2 >= cols)) {
            return new GemmOperand(x, false, rows <= 1 ? Math.max(cols, 1) : s2);
        }
        if ((rows <= 1 || s2 == 1) && (cols <= 1 || s1 >= rows)) {
            return new GemmOperand(x, true, cols <= 1 ? Math.max(rows, 1) : s1);
        }
        return null;
    }

    /** Storage offsets of each matrix in the batch of {@code x} expanded to {@code batch}. */
    private static int[] batchOffsets(NDArray x, Shape batch) {
        int br = batch.rank();
        int[] target = Arrays.copyOf(batch.toArray(), br + 2);
        target[br] = 1;
        target[br + 1] = 1;
        NDArray first = x.narrow(-1, 0, 1).narrow(-2, 0, 1).expand(target); // [*batch, 1, 1]
        int[] offs = new int[batch.numel()];
        ElementCursor c = new ElementCursor(first);
        for (int i = 0; i < offs.length; i++) offs[i] = c.next();
        return offs;
    }

    private static int commonStep(int[] offs) {
        if (offs.length <= 1) return 0;
        int step = offs[1] - offs[0];
        for (int i = 2; i < offs.length; i++) if (offs[i] - offs[i - 1] != step) return Integer.MIN_VALUE;
        return step;
    }

    private static void gemmPath(NDArray a, NDArray b, Shape batch, int m, int n, int k, NDArray out) {
        GemmOperand ga = gemmOperand(a), gb = gemmOperand(b);
        int[] aOffs = batchOffsets(ga.x, batch), bOffs = batchOffsets(gb.x, batch);
        float[] aa = ga.x.floatArray(), ba = gb.x.floatArray(), c = out.floatArray();
        int sa = commonStep(aOffs), sb = commonStep(bOffs);
        Kernels kern = Kernels.get();
        if (sa != Integer.MIN_VALUE && sb != Integer.MIN_VALUE) {
            kern.gemmBatch(aOffs.length, ga.trans, gb.trans, m, n, k, 1f, aa, aOffs[0], sa, ga.ld,
                    ba, bOffs[0], sb, gb.ld, 0f, c, 0, m * n, n);
            return;
        }
        for (int i = 0; i < aOffs.length; i++) {
            kern.gemm(ga.trans, gb.trans, m, n, k, 1f, aa, aOffs[i], ga.ld, ba, bOffs[i], gb.ld, 0f, c, i * m * n, n);
        }
    }

    private static void naiveMatmul(NDArray a, NDArray b, Shape batch, int m, int n, int k, NDArray out) {
        int[] aOffs = batchOffsets(a, batch), bOffs = batchOffsets(b, batch);
        int am = a.stride(-2), ak = a.stride(-1), bk = b.stride(-2), bn = b.stride(-1);
        Storage as = a.storage(), bs = b.storage(), os = out.storage();
        for (int t = 0; t < aOffs.length; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += as.getDouble(aOffs[t] + i * am + p * ak) * bs.getDouble(bOffs[t] + p * bk + j * bn);
                    }
                    os.setDouble((long) t * m * n + (long) i * n + j, s);
                }
            }
        }
    }

    // ================================================================ softmax

    /**
     * Softmax over {@code dim}, computed stably (max subtracted). Large inputs (1e4) are fine; a
     * line whose entries are all -Infinity gives NaN, as in PyTorch.
     */
    public static NDArray softmax(NDArray x, int dim) {
        return softmaxImpl(x, dim, false);
    }

    /** Log-softmax over {@code dim}, computed stably; an all -Infinity line gives NaN. */
    public static NDArray logSoftmax(NDArray x, int dim) {
        return softmaxImpl(x, dim, true);
    }

    private static NDArray softmaxImpl(NDArray x, int dim, boolean log) {
        require32(log ? "logSoftmax" : "softmax", x);
        if (x.rank() == 0) {
            if (dim != 0 && dim != -1) {
                throw new IllegalArgumentException("softmax: dimension " + dim + " out of range for a rank-0 array");
            }
            return softmaxImpl(x.reshape(1), 0, log).reshape();
        }
        int d = x.shape().axis(dim);
        NDArray out = NDArray.zeros(x.dtype(), x.shape());
        int total = x.numel();
        if (total == 0) return out;
        int n = x.dim(d);
        int lines = total / n;
        if (x.isDenseHeapF32() && d == x.rank() - 1) {
            float[] xa = x.floatArray(), oa = out.floatArray();
            int xo = x.offset();
            Kernels k = Kernels.get();
            Parallel.forRange(lines, Math.max(1, GRAIN / n), (f, t) -> {
                for (int r = f; r < t; r++) {
                    if (log) k.logSoftmax(xa, xo + r * n, oa, r * n, n);
                    else k.softmax(xa, xo + r * n, oa, r * n, n);
                }
            });
            return out;
        }
        ElementCursor ci = new ElementCursor(x.select(d, 0)), co = new ElementCursor(out.select(d, 0));
        int sx = x.stride(d), so = out.stride(d);
        Storage xs = x.storage(), os = out.storage();
        double[] buf = new double[n];
        for (int l = 0; l < lines; l++) {
            int ib = ci.next(), ob = co.next();
            double mx = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                buf[j] = xs.getDouble(ib + (long) j * sx);
                mx = Double.isNaN(buf[j]) || buf[j] > mx ? buf[j] : mx;
            }
            double s = 0;
            for (int j = 0; j < n; j++) s += Math.exp(buf[j] - mx);
            if (log) {
                double lse = mx + Math.log(s);
                for (int j = 0; j < n; j++) os.setDouble(ob + (long) j * so, buf[j] - lse);
            } else {
                for (int j = 0; j < n; j++) os.setDouble(ob + (long) j * so, Math.exp(buf[j] - mx) / s);
            }
        }
        return out;
    }

    // ================================================================ normalization

    /**
     * Result of a normalization: the output, and per-row statistics with shape
     * {@code x.shape[:-k] + [1]*k} (so they broadcast against x). {@code mean} is null for RMSNorm.
     */
    public record NormResult(NDArray out, NDArray mean, NDArray rstd) {
    }

    private static int checkNormalized(String op, NDArray x, int[] normalizedShape, NDArray weight, NDArray bias) {
        int k = normalizedShape.length;
        int r = x.rank();
        boolean ok = k >= 1 && k <= r;
        for (int i = 0; ok && i < k; i++) ok = x.dim(r - k + i) == normalizedShape[i];
        if (!ok) {
            throw new IllegalArgumentException(op + ": normalized shape " + Arrays.toString(normalizedShape)
                    + " does not match the trailing dimensions of input shape " + x.shape());
        }
        if (weight != null && !weight.shape().equals(normalizedShape)) {
            throw new IllegalArgumentException(op + ": weight shape " + weight.shape() + " should be "
                    + Arrays.toString(normalizedShape));
        }
        if (bias != null && !bias.shape().equals(normalizedShape)) {
            throw new IllegalArgumentException(op + ": bias shape " + bias.shape() + " should be "
                    + Arrays.toString(normalizedShape));
        }
        if (weight != null) sameDType(op + " (weight)", x, weight);
        if (bias != null) sameDType(op + " (bias)", x, bias);
        return k;
    }

    private static Shape statsShape(NDArray x, int k) {
        int[] s = x.shape().toArray();
        for (int i = s.length - k; i < s.length; i++) s[i] = 1;
        return Shape.of(s);
    }

    /**
     * Layer normalization over the trailing dimensions {@code normalizedShape}:
     * {@code (x - mean) / sqrt(var + eps) * weight + bias} with the biased variance; weight and
     * bias may be null. Statistics are accumulated in double.
     */
    public static NormResult layerNorm(NDArray x, int[] normalizedShape, NDArray weight, NDArray bias, double eps) {
        return norm("layerNorm", x, normalizedShape, weight, bias, eps, false);
    }

    /** RMS normalization: {@code x / sqrt(mean(x^2) + eps) * weight}; weight may be null. */
    public static NormResult rmsNorm(NDArray x, int[] normalizedShape, NDArray weight, double eps) {
        return norm("rmsNorm", x, normalizedShape, weight, null, eps, true);
    }

    private static NormResult norm(String op, NDArray x, int[] normalizedShape, NDArray weight, NDArray bias,
                                   double eps, boolean rms) {
        require32(op, x);
        if (weight != null) require32(op, weight);
        if (bias != null) require32(op, bias);
        int k = checkNormalized(op, x, normalizedShape, weight, bias);
        NDArray xc = x.contiguous();
        NDArray w = weight == null ? null : weight.contiguous();
        NDArray b = bias == null ? null : bias.contiguous();
        int r = x.rank();
        int rows = x.shape().numel(0, r - k), len = x.shape().numel(r - k, r);
        Shape ss = statsShape(x, k);
        NDArray out = NDArray.zeros(x.dtype(), x.shape());
        NDArray mean = rms ? null : NDArray.zeros(x.dtype(), ss);
        NDArray rstd = NDArray.zeros(x.dtype(), ss);
        if (x.dtype() == DType.F32) {
            float[] xa = xc.floatArray(), oa = out.floatArray(), ra = rstd.floatArray();
            float[] ma = rms ? null : mean.floatArray();
            float[] wa = w == null ? null : w.floatArray(), ba = b == null ? null : b.floatArray();
            int xo = xc.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
            Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, len)), (f, t) -> {
                for (int i = f; i < t; i++) {
                    int base = xo + i * len;
                    double mu = 0;
                    if (!rms) {
                        for (int j = 0; j < len; j++) mu += xa[base + j];
                        mu /= len;
                    }
                    double v = 0;
                    for (int j = 0; j < len; j++) {
                        double dx = xa[base + j] - mu;
                        v += dx * dx;
                    }
                    double rs = 1.0 / Math.sqrt(v / len + eps);
                    for (int j = 0; j < len; j++) {
                        double y = (xa[base + j] - mu) * rs;
                        if (wa != null) y *= wa[wo + j];
                        if (ba != null) y += ba[bo + j];
                        oa[i * len + j] = (float) y;
                    }
                    if (ma != null) ma[i] = (float) mu;
                    ra[i] = (float) rs;
                }
            });
        } else {
            double[] xa = xc.doubleArray(), oa = out.doubleArray(), ra = rstd.doubleArray();
            double[] ma = rms ? null : mean.doubleArray();
            double[] wa = w == null ? null : w.doubleArray(), ba = b == null ? null : b.doubleArray();
            int xo = xc.offset(), wo = w == null ? 0 : w.offset(), bo = b == null ? 0 : b.offset();
            for (int i = 0; i < rows; i++) {
                int base = xo + i * len;
                double mu = 0;
                if (!rms) {
                    for (int j = 0; j < len; j++) mu += xa[base + j];
                    mu /= len;
                }
                double v = 0;
                for (int j = 0; j < len; j++) {
                    double dx = xa[base + j] - mu;
                    v += dx * dx;
                }
                double rs = 1.0 / Math.sqrt(v / len + eps);
                for (int j = 0; j < len; j++) {
                    double y = (xa[base + j] - mu) * rs;
                    if (wa != null) y *= wa[wo + j];
                    if (ba != null) y += ba[bo + j];
                    oa[i * len + j] = y;
                }
                if (ma != null) ma[i] = mu;
                ra[i] = rs;
            }
        }
        return new NormResult(out, mean, rstd);
    }

    /** Gradients of a normalization: input, weight (null if none) and bias (null if none). */
    public record NormGrads(NDArray dx, NDArray dweight, NDArray dbias) {
    }

    /**
     * Backward of {@link #layerNorm} given the output gradient {@code g} and the saved mean and
     * rstd, in one pass per row (statistics in double); {@code withBias} asks for the bias gradient.
     */
    public static NormGrads layerNormBackward(NDArray x, NDArray g, NDArray mean, NDArray rstd, NDArray weight,
                                              int[] normalizedShape, boolean withBias) {
        return normBackward(x, g, mean, rstd, weight, normalizedShape, withBias, false);
    }

    /** Backward of {@link #rmsNorm} given the output gradient and the saved rstd. */
    public static NormGrads rmsNormBackward(NDArray x, NDArray g, NDArray rstd, NDArray weight, int[] normalizedShape) {
        return normBackward(x, g, null, rstd, weight, normalizedShape, false, true);
    }

    private static NormGrads normBackward(NDArray x, NDArray g, NDArray mean, NDArray rstd, NDArray weight,
                                          int[] normalizedShape, boolean withBias, boolean rms) {
        String op = rms ? "rmsNormBackward" : "layerNormBackward";
        int k = checkNormalized(op, x, normalizedShape, weight, null);
        if (!g.shape().equals(x.shape())) {
            throw new IllegalArgumentException(op + ": gradient shape " + g.shape() + " differs from input " + x.shape());
        }
        sameDType(op, x, g);
        int r = x.rank();
        int rows = x.shape().numel(0, r - k), len = x.shape().numel(r - k, r);
        NDArray xc = x.contiguous(), gc = g.contiguous();                       // [rows, len]
        NDArray mc = mean == null ? null : mean.contiguous(), rc = rstd.contiguous(); // [rows]
        if (xc.isDenseHeapF32() && gc.isDenseHeapF32() && (mc == null || mc.isDenseHeapF32()) && rc.isDenseHeapF32()
                && (weight == null || weight.dtype() == DType.F32)) {
            return normBackwardF32(xc, gc, mc, rc, weight, normalizedShape, withBias, rms, rows, len);
        }
        double[] w = weight == null ? null : weight.toDoubleArray();            // [len]
        NDArray dx = NDArray.zeros(x.dtype(), x.shape());
        double[] dw = weight == null ? null : new double[len], db = withBias ? new double[len] : null;
        Object lock = new Object();
        Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, len)), (f, t) -> {
            double[] xr = new double[len], gr = new double[len], out = new double[len];
            double[] pw = dw == null ? null : new double[len], pb = db == null ? null : new double[len];
            for (int i = f; i < t; i++) {
                readRow(xc, i * len, xr, len);
                readRow(gc, i * len, gr, len);
                double mu = mc == null ? 0 : mc.storage().getDouble(mc.offset() + i);
                double rs = rc.storage().getDouble(rc.offset() + i);
                double m1 = 0, m2 = 0;
                for (int j = 0; j < len; j++) {
                    double xhat = (xr[j] - mu) * rs;
                    double gy = w == null ? gr[j] : gr[j] * w[j];
                    m1 += gy;
                    m2 += gy * xhat;
                    if (pw != null) pw[j] += gr[j] * xhat;
                    if (pb != null) pb[j] += gr[j];
                }
                m1 = rms ? 0 : m1 / len;
                m2 /= len;
                for (int j = 0; j < len; j++) {
                    double xhat = (xr[j] - mu) * rs;
                    double gy = w == null ? gr[j] : gr[j] * w[j];
                    out[j] = rs * (gy - m1 - xhat * m2);
                }
                writeRow(dx, i * len, out, len);
            }
            synchronized (lock) {
                for (int j = 0; pw != null && j < len; j++) dw[j] += pw[j];
                for (int j = 0; pb != null && j < len; j++) db[j] += pb[j];
            }
        });
        Shape ns = Shape.of(normalizedShape);
        return new NormGrads(dx, dw == null ? null : fromDoubles(dw, x.dtype(), ns), db == null ? null : fromDoubles(db, x.dtype(), ns));
    }

    /**
     * {@link #normBackward} for dense F32 arrays: one {@link Kernels#normBackwardRow} per row (SIMD),
     * the weight and bias gradients summed in F32 within a piece of rows and in double across pieces.
     */
    private static NormGrads normBackwardF32(NDArray xc, NDArray gc, NDArray mc, NDArray rc, NDArray weight,
                                             int[] normalizedShape, boolean withBias, boolean rms, int rows, int len) {
        NDArray wc = weight == null ? null : weight.isDenseHeapF32() ? weight : weight.contiguous(); // [len]
        float[] xa = xc.floatArray(), ga = gc.floatArray(), ra = rc.floatArray(), ma = mc == null ? null : mc.floatArray();
        float[] wa = wc == null ? null : wc.floatArray();
        int xo = xc.offset(), go = gc.offset(), ro = rc.offset(), mo = mc == null ? 0 : mc.offset(), wo = wc == null ? 0 : wc.offset();
        NDArray dx = NDArray.zeros(DType.F32, xc.shape());                      // [rows, len] as x's shape
        float[] da = dx.floatArray();
        double[] dw = weight == null ? null : new double[len], db = withBias ? new double[len] : null;
        Object lock = new Object();
        Kernels kern = Kernels.get();
        Parallel.forRange(rows, Math.max(1, GRAIN / Math.max(1, len)), (f, t) -> {
            float[] pw = dw == null ? null : new float[len], pb = db == null ? null : new float[len];
            for (int i = f; i < t; i++) {
                kern.normBackwardRow(xa, xo + i * len, ga, go + i * len, ma == null ? 0f : ma[mo + i], ra[ro + i], wa, wo, rms,
                        da, i * len, pw, pb, len);
            }
            synchronized (lock) {
                for (int j = 0; pw != null && j < len; j++) dw[j] += pw[j];
                for (int j = 0; pb != null && j < len; j++) db[j] += pb[j];
            }
        });
        Shape ns = Shape.of(normalizedShape);
        return new NormGrads(dx, dw == null ? null : fromDoubles(dw, DType.F32, ns), db == null ? null : fromDoubles(db, DType.F32, ns));
    }

    private static void readRow(NDArray a, int start, double[] buf, int len) {
        if (a.storage() instanceof Storage.Floats fl) {
            float[] arr = fl.array();
            int o = a.offset() + start;
            for (int j = 0; j < len; j++) buf[j] = arr[o + j];
        } else {
            System.arraycopy(a.doubleArray(), a.offset() + start, buf, 0, len);
        }
    }

    private static void writeRow(NDArray a, int start, double[] buf, int len) {
        if (a.storage() instanceof Storage.Floats fl) {
            float[] arr = fl.array();
            int o = a.offset() + start;
            for (int j = 0; j < len; j++) arr[o + j] = (float) buf[j];
        } else {
            System.arraycopy(buf, 0, a.doubleArray(), a.offset() + start, len);
        }
    }

    private static NDArray fromDoubles(double[] v, DType dt, Shape s) {
        NDArray d = NDArray.of(v, s.toArray());
        return dt == DType.F64 ? d : d.to(dt);
    }

    // ================================================================ gather / scatter

    /** The integer held by an index array element, or an exception naming the op, position and bound. */
    private static int indexValue(String op, double v, int position, NDArray indices, int bound) {
        if (!(v >= 0 && v < bound) || v != Math.rint(v)) {
            throw new IllegalArgumentException(op + ": index value " + v + " at flat position " + position
                    + " of indices " + indices.shape() + " is not an integer in [0, " + bound + ")");
        }
        return (int) v;
    }

    /**
     * Rows of {@code weight} [V, D] picked by {@code indices} (integer values, any dtype): [*indices, D].
     * A BF16 / F16 table gives F32 rows (only the rows read are widened).
     */
    public static NDArray embedding(NDArray weight, NDArray indices) {
        if (weight.rank() != 2) {
            throw new IllegalArgumentException("embedding: weight must be [numEmbeddings, dim], got shape " + weight.shape());
        }
        int v = weight.dim(0), d = weight.dim(1);
        int[] os = Arrays.copyOf(indices.shape().toArray(), indices.rank() + 1);
        os[indices.rank()] = d;
        // a 16-bit table (frozen) gives F32 rows: only the looked-up rows are widened
        NDArray out = NDArray.zeros(weight.dtype().isStorageType() ? DType.F32 : weight.dtype(), Shape.of(os));
        NDArray flat = out.reshape(indices.numel(), d);
        double[] idx = indices.toDoubleArray();
        for (int i = 0; i < idx.length; i++) {
            flat.select(0, i).copyFrom(weight.select(0, indexValue("embedding", idx[i], i, indices, v)));
        }
        return out;
    }

    /**
     * Gradient of {@link #embedding} with respect to the weight: rows of {@code grad} [*indices, D]
     * summed into a new [numEmbeddings, D] array; rows whose index equals {@code paddingIdx} are skipped.
     */
    public static NDArray embeddingBackward(NDArray grad, NDArray indices, int numEmbeddings, Integer paddingIdx) {
        NDArray gw = NDArray.zeros(grad.dtype(), Shape.of(numEmbeddings, grad.dim(-1)));
        embeddingBackwardInto(gw, grad, indices, paddingIdx);
        return gw;
    }

    /**
     * Adds the rows of {@code grad} [*indices, D] into the rows of {@code gw} [numEmbeddings, D]
     * that {@code indices} name (a leaf's existing gradient, or a fresh zero array), skipping
     * {@code paddingIdx}; what {@link #embeddingBackward} returns, accumulated in place.
     */
    public static void embeddingBackwardInto(NDArray gw, NDArray grad, NDArray indices, Integer paddingIdx) {
        int d = grad.dim(-1), numEmbeddings = gw.dim(0);
        if (gw.rank() != 2 || gw.dim(1) != d) {
            throw new IllegalArgumentException("embeddingBackwardInto: gradient " + gw.shape() + " does not fit rows of " + d);
        }
        sameDType("embeddingBackward", gw, grad);
        NDArray g2 = grad.reshape(indices.numel(), d);
        double[] idx = indices.toDoubleArray();
        if (gw.isDenseHeapF32() && g2.isDenseHeapF32()) {
            float[] wa = gw.floatArray(), ga = g2.floatArray();
            int wo = gw.offset(), go = g2.offset();
            Kernels k = Kernels.get();
            for (int i = 0; i < idx.length; i++) {
                int row = indexValue("embeddingBackward", idx[i], i, indices, numEmbeddings);
                if (paddingIdx != null && row == paddingIdx) continue;
                k.axpy(1f, ga, go + i * d, wa, wo + row * d, d);
            }
            return;
        }
        for (int i = 0; i < idx.length; i++) {
            int row = indexValue("embeddingBackward", idx[i], i, indices, numEmbeddings);
            if (paddingIdx != null && row == paddingIdx) continue;
            addInto(gw.select(0, row), g2.select(0, i));
        }
    }

    /**
     * A zero array of {@code shape} holding {@code src} at the positions {@code index} names
     * along {@code dim}; src and index have {@code shape} with {@code dim} of size 1 (the backward
     * of a max over dim with keepdim).
     */
    public static NDArray scatterAlong(Shape shape, int dim, NDArray index, NDArray src) {
        require32("scatterAlong", src);
        int d = shape.axis(dim);
        Shape ks = shape.with(d, 1);
        if (!index.shape().equals(ks) || !src.shape().equals(ks)) {
            throw new IllegalArgumentException("scatterAlong: index " + index.shape() + " and src " + src.shape()
                    + " must both be " + ks + " for shape " + shape + ", dim " + dim);
        }
        NDArray out = NDArray.zeros(src.dtype(), shape);
        if (out.numel() == 0) return out;
        int n = shape.dim(d);
        ElementCursor co = new ElementCursor(out.select(d, 0)), ci = new ElementCursor(index), cs = new ElementCursor(src);
        int so = out.stride(d);
        for (int l = 0, lines = ks.numel(); l < lines; l++) {
            int base = co.next();
            int at = indexValue("scatterAlong", index.storage().getDouble(ci.next()), l, index, n);
            out.storage().setDouble(base + (long) at * so, src.storage().getDouble(cs.next()));
        }
        return out;
    }

    // ================================================================ concat / split / copy

    /** Joins arrays along {@code dim}; all must share dtype and every other dimension. */
    public static NDArray concat(List<NDArray> xs, int dim) {
        for (NDArray x : xs) require32("concat", x);
        if (xs.isEmpty()) throw new IllegalArgumentException("concat: no arrays given");
        NDArray first = xs.get(0);
        if (first.rank() == 0) throw new IllegalArgumentException("concat: cannot concatenate rank-0 arrays");
        int d = first.shape().axis(dim);
        int total = 0;
        for (int i = 0; i < xs.size(); i++) {
            NDArray x = xs.get(i);
            sameDType("concat (array " + i + ")", first, x);
            boolean ok = x.rank() == first.rank();
            for (int j = 0; ok && j < x.rank(); j++) ok = j == d || x.dim(j) == first.dim(j);
            if (!ok) {
                throw new IllegalArgumentException("concat along dim " + dim + ": array " + i + " has shape " + x.shape()
                        + ", incompatible with array 0 of shape " + first.shape());
            }
            total += x.dim(d);
        }
        NDArray out = NDArray.zeros(first.dtype(), first.shape().with(d, total));
        int off = 0;
        for (NDArray x : xs) {
            out.narrow(d, off, x.dim(d)).copyFrom(x);
            off += x.dim(d);
        }
        return out;
    }

    /** Views of consecutive pieces of {@code splitSize} along {@code dim} (the last may be shorter), as torch.split. */
    public static List<NDArray> split(NDArray x, int splitSize, int dim) {
        if (splitSize <= 0) throw new IllegalArgumentException("split: size must be positive, got " + splitSize);
        int d = x.shape().axis(dim);
        int n = x.dim(d);
        List<NDArray> out = new ArrayList<>();
        for (int s = 0; s < n; s += splitSize) out.add(x.narrow(d, s, Math.min(splitSize, n - s)));
        if (n == 0) out.add(x);
        return out;
    }

    /** As torch.chunk: pieces of ceil(n / chunks) along {@code dim} (possibly fewer than chunks). */
    public static List<NDArray> chunk(NDArray x, int chunks, int dim) {
        if (chunks <= 0) throw new IllegalArgumentException("chunk: number of chunks must be positive, got " + chunks);
        int n = x.dim(dim);
        return split(x, Math.max(1, (n + chunks - 1) / chunks), dim);
    }

    /** {@code x} itself if contiguous on the heap, else a contiguous copy. */
    public static NDArray contiguous(NDArray x) {
        return x.contiguous();
    }

    /** A new contiguous copy. */
    public static NDArray copy(NDArray x) {
        return x.copy();
    }
}
