package dev.attn4j.cli;

import dev.attn4j.attention.Attention;
import dev.attn4j.attention.SdpaOptions;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code attn4j bench attention}: forward scaled dot-product attention through the fused
 * (tiled, online-softmax) path and the reference (materialised scores) path. Reports time,
 * GFLOP/s counting 4 * L * S * D flops per head (also when causal), and the bytes each path
 * allocates during one forward call, summed over all JVM threads
 * (com.sun.management.ThreadMXBean#getThreadAllocatedBytes), an upper bound of the extra heap it
 * needs. The reference path is skipped when its score matrix would exceed --ref-limit-mb.
 * For scale, the same run also times the GEMM at the heart of both paths, Q K^T for every head
 * ([B*H, L', D] x [B*H, D, S] with L' = min(L, 1024) rows so its output stays small), and reports
 * its GFLOP/s next to the attention figures.
 */
@Command(name = "attention", mixinStandardHelpOptions = true,
        description = "Scaled dot-product attention forward: fused vs reference path; last line is JSON.")
public final class BenchAttentionCommand implements Runnable {
    @Option(names = "--l", required = true, description = "query length L")
    int l;

    @Option(names = "--s", description = "key length S (default L)")
    Integer s;

    @Option(names = "--d", required = true, description = "head dimension D")
    int d;

    @Option(names = "--heads", defaultValue = "1", description = "heads H (default 1)")
    int heads;

    @Option(names = "--batch", defaultValue = "1", description = "batch B (default 1)")
    int batch;

    @Option(names = "--threads", description = "kernel threads (default: attn4j.threads or all processors)")
    Integer threads;

    @Option(names = "--causal", description = "top-left causal mask")
    boolean causal;

    @Option(names = "--iters", defaultValue = "3", description = "timed runs per path, the best is reported (default 3)")
    int iters;

    @Option(names = "--ref-limit-mb", defaultValue = "1024",
            description = "skip the reference path when its B*H*L*S float scores exceed this many MiB (default 1024)")
    long refLimitMb;

    private record Figures(double ms, double gflops, long allocatedBytes) {
        String json() {
            return String.format(Locale.ROOT, "{\"ms\":%.3f,\"gflops\":%.3f,\"allocatedBytes\":%d}", ms, gflops, allocatedBytes);
        }
    }

    @Override
    public void run() {
        int sl = s == null ? l : s;
        if (l <= 0 || sl <= 0 || d <= 0 || heads <= 0 || batch <= 0 || iters <= 0) {
            throw new IllegalArgumentException("--l, --s, --d, --heads, --batch and --iters must be positive");
        }
        if (threads != null) Parallel.setThreads(threads);
        SplittableRandom rng = new SplittableRandom(42);
        NDArray q = NDArray.uniform(rng, Shape.of(batch, heads, l, d), -1, 1);
        NDArray k = NDArray.uniform(rng, Shape.of(batch, heads, sl, d), -1, 1);
        NDArray v = NDArray.uniform(rng, Shape.of(batch, heads, sl, d), -1, 1);
        double flops = 4.0 * l * sl * d * heads * batch;
        long scoreBytes = 4L * batch * heads * l * sl;
        System.out.printf(Locale.ROOT, "attention B=%d H=%d L=%d S=%d D=%d causal=%b threads=%d kernels=%s%n",
                batch, heads, l, sl, d, causal, Parallel.threads(), Kernels.get().name());
        int gemmRows = Math.min(l, 1024);
        double gemmGflops = measureGemm(batch * heads, gemmRows, sl, d);
        System.out.printf(Locale.ROOT, "%-9s %10s    %8.2f GFLOP/s  (Q K^T GEMM, [%d, %d, %d] x [%d, %d, %d])%n", "gemm:", "",
                gemmGflops, batch * heads, gemmRows, d, batch * heads, d, sl);
        Figures fused = measure(q, k, v, SdpaOptions.Path.FUSED, flops);
        print("fused", fused);
        Figures ref = null;
        String skipped = null;
        if (scoreBytes > refLimitMb << 20) {
            skipped = "score matrix " + (scoreBytes >> 20) + " MiB exceeds --ref-limit-mb " + refLimitMb;
            System.out.println("reference: skipped (" + skipped + ")");
        } else {
            ref = measure(q, k, v, SdpaOptions.Path.REFERENCE, flops);
            print("reference", ref);
        }
        System.out.println(String.format(Locale.ROOT,
                "{\"bench\":\"attention\",\"batch\":%d,\"heads\":%d,\"l\":%d,\"s\":%d,\"d\":%d,\"causal\":%b,\"threads\":%d,"
                        + "\"kernels\":\"%s\",\"flopsPerCall\":%.0f,\"memory\":\"bytes allocated by all threads during one forward\","
                        + "\"gemmGflops\":%.3f,\"fused\":%s,\"reference\":%s%s}",
                batch, heads, l, sl, d, causal, Parallel.threads(), Kernels.get().name(), flops, gemmGflops, fused.json(),
                ref == null ? "null" : ref.json(), skipped == null ? "" : ",\"referenceSkipped\":\"" + skipped + "\""));
    }

    private static void print(String name, Figures f) {
        System.out.printf(Locale.ROOT, "%-9s %10.2f ms %8.2f GFLOP/s %10.1f MiB allocated%n", name + ":", f.ms, f.gflops,
                f.allocatedBytes / (1024.0 * 1024.0));
    }

    private Figures measure(NDArray q, NDArray k, NDArray v, SdpaOptions.Path path, double flops) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        SdpaOptions o = SdpaOptions.defaults().causal(causal).path(path);
        long allocated = Long.MAX_VALUE;
        double best = Double.MAX_VALUE;
        try (var g = GradMode.noGrad()) {
            for (int it = -1; it < iters; it++) {                    // one warm-up run
                long a0 = totalAllocated(mx);
                long t0 = System.nanoTime();
                Tensor out = Attention.scaledDotProduct(Tensor.of(q), Tensor.of(k), Tensor.of(v), o).output();
                long t1 = System.nanoTime();
                long a1 = totalAllocated(mx);
                if (out.numel() == 0) throw new IllegalStateException("empty output");
                if (it >= 0) {
                    best = Math.min(best, (t1 - t0) / 1e6);
                    allocated = Math.min(allocated, a1 - a0);
                }
            }
        }
        return new Figures(best, flops / (best * 1e6), allocated);
    }

    /** Best GFLOP/s of the batched score GEMM [n, rows, d] x [n, d, cols] (B given as [n, cols, d], transposed). */
    private double measureGemm(int n, int rows, int cols, int depth) {
        SplittableRandom rng = new SplittableRandom(7);
        float[] a = NDArray.uniform(rng, Shape.of(n, rows, depth), -1, 1).floatArray();
        float[] b = NDArray.uniform(rng, Shape.of(n, cols, depth), -1, 1).floatArray();
        float[] c = new float[n * rows * cols];
        // warm up for a second first: this is the process's first GEMM, not yet compiled by C2
        long warmEnd = System.nanoTime() + 1_000_000_000L;
        while (System.nanoTime() < warmEnd) {
            Kernels.get().gemmBatch(n, false, true, rows, cols, depth, 1f, a, 0, rows * depth, depth,
                    b, 0, cols * depth, depth, 0f, c, 0, rows * cols, cols);
        }
        double best = Double.MAX_VALUE;
        for (int it = 0; it < Math.max(3, iters); it++) {
            long t0 = System.nanoTime();
            Kernels.get().gemmBatch(n, false, true, rows, cols, depth, 1f, a, 0, rows * depth, depth,
                    b, 0, cols * depth, depth, 0f, c, 0, rows * cols, cols);
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        return 2.0 * n * rows * cols * depth / (best * 1e6);
    }

    private static long totalAllocated(com.sun.management.ThreadMXBean mx) {
        long sum = 0;
        for (long b : mx.getThreadAllocatedBytes(mx.getAllThreadIds())) if (b > 0) sum += b;
        return sum;
    }
}
