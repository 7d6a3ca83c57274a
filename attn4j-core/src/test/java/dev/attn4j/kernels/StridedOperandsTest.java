package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Copies and elementwise ops on strided, narrowed and broadcast F32 views against element-by-element references. */
class StridedOperandsTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    /** A random view of a random array: permuted, narrowed and/or with a broadcast (stride 0) dimension. */
    private NDArray randomView(int[] dims) {
        NDArray base = NDArray.uniform(rng, Shape.of(dims[0] + 1, dims[1], dims[2] + 2), -1, 1); // room to narrow
        NDArray v = base.narrow(0, rng.nextInt(2), dims[0]).narrow(2, rng.nextInt(3), dims[2]);
        if (rng.nextBoolean()) v = v.permute(2, 0, 1).permute(1, 2, 0);   // same logical order, exercises views
        if (rng.nextBoolean()) v = v.transpose(0, 2).contiguous().transpose(0, 2);  // column-major layout
        return v;
    }

    private static double[] reference(NDArray a) {
        int[] d = a.shape().toArray();
        double[] out = new double[a.numel()];
        int i = 0;
        for (int x = 0; x < d[0]; x++) for (int y = 0; y < d[1]; y++) for (int z = 0; z < d[2]; z++) out[i++] = a.getDouble(x, y, z);
        return out;
    }

    @Test
    void copiesOfStridedViewsKeepRowMajorOrder() {
        for (int trial = 0; trial < 40; trial++) {
            int[] dims = {1 + rng.nextInt(4), 1 + rng.nextInt(5), 1 + rng.nextInt(17)};
            NDArray v = randomView(dims);
            double[] exp = reference(v);
            assertThat(v.copy().toDoubleArray()).as("copy, trial %d, seed %d", trial, seed).containsExactly(exp);
            float[] f = v.toFloatArray();
            for (int i = 0; i < f.length; i++) assertThat((double) f[i]).as("toFloatArray %d, seed %d", i, seed).isEqualTo(exp[i]);
            NDArray dst = NDArray.zeros(dims[2], dims[0], dims[1]).permute(1, 2, 0);  // a strided destination
            dst.copyFrom(v);
            assertThat(reference(dst)).as("strided destination, trial %d, seed %d", trial, seed).containsExactly(exp);
        }
    }

    @Test
    void binaryAndAddIntoOnStridedAndBroadcastOperands() {
        for (int trial = 0; trial < 40; trial++) {
            int[] dims = {1 + rng.nextInt(4), 1 + rng.nextInt(5), 1 + rng.nextInt(17)};
            NDArray a = randomView(dims);
            // b broadcasts over a random subset of dimensions
            int[] bd = dims.clone();
            for (int k = 0; k < 3; k++) if (rng.nextInt(3) == 0) bd[k] = 1;
            NDArray b = randomView(bd);
            NDArray sum = ArrayOps.binary(BinaryOp.SUB, a, b);
            NDArray acc = NDArray.uniform(rng, Shape.of(dims), -1, 1);
            double[] accBefore = acc.toDoubleArray();
            ArrayOps.addInto(acc, b);
            int i = 0;
            for (int x = 0; x < dims[0]; x++) {
                for (int y = 0; y < dims[1]; y++) {
                    for (int z = 0; z < dims[2]; z++, i++) {
                        double bv = b.getDouble(bd[0] == 1 ? 0 : x, bd[1] == 1 ? 0 : y, bd[2] == 1 ? 0 : z);
                        String what = "trial " + trial + " at " + x + "," + y + "," + z + " b " + b.shape() + ", seed " + seed;
                        assertThat(sum.getDouble(x, y, z)).as("sub " + what).isCloseTo((float) (a.getDouble(x, y, z) - bv),
                                org.assertj.core.data.Offset.offset(1e-6));
                        assertThat(acc.getDouble(x, y, z)).as("addInto " + what).isCloseTo(accBefore[i] + bv,
                                org.assertj.core.data.Offset.offset(1e-6));
                    }
                }
            }
        }
    }
}
