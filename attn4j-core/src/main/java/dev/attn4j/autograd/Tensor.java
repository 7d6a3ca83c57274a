package dev.attn4j.autograd;

import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.kernels.BinaryOp;
import dev.attn4j.kernels.UnaryOp;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

/**
 * A differentiable tensor: an {@link NDArray} plus, when it was computed from tensors that
 * require grad (and grad mode is on), the recorded operation that produced it. Operations never
 * modify their inputs. {@link #backward()} runs reverse-mode differentiation and accumulates
 * gradients into the leaves that require grad; gradients of intermediate tensors are not kept.
 * Broadcasting follows NumPy/PyTorch; F32 and F64 operands cannot be mixed.
 */
public final class Tensor {
    private NDArray data;
    private boolean requiresGrad;
    /** The operation that produced this tensor; null for leaves. */
    final Node gradFn;
    private NDArray grad;

    Tensor(NDArray data, Node gradFn) {
        if (data == null) throw new IllegalArgumentException("tensor data is null");
        this.data = data;
        this.gradFn = gradFn;
        this.requiresGrad = gradFn != null;
    }

    // ================================================================ creation

    /** A constant (requiresGrad false) over {@code data} (not copied). */
    public static Tensor of(NDArray data) {
        return new Tensor(data, null);
    }

    /** A leaf that requires grad, over {@code data} (not copied): a trainable parameter. */
    public static Tensor param(NDArray data) {
        Tensor t = new Tensor(data, null);
        requireTrainable(t, true);
        t.requiresGrad = true;
        return t;
    }

    /** A constant F32 tensor wrapping {@code data} (not copied). */
    public static Tensor of(float[] data, int... shape) {
        return of(NDArray.of(data, shape));
    }

    public static Tensor zeros(int... shape) {
        return of(NDArray.zeros(shape));
    }

    public static Tensor ones(int... shape) {
        return of(NDArray.ones(shape));
    }

    /** A rank-0 F32 constant. */
    public static Tensor scalar(double v) {
        return of(NDArray.scalar(v));
    }

    /** An F32 constant filled with {@code v}. */
    public static Tensor full(Shape s, double v) {
        return of(NDArray.full(s, v));
    }

    // ================================================================ accessors

    /** The values (shared, not copied). */
    public NDArray data() { return data; }

    /** The shape of the values. */
    public Shape shape() { return data.shape(); }

    /** Size of dimension d (negative counts from the end). */
    public int dim(int d) { return data.dim(d); }

    public int rank() { return data.rank(); }

    public int numel() { return data.numel(); }

    /** The value of a one-element tensor. */
    public double item() { return data.item(); }

    public DType dtype() { return data.dtype(); }

    /** Whether gradients are computed for this tensor (leaves) or flow through it (computed tensors). */
    public boolean requiresGrad() { return requiresGrad; }

    /** Sets whether a leaf requires grad; returns this. Computed tensors cannot be changed. */
    public Tensor requiresGrad(boolean b) {
        if (!isLeaf()) {
            throw new IllegalStateException("requiresGrad(" + b + ") on a non-leaf tensor (output of '" + gradFn.op
                    + "'); use detach() to get a leaf");
        }
        requireTrainable(this, b);
        requiresGrad = b;
        return this;
    }

    /** Gradients are F32 or F64: a 16-bit (frozen weight) tensor cannot require one. */
    private static void requireTrainable(Tensor t, boolean wantsGrad) {
        requireTrainable(t.dtype(), wantsGrad, t.shape());
    }

    private static void requireTrainable(DType dtype, boolean wantsGrad, Shape shape) {
        if (wantsGrad && dtype.isStorageType()) {
            throw new IllegalArgumentException("requiresGrad(true) on a " + dtype + " tensor " + shape
                    + ": 16-bit tensors are frozen weights and get no gradient; train an F32 copy (data().to(DType.F32))");
        }
    }

    /**
     * Replaces the values of a leaf, as torch's {@code t.data = x}: same shape, any dtype (e.g. a
     * frozen weight rounded to BF16 in place, where modules hold this tensor); the gradient is
     * cleared. A 16-bit {@code x} needs {@code requiresGrad} false. Graphs recorded earlier keep
     * the old values. Returns this.
     */
    public Tensor setData(NDArray x) {
        if (!isLeaf()) {
            throw new IllegalStateException("setData on a non-leaf tensor (output of '" + gradFn.op + "'); use detach() to get a leaf");
        }
        if (x == null || !x.shape().equals(data.shape())) {
            throw new IllegalArgumentException("setData: new values " + (x == null ? "null" : x.shape().toString())
                    + " do not have this tensor's shape " + data.shape());
        }
        requireTrainable(x.dtype(), requiresGrad, x.shape());
        data = x;
        grad = null;
        return this;
    }

    /** True when this tensor was not produced by a recorded operation. */
    public boolean isLeaf() { return gradFn == null; }

    /** Name of the operation that produced this tensor, or null for a leaf. */
    public String gradFnName() { return gradFn == null ? null : gradFn.op; }

    /** The accumulated gradient (same shape and dtype); null until a backward pass reaches this leaf. */
    public NDArray grad() { return grad; }

    /** Replaces the gradient (null clears it); it must have this tensor's shape and dtype. */
    public void setGrad(NDArray g) {
        if (g != null && (!g.shape().equals(shape()) || g.dtype() != dtype())) {
            throw new IllegalArgumentException("setGrad: gradient " + g.dtype() + " " + g.shape() + " does not match tensor "
                    + dtype() + " " + shape());
        }
        grad = g;
    }

    /** Clears the gradient (sets it to null, like PyTorch's zero_grad(set_to_none=True)). */
    public void zeroGrad() { grad = null; }

    void accumulateGrad(NDArray g) {
        if (grad == null) grad = g.copy();
        else ArrayOps.addInto(grad, g);
    }

    /**
     * For backward rules that accumulate into this leaf's gradient themselves (a GEMM with beta 1,
     * a scatter-add): the gradient when it is a dense heap F32 array they may add into in place,
     * else null (none yet, or another layout: the rule then makes a fresh one and calls
     * {@link #accumulateOwnedGrad}).
     */
    NDArray denseGradF32() {
        return grad != null && grad.isDenseHeapF32() ? grad : null;
    }

    /**
     * Accumulates {@code g}, an array the caller made for this and shares with nothing: kept as
     * the gradient when there is none yet (no copy), else added in place.
     */
    void accumulateOwnedGrad(NDArray g) {
        if (grad == null) grad = g;
        else ArrayOps.addInto(grad, g);
    }

    /** Backward from a one-element output with seed 1. */
    public void backward() {
        if (numel() != 1) {
            throw new IllegalStateException("backward() needs a one-element output, shape is " + shape()
                    + "; pass a gradient with backward(NDArray)");
        }
        Backward.run(this, NDArray.full(dtype(), shape(), 1));
    }

    /**
     * With {@code -Dattn4j.autograd.profile=true}: wall time of the backward rules per op name,
     * {nanoseconds, calls}, since the last call (which resets them); empty otherwise.
     */
    public static java.util.Map<String, long[]> backwardProfile() {
        return Backward.profile();
    }

    /** Backward with the gradient of some scalar with respect to this tensor. */
    public void backward(NDArray gradOutput) {
        Backward.run(this, gradOutput);
    }

    /** A constant leaf sharing this tensor's data. */
    public Tensor detach() {
        return of(data);
    }

    /** Applies a user-defined differentiable operation to {@code inputs}. */
    public static Tensor apply(String name, CustomOp op, Tensor... inputs) {
        return Ops.custom(name, op, inputs);
    }

    // ================================================================ elementwise

    public Tensor add(Tensor o) { return Ops.binary(BinaryOp.ADD, this, o); }

    public Tensor sub(Tensor o) { return Ops.binary(BinaryOp.SUB, this, o); }

    public Tensor mul(Tensor o) { return Ops.binary(BinaryOp.MUL, this, o); }

    public Tensor div(Tensor o) { return Ops.binary(BinaryOp.DIV, this, o); }

    /** this ^ o elementwise. */
    public Tensor pow(Tensor o) { return Ops.binary(BinaryOp.POW, this, o); }

    /** Elementwise maximum; on ties the gradient is split equally. */
    public Tensor maximum(Tensor o) { return Ops.binary(BinaryOp.MAX, this, o); }

    /** Elementwise minimum; on ties the gradient is split equally. */
    public Tensor minimum(Tensor o) { return Ops.binary(BinaryOp.MIN, this, o); }

    public Tensor add(double s) { return Ops.scalarRight(BinaryOp.ADD, this, s); }

    public Tensor sub(double s) { return Ops.scalarRight(BinaryOp.SUB, this, s); }

    public Tensor mul(double s) { return Ops.scalarRight(BinaryOp.MUL, this, s); }

    public Tensor div(double s) { return Ops.scalarRight(BinaryOp.DIV, this, s); }

    public Tensor pow(double s) { return Ops.scalarRight(BinaryOp.POW, this, s); }

    /** {@code s - this}. */
    public Tensor rsub(double s) { return Ops.scalarLeft(BinaryOp.SUB, s, this); }

    /** {@code s / this}. */
    public Tensor rdiv(double s) { return Ops.scalarLeft(BinaryOp.DIV, s, this); }

    public Tensor neg() { return Ops.unary(UnaryOp.NEG, this); }

    public Tensor exp() { return Ops.unary(UnaryOp.EXP, this); }

    public Tensor log() { return Ops.unary(UnaryOp.LOG, this); }

    public Tensor tanh() { return Ops.unary(UnaryOp.TANH, this); }

    public Tensor sqrt() { return Ops.unary(UnaryOp.SQRT, this); }

    /** 1 / sqrt(this). */
    public Tensor rsqrt() { return pow(-0.5); }

    public Tensor reciprocal() { return Ops.unary(UnaryOp.RECIPROCAL, this); }

    public Tensor relu() { return Ops.unary(UnaryOp.RELU, this); }

    /** GELU with the exact normal CDF (erf). */
    public Tensor gelu() { return Ops.unary(UnaryOp.GELU_ERF, this); }

    /** GELU with the tanh approximation. */
    public Tensor geluTanh() { return Ops.unary(UnaryOp.GELU_TANH, this); }

    public Tensor silu() { return Ops.unary(UnaryOp.SILU, this); }

    public Tensor sigmoid() { return Ops.unary(UnaryOp.SIGMOID, this); }

    /** |this|; the gradient at 0 is 0. */
    public Tensor abs() { return Ops.unary(UnaryOp.ABS, this); }

    public Tensor square() { return Ops.unary(UnaryOp.SQUARE, this); }

    /** A copy with {@code value} where {@code mask} (broadcastable to this shape) is nonzero; no gradient flows there. */
    public Tensor maskedFill(NDArray mask, double value) { return Ops.maskedFill(this, mask, value); }

    // ================================================================ reductions

    /** Sum of all elements (rank 0). */
    public Tensor sum() { return sum(allDims(), false); }

    public Tensor sum(int dim, boolean keepdim) { return sum(new int[] {dim}, keepdim); }

    public Tensor sum(int[] dims, boolean keepdim) { return Ops.sum(this, dims, keepdim); }

    /** Mean of all elements (rank 0). */
    public Tensor mean() { return mean(allDims(), false); }

    public Tensor mean(int dim, boolean keepdim) { return mean(new int[] {dim}, keepdim); }

    public Tensor mean(int[] dims, boolean keepdim) {
        int count = 1;
        for (int d : dims) count *= dim(d);
        return sum(dims, keepdim).div(count);
    }

    /** Maximum over {@code dim}; the gradient goes to the first maximal element. */
    public Tensor max(int dim, boolean keepdim) { return Ops.max(this, dim, keepdim); }

    /** Indices (as float values) of the first maxima over {@code dim}; not differentiable. */
    public NDArray argmax(int dim, boolean keepdim) { return ArrayOps.argmax(data, dim, keepdim); }

    private int[] allDims() {
        int[] d = new int[rank()];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return d;
    }

    // ================================================================ linear algebra and shape

    /** Matrix product with torch.matmul semantics (1-D operands, batched with broadcasting). */
    public Tensor matmul(Tensor o) {
        if (rank() == 0 || o.rank() == 0) {
            throw new IllegalArgumentException("matmul: both operands need at least one dimension, got shapes "
                    + shape() + " and " + o.shape());
        }
        if (rank() == 1 && o.rank() == 1) return unsqueeze(0).matmul(o.unsqueeze(1)).reshape();  // [] from [1, 1]
        if (rank() == 1) return unsqueeze(0).matmul(o).squeeze(-2);                            // [..., n]
        if (o.rank() == 1) return matmul(o.unsqueeze(1)).squeeze(-1);                           // [..., m]
        return Ops.matmul(this, o);
    }

    /** As torch.reshape: a view when possible, else a copy; one size may be -1. */
    public Tensor reshape(int... shape) { return Ops.reshape(this, data.reshape(shape), "reshape"); }

    /** As torch.view: fails when the layout needs a copy. */
    public Tensor view(int... shape) { return Ops.reshape(this, data.view(shape), "view"); }

    public Tensor transpose(int d0, int d1) {
        int a = shape().axis(d0), b = shape().axis(d1);
        int[] perm = new int[rank()];
        for (int i = 0; i < perm.length; i++) perm[i] = i;
        perm[a] = b;
        perm[b] = a;
        return permute(perm);
    }

    public Tensor permute(int... order) { return Ops.permute(this, order); }

    public Tensor narrow(int dim, int start, int length) { return Ops.narrow(this, dim, start, length); }

    public Tensor select(int dim, int index) { return Ops.select(this, dim, index); }

    /** Broadcasts to {@code shape} (-1 keeps a size); the gradient is summed back. */
    public Tensor expand(int... shape) { return Ops.expand(this, shape); }

    public Tensor unsqueeze(int dim) { return Ops.reshape(this, data.unsqueeze(dim), "unsqueeze"); }

    public Tensor squeeze(int dim) { return Ops.reshape(this, data.squeeze(dim), "squeeze"); }

    public Tensor contiguous() { return Ops.contiguous(this); }

    public Tensor softmax(int dim) { return Ops.softmax(this, dim); }

    public Tensor logSoftmax(int dim) { return Ops.logSoftmax(this, dim); }

    /** Converts to dtype {@code t} (a copy); differentiable, the gradient is converted back. */
    public Tensor to(DType t) { return Ops.to(this, t); }

    @Override
    public String toString() {
        return "Tensor(" + data + (gradFn != null ? ", gradFn=" + gradFn.op : requiresGrad ? ", requiresGrad" : "") + ")";
    }
}
