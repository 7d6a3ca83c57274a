package dev.attn4j.cli;

import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.serve.LoadCheck;
import dev.attn4j.serve.ServeOptions;
import dev.attn4j.serve.ServedModel;
import dev.attn4j.serve.Server;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code attn4j bench serve}: a loopback load test of {@code /v1/embeddings}. Each text's lone
 * result is taken first; then the texts are sent one at a time (timed), and {@code --clients}
 * concurrent clients send {@code --requests} one-text requests, once with dynamic batching and
 * once without (batches of one request). Every response is compared with its lone result.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Load test of the server's /v1/embeddings on loopback: N concurrent clients with and without dynamic batching, "
                + "against the same requests sent one at a time. Checks every response against the lone result (max |d| <= 1e-5); "
                + "prints errors, p50 / p99 latency and throughput; the last line is one JSON object."})
public final class BenchServeCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "M", description = "Embedding model (default: the built-in one).")
    String model;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "64", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "1024", description = "Requests per concurrent run (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--texts", paramLabel = "N", defaultValue = "128",
            description = "Distinct generated sentences, also the one-at-a-time run's requests (default ${DEFAULT-VALUE}).")
    int texts;

    @Option(names = "--file", paramLabel = "F", description = "Sentences to send, one per line, instead of generated ones.")
    Path file;

    @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "" + ServeOptions.DEFAULT_MAX_BATCH_TOKENS,
            description = "The server's --max-batch-tokens in the batched run (default ${DEFAULT-VALUE}).")
    int maxBatchTokens;

    @Override
    public Integer call() throws Exception {
        if (clients < 1 || requests < 1 || texts < 1) throw new IllegalArgumentException("--clients, --requests and --texts must be >= 1");
        List<String> sentences = file != null ? ModelOptions.readLines(file) : LoadCheck.sentences(texts, 42);
        if (sentences.isEmpty()) throw new IllegalArgumentException(file + ": no sentences");
        if (file != null && sentences.size() > texts) sentences = sentences.subList(0, texts);
        ModelOptions mo = new ModelOptions();
        mo.model = model;
        Path dir = mo.directory().path();                                   // the built-in model when --model is absent
        String id = model == null ? dev.attn4j.models.onnx.DefaultModel.NAME : ServeCommand.id(model);
        LoadCheck.Result batched = run(dir, id, sentences, maxBatchTokens);
        LoadCheck.Result unbatched = run(dir, id, sentences, 1);
        System.out.printf(Locale.ROOT, "%-34s %8s %7s %10s %10s %10s%n", "run", "requests", "errors", "p50 ms", "p99 ms", "req/s");
        row("one at a time (1 client)", batched.loneRequests(), 0, Double.NaN, Double.NaN, batched.loneThroughput());
        row(clients + " clients, no batching", unbatched.requests(), unbatched.errors() + unbatched.mismatches(), unbatched.p50Millis(),
                unbatched.p99Millis(), unbatched.throughput());
        row(clients + " clients, dynamic batching", batched.requests(), batched.errors() + batched.mismatches(), batched.p50Millis(),
                batched.p99Millis(), batched.throughput());
        System.out.printf(Locale.ROOT, "batching vs one at a time: %.2fx; vs no batching: %.2fx; max |d| to lone results %.2e%n",
                batched.speedup(), batched.throughput() / unbatched.throughput(), Math.max(batched.maxDiff(), unbatched.maxDiff()));
        var json = batched.toJson();
        json.put("model", id);
        json.put("clients", clients);
        json.put("unbatched_requests_per_second", Math.round(unbatched.throughput() * 100) / 100.0);
        json.put("unbatched_errors", unbatched.errors() + unbatched.mismatches());
        System.out.println(json);
        return batched.errors() + batched.mismatches() + unbatched.errors() + unbatched.mismatches() == 0 ? 0 : 1;
    }

    private LoadCheck.Result run(Path dir, String id, List<String> sentences, int batchTokens) throws Exception {
        ServeOptions o = ServeOptions.defaults().withPort(0).withMaxBatchTokens(batchTokens).withMaxQueue(Math.max(256, clients * 2));
        try (Server s = Server.start(o, List.of(new ServedModel.Embedding(id, frozenUnlessTold(SentenceTransformer.load(dir)))))) {
            return LoadCheck.run(s.url(), id, null, sentences, clients, requests);
        }
    }

    private static void row(String name, int n, int errors, double p50, double p99, double rps) {
        System.out.printf(Locale.ROOT, "%-34s %8d %7d %10s %10s %10.1f%n", name, n, errors, fmt(p50), fmt(p99), rps);
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    /** The model runs frozen, as `serve` runs it; {@code -Dattn4j.bench.freeze=false} measures it unfrozen. */
    private static SentenceTransformer frozenUnlessTold(SentenceTransformer st) {
        return Boolean.parseBoolean(System.getProperty("attn4j.bench.freeze", "true")) ? st.freeze() : st;
    }
}
