package dev.attn4j.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The attn4j HTTP server: OpenAI-compatible routes ({@code /v1/embeddings},
 * {@code /v1/chat/completions}, {@code /v1/completions}, {@code /v1/models}), {@code /v1/classify},
 * {@code /tokenize}, {@code /attention}, {@code /health}, {@code /metrics} (Prometheus text), and
 * the attention explorer page at {@code /}. Runs on Helidon SE's webserver, one virtual thread per
 * request; embedding and classify requests share forward passes through dynamic batching
 * ({@link Batcher}).
 *
 * <p>Errors are OpenAI's error object {@code {"error": {"message", "type", "param", "code"}}}: 400
 * for bad JSON, wrong types and unknown fields (naming the field), 401 without a matching API key
 * (when keys are configured; {@code /health} and {@code /metrics} stay open), 404 for unknown
 * models and routes, 413 above the body limit, 429 with {@code Retry-After} when a model's queue is
 * full, 503 while shutting down, 504 after the request timeout.
 */
public final class Server implements AutoCloseable {
    static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** The explorer's files, served from the jar: path to resource name and content type. */
    private static final Map<String, String[]> STATIC = Map.of(
            "/", new String[] {"index.html", "text/html; charset=utf-8"},
            "/explorer.js", new String[] {"explorer.js", "text/javascript; charset=utf-8"},
            "/explorer.css", new String[] {"explorer.css", "text/css; charset=utf-8"});

    private final ServeOptions options;
    private final Models models;
    private final Metrics metrics = new Metrics();
    private final EncoderApi encoders;
    private final GenerationApi generation;
    private final AttentionApi attention;
    private final Map<String, byte[]> files = new LinkedHashMap<>();
    private final List<byte[]> keys;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final long started = System.currentTimeMillis() / 1000;
    private WebServer web;

    private Server(ServeOptions options, List<? extends ServedModel> loaded) {
        this.options = options;
        this.models = new Models(loaded);
        this.encoders = new EncoderApi(models, options, metrics);
        this.generation = new GenerationApi(models, options, metrics);
        this.attention = new AttentionApi(models);
        this.keys = options.apiKeys().stream().map(k -> k.getBytes(StandardCharsets.UTF_8)).toList();
        for (var e : STATIC.entrySet()) files.put(e.getKey(), resource(e.getValue()[0]));
    }

    /**
     * Starts serving {@code models} (the server owns them from now on: {@link #stop} closes them).
     *
     * @throws UncheckedIOException when the address cannot be bound
     */
    public static Server start(ServeOptions options, List<? extends ServedModel> models) {
        if (models.isEmpty()) throw new IllegalArgumentException("no models to serve");
        Server s = new Server(options, models);
        try {
            s.web = WebServer.builder()
                    .host(options.host())
                    .port(options.port())
                    .shutdownHook(false)
                    .shutdownGracePeriod(options.shutdownTimeout())
                    .routing(s::routes)
                    .build()
                    .start();
        } catch (RuntimeException e) {
            s.encoders.close(1000);
            throw new UncheckedIOException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(),
                    e.getCause() instanceof IOException io ? io : new IOException(e));
        }
        return s;
    }

    /** The port it listens on (the one chosen when the options asked for 0). */
    public int port() {
        return web.port();
    }

    /** {@code http://host:port}. */
    public String url() {
        String h = options.host().contains(":") ? "[" + options.host() + "]" : options.host();
        return "http://" + h + ":" + port();
    }

    public ServeOptions options() {
        return options;
    }

    /** The ids of the models served, in the order they were given. */
    public List<String> modelIds() {
        return models.all().stream().map(ServedModel::id).toList();
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStop() throws InterruptedException {
        stopped.await();
    }

    private void routes(HttpRouting.Builder r) {
        r.get("/health", handler("/health", false, (req, res) -> {
            ObjectNode o = NODES.objectNode();
            o.put("status", stopping.get() ? "stopping" : "ok");
            o.set("models", JSON.valueToTree(modelIds()));
            sendJson(res, stopping.get() ? 503 : 200, o);
        }));
        r.get("/metrics", handler("/metrics", false, (req, res) -> {
            res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
            res.send(metrics.render().getBytes(StandardCharsets.UTF_8));
        }));
        r.get("/v1/models", handler("/v1/models", true, (req, res) -> sendJson(res, 200, modelList())));
        r.get("/v1/models/{id}", handler("/v1/models/{id}", true, (req, res) -> {
            String id = req.path().pathParameters().get("id");
            ServedModel m = models.byId(id);
            if (m == null) throw ApiException.notFound("model", "the model '" + id + "' does not exist");
            sendJson(res, 200, modelJson(m));
        }));
        r.post("/v1/embeddings", json("/v1/embeddings", encoders::embeddings));
        r.post("/v1/classify", json("/v1/classify", encoders::classify));
        r.post("/v1/chat/completions", handler("/v1/chat/completions", true, (req, res) -> generation.chat(readJson(req), responder(res))));
        r.post("/v1/completions", handler("/v1/completions", true, (req, res) -> generation.completions(readJson(req), responder(res))));
        r.post("/tokenize", json("/tokenize", attention::tokenize));
        r.post("/attention", json("/attention", attention::attention));
        for (var e : STATIC.entrySet()) {
            String path = e.getKey();
            String type = e.getValue()[1];
            r.get(path, handler(path, true, (req, res) -> {
                res.header(HeaderNames.CONTENT_TYPE, type);
                res.header(HeaderNames.CACHE_CONTROL, "no-cache");
                res.send(files.get(path));
            }));
        }
        r.any(handler("other", false, (req, res) -> {
            String path = req.path().path();
            String method = req.prologue().method().text();
            boolean known = STATIC.containsKey(path) || Set.of("/health", "/metrics", "/v1/models", "/v1/embeddings", "/v1/classify",
                    "/v1/chat/completions", "/v1/completions", "/tokenize", "/attention").contains(path);
            if (known) {
                throw new ApiException(405, "invalid_request_error", method + " is not allowed on " + path, null, "method_not_allowed", 0);
            }
            throw new ApiException(404, "invalid_request_error", "no route " + method + " " + path, null, "not_found", 0);
        }));
    }

    /** What an endpoint does with a request; throws {@link ApiException} for what goes wrong. */
    @FunctionalInterface
    private interface Endpoint {
        void handle(ServerRequest req, ServerResponse res) throws Exception;
    }

    /** A POST route taking a JSON object and answering one. */
    private Handler json(String route, Function<JsonNode, JsonNode> fn) {
        return handler(route, true, (req, res) -> sendJson(res, 200, fn.apply(readJson(req))));
    }

    /** Wraps an endpoint with the shutdown check, authentication, error objects and metrics. */
    private Handler handler(String route, boolean authenticated, Endpoint endpoint) {
        return (req, res) -> {
            long start = System.nanoTime();
            metrics.inFlight().incrementAndGet();
            try {
                if (stopping.get() && !route.equals("/health") && !route.equals("/metrics")) {
                    throw new ApiException(503, "server_error", "the server is shutting down", null, "shutting_down", 1);
                }
                if (authenticated && !keys.isEmpty()) authenticate(req);
                endpoint.handle(req, res);
            } catch (ApiException e) {
                sendError(res, e);
            } catch (IllegalArgumentException e) {
                sendError(res, ApiException.invalid(null, e.getMessage()));
            } catch (UncheckedIOException e) {
                if (!res.isSent()) sendError(res, new ApiException(500, "server_error", e.getMessage(), null, null, 0));
            } catch (Exception | Error e) {
                sendError(res, new ApiException(500, "server_error", "internal error: " + e, null, null, 0));
            } finally {
                metrics.inFlight().decrementAndGet();
                metrics.request(route, res.status().code(), System.nanoTime() - start);
            }
        };
    }

    private void authenticate(ServerRequest req) {
        String h = req.headers().first(HeaderNames.AUTHORIZATION).orElse(null);
        if (h == null || !h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new ApiException(401, "invalid_request_error", "missing API key: send 'Authorization: Bearer KEY'", null,
                    "invalid_api_key", 0);
        }
        byte[] given = h.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        boolean ok = false;
        for (byte[] k : keys) ok |= MessageDigest.isEqual(k, given);
        if (!ok) throw new ApiException(401, "invalid_request_error", "incorrect API key", null, "invalid_api_key", 0);
    }

    /** The body as JSON, within the size limit. */
    private JsonNode readJson(ServerRequest req) {
        long max = options.maxBodyBytes();
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > max) throw tooLarge(declared.getAsLong());
        byte[] bytes;
        try (InputStream in = req.content().inputStream()) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (bytes.length > max) throw tooLarge(-1);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the request body: " + e.getMessage(), e);
        }
        if (bytes.length == 0) throw ApiException.invalid(null, "the request body is empty: send a JSON object");
        try {
            return JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
            throw ApiException.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage() + where);
        } catch (IOException e) {
            throw ApiException.invalid(null, "the request body is not valid JSON: " + e.getMessage());
        }
    }

    private ApiException tooLarge(long declared) {
        return new ApiException(413, "invalid_request_error", "the request body is " + (declared >= 0 ? declared + " bytes" : "larger")
                + ", above the limit of " + options.maxBodyBytes() + " bytes (--max-body-bytes)", null, "request_too_large", 0);
    }

    private GenerationApi.Responder responder(ServerResponse res) {
        return new GenerationApi.Responder() {
            @Override
            public void json(JsonNode body) {
                sendJson(res, 200, body);
            }

            @Override
            public void events(Consumer<Consumer<String>> writer) {
                // written as OpenAI writes them ("data: {json}" and a blank line, flushed per event)
                res.header(HeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
                res.header(HeaderNames.CACHE_CONTROL, "no-cache");
                try (OutputStream out = res.outputStream()) {
                    writer.accept(data -> {
                        try {
                            out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
                            out.flush();
                        } catch (IOException e) {
                            throw new UncheckedIOException("the client went away: " + e.getMessage(), e);
                        }
                    });
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    private ObjectNode modelList() {
        ObjectNode o = NODES.objectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (ServedModel m : models.all()) data.add(modelJson(m));
        return o;
    }

    private ObjectNode modelJson(ServedModel m) {
        ObjectNode e = NODES.objectNode();
        e.put("id", m.id());
        e.put("object", "model");
        e.put("created", started);
        e.put("owned_by", "attn4j");
        e.put("kind", m.kind());
        e.put("max_model_len", m.maxInputTokens());
        if (m instanceof ServedModel.Embedding em) e.put("dimensions", em.pipeline().dimension());
        if (m instanceof ServedModel.Classifier c) e.set("labels", JSON.valueToTree(c.model().head().id2label()));
        return e;
    }

    static void sendJson(ServerResponse res, int status, JsonNode body) {
        byte[] bytes;
        try {
            bytes = JSON.writeValueAsBytes(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(bytes);
    }

    /** The error object of {@code e}. */
    static ObjectNode errorJson(ApiException e) {
        ObjectNode o = NODES.objectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        if (e.param() != null) err.put("param", e.param());
        else err.putNull("param");
        if (e.code() != null) err.put("code", e.code());
        else err.putNull("code");
        return o;
    }

    private static void sendError(ServerResponse res, ApiException e) {
        if (res.isSent()) return;
        if (e.retryAfterSeconds() > 0) res.header(HeaderNames.RETRY_AFTER, Integer.toString(e.retryAfterSeconds()));
        if (e.status() == 401) res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        sendJson(res, e.status(), errorJson(e));
    }

    private static byte[] resource(String name) {
        try (InputStream in = Server.class.getResourceAsStream("web/" + name)) {
            if (in == null) throw new IllegalStateException("resource dev/attn4j/serve/web/" + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Graceful shutdown: new requests get 503 at once, requests in flight (and queued batches)
     * finish within the shutdown timeout, then the listener closes and the models are closed.
     */
    public void stop() {
        if (!stopping.compareAndSet(false, true)) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            long deadline = System.nanoTime() + options.shutdownTimeout().toNanos();
            while (metrics.inFlight().get() > 0 && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            encoders.close(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (web != null) web.stop();
            for (ServedModel m : models.all()) {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    // closing the others matters more
                }
            }
        } finally {
            stopped.countDown();
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** The lone-request result of the embedding model {@code id}: one request through its batcher (tests, bench). */
    List<float[]> embedDirect(String id, List<String> texts) {
        ServedModel.Embedding m = models.pick(ServedModel.Embedding.class, id, "an embedding model", "--embedding-model M");
        return encoders.run(m.id(), m.pipeline().tokenize(texts));
    }
}
