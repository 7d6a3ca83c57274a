package dev.attn4j.kernels.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Lane reductions in a fixed order. {@code reduceLanes(ADD)} leaves its order open, and C2's
 * intrinsic and the interpreter's Java loop do sum in different orders: a kernel's result would
 * change bits when its method got compiled mid-run (a softmax row computed in place and the same row
 * computed out of place could differ by an ulp).
 *
 * <p>The order is a halving tree: lane i gets lane i + w added, w = length/2, ..., 1. For the
 * preferred species it runs on constant rotations (one permute and one add per level, where
 * {@code slice(w)} is a permute and a blend with zeros); other species take the same tree through
 * {@code slice}. Both give the same bits.
 */
final class Lanes {
    private static final VectorSpecies<Float> P = FloatVector.SPECIES_PREFERRED;
    private static final int N = P.length();
    /** The rotations of the tree, for kernels that write it out (see SimdQuant.dotQ8_0). */
    static final VectorShuffle<Float> R1 = rotation(1), R2 = rotation(2), R4 = rotation(4), R8 = rotation(8);

    private Lanes() {
    }

    private static VectorShuffle<Float> rotation(int w) {
        return VectorShuffle.fromOp(P, i -> (i + w) % N);
    }

    /** The sum of v's lanes: halves added lane by lane, down to one lane. */
    static float sum(FloatVector v) {
        if (v.species() == P && N <= 16) {
            if (N >= 16) v = v.add(v.rearrange(R8));
            if (N >= 8) v = v.add(v.rearrange(R4));
            if (N >= 4) v = v.add(v.rearrange(R2));
            if (N >= 2) v = v.add(v.rearrange(R1));
            return v.lane(0);
        }
        for (int w = v.length() / 2; w >= 1; w /= 2) v = v.add(v.slice(w));
        return v.lane(0);
    }
}
