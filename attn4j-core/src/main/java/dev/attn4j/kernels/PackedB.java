package dev.attn4j.kernels;

/**
 * The right operand op(B) [k, n] of a GEMM packed once, in the layout of the kernels that made it
 * ({@link Kernels#packB}), for a B that no longer changes (the weights of a frozen inference model).
 * A GEMM given it skips packing B on every call; for a product of a few rows with a large weight
 * that packing is most of the time. It is only valid for the B it was made from, unchanged:
 * {@link Kernels#gemmBiasResidual(boolean, boolean, int, int, int, float[], int, int, float[], int, int, PackedB, float[], int, float[], int, int, float[], int, int, UnaryOp)}
 * checks the shape and orientation, not the values.
 *
 * @param transB whether B was packed from its transposed storage ([n, k], a linear layer's W)
 * @param k      rows of op(B)
 * @param n      columns of op(B)
 * @param data   the packed values (layout private to the kernels)
 */
public record PackedB(boolean transB, int k, int n, float[] data) {
    public PackedB {
        if (k < 0 || n < 0 || data == null) throw new IllegalArgumentException("PackedB: k " + k + ", n " + n + ", data " + data);
    }

    /** Whether this packs an op(B) of that orientation and shape. */
    public boolean matches(boolean transB, int k, int n) {
        return this.transB == transB && this.k == k && this.n == n;
    }
}
