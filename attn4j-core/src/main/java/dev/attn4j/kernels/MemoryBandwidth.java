package dev.attn4j.kernels;

import java.util.Arrays;

/** The machine's memory bandwidth as benchmarks compare a memory-bound kernel with it. */
public final class MemoryBandwidth {
    private MemoryBandwidth() {
    }

    /**
     * Copy bandwidth in GB/s (bytes read + bytes written per second): the best of 7 timed copies
     * (after one untimed) of a {@code mib} MiB float array, split over {@code threads} threads.
     */
    public static double copyGbps(int mib, int threads) {
        if (mib < 1 || threads < 1) throw new IllegalArgumentException("copy benchmark: mib and threads must be >= 1, got " + mib + ", " + threads);
        int n = (int) Math.min((long) mib * (1 << 20) / 4, Integer.MAX_VALUE - 8);
        float[] src = new float[n], dst = new float[n];
        Arrays.fill(src, 1f);
        double best = 0;
        for (int rep = 0; rep < 8; rep++) {
            long t0 = System.nanoTime();
            Parallel.forEachTask(threads, task -> {
                long from = (long) n * task / threads, to = (long) n * (task + 1) / threads;
                System.arraycopy(src, (int) from, dst, (int) from, (int) (to - from));
            });
            double s = (System.nanoTime() - t0) / 1e9;
            if (rep > 0) best = Math.max(best, 2.0 * 4 * n / s / 1e9);
        }
        if (dst[n - 1] != 1f) throw new IllegalStateException("copy benchmark: the copy did not happen");
        return best;
    }
}
