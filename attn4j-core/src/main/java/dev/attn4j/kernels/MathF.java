package dev.attn4j.kernels;

/** Special functions the JDK lacks. */
public final class MathF {
    public static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    private static final double TWO_OVER_SQRT_PI = 2.0 / Math.sqrt(Math.PI);

    private MathF() {
    }

    /**
     * The error function to about 1e-15 relative: a Maclaurin series for |x| < 2.5, where it
     * converges quickly without cancellation, and a continued fraction for erfc beyond.
     */
    public static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax >= 6.0) return Math.copySign(1.0, x);
        if (ax < 2.5) {
            // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 200; n++) {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
            }
            return TWO_OVER_SQRT_PI * sum;
        }
        return Math.copySign(1.0 - erfcLarge(ax), x);
    }

    /**
     * The complementary error function 1 - erf(x), without the cancellation of computing it as
     * 1 - erf(x) for large x (relative accuracy about 1e-15 for x >= 2.5).
     */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return x;
        if (x < 2.5) return 1.0 - erf(x);
        if (x >= 27.0) return 0.0;
        return erfcLarge(x);
    }

    /** erfc(x) for x >= 2.5 by the Laplace continued fraction, evaluated backwards. */
    private static double erfcLarge(double x) {
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
        double f = x;
        for (int n = 60; n >= 1; n--) f = x + (n / 2.0) / f;
        return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
    }
}
