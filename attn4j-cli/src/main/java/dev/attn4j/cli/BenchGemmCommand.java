package dev.attn4j.cli;

import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.tensor.DType;
import java.util.Locale;
import java.util.SplittableRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code attn4j bench gemm}: times C = A B (or a strided batch of them) with the kernels in use.
 * Warms up (2 s by default: the packing loops and micro-kernels must reach C2, and a 1 s warm-up
 * sometimes timed C1 code), then times several runs; each run repeats the product enough times to last about
 * {@code --min-run-ms}. One human line per run goes to stderr; the last stdout line is a JSON
 * object with the best run's GFLOP/s (2 m n k flops per product). {@code --b-dtype F32,BF16}
 * times B (the weight) in F32 and in BF16 ({@link Kernels#gemm16}) in turn within each run, and
 * adds for each its best and median GFLOP/s and GB/s of B read.
 */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "GEMM throughput: C[m,n] = op(A)[m,k] op(B)[k,n], optionally batched.")
public final class BenchGemmCommand implements Runnable {
    @Option(names = "--m", required = true, description = "Rows of C.")
    int m;
    @Option(names = "--n", required = true, description = "Columns of C.")
    int n;
    @Option(names = "--k", required = true, description = "Inner dimension.")
    int k;
    @Option(names = "--threads", description = "Kernel threads (default: available processors).")
    Integer threads;
    @Option(names = "--batch", defaultValue = "1", description = "Matrices per batched call (default: ${DEFAULT-VALUE}).")
    int batch;
    @Option(names = "--trans-a", description = "A is stored transposed, [k, m].")
    boolean transA;
    @Option(names = "--trans-b", description = "B is stored transposed, [n, k].")
    boolean transB;
    @Option(names = "--runs", defaultValue = "5", description = "Timed runs (default: ${DEFAULT-VALUE}).")
    int runs;
    @Option(names = "--warmup-ms", defaultValue = "2000", description = "Warm-up time in ms (default: ${DEFAULT-VALUE}).")
    long warmupMs;
    @Option(names = "--min-run-ms", defaultValue = "200", description = "Minimum length of one timed run in ms (default: ${DEFAULT-VALUE}).")
    long minRunMs;
    @Option(names = "--b-dtype", split = ",", paramLabel = "LIST", defaultValue = "F32",
            description = "Element type(s) of B, the weight: F32, BF16, F16 (16-bit B is widened inside the GEMM, Kernels.gemm16)."
                    + " Several, e.g. F32,BF16, are timed in turn within each run (interleaved, so they see the same machine load);"
                    + " each gets its best and median GFLOP/s and GB/s of B bytes read per product (default: ${DEFAULT-VALUE}).")
    java.util.List<String> bDtypes;
    @Option(names = "--paced", description = "Before each timed run wait for a line on stdin, and print the run's"
            + " result as a JSON line at once: lets a driver interleave these runs with another program's"
            + " (scripts/bench-gemm-vs-openblas.sh), so both see the same machine load.")
    boolean paced;

    @Override
    public void run() {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("--m, --n and --k must be >= 1, got m=" + m + ", n=" + n + ", k=" + k);
        }
        if (batch < 1) throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        if (runs < 1) throw new IllegalArgumentException("--runs must be >= 1, got " + runs);
        if (warmupMs < 0 || minRunMs < 0) throw new IllegalArgumentException("--warmup-ms and --min-run-ms must be >= 0");
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + t);
        long aSize = (long) m * k, bSize = (long) k * n, cSize = (long) m * n;
        if (aSize * batch > Integer.MAX_VALUE - 8 || bSize * batch > Integer.MAX_VALUE - 8
                || cSize * batch > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("matrices too large for one Java array: batch=" + batch
                    + ", m=" + m + ", n=" + n + ", k=" + k);
        }
        java.util.List<DType> types = new java.util.ArrayList<>();
        for (String d : bDtypes) {
            DType dt;
            try {
                dt = DType.valueOf(d.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--b-dtype: unknown type '" + d + "' (F32, BF16 or F16)");
            }
            if (dt == DType.F64) throw new IllegalArgumentException("--b-dtype: F64 is not a GEMM type (F32, BF16 or F16)");
            if (dt.is16Bit() && batch > 1) throw new IllegalArgumentException("--b-dtype " + dt + " times single products only (--batch 1)");
            if (!types.contains(dt)) types.add(dt);
        }
        if (paced && types.size() > 1) throw new IllegalArgumentException("--paced times one --b-dtype");
        Parallel.setThreads(t);
        Kernels kernels = Kernels.get();
        var rnd = new SplittableRandom(42);
        float[] a = randoms(rnd, (int) (aSize * batch));
        float[] b = randoms(rnd, (int) (bSize * batch));
        float[] c = new float[(int) (cSize * batch)];
        int lda = transA ? m : k, ldb = transB ? k : n;
        java.util.List<Runnable> ops = new java.util.ArrayList<>();
        for (DType dt : types) {
            if (dt == DType.F32) {
                ops.add(batch == 1
                        ? () -> kernels.gemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n)
                        : () -> kernels.gemmBatch(batch, transA, transB, m, n, k, 1f, a, 0, (int) aSize, lda,
                                b, 0, (int) bSize, ldb, 0f, c, 0, (int) cSize, n));
            } else {
                short[] bits = new short[b.length];
                for (int i = 0; i < b.length; i++) bits[i] = dt.roundBits(b[i]);
                java.lang.foreign.MemorySegment seg = java.lang.foreign.MemorySegment.ofArray(bits);
                ops.add(() -> kernels.gemm16(transA, transB, m, n, k, 1f, a, 0, lda, seg, dt, 0, ldb, 0f, c, 0, n));
            }
        }
        double flops = 2.0 * m * n * k * batch;

        // Warm-up, then the calls per timed run from the warm code's speed (the warm-up average
        // includes the interpreted and C1-compiled first calls, many times slower).
        int[] reps = new int[ops.size()];
        for (int o = 0; o < ops.size(); o++) {
            Runnable op = ops.get(o);
            long warmEnd = System.nanoTime() + warmupMs * 1_000_000L;
            int warmCalls = 0;
            do {
                op.run();
                warmCalls++;
            } while (warmCalls < 3 || System.nanoTime() < warmEnd);
            long calStart = System.nanoTime();
            int calCalls = 0;
            do {
                op.run();
                calCalls++;
            } while (System.nanoTime() - calStart < 100_000_000L);
            double secPerCall = (System.nanoTime() - calStart) / 1e9 / calCalls;
            reps[o] = (int) Math.max(1, Math.min(1_000_000, Math.ceil(minRunMs / 1e3 / secPerCall)));
        }

        double[][] rates = new double[ops.size()][runs];
        int done = 0;
        var stdin = paced ? new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8)) : null;
        for (int r = 0; r < runs; r++) {
            if (paced && readLine(stdin) == null) break;
            for (int o = 0; o < ops.size(); o++) {
                DType dt = types.get(o);
                String what = String.format(Locale.ROOT, "gemm%s m=%d n=%d k=%d%s%s%s threads=%d kernels=%s",
                        batch > 1 ? " batch=" + batch : "", m, n, k, transA ? " transA" : "", transB ? " transB" : "",
                        types.size() > 1 || dt != DType.F32 ? " B=" + dt : "", t, kernels.name());
                Runnable op = ops.get(o);
                long t0 = System.nanoTime();
                for (int i = 0; i < reps[o]; i++) op.run();
                double sec = (System.nanoTime() - t0) / 1e9;
                double gflops = flops * reps[o] / sec / 1e9;
                double gbps = (double) bSize * batch * dt.byteSize() * reps[o] / sec / 1e9;
                rates[o][r] = gflops;
                System.err.printf(Locale.ROOT, "%s run %d: %d calls in %.3f s, %.3f ms/call, %.2f GFLOP/s, B read at %.2f GB/s%n",
                        what, r + 1, reps[o], sec, sec * 1e3 / reps[o], gflops, gbps);
                if (paced) {
                    System.out.printf(Locale.ROOT, "{\"run\":%d,\"gflops\":%.3f}%n", r + 1, gflops);
                    System.out.flush();
                }
            }
            done++;
        }
        StringBuilder json = new StringBuilder();
        json.append(String.format(Locale.ROOT, "{\"op\":\"gemm\",\"m\":%d,\"n\":%d,\"k\":%d,\"threads\":%d", m, n, k, t));
        if (batch > 1) json.append(",\"batch\":").append(batch);
        for (int o = 0; o < ops.size(); o++) {
            double[] got = java.util.Arrays.copyOf(rates[o], done);
            java.util.Arrays.sort(got);
            double best = done == 0 ? 0 : got[done - 1], median = done == 0 ? 0 : (got[(done - 1) / 2] + got[done / 2]) / 2;
            double bytes = (double) bSize * batch * types.get(o).byteSize(), gflopPerProduct = flops / 1e9;
            if (o == 0 && types.get(0) == DType.F32) {
                json.append(String.format(Locale.ROOT, ",\"gflops\":%.3f", best));
            }
            if (types.size() > 1 || types.get(o) != DType.F32) {
                json.append(String.format(Locale.ROOT, ",\"%s\":{\"gflops\":%.3f,\"medianGflops\":%.3f,\"bGBps\":%.3f,\"medianBGBps\":%.3f}",
                        types.get(o), best, median, best / gflopPerProduct * bytes / 1e9, median / gflopPerProduct * bytes / 1e9));
            }
        }
        json.append('}');
        System.out.println(json);
        System.out.flush();
    }

    private static String readLine(java.io.BufferedReader in) {
        try {
            return in.readLine();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("reading the pacing line from stdin", e);
        }
    }

    private static float[] randoms(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }
}
