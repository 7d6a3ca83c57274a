package dev.attn4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.kernels.Parallel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code attn4j bench attention} on small sizes: both paths and the GEMM rate in the last JSON line. */
class BenchAttentionCommandTest {
    final int threadsBefore = Parallel.threads();

    @AfterEach
    void restoreThreads() {
        Parallel.setThreads(threadsBefore);
    }

    @Test
    void reportsFusedReferenceAndGemmFigures() throws Exception {
        BenchGemmCommandTest.Run r = BenchGemmCommandTest.run("bench", "attention", "--l", "33", "--s", "65", "--d", "8",
                "--heads", "2", "--iters", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertThat(j.get("bench").asText()).isEqualTo("attention");
        assertThat(j.get("l").asInt()).isEqualTo(33);
        assertThat(j.get("s").asInt()).isEqualTo(65);
        assertThat(j.get("gemmGflops").asDouble()).isPositive();
        assertThat(j.get("fused").get("gflops").asDouble()).isPositive();
        assertThat(j.get("reference").get("gflops").asDouble()).isPositive();
        assertThat(r.out()).contains("gemm:").contains("fused:").contains("reference:");
    }

    @Test
    void skipsTheReferencePathAboveTheLimitAndRejectsBadSizes() throws Exception {
        BenchGemmCommandTest.Run r = BenchGemmCommandTest.run("bench", "attention", "--l", "600", "--d", "4", "--iters", "1",
                "--ref-limit-mb", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.lastLine());
        assertThat(j.get("reference").isNull()).isTrue();
        assertThat(j.get("referenceSkipped").asText()).contains("exceeds");
        assertThat(BenchGemmCommandTest.run("bench", "attention", "--l", "0", "--d", "4").exit()).isEqualTo(2);
    }
}
