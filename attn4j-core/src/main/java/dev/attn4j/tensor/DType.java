package dev.attn4j.tensor;

/**
 * Element types an {@link NDArray} can hold. F32 is the working type: every fast kernel is F32.
 * F64 exists for reference computations (naive float64 checks, finite-difference gradients).
 */
public enum DType {
    F32(4),
    F64(8);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    public int byteSize() {
        return byteSize;
    }
}
