package dev.attn4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.kernels.Parallel;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code attn4j bench gemm} on tiny sizes: exit code, human lines on stderr, JSON last on stdout. */
class BenchGemmCommandTest {
    static final Pattern JSON = Pattern.compile(
            "\\{\"op\":\"gemm\",\"m\":(\\d+),\"n\":(\\d+),\"k\":(\\d+),\"threads\":(\\d+)(,\"batch\":(\\d+))?,\"gflops\":([0-9.]+)}");

    final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    record Run(int exit, String out, String err) {
        String lastLine() {
            String[] lines = out.strip().split("\\R");
            return lines[lines.length - 1];
        }
    }

    static Run run(String... args) {
        CliRun.Output o = CliRun.main(null, args);
        return new Run(o.code(), o.out(), o.err());
    }

    static final String[] QUICK = {"--warmup-ms", "0", "--min-run-ms", "1", "--runs", "3"};

    static String[] args(String... more) {
        String[] all = new String[more.length + QUICK.length];
        System.arraycopy(more, 0, all, 0, more.length);
        System.arraycopy(QUICK, 0, all, more.length, QUICK.length);
        return all;
    }

    @Test
    void printsOneJsonObjectLast() {
        Run r = run(args("bench", "gemm", "--m", "17", "--n", "33", "--k", "9", "--threads", "2"));
        assertThat(r.exit()).as(r.err()).isZero();
        Matcher m = JSON.matcher(r.lastLine());
        assertThat(m.matches()).as("last line: " + r.lastLine()).isTrue();
        assertThat(m.group(1)).isEqualTo("17");
        assertThat(m.group(2)).isEqualTo("33");
        assertThat(m.group(3)).isEqualTo("9");
        assertThat(m.group(4)).isEqualTo("2");
        assertThat(m.group(5)).as("no batch key for batch 1").isNull();
        assertThat(Double.parseDouble(m.group(7))).isPositive();
        assertThat(r.err().lines().filter(l -> l.contains(" run ")).count()).isEqualTo(3);
    }

    @Test
    void sixteenBitWeightsAreTimedBesideF32() {
        Run r = run(args("bench", "gemm", "--m", "1", "--n", "300", "--k", "70", "--threads", "2", "--b-dtype", "F32,BF16,f16"));
        assertThat(r.exit()).as(r.err()).isZero();
        Matcher m = Pattern.compile("\\{\"op\":\"gemm\",\"m\":1,\"n\":300,\"k\":70,\"threads\":2,\"gflops\":[0-9.]+"
                + "(,\"F32\":\\{[^}]*}),\"BF16\":\\{\"gflops\":([0-9.]+),\"medianGflops\":[0-9.]+,\"bGBps\":([0-9.]+),"
                + "\"medianBGBps\":[0-9.]+},\"F16\":\\{[^}]*}}").matcher(r.lastLine());
        assertThat(m.matches()).as("last line: " + r.lastLine()).isTrue();
        double gflops = Double.parseDouble(m.group(2)), gbps = Double.parseDouble(m.group(3));
        assertThat(gbps).as("B bytes per product / seconds per product").isCloseTo(gflops * 300 * 70 * 2 / (2.0 * 300 * 70),
                org.assertj.core.data.Offset.offset(1e-2 * gbps + 1e-3));
        assertThat(r.err().lines().filter(l -> l.contains(" run ")).count()).isEqualTo(9);
        assertThat(r.err()).contains("B=BF16").contains("B=F16").contains("GB/s");
        Run bad = run(args("bench", "gemm", "--m", "2", "--n", "3", "--k", "4", "--b-dtype", "INT8"));
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("--b-dtype").contains("INT8");
    }

    @Test
    void pacedRunsOnePerStdinLineAndStopsAtEndOfInput() {
        java.io.InputStream oldIn = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("\n\n".getBytes(StandardCharsets.UTF_8)));
            Run r = run(args("bench", "gemm", "--m", "16", "--n", "16", "--k", "16", "--threads", "1", "--paced"));
            assertThat(r.exit()).as(r.err()).isZero();
            var lines = r.out().strip().split("\\R");
            assertThat(lines).hasSize(3);   // two paced runs (runs = 3, but only two lines to read), then the summary
            assertThat(lines[0]).matches("\\{\"run\":1,\"gflops\":[0-9.]+}");
            assertThat(lines[1]).matches("\\{\"run\":2,\"gflops\":[0-9.]+}");
            assertThat(JSON.matcher(lines[2]).matches()).as(lines[2]).isTrue();
        } finally {
            System.setIn(oldIn);
        }
    }

    @Test
    void batchedAndTransposed() {
        Run r = run(args("bench", "gemm", "--m", "8", "--n", "16", "--k", "4", "--batch", "3", "--trans-a", "--trans-b"));
        assertThat(r.exit()).as(r.err()).isZero();
        Matcher m = JSON.matcher(r.lastLine());
        assertThat(m.matches()).as("last line: " + r.lastLine()).isTrue();
        assertThat(m.group(6)).isEqualTo("3");
        assertThat(Integer.parseInt(m.group(4))).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(r.err()).contains("transA").contains("transB");
    }

    @Test
    void badSizesExitWithAMessage() {
        Run r = run(args("bench", "gemm", "--m", "0", "--n", "4", "--k", "4"));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--m");
        Run missing = run("bench", "gemm", "--m", "4");
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("--n");
    }
}
