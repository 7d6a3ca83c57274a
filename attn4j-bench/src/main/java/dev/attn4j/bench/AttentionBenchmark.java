package dev.attn4j.bench;

import dev.attn4j.attention.Attention;
import dev.attn4j.attention.SdpaOptions;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
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
 * Scaled dot-product attention forward, one head [1, 1, L, D], fused (tiled online softmax) vs
 * reference (materialised scores) path, with and without the causal mask. Flops per call:
 * 4 * L * L * D. Run: {@code java -jar attn4j-bench/target/benchmarks.jar AttentionBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class AttentionBenchmark {
    @Param({"512", "2048"})
    int length;

    @Param({"64"})
    int headDim;

    @Param({"FUSED", "REFERENCE"})
    SdpaOptions.Path path;

    @Param({"false", "true"})
    boolean causal;

    private Tensor q, k, v;
    private SdpaOptions options;

    @Setup
    public void setup() {
        SplittableRandom rng = new SplittableRandom(1);
        q = Tensor.of(NDArray.uniform(rng, Shape.of(1, 1, length, headDim), -1, 1));
        k = Tensor.of(NDArray.uniform(rng, Shape.of(1, 1, length, headDim), -1, 1));
        v = Tensor.of(NDArray.uniform(rng, Shape.of(1, 1, length, headDim), -1, 1));
        options = SdpaOptions.defaults().causal(causal).path(path);
    }

    @Benchmark
    public NDArray forward() {
        try (var g = GradMode.noGrad()) {
            return Attention.scaledDotProduct(q, k, v, options).output().data();
        }
    }
}
