package dev.attn4j.kernels;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** Random arrays in several memory layouts and float64 comparison helpers for tests. */
public final class TestArrays {
    private TestArrays() {
    }

    /** Memory layouts a test input can have. */
    public enum Layout { CONTIGUOUS, TRANSPOSED, NARROWED, EXPANDED }

    public static NDArray rand(SplittableRandom rng, DType dt, int... shape) {
        return rand(rng, dt, -1, 1, shape);
    }

    public static NDArray rand(SplittableRandom rng, DType dt, double lo, double hi, int... shape) {
        NDArray a = NDArray.uniform(rng, Shape.of(shape), lo, hi);
        return dt == DType.F32 ? a : a.to(DType.F64);
    }

    /** Random values of {@code shape} with the given layout (falls back to contiguous where impossible). */
    public static NDArray rand(SplittableRandom rng, DType dt, Layout layout, int... shape) {
        int r = shape.length;
        switch (layout) {
            case TRANSPOSED -> {
                if (r < 2) break;
                int[] s = shape.clone();
                s[r - 1] = shape[r - 2];
                s[r - 2] = shape[r - 1];
                return rand(rng, dt, s).transpose(-1, -2);
            }
            case NARROWED -> {
                if (r < 1) break;
                int[] s = shape.clone();
                s[r - 1] += 3;
                return rand(rng, dt, s).narrow(-1, 1, shape[r - 1]);
            }
            case EXPANDED -> {
                if (r < 1) break;
                int[] s = shape.clone();
                s[0] = 1;
                return rand(rng, dt, s).expand(shape);
            }
            default -> {
            }
        }
        return rand(rng, dt, shape);
    }

    /** Row-major multi-index of flat position {@code flat} in {@code shape}. */
    public static int[] unravel(int flat, Shape shape) {
        int[] idx = new int[shape.rank()];
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int n = shape.dim(i);
            idx[i] = n == 0 ? 0 : flat % n;
            flat = n == 0 ? 0 : flat / n;
        }
        return idx;
    }

    /** Value of {@code a} at the broadcast position {@code outIdx} (right-aligned, size-1 dims pinned to 0). */
    public static double atBroadcast(NDArray a, int[] outIdx) {
        int off = outIdx.length - a.rank();
        int[] idx = new int[a.rank()];
        for (int i = 0; i < a.rank(); i++) idx[i] = a.dim(i) == 1 ? 0 : outIdx[i + off];
        return a.getDouble(idx);
    }

    /** Asserts shape and values, |a - e| <= tol * (1 + |e|); NaN must match NaN. */
    public static void assertClose(String what, NDArray actual, Shape shape, double[] expected, double tol) {
        assertThat(actual.shape()).as(what + ": shape").isEqualTo(shape);
        double[] got = actual.toDoubleArray();
        assertThat(got.length).as(what + ": length").isEqualTo(expected.length);
        for (int i = 0; i < got.length; i++) {
            double e = expected[i], g = got[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(g)
                    : (Double.isInfinite(e) ? g == e : Math.abs(g - e) <= tol * (1 + Math.abs(e)));
            if (!ok) {
                fail(what + ": element " + i + " " + java.util.Arrays.toString(unravel(i, shape)) + " expected " + e
                        + " got " + g + " (tol " + tol + ")");
            }
        }
    }

    public static double tol(DType dt) {
        return dt == DType.F32 ? 2e-5 : 1e-12;
    }
}
