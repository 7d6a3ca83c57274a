package dev.attn4j.cli;

import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.kernels.Quants;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code attn4j bench matvec}: the matrix-vector product of a decode step, y = W x with W
 * [out, in], for the weight in each of several types: F32 and BF16/F16 through the GEMM at m = 1
 * ({@link Kernels#gemm} / {@link Kernels#gemm16}, W stored [in, out], the layout its
 * matrix-vector path streams) and Q8_0 / Q4_0 / Q4_1 through {@link Kernels#matVecQ}. The types
 * are timed in turn within each run (interleaved, so they see the same machine load); the last
 * stdout line is a JSON object with each type's best and median GFLOP/s (2 in out flops) and GB/s
 * of weight bytes read.
 */
@Command(name = "matvec", mixinStandardHelpOptions = true,
        description = "Decode matrix-vector throughput y[out] = W[out,in] x[in] for F32, BF16, F16 and quantized weights.")
public final class BenchMatvecCommand implements Runnable {
    @Option(names = "--in", defaultValue = "2048", description = "Input size (columns of W; default: ${DEFAULT-VALUE}).")
    int in;
    @Option(names = "--out", defaultValue = "8192", description = "Output size (rows of W; default: ${DEFAULT-VALUE}).")
    int out;
    @Option(names = "--threads", description = "Kernel threads (default: available processors).")
    Integer threads;
    @Option(names = "--types", split = ",", paramLabel = "LIST", defaultValue = "F32,BF16,Q8_0,Q4_0,Q4_1",
            description = "Weight types: F32, BF16, F16, Q8_0, Q4_0, Q4_1 (default: ${DEFAULT-VALUE}).")
    List<String> types;
    @Option(names = "--runs", defaultValue = "5", description = "Timed runs (default: ${DEFAULT-VALUE}).")
    int runs;
    @Option(names = "--warmup-ms", defaultValue = "2000", description = "Warm-up time per type in ms (default: ${DEFAULT-VALUE}).")
    long warmupMs;
    @Option(names = "--min-run-ms", defaultValue = "200", description = "Minimum length of one timed run in ms (default: ${DEFAULT-VALUE}).")
    long minRunMs;

    @Override
    public void run() {
        if (in < 1 || out < 1) throw new IllegalArgumentException("--in and --out must be >= 1, got " + in + ", " + out);
        if (in % 32 != 0) throw new IllegalArgumentException("--in must be a multiple of 32 (the quantized block size), got " + in);
        if ((long) in * out > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("W too large for one Java array");
        if (runs < 1) throw new IllegalArgumentException("--runs must be >= 1, got " + runs);
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1) throw new IllegalArgumentException("--threads must be >= 1, got " + t);
        Parallel.setThreads(t);
        Kernels kernels = Kernels.get();
        SplittableRandom rnd = new SplittableRandom(42);
        float[] w = new float[in * out];                                    // [out, in]
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextDouble() * 2 - 1);
        float[] x = new float[in];
        for (int i = 0; i < in; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        float[] y = new float[out];
        List<String> names = new ArrayList<>();
        List<Runnable> ops = new ArrayList<>();
        List<Long> bytes = new ArrayList<>();
        for (String s : types) {
            String name = s.trim().toUpperCase(Locale.ROOT);
            if (names.contains(name)) continue;
            switch (name) {
                case "F32", "BF16", "F16" -> {
                    float[] wt = new float[in * out];                       // [in, out]: B of the GEMM, not transposed
                    for (int o = 0; o < out; o++) for (int i = 0; i < in; i++) wt[i * out + o] = w[o * in + i];
                    if (name.equals("F32")) {
                        ops.add(() -> kernels.gemm(false, false, 1, out, in, 1f, x, 0, in, wt, 0, out, 0f, y, 0, out));
                        bytes.add(4L * in * out);
                    } else {
                        DType dt = DType.valueOf(name);
                        short[] bits = new short[wt.length];
                        for (int i = 0; i < wt.length; i++) bits[i] = dt.roundBits(wt[i]);
                        MemorySegment seg = MemorySegment.ofArray(bits);
                        ops.add(() -> kernels.gemm16(false, false, 1, out, in, 1f, x, 0, in, seg, dt, 0, out, 0f, y, 0, out));
                        bytes.add(2L * in * out);
                    }
                }
                default -> {
                    QuantType qt;
                    try {
                        qt = QuantType.valueOf(name);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--types: unknown type '" + s + "' (F32, BF16, F16, Q8_0, Q4_0, Q4_1)");
                    }
                    QuantizedMatrix q = Quants.quantize(qt, w, 0, out, in);
                    ops.add(() -> kernels.matVecQ(q, x, 0, y, 0));
                    bytes.add(q.data().byteSize());
                }
            }
            names.add(name);
        }
        double flops = 2.0 * in * out;
        int[] reps = new int[ops.size()];
        for (int o = 0; o < ops.size(); o++) {
            Runnable op = ops.get(o);
            long end = System.nanoTime() + warmupMs * 1_000_000L;
            int calls = 0;
            do {
                op.run();
                calls++;
            } while (calls < 3 || System.nanoTime() < end);
            long t0 = System.nanoTime();
            int cal = 0;
            do {
                op.run();
                cal++;
            } while (System.nanoTime() - t0 < 100_000_000L);
            double secPerCall = (System.nanoTime() - t0) / 1e9 / cal;
            reps[o] = (int) Math.max(1, Math.min(1_000_000, Math.ceil(minRunMs / 1e3 / secPerCall)));
        }
        double[][] rates = new double[ops.size()][runs];
        for (int r = 0; r < runs; r++) {
            for (int o = 0; o < ops.size(); o++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < reps[o]; i++) ops.get(o).run();
                double sec = (System.nanoTime() - t0) / 1e9;
                rates[o][r] = flops * reps[o] / sec / 1e9;
                System.err.printf(Locale.ROOT, "matvec out=%d in=%d W=%s threads=%d kernels=%s run %d: %.3f ms/call, %.2f GFLOP/s, W read at %.2f GB/s%n",
                        out, in, names.get(o), t, kernels.name(), r + 1, sec * 1e3 / reps[o], rates[o][r],
                        bytes.get(o) * reps[o] / sec / 1e9);
            }
        }
        StringBuilder json = new StringBuilder(String.format(Locale.ROOT,
                "{\"op\":\"matvec\",\"out\":%d,\"in\":%d,\"threads\":%d,\"kernels\":\"%s\"", out, in, t, kernels.name()));
        for (int o = 0; o < ops.size(); o++) {
            double[] g = rates[o].clone();
            java.util.Arrays.sort(g);
            double best = g[runs - 1], median = (g[(runs - 1) / 2] + g[runs / 2]) / 2;
            double perGflop = bytes.get(o) / flops;                         // weight bytes per flop
            json.append(String.format(Locale.ROOT, ",\"%s\":{\"gflops\":%.3f,\"medianGflops\":%.3f,\"wGBps\":%.3f,\"medianWGBps\":%.3f,\"wBytes\":%d}",
                    names.get(o), best, median, best * perGflop, median * perGflop, bytes.get(o)));
        }
        System.out.println(json.append('}'));
        System.out.flush();
    }
}
