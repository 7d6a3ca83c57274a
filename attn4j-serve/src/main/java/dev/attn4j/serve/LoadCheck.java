package dev.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A load check of {@code /v1/embeddings}: the lone result of each text is taken first, one
 * request at a time (which also gives the one-at-a-time throughput); then {@code clients}
 * concurrent clients send {@code requests} one-text requests in all, and every response is
 * compared with its text's lone result. Used by {@code attn4j bench serve} and the tests.
 */
public final class LoadCheck {
    private LoadCheck() {
    }

    /**
     * What a run measured.
     *
     * @param requests      requests sent concurrently
     * @param errors        non-200 replies or failed connections (both timed phases)
     * @param mismatches    replies whose embedding differs from the lone result by more than 1e-5
     * @param maxDiff       largest |difference| to a lone result seen
     * @param p50Millis     median latency of the concurrent requests
     * @param p99Millis     99th percentile latency
     * @param throughput    concurrent requests per second
     * @param loneRequests  requests sent one at a time
     * @param loneThroughput requests per second one at a time
     */
    public record Result(int requests, int errors, int mismatches, double maxDiff, double p50Millis, double p99Millis,
                         double throughput, int loneRequests, double loneThroughput) {
        /** Concurrent throughput over one-at-a-time throughput. */
        public double speedup() {
            return throughput / loneThroughput;
        }

        public ObjectNode toJson() {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("requests", requests);
            o.put("errors", errors);
            o.put("mismatches", mismatches);
            o.put("max_abs_diff", maxDiff);
            o.put("p50_ms", round(p50Millis));
            o.put("p99_ms", round(p99Millis));
            o.put("requests_per_second", round(throughput));
            o.put("one_at_a_time_requests", loneRequests);
            o.put("one_at_a_time_requests_per_second", round(loneThroughput));
            o.put("speedup", round(speedup()));
            return o;
        }

        private static double round(double v) {
            return Math.round(v * 100) / 100.0;
        }
    }

    /** {@code n} sentences of 4 to 30 words from a fixed word list, reproducible by {@code seed}. */
    public static List<String> sentences(int n, long seed) {
        String[] words = ("the a cat dog model server request attention layer head token text embedding sentence batch queue "
                + "quickly slowly over under with without runs reads writes sends gets small large every each many few "
                + "river mountain city station morning evening music language vector search answer question").split(" ");
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = 4 + r.nextInt(27);
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < len; w++) sb.append(w == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            out.add(Character.toUpperCase(sb.charAt(0)) + sb.substring(1) + ".");
        }
        return out;
    }

    /**
     * Runs the check against {@code baseUrl} (e.g. {@code http://127.0.0.1:8080}); {@code apiKey}
     * may be null. Request i of the concurrent phase embeds {@code texts.get(i % texts.size())}.
     */
    public static Result run(String baseUrl, String model, String apiKey, List<String> texts, int clients, int requests)
            throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        URI uri = URI.create(baseUrl + "/v1/embeddings");
        // one at a time: each text's lone result (this pass also warms the JIT up), then a timed pass
        float[][] lone = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            Reply r = embed(http, uri, model, apiKey, texts.get(i));
            if (r.vector == null) throw new IOException("the lone request for text " + i + " failed: " + r.error);
            lone[i] = r.vector;
        }
        int errorCount = 0, mismatches = 0;
        double maxDiff = 0;
        long start = System.nanoTime();
        for (int i = 0; i < texts.size(); i++) {
            Reply r = embed(http, uri, model, apiKey, texts.get(i));
            double d = diff(lone[i], r.vector);
            if (r.vector == null) errorCount++;
            else if (d > 1e-5) mismatches++;
            if (r.vector != null) maxDiff = Math.max(maxDiff, d);
        }
        double loneSeconds = (System.nanoTime() - start) / 1e9;
        // concurrently: an untimed round of 2 requests per client warms up the batched shapes, then the timed one
        concurrent(http, uri, model, apiKey, texts, clients, Math.min(requests, 2 * clients), new long[requests], new float[requests][]);
        long[] latency = new long[requests];
        float[][] got = new float[requests][];
        start = System.nanoTime();
        concurrent(http, uri, model, apiKey, texts, clients, requests, latency, got);
        double seconds = (System.nanoTime() - start) / 1e9;
        for (int i = 0; i < requests; i++) {
            if (got[i] == null) {
                errorCount++;
                continue;
            }
            double d = diff(lone[i % texts.size()], got[i]);
            maxDiff = Math.max(maxDiff, d);
            if (d > 1e-5) mismatches++;
        }
        long[] sorted = latency.clone();
        Arrays.sort(sorted);
        return new Result(requests, errorCount, mismatches, maxDiff, percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6,
                requests / seconds, texts.size(), texts.size() / loneSeconds);
    }

    /** {@code requests} requests from {@code clients} threads; reply i's embedding into got[i] (null on error), its latency into latency[i]. */
    private static void concurrent(HttpClient http, URI uri, String model, String apiKey, List<String> texts, int clients, int requests,
                                   long[] latency, float[][] got) throws IOException, InterruptedException {
        AtomicInteger next = new AtomicInteger();
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<?>> fs = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                fs.add(pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < requests; i = next.getAndIncrement()) {
                        long t0 = System.nanoTime();
                        Reply r = embed(http, uri, model, apiKey, texts.get(i % texts.size()));
                        latency[i] = System.nanoTime() - t0;
                        got[i] = r.vector;
                    }
                    return null;
                }));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IOException("a client failed: " + e.getCause(), e.getCause());
                }
            }
        }
    }

    /** Largest |a - b|; infinite when the lengths differ, 0 when b is null (counted as an error instead). */
    private static double diff(float[] a, float[] b) {
        if (b == null) return 0;
        if (a.length != b.length) return Double.POSITIVE_INFINITY;
        double d = 0;
        for (int k = 0; k < a.length; k++) d = Math.max(d, Math.abs(a[k] - b[k]));
        return d;
    }

    private static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) return 0;
        int i = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private record Reply(float[] vector, String error) {
    }

    private static Reply embed(HttpClient http, URI uri, String model, String apiKey, String text) {
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        if (model != null) body.put("model", model);
        body.put("input", text);
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
        try {
            HttpResponse<byte[]> res = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (res.statusCode() != 200) return new Reply(null, "HTTP " + res.statusCode() + ": " + new String(res.body(), java.nio.charset.StandardCharsets.UTF_8));
            JsonNode e = Server.JSON.readTree(res.body()).path("data").path(0).path("embedding");
            float[] v = new float[e.size()];
            for (int k = 0; k < v.length; k++) v[k] = (float) e.get(k).asDouble();
            return new Reply(v, null);
        } catch (IOException e) {
            return new Reply(null, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Reply(null, "interrupted");
        }
    }
}
