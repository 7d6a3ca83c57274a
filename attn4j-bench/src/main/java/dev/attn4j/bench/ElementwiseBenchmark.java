package dev.attn4j.bench;

import dev.attn4j.kernels.BinaryOp;
import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.UnaryOp;
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
 * Elementwise kernels, softmax and reductions on one row of {@code size} floats, SIMD against the
 * scalar reference ({@code impl}). Time per call.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class ElementwiseBenchmark {
    @Param({"4096"})
    public int size;
    @Param({"simd", "scalar"})
    public String impl;

    float[] x, y, out;
    Kernels kernels;

    @Setup
    public void setup() {
        var rnd = new SplittableRandom(2);
        x = new float[size];
        y = new float[size];
        out = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) rnd.nextDouble(-4, 4);
            y[i] = (float) rnd.nextDouble(-4, 4);
        }
        kernels = impl.equals("scalar") ? Kernels.scalar() : Kernels.get();
    }

    @Benchmark
    public float[] softmax() {
        kernels.softmax(x, 0, out, 0, size);
        return out;
    }

    @Benchmark
    public float[] logSoftmax() {
        kernels.logSoftmax(x, 0, out, 0, size);
        return out;
    }

    @Benchmark
    public float[] exp() {
        kernels.unary(UnaryOp.EXP, x, 0, out, 0, size);
        return out;
    }

    @Benchmark
    public float[] geluErf() {
        kernels.unary(UnaryOp.GELU_ERF, x, 0, out, 0, size);
        return out;
    }

    @Benchmark
    public float[] geluTanh() {
        kernels.unary(UnaryOp.GELU_TANH, x, 0, out, 0, size);
        return out;
    }

    @Benchmark
    public float[] silu() {
        kernels.unary(UnaryOp.SILU, x, 0, out, 0, size);
        return out;
    }

    @Benchmark
    public float[] mul() {
        kernels.binary(BinaryOp.MUL, x, 0, y, 0, out, 0, size);
        return out;
    }

    @Benchmark
    public float dot() {
        return kernels.dot(x, 0, y, 0, size);
    }

    @Benchmark
    public float sum() {
        return kernels.sum(x, 0, size);
    }
}
