package dev.attn4j.serve;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** API keys, the queue limit, and graceful shutdown. */
class ServerLimitsTest {
    @Test
    void apiKeysGuardTheApiAndThePageButNotHealthAndMetrics() {
        try (Server s = Server.start(ServeOptions.defaults().withPort(0).withApiKeys(Set.of("k-one", "k-two")), List.of(TestModels.seq2seq()))) {
            String url = s.url();
            Http.Reply none = Http.post(url + "/tokenize", "{\"text\": \"May 1\"}");
            assertThat(none.status()).isEqualTo(401);
            assertThat(none.error("code")).isEqualTo("invalid_api_key");
            assertThat(none.raw().headers().firstValue("www-authenticate")).contains("Bearer");
            assertThat(Http.post(url + "/tokenize", "{\"text\": \"May 1\"}", "wrong").status()).isEqualTo(401);
            assertThat(Http.post(url + "/tokenize", "{\"text\": \"May 1\"}", "k-two").status()).isEqualTo(200);
            assertThat(Http.get(url + "/v1/models").status()).isEqualTo(401);
            assertThat(Http.get(url + "/").status()).isEqualTo(401);
            assertThat(Http.get(url + "/", "k-one").status()).isEqualTo(200);
            assertThat(Http.get(url + "/health").status()).isEqualTo(200);
            assertThat(Http.get(url + "/metrics").status()).isEqualTo(200);
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        // batches of one request (1 token), at most 2 waiting: 32 concurrent requests of 64 texts overflow it
        ServeOptions o = ServeOptions.defaults().withPort(0).withMaxBatchTokens(1).withMaxQueue(2).withBatchWait(Duration.ZERO);
        try (Server s = Server.start(o, List.of(TestModels.embedding()))) {
            StringBuilder input = new StringBuilder("[");
            for (int i = 0; i < 64; i++) input.append(i == 0 ? "" : ",").append("\"a text to embed number ").append(i).append('"');
            String body = "{\"input\": " + input + "]}";
            List<Http.Reply> replies = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(32)) {
                List<Future<Http.Reply>> fs = new ArrayList<>();
                for (int i = 0; i < 32; i++) fs.add(pool.submit(() -> Http.post(s.url() + "/v1/embeddings", body)));
                for (Future<Http.Reply> f : fs) replies.add(f.get());
            }
            List<Http.Reply> refused = replies.stream().filter(r -> r.status() == 429).toList();
            assertThat(refused).isNotEmpty();
            assertThat(replies).allMatch(r -> r.status() == 200 || r.status() == 429);
            Http.Reply r = refused.getFirst();
            assertThat(r.raw().headers().firstValue("retry-after")).contains("1");
            assertThat(r.error("type")).isEqualTo("rate_limit_error");
            assertThat(r.error("message")).contains("--max-queue 2");
        }
    }

    @Test
    void stopFinishesRequestsInFlightAndRefusesNewOnes(@TempDir Path tmp) throws Exception {
        Server s = Server.start(ServeOptions.defaults().withPort(0).withShutdownTimeout(Duration.ofSeconds(60)), List.of(TestModels.chat(tmp)));
        String url = s.url();
        // a slow request: 200 tokens streamed
        try (ExecutorService pool = Executors.newSingleThreadExecutor()) {
            Future<Http.Reply> slow = pool.submit(() -> Http.post(url + "/v1/completions",
                    "{\"prompt\": \"abc\", \"max_tokens\": 240, \"temperature\": 1, \"seed\": 3, \"stream\": true}"));
            long until = System.nanoTime() + 10_000_000_000L;
            while (!Http.get(url + "/metrics").body().contains("kind=\"completion\"") && System.nanoTime() < until) Thread.sleep(5);
            Thread stopper = Thread.ofPlatform().start(s::stop);
            Thread.sleep(20);
            Http.Reply health = Http.get(url + "/health");                    // while draining (if the request still runs)
            assertThat(health.status()).isIn(200, 503);
            stopper.join();
            Http.Reply r = slow.get();
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.body()).contains("[DONE]");
        }
        assertThatThrownBy(() -> Http.get(url + "/health")).isInstanceOf(java.io.UncheckedIOException.class);
    }

}
