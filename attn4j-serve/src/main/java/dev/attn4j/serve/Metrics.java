package dev.attn4j.serve;

import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters, written as Prometheus text (exposition format 0.0.4) at {@code /metrics}:
 * requests by route and status, request latency and batch-size histograms, queue depth per model,
 * tokens processed and tokens per second over the last {@value #RATE_WINDOW_SECONDS} seconds.
 */
final class Metrics {
    static final int RATE_WINDOW_SECONDS = 10;
    private static final double[] LATENCY_BUCKETS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
    private static final double[] SIZE_BUCKETS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    private static final double[] TOKEN_BUCKETS = {16, 64, 256, 1024, 2048, 4096, 8192, 16384, 65536};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();      // route + status
    private final Map<String, Histogram> latency = new ConcurrentHashMap<>();        // route
    private final Map<String, Histogram> batchRequests = new ConcurrentHashMap<>();  // model
    private final Map<String, Histogram> batchInputs = new ConcurrentHashMap<>();
    private final Map<String, Histogram> batchTokens = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> tokens = new ConcurrentHashMap<>();         // model + kind
    private final Map<String, IntSupplier> queues = new ConcurrentHashMap<>();       // model
    private final AtomicInteger inFlight = new AtomicInteger();
    private final ArrayDeque<long[]> recentTokens = new ArrayDeque<>();              // {second, tokens}

    /** One finished HTTP request. */
    void request(String route, int status, long nanos) {
        requests.computeIfAbsent(route + "\u0000" + status, k -> new LongAdder()).increment();
        latency.computeIfAbsent(route, k -> new Histogram(LATENCY_BUCKETS)).observe(nanos / 1e9);
    }

    AtomicInteger inFlight() {
        return inFlight;
    }

    /** One batch run by a model's batcher. */
    void batch(String model, int requestCount, int inputs, int tokenCount) {
        batchRequests.computeIfAbsent(model, k -> new Histogram(SIZE_BUCKETS)).observe(requestCount);
        batchInputs.computeIfAbsent(model, k -> new Histogram(SIZE_BUCKETS)).observe(inputs);
        batchTokens.computeIfAbsent(model, k -> new Histogram(TOKEN_BUCKETS)).observe(tokenCount);
    }

    /** Tokens a model read ({@code kind} "prompt") or wrote ("completion"). */
    void tokens(String model, String kind, long n) {
        if (n <= 0) return;
        tokens.computeIfAbsent(model + "\u0000" + kind, k -> new LongAdder()).add(n);
        long second = System.nanoTime() / 1_000_000_000L;
        synchronized (recentTokens) {
            long[] last = recentTokens.peekLast();
            if (last != null && last[0] == second) last[1] += n;
            else recentTokens.addLast(new long[] {second, n});
            while (recentTokens.size() > RATE_WINDOW_SECONDS + 1) recentTokens.pollFirst();
        }
    }

    /** Registers a model's queue, reported as a gauge. */
    void queue(String model, IntSupplier depth) {
        queues.put(model, depth);
    }

    /** Tokens per second over the last complete {@value #RATE_WINDOW_SECONDS} seconds. */
    double tokensPerSecond() {
        long now = System.nanoTime() / 1_000_000_000L;
        long sum = 0;
        synchronized (recentTokens) {
            for (long[] s : recentTokens) if (s[0] >= now - RATE_WINDOW_SECONDS && s[0] < now) sum += s[1];
        }
        return sum / (double) RATE_WINDOW_SECONDS;
    }

    /** The Prometheus text. */
    String render() {
        StringBuilder b = new StringBuilder();
        header(b, "attn4j_requests_total", "counter", "HTTP requests by route and status code.");
        for (var e : new TreeMap<>(requests).entrySet()) {
            String[] k = e.getKey().split("\u0000");
            b.append("attn4j_requests_total{route=\"").append(esc(k[0])).append("\",status=\"").append(k[1]).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        header(b, "attn4j_request_duration_seconds", "histogram", "Time from request to response by route.");
        for (var e : new TreeMap<>(latency).entrySet()) e.getValue().write(b, "attn4j_request_duration_seconds", "route", e.getKey());
        header(b, "attn4j_in_flight_requests", "gauge", "Requests being handled now.");
        b.append("attn4j_in_flight_requests ").append(inFlight.get()).append('\n');
        header(b, "attn4j_queue_depth", "gauge", "Requests waiting for a model's next batch.");
        for (var e : new TreeMap<>(queues).entrySet()) {
            b.append("attn4j_queue_depth{model=\"").append(esc(e.getKey())).append("\"} ").append(e.getValue().getAsInt()).append('\n');
        }
        header(b, "attn4j_batch_requests", "histogram", "Requests per batch run by a model.");
        for (var e : new TreeMap<>(batchRequests).entrySet()) e.getValue().write(b, "attn4j_batch_requests", "model", e.getKey());
        header(b, "attn4j_batch_inputs", "histogram", "Inputs (texts) per batch run by a model.");
        for (var e : new TreeMap<>(batchInputs).entrySet()) e.getValue().write(b, "attn4j_batch_inputs", "model", e.getKey());
        header(b, "attn4j_batch_tokens", "histogram", "Tokens per batch run by a model.");
        for (var e : new TreeMap<>(batchTokens).entrySet()) e.getValue().write(b, "attn4j_batch_tokens", "model", e.getKey());
        header(b, "attn4j_tokens_total", "counter", "Tokens read (prompt) and generated (completion) by model.");
        for (var e : new TreeMap<>(tokens).entrySet()) {
            String[] k = e.getKey().split("\u0000");
            b.append("attn4j_tokens_total{model=\"").append(esc(k[0])).append("\",kind=\"").append(k[1]).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        header(b, "attn4j_tokens_per_second", "gauge", "Tokens read and generated per second, all models, over the last "
                + RATE_WINDOW_SECONDS + " s.");
        b.append("attn4j_tokens_per_second ").append(num(tokensPerSecond())).append('\n');
        return b.toString();
    }

    private static void header(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return String.format(Locale.ROOT, "%.6g", v);
    }

    /** A cumulative histogram with fixed upper bounds. */
    static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();
        private final LongAdder count = new LongAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) counts[i] = new LongAdder();
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                    break;
                }
            }
            sum.add(v);
            count.increment();
        }

        void write(StringBuilder b, String name, String label, String value) {
            long cumulative = 0;
            String l = label + "=\"" + esc(value) + "\"";
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts[i].sum();
                b.append(name).append("_bucket{").append(l).append(",le=\"").append(num(bounds[i])).append("\"} ").append(cumulative).append('\n');
            }
            b.append(name).append("_bucket{").append(l).append(",le=\"+Inf\"} ").append(count.sum()).append('\n');
            b.append(name).append("_sum{").append(l).append("} ").append(num(sum.sum())).append('\n');
            b.append(name).append("_count{").append(l).append("} ").append(count.sum()).append('\n');
        }
    }
}
