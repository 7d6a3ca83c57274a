package dev.attn4j.kernels;

import java.util.Arrays;

/**
 * The machine's memory bandwidth as benchmarks compare a memory-bound kernel with it: a copy
 * (STREAM's "copy": bytes read + bytes written per second) and a read-only pass (a SIMD sum, what
 * a decode step's weight stream is). Both run over arrays far larger than any cache, split over
 * the kernel threads, and report the median of several timed passes: on a shared or virtual
 * machine single passes vary by 2x, and the best one overstates what a long run sees.
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {
    }

    /** Medians and bests of {@link #measure}, in GB/s (10^9 bytes per second). */
    public record Result(double copyMedian, double copyBest, double readMedian, double readBest) {
    }

    /**
     * Copy bandwidth in GB/s (bytes read + bytes written per second): the median of 7 timed copies
     * (after one untimed) of a {@code mib} MiB float array, split over {@code threads} threads.
     */
    public static double copyGbps(int mib, int threads) {
        return measure(mib, threads, 7).copyMedian();
    }

    /**
     * {@code passes} timed copies and as many timed read passes (after one untimed pass of each)
     * over two {@code mib} MiB float arrays, interleaved, on {@code threads} threads.
     */
    public static Result measure(int mib, int threads, int passes) {
        if (mib < 1 || threads < 1 || passes < 1) {
            throw new IllegalArgumentException("bandwidth benchmark: mib, threads and passes must be >= 1, got " + mib + ", " + threads + ", " + passes);
        }
        int n = (int) Math.min((long) mib * (1 << 20) / 4, Integer.MAX_VALUE - 8);
        float[] src = new float[n], dst = new float[n];
        // Every page different: a hypervisor that merges identical pages (KSM and the like) turned
        // arrays of one repeated value, or of a pattern one page long, into a few physical pages
        // that stay in cache, and passes ran at 2-3x the memory's real bandwidth.
        for (int i = 0; i < n; i++) src[i] = (i * 0x9E3779B9 >>> 8) * 0x1p-24f;
        System.arraycopy(src, 0, dst, 0, n);
        Kernels kernels = Kernels.get();
        double[] copy = new double[passes], read = new double[passes], sums = new double[threads];
        for (int rep = -1; rep < passes; rep++) {
            long t0 = System.nanoTime();
            Parallel.forEachTask(threads, task -> {
                int from = (int) ((long) n * task / threads), to = (int) ((long) n * (task + 1) / threads);
                System.arraycopy(src, from, dst, from, to - from);
            });
            long t1 = System.nanoTime();
            Parallel.forEachTask(threads, task -> {
                int from = (int) ((long) n * task / threads), to = (int) ((long) n * (task + 1) / threads);
                sums[task] += kernels.sum(dst, from, to - from);
            });
            long t2 = System.nanoTime();
            if (rep >= 0) {
                copy[rep] = 2.0 * 4 * n / (t1 - t0);
                read[rep] = 4.0 * n / (t2 - t1);
            }
        }
        if (dst[n - 1] != src[n - 1] || Double.isNaN(Arrays.stream(sums).sum())) {
            throw new IllegalStateException("bandwidth benchmark: the copy did not happen");
        }
        return new Result(median(copy), Arrays.stream(copy).max().orElseThrow(), median(read), Arrays.stream(read).max().orElseThrow());
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
