package dev.attn4j.bench;

import dev.attn4j.kernels.Kernels;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * GEMM time per call with the kernels in use (SIMD when the forked JVM has the vector module,
 * which {@code jvmArgsAppend} adds). GFLOP/s = 2 m n k batch / time. {@code shape} is "MxNxK"
 * or "MxNxKxBATCH" (x, not commas: JMH splits -p values at commas); the defaults are the
 * attention/MLP shapes that scripts/bench-gemm-vs-openblas.sh compares with numpy.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC"})
public class GemmBenchmark {
    @Param({"1024x1024x1024", "4096x1536x384", "4096x384x1536", "256x256x32x48"})
    public String shape;
    @Param({"false"})
    public boolean transA;
    @Param({"false"})
    public boolean transB;

    int m, n, k, batch;
    float[] a, b, c;
    Kernels kernels;

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        m = Integer.parseInt(p[0].trim());
        n = Integer.parseInt(p[1].trim());
        k = Integer.parseInt(p[2].trim());
        batch = p.length > 3 ? Integer.parseInt(p[3].trim()) : 1;
        var rnd = new SplittableRandom(1);
        a = new float[m * k * batch];
        b = new float[k * n * batch];
        c = new float[m * n * batch];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
        kernels = Kernels.get();
    }

    @Benchmark
    public float[] gemm() {
        int lda = transA ? m : k, ldb = transB ? k : n;
        if (batch == 1) {
            kernels.gemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
        } else {
            kernels.gemmBatch(batch, transA, transB, m, n, k, 1f, a, 0, m * k, lda, b, 0, k * n, ldb,
                    0f, c, 0, m * n, n);
        }
        return c;
    }
}
