package dev.attn4j.kernels.simd;

import jdk.incubator.vector.FloatVector;

/**
 * Lane reductions in a fixed order. {@code reduceLanes(ADD)} leaves its order open, and C2's
 * intrinsic and the interpreter's Java loop do sum in different orders: a kernel's result would
 * change bits when its method got compiled mid-run (a softmax row computed in place and the same row
 * computed out of place could differ by an ulp).
 */
final class Lanes {
    private Lanes() {
    }

    /** The sum of v's lanes: halves added lane by lane, down to one lane. */
    static float sum(FloatVector v) {
        for (int w = v.length() / 2; w >= 1; w /= 2) v = v.add(v.slice(w));
        return v.lane(0);
    }
}
