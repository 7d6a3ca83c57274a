package dev.attn4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.models.sentence.SentenceTransformer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code attn4j embed}: sentence embeddings, one JSON line per input in input order; progress on stderr. */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = "Sentence embeddings with the model's sentence-transformers pipeline: one JSON line "
                + "{\"text\", \"embedding\"} per input, in input order. Progress goes to stderr.")
public final class EmbedCommand implements Callable<Integer> {
    /** Inputs are embedded (sorted by length within) and written in chunks of this many texts. */
    static final int CHUNK = 1024;

    @Mixin
    ModelOptions options = new ModelOptions();

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32", description = "Texts per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--quantize", paramLabel = "T",
            description = "Quantize the encoder's linear weights on load: q8_0, q4_0, q4_1, q4_k, q5_k or q6_k (embeddings, norms "
                    + "and biases stay float).")
    String quantize;

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts to embed (after those of --file).")
    List<String> texts;

    @Override
    public Integer call() throws IOException {
        if (batchSize <= 0) throw new IllegalArgumentException("--batch-size must be positive, got " + batchSize);
        dev.attn4j.tensor.QuantType q = quantize == null ? null : dev.attn4j.tensor.QuantType.byName(quantize);
        List<String> input = options.texts(texts);
        PrintStream out = System.out;
        try (SentenceTransformer st = SentenceTransformer.load(options.directory(), q);
             JsonGenerator g = new JsonFactory().createGenerator((OutputStream) out)) {
            g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            g.setRootValueSeparator(null);                                 // one object per line, no space between
            int total = input.size();
            Progress progress = new Progress(total, batchSize);
            for (int start = 0; start < total; start += CHUNK) {
                List<String> chunk = input.subList(start, Math.min(total, start + CHUNK));
                int base = start;
                List<float[]> emb = st.encode(chunk, batchSize, (done, n) -> progress.update(base + done));
                for (int i = 0; i < chunk.size(); i++) {
                    g.writeStartObject();
                    g.writeStringField("text", chunk.get(i));
                    g.writeArrayFieldStart("embedding");
                    for (float v : emb.get(i)) g.writeNumber(v);
                    g.writeEndArray();
                    g.writeEndObject();
                    g.writeRaw('\n');
                }
                g.flush();
            }
            progress.finish();
        }
        out.flush();
        return 0;
    }

    /** "embedded D/N texts" on stderr, at most about once a second, only when there is more than one batch. */
    static final class Progress {
        private final int total;
        private final boolean active;
        private final long started = System.nanoTime();
        private long last = started;
        private boolean printed;
        private int lastPrinted = -1;

        Progress(int total, int batchSize) {
            this.total = total;
            this.active = total > batchSize;
        }

        void update(int done) {
            long now = System.nanoTime();
            if (!active || now - last < 1_000_000_000L) return;
            last = now;
            printed = true;
            lastPrinted = done;
            System.err.printf("attn4j: embedded %d/%d texts (%.0f s)%n", done, total, (now - started) / 1e9);
        }

        void finish() {
            if (printed && lastPrinted != total) System.err.printf("attn4j: embedded %d/%d texts (%.0f s)%n", total, total, (System.nanoTime() - started) / 1e9);
        }
    }
}
