package dev.attn4j.kernels;

import java.util.Arrays;

/**
 * The machine's floating-point peak as benchmarks compare a compute-bound workload with it: fused
 * multiply-adds with no memory traffic ({@link Kernels#fmaChains}, as wide as the kernels' vectors)
 * on {@code threads} threads at once, in GFLOP/s (10^9 floating-point operations per second, two
 * per multiply-add). What a matrix product or an encoder forward reaches is then a fraction of a
 * number measured on the same machine in the same run, as {@link MemoryBandwidth} is for decode.
 * The median of several timed passes is reported: on a shared or virtual machine single passes
 * vary, and the best one overstates what a long run sees.
 */
public final class ComputePeak {
    private ComputePeak() {
    }

    /** Median and best pass in GFLOP/s, the threads and the lanes per chain they ran with. */
    public record Result(double medianGflops, double bestGflops, int threads, int lanes) {
    }

    /**
     * {@code passes} timed passes of {@link Kernels#fmaChains} on {@code threads} threads together
     * (the caller and threads - 1 started for the measurement), each pass about {@code passMillis}
     * ms long, after a warm-up that lets the JIT compile the probe (its first calls run
     * interpreted, tens of times slower). A pass's time runs from the first thread's start to the
     * last one's end, so threads that did not run side by side show as a lower rate.
     */
    public static Result measure(int threads, int passes, int passMillis) {
        if (threads < 1 || passes < 1 || passMillis < 1) {
            throw new IllegalArgumentException("compute peak: threads, passes and passMillis must be >= 1, got " + threads + ", "
                    + passes + ", " + passMillis);
        }
        Kernels kernels = Kernels.get();
        float[] sink = new float[threads];
        long warmEnd = System.nanoTime() + 300_000_000L;
        while (System.nanoTime() < warmEnd) sink[0] += kernels.fmaChains(20_000);
        long probeSteps = 1_000_000;
        double probe = timePass(kernels, threads, probeSteps, sink);
        long steps = Math.max(10_000, (long) (probeSteps * (passMillis * 1e6) / Math.max(1, probe)));
        double[] gflops = new double[passes];
        double flopsPerPass = 2.0 * Kernels.FMA_CHAINS * kernels.fmaLanes() * steps * threads;
        for (int p = 0; p < passes; p++) gflops[p] = flopsPerPass / timePass(kernels, threads, steps, sink);
        float total = 0;
        for (float s : sink) total += s;
        if (!Float.isFinite(total) || total <= 0) throw new IllegalStateException("compute peak: the probe's chains did not run");
        double[] sorted = gflops.clone();
        Arrays.sort(sorted);
        double median = passes % 2 == 1 ? sorted[passes / 2] : (sorted[passes / 2 - 1] + sorted[passes / 2]) / 2;
        return new Result(median, sorted[passes - 1], threads, kernels.fmaLanes());
    }

    /**
     * Nanoseconds from the first start to the last end of {@code steps} steps of the probe on each of
     * {@code threads} threads: the caller and threads - 1 new ones, which spin until the caller
     * lets them go (a parked thread can take milliseconds to wake on a virtual machine).
     */
    private static double timePass(Kernels kernels, int threads, long steps, float[] sink) {
        long[] start = new long[threads], end = new long[threads];
        java.util.concurrent.atomic.AtomicInteger ready = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean go = new java.util.concurrent.atomic.AtomicBoolean();
        Thread[] helpers = new Thread[threads - 1];
        for (int i = 1; i < threads; i++) {
            int t = i;
            helpers[i - 1] = new Thread(() -> {
                ready.incrementAndGet();
                while (!go.get()) Thread.onSpinWait();
                start[t] = System.nanoTime();
                sink[t] += kernels.fmaChains(steps);
                end[t] = System.nanoTime();
            }, "attn4j-compute-peak-" + i);
            helpers[i - 1].setDaemon(true);
            helpers[i - 1].start();
        }
        while (ready.get() < threads - 1) Thread.onSpinWait();
        go.set(true);
        start[0] = System.nanoTime();
        sink[0] += kernels.fmaChains(steps);
        end[0] = System.nanoTime();
        for (Thread h : helpers) {
            try {
                h.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("compute peak: interrupted", e);
            }
        }
        return Arrays.stream(end).max().orElseThrow() - Arrays.stream(start).min().orElseThrow();
    }
}
