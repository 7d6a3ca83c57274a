package dev.attn4j.cli;

import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.serve.ServeOptions;
import dev.attn4j.serve.ServedModel;
import dev.attn4j.serve.Server;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tokenizers.ChatTemplate;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code attn4j serve}: an OpenAI-compatible HTTP server ({@link Server}) for the models given,
 * with the attention explorer at {@code /}. Runs until SIGTERM / Ctrl-C, then stops accepting,
 * finishes the requests in flight (within {@code --shutdown-timeout}) and exits 0.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serves models over HTTP with OpenAI's API shapes: POST /v1/embeddings, /v1/chat/completions, "
                + "/v1/completions, /v1/classify, /tokenize, /attention; GET /v1/models, /health, /metrics; the attention "
                + "explorer at /. Concurrent embedding and classify requests are batched together.",
                "Binds to 127.0.0.1 unless --host says otherwise. Stops on SIGTERM / Ctrl-C after finishing the requests in flight."})
public final class ServeCommand implements Callable<Integer> {
    /** Helidon logs each listener start at INFO; the command prints its own line. Held so the level stays set. */
    private static final java.util.logging.Logger HELIDON_LOG = java.util.logging.Logger.getLogger("io.helidon");

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = ServeOptions.DEFAULT_HOST,
            description = "Address to listen on (default ${DEFAULT-VALUE}: this machine only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "" + ServeOptions.DEFAULT_PORT,
            description = "TCP port (default ${DEFAULT-VALUE}; 0: any free port).")
    int port;

    @Option(names = "--embedding-model", paramLabel = "M",
            description = "Sentence-embedding model: directory or Hugging Face id (repeatable; default: the built-in "
                    + dev.attn4j.models.onnx.DefaultModel.NAME + "; 'none': no embedding model).")
    List<String> embeddingModels;

    @Option(names = "--model", paramLabel = "M",
            description = "Decoder-only LM for /v1/chat/completions and /v1/completions: directory or Hugging Face id (repeatable).")
    List<String> models;

    @Option(names = "--classifier", paramLabel = "M",
            description = "Sequence classifier for /v1/classify: directory, Hugging Face id or peft LoRA adapter directory (repeatable).")
    List<String> classifiers;

    @Option(names = "--seq2seq", paramLabel = "DIR",
            description = "Encoder-decoder checkpoint written by 'attn4j train', for its cross-attention in /attention (repeatable).")
    List<Path> seq2seq;

    @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "" + ServeOptions.DEFAULT_MAX_BATCH_TOKENS,
            description = "Concurrent embedding / classify requests are run together up to N tokens a batch (default ${DEFAULT-VALUE}; 1: no batching).")
    int maxBatchTokens;

    @Option(names = "--batch-wait-ms", paramLabel = "MS", defaultValue = "2",
            description = "How long a batch waits for more requests after its first arrived (default ${DEFAULT-VALUE}).")
    double batchWaitMillis;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "" + ServeOptions.DEFAULT_MAX_QUEUE,
            description = "Requests waiting per model beyond which new ones get 429 with Retry-After (default ${DEFAULT-VALUE}).")
    int maxQueue;

    @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "" + ServeOptions.DEFAULT_MAX_BODY_BYTES,
            description = "Larger request bodies get 413 (default ${DEFAULT-VALUE}: 8 MiB).")
    long maxBodyBytes;

    @Option(names = "--max-inputs", paramLabel = "N", defaultValue = "" + ServeOptions.DEFAULT_MAX_INPUTS,
            description = "Inputs per embeddings / classify request at most (default ${DEFAULT-VALUE}).")
    int maxInputs;

    @Option(names = "--max-request-tokens", paramLabel = "N", defaultValue = "" + ServeOptions.DEFAULT_MAX_REQUEST_TOKENS,
            description = "Tokens per embeddings / classify request at most, after truncation (default ${DEFAULT-VALUE}).")
    int maxRequestTokens;

    @Option(names = "--request-timeout", paramLabel = "S", defaultValue = "120",
            description = "Seconds a request may take before it gets 504 (default ${DEFAULT-VALUE}).")
    double requestTimeout;

    @Option(names = "--shutdown-timeout", paramLabel = "S", defaultValue = "30",
            description = "Seconds shutdown waits for requests in flight (default ${DEFAULT-VALUE}).")
    double shutdownTimeout;

    @Option(names = "--api-key-file", paramLabel = "F",
            description = "File with one API key per line (blank lines and lines starting with # ignored): the API and the explorer "
                    + "then need 'Authorization: Bearer KEY'; /health and /metrics stay open.")
    Path apiKeyFile;

    @Override
    public Integer call() throws Exception {
        HELIDON_LOG.setLevel(java.util.logging.Level.WARNING);
        ServeOptions options = options();
        List<ServedModel> loaded = new ArrayList<>();
        Server server;
        try {
            loadAll(loaded);
            server = Server.start(options, loaded);
        } catch (Exception | Error e) {
            for (ServedModel m : loaded) m.close();
            throw e;
        }
        Thread hook = new Thread(server::stop, "attn4j-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.err.println("attn4j: serving " + server.modelIds() + " on " + server.url() + " (explorer: " + server.url() + "/)");
        System.err.flush();
        server.awaitStop();
        return 0;
    }

    ServeOptions options() throws IOException {
        if (batchWaitMillis < 0) throw new IllegalArgumentException("--batch-wait-ms must be >= 0, got " + batchWaitMillis);
        if (!(requestTimeout > 0)) throw new IllegalArgumentException("--request-timeout must be > 0, got " + requestTimeout);
        if (shutdownTimeout < 0) throw new IllegalArgumentException("--shutdown-timeout must be >= 0, got " + shutdownTimeout);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        for (var c : List.of(new Object[] {"--max-batch-tokens", maxBatchTokens}, new Object[] {"--max-queue", maxQueue},
                new Object[] {"--max-inputs", maxInputs}, new Object[] {"--max-request-tokens", maxRequestTokens})) {
            if ((int) c[1] < 1) throw new IllegalArgumentException(c[0] + " must be >= 1, got " + c[1]);
        }
        if (maxBodyBytes < 1) throw new IllegalArgumentException("--max-body-bytes must be >= 1, got " + maxBodyBytes);
        return new ServeOptions(host, port, maxBatchTokens, Duration.ofNanos((long) (batchWaitMillis * 1e6)), maxQueue, maxBodyBytes,
                maxInputs, maxRequestTokens, Duration.ofMillis((long) (requestTimeout * 1000)),
                Duration.ofMillis((long) (shutdownTimeout * 1000)), apiKeys());
    }

    private Set<String> apiKeys() throws IOException {
        if (apiKeyFile == null) return Set.of();
        Set<String> keys = new LinkedHashSet<>();
        for (String line : ModelOptions.readLines(apiKeyFile)) {
            String k = line.strip();
            if (!k.isEmpty() && !k.startsWith("#")) keys.add(k);
        }
        if (keys.isEmpty()) throw new IllegalArgumentException("--api-key-file " + apiKeyFile + ": no keys in it");
        return keys;
    }

    private void loadAll(List<ServedModel> out) throws IOException {
        ModelSource source = ModelSource.of(HubSettings.fromEnvironment(), System.err);
        List<String> embedding = embeddingModels == null ? List.of() : embeddingModels;
        if (embedding.isEmpty()) {
            out.add(new ServedModel.Embedding(dev.attn4j.models.onnx.DefaultModel.NAME, SentenceTransformer.load(DefaultModel.resolve()).freeze()));
        }
        for (String m : embedding) {
            if (m.equals("none")) continue;
            out.add(new ServedModel.Embedding(id(m), SentenceTransformer.load(source.resolve(m)).freeze()));
        }
        if (models != null) for (String m : models) out.add(chat(m));
        if (classifiers != null) {
            for (String m : classifiers) {
                AdapterModels.Loaded c = AdapterModels.load(m, null);
                try {
                    Tokenizer tok = ClassifyCommand.tokenizer(c, null, m);
                    out.add(new ServedModel.Classifier(id(m), c.model(), tok, ClassifyCommand.maxLength(c.model().config(), null)));
                } catch (IOException | RuntimeException e) {
                    c.model().close();
                    throw e;
                }
            }
        }
        if (seq2seq != null) {
            for (Path dir : seq2seq) out.add(new ServedModel.Seq2Seq(id(dir.toString()), CheckpointOptions.load(dir), CharVocab.dates()));
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no models to serve: --embedding-model none and no other model given");
    }

    /** A decoder-only LM as generate / chat load it, with its tokenizer and chat template when it has them. */
    private static ServedModel.Chat chat(String arg) throws IOException {
        CausalModelOptions o = new CausalModelOptions();
        o.model = arg;
        CausalDecoder m = o.load();
        try {
            if (o.directory() == null) {
                throw new IllegalArgumentException("--model " + arg + ": a llama2.c file has no tokenizer; serve needs a model directory");
            }
            Tokenizer tok = o.tokenizer();
            ModelDirectory dir = o.directory();
            ChatTemplate template = hasChatTemplate(dir.path()) ? ChatTemplate.fromDirectory(dir.path()) : null;
            return new ServedModel.Chat(id(arg), m, tok, template, o.generationDefaults());
        } catch (IOException | RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private static boolean hasChatTemplate(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve("chat_template.jinja")) || Files.isRegularFile(dir.resolve("chat_template.json"))) return true;
        Path config = dir.resolve("tokenizer_config.json");
        return Files.isRegularFile(config) && Files.readString(config).contains("\"chat_template\"");
    }

    /** A model's id: the folder's name for a local directory, else the Hub id as given. */
    static String id(String arg) {
        try {
            Path p = Path.of(arg);
            if (Files.isDirectory(p)) {
                Path name = p.toAbsolutePath().normalize().getFileName();
                if (name != null) return name.toString();
            }
        } catch (InvalidPathException e) {
            // not a path: a Hub id
        }
        return arg;
    }
}
