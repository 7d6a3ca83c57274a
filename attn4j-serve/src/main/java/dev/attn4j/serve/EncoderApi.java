package dev.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.tokenizers.Encoding;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code POST /v1/embeddings} and {@code POST /v1/classify}: requests are tokenized on their own
 * thread, then run through their model's {@link Batcher}, so concurrent requests share packed
 * forward passes; each gets exactly its own inputs' results back.
 */
final class EncoderApi implements AutoCloseable {
    static final Set<String> EMBEDDING_FIELDS = Set.of("model", "input", "encoding_format", "dimensions", "user");
    static final Set<String> CLASSIFY_FIELDS = Set.of("model", "input", "text_pair", "top_k", "user");
    /** Texts per forward pass inside a gathered batch (sentence-transformers' default). */
    static final int FORWARD_BATCH = SentenceTransformer.DEFAULT_BATCH_SIZE;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final Models models;
    private final ServeOptions options;
    private final Metrics metrics;
    private final Map<String, Batcher<Encoding, float[]>> batchers = new LinkedHashMap<>();

    EncoderApi(Models models, ServeOptions options, Metrics metrics) {
        this.models = models;
        this.options = options;
        this.metrics = metrics;
        for (ServedModel.Embedding m : models.ofType(ServedModel.Embedding.class)) {
            SentenceTransformer st = m.pipeline();
            add(m.id(), enc -> st.encodeTokens(enc, FORWARD_BATCH, SentenceTransformer.Progress.NONE));
        }
        for (ServedModel.Classifier m : models.ofType(ServedModel.Classifier.class)) {
            add(m.id(), enc -> {
                m.lock().readLock().lock();
                try {
                    return m.model().probabilities(enc, FORWARD_BATCH);
                } finally {
                    m.lock().readLock().unlock();
                }
            });
        }
    }

    private void add(String id, java.util.function.Function<List<Encoding>, List<float[]>> runner) {
        Batcher<Encoding, float[]> b = new Batcher<>(id, runner, options.maxBatchTokens(), options.batchWait().toNanos(),
                options.maxQueue(), (requests, inputs, tokens, nanos) -> metrics.batch(id, requests, inputs, tokens));
        batchers.put(id, b);
        metrics.queue(id, b::queued);
    }

    /** The lone-request path for tests and the load check: the same batcher, one request. */
    List<float[]> run(String modelId, List<Encoding> enc) {
        return await(batchers.get(modelId), enc);
    }

    JsonNode embeddings(JsonNode body) {
        Fields f = Fields.of(body, EMBEDDING_FIELDS);
        ServedModel.Embedding m = models.pick(ServedModel.Embedding.class, f.string("model", false), "an embedding model",
                "--embedding-model M");
        List<String> input = inputs(f, "input");
        String format = f.string("encoding_format", false);
        if (format == null) format = "float";
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiException.invalid("encoding_format", "'encoding_format' must be \"float\" or \"base64\", got \"" + format + "\"");
        }
        Integer dims = f.integer("dimensions", null, 1, Integer.MAX_VALUE);
        int dim = m.pipeline().dimension();
        if (dims != null && dims != dim) {
            throw ApiException.invalid("dimensions", "'dimensions' " + dims + " is not supported: " + m.id() + " makes " + dim
                    + "-dimensional embeddings (leave 'dimensions' out or give " + dim + ")");
        }
        List<Encoding> enc = m.pipeline().tokenize(input);
        int tokens = countTokens(enc);
        List<float[]> vectors = await(batchers.get(m.id()), enc);
        metrics.tokens(m.id(), "prompt", tokens);
        ObjectNode out = NODES.objectNode();
        out.put("object", "list");
        ArrayNode data = out.putArray("data");
        for (int i = 0; i < vectors.size(); i++) {
            ObjectNode e = data.addObject();
            e.put("object", "embedding");
            e.put("index", i);
            float[] v = vectors.get(i);
            if (format.equals("base64")) {
                ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : v) buf.putFloat(x);
                e.put("embedding", Base64.getEncoder().encodeToString(buf.array()));
            } else {
                ArrayNode a = e.putArray("embedding");
                for (float x : v) a.add(x);
            }
        }
        out.put("model", m.id());
        ObjectNode usage = out.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return out;
    }

    JsonNode classify(JsonNode body) {
        Fields f = Fields.of(body, CLASSIFY_FIELDS);
        ServedModel.Classifier m = models.pick(ServedModel.Classifier.class, f.string("model", false), "a classifier",
                "--classifier M");
        List<String> input = inputs(f, "input");
        List<String> pairs = f.strings("text_pair", false);
        if (pairs != null && pairs.size() != input.size()) {
            throw ApiException.invalid("text_pair", "'text_pair' has " + pairs.size() + " texts for " + input.size() + " inputs");
        }
        List<String> names = m.model().head().id2label();
        Integer topK = f.integer("top_k", names.size(), 1, Integer.MAX_VALUE);
        List<Encoding> enc = new ArrayList<>(input.size());
        for (int i = 0; i < input.size(); i++) {
            enc.add(pairs == null ? m.tokenizer().encode(input.get(i), true) : m.tokenizer().encode(input.get(i), pairs.get(i), true));
        }
        int tokens = countTokens(enc);
        List<float[]> probs = await(batchers.get(m.id()), enc);
        metrics.tokens(m.id(), "prompt", tokens);
        ObjectNode out = NODES.objectNode();
        out.put("object", "list");
        out.put("model", m.id());
        ArrayNode data = out.putArray("data");
        for (int i = 0; i < probs.size(); i++) {
            float[] p = probs.get(i);
            Integer[] rank = new Integer[p.length];
            for (int k = 0; k < p.length; k++) rank[k] = k;
            Arrays.sort(rank, (x, y) -> Float.compare(p[y], p[x]));
            ObjectNode c = data.addObject();
            c.put("object", "classification");
            c.put("index", i);
            c.put("label", names.get(rank[0]));
            c.put("score", p[rank[0]]);
            ObjectNode scores = c.putObject("scores");
            for (int j = 0; j < Math.min(topK, p.length); j++) scores.put(names.get(rank[j]), p[rank[j]]);
        }
        ObjectNode usage = out.putObject("usage");
        usage.put("prompt_tokens", tokens);
        usage.put("total_tokens", tokens);
        return out;
    }

    /** The {@code input} texts: a string or a non-empty array of at most {@code maxInputs} strings. */
    private List<String> inputs(Fields f, String name) {
        JsonNode raw = f.raw(name);
        if (raw != null && raw.isArray() && !raw.isEmpty() && (raw.get(0).isNumber() || raw.get(0).isArray())) {
            throw ApiException.invalid(name, "'" + name + "' as token ids is not supported: send the text");
        }
        List<String> input = f.strings(name, true);
        if (input.isEmpty()) throw ApiException.invalid(name, "'" + name + "' is an empty array");
        if (input.size() > options.maxInputs()) {
            throw ApiException.invalid(name, "'" + name + "' has " + input.size() + " texts, more than the " + options.maxInputs()
                    + " a request may hold");
        }
        return input;
    }

    private int countTokens(List<Encoding> enc) {
        long tokens = 0;
        for (Encoding e : enc) tokens += e.length();
        if (tokens > options.maxRequestTokens()) {
            throw ApiException.invalid("input", "the inputs hold " + tokens + " tokens, more than the " + options.maxRequestTokens()
                    + " a request may hold");
        }
        return (int) tokens;
    }

    /** Queues the inputs, waits for their results within the request timeout. */
    private List<float[]> await(Batcher<Encoding, float[]> batcher, List<Encoding> enc) {
        int tokens = 0;
        for (Encoding e : enc) tokens += e.length();
        CompletableFuture<List<float[]>> f;
        try {
            f = batcher.submit(enc, tokens);
        } catch (Batcher.QueueFullException e) {
            throw new ApiException(429, "rate_limit_error", "the server is busy: " + e.getMessage() + "; retry later", null,
                    "queue_full", 1);
        } catch (Batcher.ClosedException e) {
            throw new ApiException(503, "server_error", e.getMessage(), null, "shutting_down", 1);
        }
        try {
            return f.get(options.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            batcher.cancel(f);
            throw new ApiException(504, "timeout_error", "the request took longer than " + options.requestTimeout().toMillis()
                    + " ms", null, "timeout", 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", "interrupted", null, null, 0);
        } catch (ExecutionException | CancellationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RuntimeException r) throw r;
            throw new IllegalStateException(cause.getMessage(), cause);
        }
    }

    /** Stops accepting; returns once every queued request has run. */
    void close(long timeoutMillis) {
        for (Batcher<Encoding, float[]> b : batchers.values()) b.close(timeoutMillis);
    }

    @Override
    public void close() {
        close(60_000);
    }
}
