package dev.attn4j.serve;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** 64 concurrent clients on loopback: no errors, every response equal to its lone result; the figures are printed. */
class LoadTest {
    @Test
    void sixtyFourClientsGetTheirLoneResultsWithoutErrors() throws Exception {
        try (Server s = Server.start(ServeOptions.defaults().withPort(0), List.of(TestModels.embedding()))) {
            List<String> texts = LoadCheck.sentences(32, 7);
            LoadCheck.Result r = LoadCheck.run(s.url(), null, null, texts, 64, 192);
            System.out.println("load: " + r.toJson());
            assertThat(r.errors()).isZero();
            assertThat(r.mismatches()).as("max |d| " + r.maxDiff()).isZero();
            assertThat(r.maxDiff()).isLessThanOrEqualTo(1e-5);
            assertThat(r.p99Millis()).isGreaterThanOrEqualTo(r.p50Millis());
            // batching must at least not lose throughput against one request at a time (the 2x target is
            // measured by `attn4j bench serve`; this machine's load varies too much to assert it here)
            assertThat(r.speedup()).isGreaterThan(1.0);
        }
    }
}
