package dev.attn4j.kernels;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.attn4j.kernels.simd.SimdKernels;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every elementwise/reduction kernel of {@link SimdKernels} and {@link ScalarKernels} against a
 * float64 reference, on sizes around the vector length (tails) and with nonzero offsets.
 */
class ElementwiseKernelsTest {
    static final int[] SIZES = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 257};
    static final List<Kernels> IMPLS = List.of(new SimdKernels(), Kernels.scalar());

    final long seed = System.nanoTime();
    final SplittableRandom rnd = new SplittableRandom(seed);

    /** layerNormRow against float64 on every size (tails), with and without gamma and beta, offset rows, a constant row. */
    @Test
    void layerNormRowMatchesFloat64() {
        int[] sizes = {1, 2, 7, 15, 16, 17, 31, 33, 64, 65, 129, 257, 384, 385};
        for (Kernels kern : IMPLS) {
            for (int n : sizes) {
                for (int variant = 0; variant < 4; variant++) {
                    boolean withGamma = (variant & 1) != 0, withBeta = (variant & 2) != 0;
                    float[] x = randoms(n + 5, -3, 5);
                    if (variant == 3 && n > 1) java.util.Arrays.fill(x, 2, 2 + n, 1.25f);   // constant row: var = 0
                    float[] gamma = withGamma ? randoms(n + 1, 0.5, 1.5) : null, beta = withBeta ? randoms(n + 3, -1, 1) : null;
                    float[] before = x.clone();
                    float eps = 1e-5f;
                    kern.layerNormRow(x, 2, n, gamma, 1, beta, 3, eps);
                    double mean = 0, var = 0;
                    for (int i = 0; i < n; i++) mean += before[2 + i];
                    mean /= n;
                    for (int i = 0; i < n; i++) var += (before[2 + i] - mean) * (before[2 + i] - mean);
                    double rstd = 1 / Math.sqrt(var / n + eps);
                    for (int i = 0; i < n; i++) {
                        double want = (before[2 + i] - mean) * rstd * (withGamma ? gamma[1 + i] : 1) + (withBeta ? beta[3 + i] : 0);
                        double tol = 2e-6 * (1 + Math.abs(want)) * Math.max(1, Math.sqrt(n) / 4) + 1e-6 * Math.min(rstd, 1e3);
                        if (!(Math.abs(x[2 + i] - want) <= tol)) {
                            fail(kern.name() + " layerNormRow n=" + n + " variant=" + variant + " i=" + i + ": " + x[2 + i]
                                    + ", want " + want + " seed=" + seed + "L");
                        }
                    }
                    for (int i : new int[] {0, 1, 2 + n, 3 + n, 4 + n}) {
                        if (i < x.length && x[i] != before[i]) fail(kern.name() + " layerNormRow wrote outside the row at " + i);
                    }
                }
            }
        }
    }

    /**
     * normBackwardRow (LayerNorm's and RMSNorm's backward of one row) against float64 on sizes with
     * tails, with and without weight, weight and bias gradients, offsets, both modes; the weight and
     * bias gradients are added to what the arrays held.
     */
    @Test
    void normBackwardRowMatchesFloat64() {
        int[] sizes = {1, 2, 7, 15, 16, 17, 31, 33, 64, 65, 129, 257, 384, 385};
        for (Kernels kern : IMPLS) {
            for (int n : sizes) {
                for (int variant = 0; variant < 8; variant++) {
                    boolean withW = (variant & 1) != 0, grads = (variant & 2) != 0, rms = (variant & 4) != 0;
                    float[] x = randoms(n + 3, -3, 5), g = randoms(n + 2, -1, 1), w = withW ? randoms(n + 1, 0.5, 1.5) : null;
                    float mean = rms ? 0f : (float) (rnd.nextDouble() * 2 - 1), rstd = (float) (0.2 + rnd.nextDouble());
                    float[] dx = randoms(n + 4, -1, 1), dxBefore = dx.clone();
                    float[] dw = grads ? randoms(n, -1, 1) : null, db = grads ? randoms(n, -1, 1) : null;
                    float[] dwBefore = grads ? dw.clone() : null, dbBefore = grads ? db.clone() : null;
                    kern.normBackwardRow(x, 3, g, 2, mean, rstd, w, 1, rms, dx, 4, dw, db, n);
                    double m1 = 0, m2 = 0;
                    double[] xhat = new double[n], gy = new double[n];
                    for (int i = 0; i < n; i++) {
                        xhat[i] = ((double) x[3 + i] - mean) * rstd;
                        gy[i] = (double) g[2 + i] * (withW ? w[1 + i] : 1);
                        m1 += gy[i];
                        m2 += gy[i] * xhat[i];
                    }
                    m1 = rms ? 0 : m1 / n;
                    m2 /= n;
                    for (int i = 0; i < n; i++) {
                        double want = rstd * (gy[i] - m1 - xhat[i] * m2);
                        double tol = 1e-5 * (1 + Math.abs(want)) * Math.max(1, Math.sqrt(n) / 4);
                        if (!(Math.abs(dx[4 + i] - want) <= tol)) {
                            fail(kern.name() + " normBackwardRow dx n=" + n + " variant=" + variant + " i=" + i + ": " + dx[4 + i]
                                    + ", want " + want + " seed=" + seed + "L");
                        }
                        if (grads) {
                            double wantW = dwBefore[i] + g[2 + i] * xhat[i], wantB = dbBefore[i] + g[2 + i];
                            if (!(Math.abs(dw[i] - wantW) <= 1e-5 * (1 + Math.abs(wantW))) || !(Math.abs(db[i] - wantB) <= 1e-6 * (1 + Math.abs(wantB)))) {
                                fail(kern.name() + " normBackwardRow dw/db n=" + n + " variant=" + variant + " i=" + i + ": " + dw[i] + " / "
                                        + db[i] + ", want " + wantW + " / " + wantB + " seed=" + seed + "L");
                            }
                        }
                    }
                    for (int i : new int[] {0, 1, 2, 3, 4 + n, 5 + n, 6 + n, 7 + n}) {
                        if (i < dx.length && dx[i] != dxBefore[i]) fail(kern.name() + " normBackwardRow wrote outside the row at " + i);
                    }
                }
            }
        }
    }

    float[] randoms(int n, double lo, double hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return x;
    }

    int offset() {
        return rnd.nextInt(5);
    }

    String where(Kernels k, int n, int off) {
        return k.name() + " n=" + n + " off=" + off + " seed=" + seed + "L";
    }

    static void close(double got, double want, double tol, String msg) {
        if (Double.isNaN(want)) {
            if (!Double.isNaN(got)) fail(msg + ": want NaN, got " + got);
            return;
        }
        if (Double.isInfinite(want)) {
            if (got != want) fail(msg + ": want " + want + ", got " + got);
            return;
        }
        if (!(Math.abs(got - want) <= tol)) {
            fail(msg + ": want " + want + ", got " + got + " (diff " + Math.abs(got - want) + " > tol " + tol + ")");
        }
    }

    @Test
    void reductionsAndAxpy() {
        for (Kernels k : IMPLS) {
            for (int n : SIZES) {
                int oa = offset(), ob = offset();
                float[] a = randoms(n + oa, -2, 2), b = randoms(n + ob, -2, 2);
                double dot = 0, dotAbs = 0, sum = 0, sumAbs = 0, max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) {
                    dot += (double) a[oa + i] * b[ob + i];
                    dotAbs += Math.abs((double) a[oa + i] * b[ob + i]);
                    sum += a[oa + i];
                    sumAbs += Math.abs(a[oa + i]);
                    max = Math.max(max, a[oa + i]);
                }
                String w = where(k, n, oa);
                double eps = (n + 2) * 6e-8;
                close(k.dot(a, oa, b, ob, n), dot, eps * dotAbs, "dot " + w);
                close(k.sum(a, oa, n), sum, eps * sumAbs, "sum " + w);
                assertThat(k.max(a, oa, n)).as("max " + w).isEqualTo((float) max);

                float alpha = (float) rnd.nextDouble(-3, 3);
                float[] y = b.clone();
                k.axpy(alpha, a, oa, y, ob, n);
                for (int i = 0; i < n; i++) {
                    double want = b[ob + i] + (double) alpha * a[oa + i];
                    close(y[ob + i], want, 1.2e-7 * (Math.abs(b[ob + i]) + Math.abs(alpha * a[oa + i])), "axpy[" + i + "] " + w);
                }
                for (int i = 0; i < ob; i++) assertThat(y[i]).as("axpy wrote before offset " + w).isEqualTo(b[i]);
            }
        }
    }

    /** maskedScale against the bit test element by element: aligned and unaligned first bits, tails, offsets. */
    @Test
    void maskedScaleKeepsTheSetBits() {
        long[] mask = new long[12];
        for (int w = 0; w < mask.length; w++) mask[w] = rnd.nextLong();
        mask[3] = 0L;
        mask[4] = -1L;
        for (Kernels k : IMPLS) {
            for (int n : SIZES) {
                for (int bit0 : new int[] {0, 3, 16, 64, 128, 200, 256 + 8}) {
                    if (bit0 + n > mask.length * 64) continue;
                    float[] x = randoms(n + 3, -2, 2);
                    float[] out = randoms(n + 5, -2, 2), before = out.clone();
                    float scale = 1.25f;
                    k.maskedScale(mask, bit0, x, 3, scale, out, 5, n);
                    for (int i = 0; i < n; i++) {
                        int j = bit0 + i;
                        float want = (mask[j >>> 6] & (1L << j)) != 0 ? x[3 + i] * scale : 0f;
                        assertThat(out[5 + i]).as("maskedScale[" + i + "] bit0 " + bit0 + " " + where(k, n, 3)).isEqualTo(want);
                    }
                    for (int i = 0; i < 5; i++) assertThat(out[i]).as("maskedScale wrote before offset").isEqualTo(before[i]);
                }
            }
        }
    }

    @Test
    void maxPropagatesNaNAndHandlesEmpty() {
        for (Kernels k : IMPLS) {
            assertThat(k.max(new float[3], 3, 0)).isEqualTo(Float.NEGATIVE_INFINITY);
            for (int n : new int[]{1, 17, 64, 129}) {
                float[] x = randoms(n, -1, 1);
                x[rnd.nextInt(n)] = Float.NaN;
                assertThat(k.max(x, 0, n)).as(where(k, n, 0)).isNaN();
            }
        }
    }

    /** The float64 definition of each op. */
    static double reference(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case TANH -> Math.tanh(x);
            case SQRT -> Math.sqrt(x);
            case RELU -> x > 0 ? x : 0;
            case GELU_ERF -> 0.5 * x * MathF.erfc(-x / Math.sqrt(2));
            case GELU_TANH -> x / (1 + Math.exp(-2 * MathF.SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
            case SILU -> x / (1 + Math.exp(-x));
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case ABS -> Math.abs(x);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
        };
    }

    /** Relative tolerance, in units of float epsilon (2^-23), each op is held to. */
    static double ulpsAllowed(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, RELU -> 0;
            case SQUARE, SQRT, RECIPROCAL -> 1;
            case EXP, LOG, TANH -> 4;
            case SIGMOID, SILU -> 8;
            case GELU_ERF -> 8;     // 1e-6 relative, plus absoluteAllowed
            // exp of a rounded argument 2u: the argument's rounding (|2u| eps) is amplified by |2u|,
            // up to ~25 at x = -6, where GELU is already ~1e-8.
            case GELU_TANH -> 64;
        };
    }

    /**
     * Absolute error allowed on top of the relative one. GELU (erf form) is torch's formula
     * 0.5 x (1 + erf(x / sqrt2)) in float (the SIMD kernel; the scalar one computes in double):
     * where GELU is tiny, 1 + erf cancels, and the error is a few ulps of erf's values near 1
     * times |x| / 2 (measured up to 2.4e-7 |x|; allowed twice that).
     */
    static double absoluteAllowed(UnaryOp op, double x) {
        return op == UnaryOp.GELU_ERF ? 0x1p-21 * Math.abs(x) : 0;
    }

    static double[] range(UnaryOp op) {
        return switch (op) {
            case LOG, SQRT -> new double[]{1e-6, 100};
            case EXP -> new double[]{-87, 88};
            case RECIPROCAL -> new double[]{0.01, 50};
            case GELU_ERF, GELU_TANH -> new double[]{-12, 10};
            default -> new double[]{-20, 20};
        };
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unaryOps(UnaryOp op) {
        double[] r = range(op);
        double tol = ulpsAllowed(op) * 0x1p-23 + 0x1p-24;
        for (Kernels k : IMPLS) {
            for (int n : SIZES) {
                int ox = offset(), oy = offset();
                float[] x = randoms(n + ox, r[0], r[1]);
                if (op == UnaryOp.RECIPROCAL) for (int i = 0; i < x.length; i += 2) x[i] = -x[i];
                if (n > 3 && op != UnaryOp.LOG && op != UnaryOp.SQRT) x[ox + 1] = (float) rnd.nextDouble(-1, 1) * 1e-3f;
                float[] y = new float[n + oy];
                k.unary(op, x, ox, y, oy, n);
                for (int i = 0; i < n; i++) {
                    double want = reference(op, x[ox + i]);
                    // 1e-30 absolute: exp-based ops flush results below that to zero via exp overflow.
                    close(y[oy + i], want, tol * Math.abs(want) + absoluteAllowed(op, x[ox + i]) + 1e-30,
                            op + "(" + x[ox + i] + ") at " + i + " " + where(k, n, ox));
                }
                // In place (x and y the same run).
                float[] z = x.clone();
                k.unary(op, z, ox, z, ox, n);
                for (int i = 0; i < n; i++) assertThat(z[ox + i]).as("in place " + op + " " + where(k, n, ox)).isEqualTo(y[oy + i]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    void unarySpecialValues(UnaryOp op) {
        float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-30f, -1e-30f,
                Float.MIN_VALUE, 100f, -100f, 88.5f, -88.5f, 1f, -1f, 0.5f, -3f};
        // 16 values: one full vector body with AVX-512, so the SIMD path (not the tail) sees them.
        float[] x = new float[32];
        System.arraycopy(specials, 0, x, 0, 16);
        System.arraycopy(specials, 0, x, 16, 16);
        float[] want = new float[32], got = new float[32];
        Kernels.scalar().unary(op, x, 0, want, 0, 32);
        new SimdKernels().unary(op, x, 0, got, 0, 32);
        for (int i = 0; i < 32; i++) {
            double w = want[i];
            close(got[i], w, 1e-6 * Math.abs(w) + absoluteAllowed(op, x[i]) + 1e-37,
                    op + "(" + x[i] + ") simd vs scalar, seed=" + seed + "L");
        }
    }

    static double reference(BinaryOp op, double a, double b) {
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

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    void binaryOps(BinaryOp op) {
        // Add, sub, mul, div round once from the exact result; pow gets a few ulps.
        double tol = (op == BinaryOp.POW ? 4 : 0.5) * 0x1p-23;
        for (Kernels k : IMPLS) {
            for (int n : SIZES) {
                int oa = offset(), ob = offset(), oo = offset();
                float[] a = op == BinaryOp.POW ? randoms(n + oa, 0.01, 8) : randoms(n + oa, -5, 5);
                float[] b = op == BinaryOp.POW ? randoms(n + ob, -6, 6) : randoms(n + ob, -5, 5);
                if (op == BinaryOp.DIV) for (int i = 0; i < b.length; i++) if (Math.abs(b[i]) < 1e-3f) b[i] = 1f;
                float s = op == BinaryOp.POW ? 1.7f : (float) rnd.nextDouble(0.5, 3);
                float[] out = new float[n + oo], outS = new float[n + oo], sOut = new float[n + oo];
                k.binary(op, a, oa, b, ob, out, oo, n);
                k.binaryScalar(op, a, oa, s, outS, oo, n);
                float sb = op == BinaryOp.POW ? 2.5f : s;   // pow base must be positive for a non-NaN result
                k.scalarBinary(op, sb, b, ob, sOut, oo, n);
                String w = op + " " + where(k, n, oa);
                for (int i = 0; i < n; i++) {
                    double r1 = reference(op, a[oa + i], b[ob + i]);
                    close(out[oo + i], r1, tol * Math.abs(r1) + 1e-37, "binary " + w + " i=" + i);
                    double r2 = reference(op, a[oa + i], s);
                    close(outS[oo + i], r2, tol * Math.abs(r2) + 1e-37, "binaryScalar " + w + " i=" + i);
                    double r3 = reference(op, sb, b[ob + i]);
                    close(sOut[oo + i], r3, tol * Math.abs(r3) + 1e-37, "scalarBinary " + w + " i=" + i);
                }
                // out aliasing a.
                float[] alias = a.clone();
                k.binary(op, alias, oa, b, ob, alias, oa, n);
                for (int i = 0; i < n; i++) assertThat(alias[oa + i]).as("aliased " + w).isEqualTo(out[oo + i]);
            }
        }
    }

    @Test
    void geluErfGradMatchesFloat64() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(17);
        for (Kernels k : IMPLS) {
            for (int n : SIZES) {
                int off = 3;
                float[] g = new float[off + n], x = new float[off + n], y = new float[off + n], out = new float[off + n + 1];
                for (int i = off; i < off + n; i++) {
                    x[i] = i % 11 == 0 ? 0f : (float) (rnd.nextDouble(-12, 10));
                    g[i] = (float) rnd.nextGaussian();
                    y[i] = (float) (0.5 * x[i] * MathF.erfc(-x[i] / Math.sqrt(2)));                   // the forward's output
                }
                out[off + n] = 7f;
                k.geluErfGrad(g, off, x, off, y, off, out, off, n);
                for (int i = off; i < off + n; i++) {
                    double v = x[i];
                    double phi = v == 0 ? 0.5 : 0.5 * MathF.erfc(-v / Math.sqrt(2));
                    double want = g[i] * (phi + v * Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI));
                    close(out[i], want, 2e-6 * Math.abs(g[i]) + 1e-7, k.name() + " gelu' at x=" + v + " n=" + n);
                }
                assertThat(out[off + n]).isEqualTo(7f);
                if (n > 0) assertThat(out[0]).isZero();
            }
        }
    }

    @Test
    void binaryMaxMinNaNAndSignedZero() {
        float[] a = new float[32], b = new float[32];
        for (int i = 0; i < 32; i++) {
            a[i] = i % 3 == 0 ? Float.NaN : (i % 3 == 1 ? -0f : 1f);
            b[i] = i % 2 == 0 ? 0f : Float.NaN;
        }
        for (BinaryOp op : new BinaryOp[]{BinaryOp.MAX, BinaryOp.MIN}) {
            float[] want = new float[32], got = new float[32];
            Kernels.scalar().binary(op, a, 0, b, 0, want, 0, 32);
            new SimdKernels().binary(op, a, 0, b, 0, got, 0, 32);
            for (int i = 0; i < 32; i++) {
                assertThat(Float.floatToIntBits(got[i])).as(op + " at " + i).isEqualTo(Float.floatToIntBits(want[i]));
            }
        }
    }

    @Test
    void softmaxAndLogSoftmax() {
        for (Kernels k : IMPLS) {
            for (int n : SIZES) {
                if (n == 0) continue;
                int ox = offset(), oy = offset();
                float[] x = randoms(n + ox, -30, 30);
                double m = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < n; i++) m = Math.max(m, x[ox + i]);
                double s = 0;
                for (int i = 0; i < n; i++) s += Math.exp(x[ox + i] - m);
                float[] y = new float[n + oy], ly = new float[n + oy];
                k.softmax(x, ox, y, oy, n);
                k.logSoftmax(x, ox, ly, oy, n);
                String w = where(k, n, ox);
                for (int i = 0; i < n; i++) {
                    double p = Math.exp(x[ox + i] - m) / s;
                    // x - m is rounded in float: exp then carries |x - m| eps of relative error.
                    close(y[oy + i], p, (8 + Math.abs(x[ox + i] - m)) * 0x1p-23 * p + 1e-37, "softmax[" + i + "] " + w);
                    double lp = x[ox + i] - m - Math.log(s);
                    close(ly[oy + i], lp, 4 * 0x1p-23 * (Math.abs(x[ox + i]) + Math.abs(m) + 1), "logSoftmax[" + i + "] " + w);
                }
                // In place.
                float[] z = x.clone();
                k.softmax(z, ox, z, ox, n);
                for (int i = 0; i < n; i++) assertThat(z[ox + i]).as("softmax in place " + w).isEqualTo(y[oy + i]);
            }
            float[] inf = new float[40];
            java.util.Arrays.fill(inf, Float.NEGATIVE_INFINITY);
            float[] y = new float[40];
            k.softmax(inf, 0, y, 0, 40);
            for (float v : y) assertThat(v).as(k.name() + " softmax of all -inf").isNaN();
        }
    }
}
