package dev.attn4j.serve;

import java.time.Duration;
import java.util.Set;

/**
 * How the server runs.
 *
 * @param host             address to bind ({@value #DEFAULT_HOST}: loopback only)
 * @param port             TCP port (0: any free port)
 * @param maxBatchTokens   a dynamic batch grows while its requests hold at most this many tokens
 * @param batchWait        how long a batch waits for more requests after its first arrived
 * @param maxQueue         requests waiting per model beyond which new ones get 429
 * @param maxBodyBytes     request bodies above this get 413
 * @param maxInputs        inputs per embeddings / classify request at most
 * @param maxRequestTokens tokens per embeddings / classify request at most (after truncation)
 * @param requestTimeout   how long a request may wait for its result
 * @param shutdownTimeout  how long shutdown waits for requests in flight
 * @param apiKeys          accepted bearer keys; empty: no authentication
 */
public record ServeOptions(String host, int port, int maxBatchTokens, Duration batchWait, int maxQueue, long maxBodyBytes,
                           int maxInputs, int maxRequestTokens, Duration requestTimeout, Duration shutdownTimeout,
                           Set<String> apiKeys) {
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final int DEFAULT_PORT = 8080;
    public static final int DEFAULT_MAX_BATCH_TOKENS = 8192;
    public static final int DEFAULT_MAX_QUEUE = 256;
    public static final long DEFAULT_MAX_BODY_BYTES = 8L << 20;
    public static final int DEFAULT_MAX_INPUTS = 2048;
    /** OpenAI's own limit for one embeddings request. */
    public static final int DEFAULT_MAX_REQUEST_TOKENS = 300_000;

    public ServeOptions {
        if (host == null || host.isBlank()) throw new IllegalArgumentException("host is empty");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (maxBatchTokens < 1) throw new IllegalArgumentException("max batch tokens must be >= 1, got " + maxBatchTokens);
        if (batchWait.isNegative()) throw new IllegalArgumentException("batch wait must be >= 0, got " + batchWait);
        if (maxQueue < 1) throw new IllegalArgumentException("max queue must be >= 1, got " + maxQueue);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max body bytes must be >= 1, got " + maxBodyBytes);
        if (maxInputs < 1) throw new IllegalArgumentException("max inputs must be >= 1, got " + maxInputs);
        if (maxRequestTokens < 1) throw new IllegalArgumentException("max request tokens must be >= 1, got " + maxRequestTokens);
        if (requestTimeout.isNegative() || requestTimeout.isZero()) throw new IllegalArgumentException("request timeout must be > 0");
        if (shutdownTimeout.isNegative()) throw new IllegalArgumentException("shutdown timeout must be >= 0");
        apiKeys = Set.copyOf(apiKeys);
    }

    /** The defaults: loopback, port 8080, batches of 8,192 tokens gathered for 2 ms, queue 256, 8 MiB bodies, no keys. */
    public static ServeOptions defaults() {
        return new ServeOptions(DEFAULT_HOST, DEFAULT_PORT, DEFAULT_MAX_BATCH_TOKENS, Duration.ofMillis(2), DEFAULT_MAX_QUEUE,
                DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_INPUTS, DEFAULT_MAX_REQUEST_TOKENS, Duration.ofSeconds(120),
                Duration.ofSeconds(30), Set.of());
    }

    public ServeOptions withHost(String v) {
        return new ServeOptions(v, port, maxBatchTokens, batchWait, maxQueue, maxBodyBytes, maxInputs, maxRequestTokens, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withPort(int v) {
        return new ServeOptions(host, v, maxBatchTokens, batchWait, maxQueue, maxBodyBytes, maxInputs, maxRequestTokens, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withMaxBatchTokens(int v) {
        return new ServeOptions(host, port, v, batchWait, maxQueue, maxBodyBytes, maxInputs, maxRequestTokens, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withBatchWait(Duration v) {
        return new ServeOptions(host, port, maxBatchTokens, v, maxQueue, maxBodyBytes, maxInputs, maxRequestTokens, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withMaxQueue(int v) {
        return new ServeOptions(host, port, maxBatchTokens, batchWait, v, maxBodyBytes, maxInputs, maxRequestTokens, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withMaxBodyBytes(long v) {
        return new ServeOptions(host, port, maxBatchTokens, batchWait, maxQueue, v, maxInputs, maxRequestTokens, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withMaxInputs(int v) {
        return new ServeOptions(host, port, maxBatchTokens, batchWait, maxQueue, maxBodyBytes, v, maxRequestTokens, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withMaxRequestTokens(int v) {
        return new ServeOptions(host, port, maxBatchTokens, batchWait, maxQueue, maxBodyBytes, maxInputs, v, requestTimeout, shutdownTimeout, apiKeys);
    }

    public ServeOptions withRequestTimeout(Duration v) {
        return new ServeOptions(host, port, maxBatchTokens, batchWait, maxQueue, maxBodyBytes, maxInputs, maxRequestTokens, v, shutdownTimeout, apiKeys);
    }

    public ServeOptions withShutdownTimeout(Duration v) {
        return new ServeOptions(host, port, maxBatchTokens, batchWait, maxQueue, maxBodyBytes, maxInputs, maxRequestTokens, requestTimeout, v, apiKeys);
    }

    public ServeOptions withApiKeys(Set<String> v) {
        return new ServeOptions(host, port, maxBatchTokens, batchWait, maxQueue, maxBodyBytes, maxInputs, maxRequestTokens, requestTimeout, shutdownTimeout, v);
    }
}
