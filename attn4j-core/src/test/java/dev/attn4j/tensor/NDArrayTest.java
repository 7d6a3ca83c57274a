package dev.attn4j.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class NDArrayTest {
    private final long seed = System.nanoTime();
    private final SplittableRandom rng = new SplittableRandom(seed);

    private static NDArray iota(int... shape) {
        Shape s = Shape.of(shape);
        float[] d = new float[s.numel()];
        for (int i = 0; i < d.length; i++) d[i] = i;
        return NDArray.of(d, shape);
    }

    @Test
    void transposeAndPermuteAreViews() {
        NDArray a = iota(2, 3, 4); // [2, 3, 4]
        NDArray t = a.transpose(0, 2); // [4, 3, 2]
        assertThat(t.shape().equals(4, 3, 2)).isTrue();
        assertThat(t.storage()).isSameAs(a.storage());
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++) assertThat(t.getFloat(k, j, i)).isEqualTo(a.getFloat(i, j, k));
        NDArray p = a.permute(1, 2, 0); // [3, 4, 2]
        assertThat(p.getFloat(2, 3, 1)).isEqualTo(a.getFloat(1, 2, 3));
        assertThat(p.isContiguous()).isFalse();
        assertThat(p.contiguous().isContiguous()).isTrue();
        assertThat(p.contiguous().toFloatArray()).isEqualTo(p.toFloatArray());
    }

    @Test
    void narrowSelectExpandUnsqueeze() {
        NDArray a = iota(4, 5);
        NDArray n = a.narrow(1, 1, 3); // [4, 3]
        assertThat(n.getFloat(2, 0)).isEqualTo(11f);
        NDArray s = a.select(0, 3); // [5]
        assertThat(s.toFloatArray()).containsExactly(15, 16, 17, 18, 19);
        NDArray row = iota(1, 3).expand(2, 4, 3); // [2, 4, 3]
        assertThat(row.stride(0)).isZero();
        assertThat(row.getFloat(1, 3, 2)).isEqualTo(2f);
        assertThat(a.unsqueeze(1).shape().equals(4, 1, 5)).isTrue();
        assertThat(a.unsqueeze(-1).shape().equals(4, 5, 1)).isTrue();
        assertThat(a.unsqueeze(0).squeeze(0).shape()).isEqualTo(a.shape());
        // writes through a view reach the base array
        n.set(-1, 0, 0);
        assertThat(a.getFloat(0, 1)).isEqualTo(-1f);
    }

    @Test
    void reshapeIsAViewWhenStridesAllowItAndACopyOtherwise() {
        NDArray a = iota(2, 3, 4);
        NDArray v = a.reshape(6, -1); // [6, 4]
        assertThat(v.storage()).isSameAs(a.storage());
        // a transposed array cannot be flattened without a copy
        NDArray t = a.transpose(1, 2); // [2, 4, 3]
        assertThatThrownBy(() -> t.view(2, 12)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reshape");
        NDArray r = t.reshape(2, 12);
        assertThat(r.storage()).isNotSameAs(a.storage());
        assertThat(r.toFloatArray()).isEqualTo(t.toFloatArray());
        // but splitting its leading dim, or merging dims that stay contiguous together, is a view
        NDArray p = a.permute(1, 0, 2); // [3, 2, 4], dims 0,1 swapped, last stays contiguous
        NDArray split = p.view(3, 2, 2, 2);
        assertThat(split.storage()).isSameAs(a.storage());
        assertThat(split.toFloatArray()).isEqualTo(p.toFloatArray());
        assertThatThrownBy(() -> a.reshape(5, -1)).hasMessageContaining("invalid");
        assertThatThrownBy(() -> a.reshape(-1, -1)).hasMessageContaining("one -1");
    }

    @Test
    void randomViewChainsMatchAnIndependentCopy() {
        for (int trial = 0; trial < 200; trial++) {
            int[] dims = {1 + rng.nextInt(4), 1 + rng.nextInt(4), 1 + rng.nextInt(4)};
            NDArray a = NDArray.uniform(rng, Shape.of(dims), -1, 1);
            int[] perm = switch (rng.nextInt(3)) {
                case 0 -> new int[] {0, 1, 2};
                case 1 -> new int[] {2, 0, 1};
                default -> new int[] {1, 2, 0};
            };
            NDArray p = a.permute(perm);
            NDArray flat = p.reshape(-1);
            float[] expected = new float[a.numel()];
            int[] pd = p.shape().toArray();
            int idx = 0;
            for (int i = 0; i < pd[0]; i++)
                for (int j = 0; j < pd[1]; j++)
                    for (int k = 0; k < pd[2]; k++) {
                        int[] src = new int[3];
                        src[perm[0]] = i;
                        src[perm[1]] = j;
                        src[perm[2]] = k;
                        expected[idx++] = a.getFloat(src);
                    }
            assertThat(flat.toFloatArray()).as("seed %d dims %s perm %s", seed, Shape.of(dims), Shape.of(perm)).isEqualTo(expected);
        }
    }

    @Test
    void memorySegmentStorageIsZeroCopy() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(4 * 6);
            for (int i = 0; i < 6; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i, i * 0.5f);
            NDArray a = NDArray.of(seg, 2, 3);
            assertThat(a.getFloat(1, 2)).isEqualTo(2.5f);
            assertThat(a.transpose(0, 1).toFloatArray()).containsExactly(0f, 1.5f, 0.5f, 2f, 1f, 2.5f);
            NDArray heap = a.contiguous();
            assertThat(heap.isDenseHeapF32()).isTrue();
            assertThatThrownBy(() -> NDArray.of(seg, 4, 3)).hasMessageContaining("bytes");
        }
    }

    @Test
    void float64ArraysAndConversion() {
        NDArray d = NDArray.of(new double[] {1e-300, 2, 3}, 3);
        assertThat(d.dtype()).isEqualTo(DType.F64);
        assertThat(d.getDouble(0)).isEqualTo(1e-300);
        NDArray f = d.to(DType.F32);
        assertThat(f.dtype()).isEqualTo(DType.F32);
        assertThat(f.toFloatArray()).containsExactly(0f, 2f, 3f);
    }

    @Test
    void badIndicesAndShapesGiveClearErrors() {
        NDArray a = iota(2, 3);
        assertThatThrownBy(() -> a.getFloat(2, 0)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("[2, 3]");
        assertThatThrownBy(() -> a.getFloat(0)).hasMessageContaining("coordinates");
        assertThatThrownBy(() -> a.transpose(0, 2)).hasMessageContaining("out of range");
        assertThatThrownBy(() -> a.expand(3, 3)).hasMessageContaining("cannot expand");
        assertThatThrownBy(() -> a.narrow(1, 2, 2)).hasMessageContaining("narrow");
        assertThatThrownBy(() -> NDArray.of(new float[5], 2, 3)).hasMessageContaining("6 elements");
        assertThatThrownBy(() -> Shape.broadcast(Shape.of(2, 3), Shape.of(4))).hasMessageContaining("broadcast");
        assertThatThrownBy(() -> NDArray.of(Storage.floats(4), 0, Shape.of(2, 3), new int[] {3, 1}))
                .hasMessageContaining("outside storage");
    }

    @Test
    void broadcastShapes() {
        assertThat(Shape.broadcast(Shape.of(3, 1, 5), Shape.of(4, 1))).isEqualTo(Shape.of(3, 4, 5));
        assertThat(Shape.broadcast(Shape.scalar(), Shape.of(2))).isEqualTo(Shape.of(2));
        assertThat(Shape.of(4, 1).broadcastableTo(Shape.of(3, 4, 5))).isTrue();
        assertThat(Shape.of(4, 2).broadcastableTo(Shape.of(3, 4, 5))).isFalse();
    }
}
