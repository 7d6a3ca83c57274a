package dev.attn4j.models.sentence;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.hub.SentenceTransformerModule;
import dev.attn4j.kernels.Parallel;
import dev.attn4j.models.bert.BertModels;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.models.bert.EncoderModel;
import dev.attn4j.models.bert.PackedHiddenStates;
import dev.attn4j.tokenizers.Encoding;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A sentence-transformers model run from its own files, like {@code SentenceTransformer(dir)}:
 * {@code modules.json} (Transformer, Pooling, Normalize), the Transformer's
 * {@code sentence_bert_config.json} ({@code max_seq_length} truncation, {@code do_lower_case}),
 * the pooling {@code config.json}, {@code tokenizer.json} and the encoder weights.
 *
 * <p>Batched encoding sorts the texts by token count, pads each batch to its own longest
 * sequence and masks the padding out of attention and pooling, so a text's embedding does not
 * depend on what else is in the batch. Results come back in input order. Thread-safe for
 * concurrent {@link #encode} calls (the model is only read).
 */
public final class SentenceTransformer implements AutoCloseable {
    /** Called after each batch with the number of texts done and the total. */
    @FunctionalInterface
    public interface Progress {
        void update(int done, int total);

        Progress NONE = (done, total) -> { };
    }

    /** Default batch size of {@link #encode(List)} (sentence-transformers' default). */
    public static final int DEFAULT_BATCH_SIZE = 32;

    private final Path dir;
    private final SentenceTokenizer tokenizer;
    private final EncoderModel model;
    private final Pooling pooling;
    private final boolean normalize;

    private SentenceTransformer(Path dir, SentenceTokenizer tokenizer, EncoderModel model, Pooling pooling, boolean normalize) {
        this.dir = dir;
        this.tokenizer = tokenizer;
        this.model = model;
        this.pooling = pooling;
        this.normalize = normalize;
    }

    /** Loads the pipeline of the model directory {@code dir}. */
    public static SentenceTransformer load(Path dir) throws IOException {
        return load(ModelDirectory.of(dir));
    }

    /**
     * Loads the pipeline of {@code dir}. Without {@code modules.json} the pipeline is the encoder
     * and mean pooling (what sentence-transformers builds for a plain transformers model).
     *
     * @throws ModelDirectoryException for a missing or malformed file, an unsupported module type
     *                                 or weights that do not fit (the message names the file)
     */
    public static SentenceTransformer load(ModelDirectory dir) throws IOException {
        return load(dir, null);
    }

    /**
     * Loads the pipeline of {@code dir} with the encoder's linear weights quantized on load to
     * {@code quantize} ({@link BertModels#quantize}; null: as stored). Embeddings, norms and biases
     * stay F32.
     */
    public static SentenceTransformer load(Path dir, dev.attn4j.tensor.QuantType quantize) throws IOException {
        return load(ModelDirectory.of(dir), quantize);
    }

    /** {@link #load(ModelDirectory)} with the encoder's linear weights quantized on load (null: not). */
    public static SentenceTransformer load(ModelDirectory dir, dev.attn4j.tensor.QuantType quantize) throws IOException {
        Optional<List<SentenceTransformerModule>> modules = dir.modules();
        boolean normalize = false;
        if (modules.isPresent()) {
            Path file = dir.requireFile(ModelDirectory.MODULES);
            List<SentenceTransformerModule> mods = modules.get();
            boolean poolingSeen = false;
            for (SentenceTransformerModule m : mods.subList(Math.min(1, mods.size()), mods.size())) {
                switch (m.simpleType()) {
                    case "Pooling" -> {
                        if (poolingSeen || normalize) throw new ModelDirectoryException(file, "unsupported module order: " + mods);
                        poolingSeen = true;
                    }
                    case "Normalize" -> normalize = true;
                    default -> throw new ModelDirectoryException(file, "unsupported sentence-transformers module '" + m.type()
                            + "' (module '" + m.name() + "'); supported: Transformer, Pooling, Normalize");
                }
            }
            if (!poolingSeen) throw new ModelDirectoryException(file, "no Pooling module; cannot make sentence embeddings");
        }
        SentenceTokenizer tok = SentenceTokenizer.load(dir);
        EncoderModel model = BertModels.load(SentenceTokenizer.transformerDirectory(dir), quantize);
        try {
            Pooling pooling = dir.poolingConfig().map(Pooling::of).orElseGet(() -> Pooling.mean(model.hiddenSize()));
            if (pooling.tokenDimension() != model.hiddenSize()) {
                throw new ModelDirectoryException(dir.path(), "pooling word_embedding_dimension " + pooling.tokenDimension()
                        + " does not match the model's hidden_size " + model.hiddenSize());
            }
            return new SentenceTransformer(dir.path(), tok, model, pooling, normalize);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** The model directory. */
    public Path directory() {
        return dir;
    }

    /** The pipeline's tokenizer (truncation to {@link #maxSeqLength()}, lower-casing if configured). */
    public SentenceTokenizer tokenizer() {
        return tokenizer;
    }

    /** The encoder (eval mode). */
    public EncoderModel model() {
        return model;
    }

    /**
     * Freezes the encoder ({@link EncoderModel#freeze}): its weights are prepared once for
     * inference (about as much memory again as the weights), which pays off for many small
     * requests, as a server gets them. Returns this.
     */
    public SentenceTransformer freeze() {
        model.freeze();
        return this;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** Whether embeddings are scaled to unit length (a Normalize module). */
    public boolean normalizes() {
        return normalize;
    }

    /** Longest input in tokens, special tokens included; longer inputs are truncated. */
    public int maxSeqLength() {
        return tokenizer.maxSeqLength();
    }

    /** Width of the sentence embeddings. */
    public int dimension() {
        return pooling.outputDimension();
    }

    /** The tokens the pipeline feeds the model for {@code text}: special tokens added, truncated. */
    public Encoding tokenize(String text) {
        return tokenizer.encode(text);
    }

    /**
     * {@link #tokenize} of each text, in input order, the texts split over the kernel threads
     * ({@link Parallel}), as Hugging Face's {@code encode_batch} splits a batch. The tokenizer
     * only reads its tables, so its threads share it.
     */
    public List<Encoding> tokenize(List<String> texts) {
        Encoding[] out = new Encoding[texts.size()];
        Parallel.forRange(out.length, TOKENIZE_GRAIN, (from, to) -> {
            for (int i = from; i < to; i++) out[i] = tokenize(texts.get(i));
        });
        return Arrays.asList(out);
    }

    /** Texts per thread at least, for {@link #tokenize(List)} (a short text takes a few microseconds). */
    private static final int TOKENIZE_GRAIN = 16;

    /** The embedding of one text. */
    public float[] encode(String text) {
        return encode(List.of(text)).getFirst();
    }

    /** Embeddings of {@code texts} in input order, in batches of {@link #DEFAULT_BATCH_SIZE}. */
    public List<float[]> encode(List<String> texts) {
        return encode(texts, DEFAULT_BATCH_SIZE, Progress.NONE);
    }

    /** Embeddings of {@code texts} in input order, in batches of {@code batchSize} (sorted by length). */
    public List<float[]> encode(List<String> texts, int batchSize, Progress progress) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        return encodeTokens(tokenize(texts), batchSize, progress);
    }

    /** Embeddings of already tokenized inputs (as {@link #tokenize} makes them), in input order. */
    public List<float[]> encodeTokens(List<Encoding> enc, int batchSize, Progress progress) {
        float[][] out = new float[enc.size()][];
        forEachBatch(enc, batchSize, progress, (i, hidden, offset, count) -> {
            float[] v = pooling.pool(hidden, offset, count);                           // [dimension]
            out[i] = normalize ? Pooling.normalize(v) : v;
        });
        return Arrays.asList(out);
    }

    /**
     * The contextual token embeddings (last hidden state) of each input, real tokens only, in input
     * order: {@code [T_i][C]} per input (sentence-transformers' {@code output_value='token_embeddings'}).
     */
    public List<float[][]> tokenEmbeddings(List<Encoding> enc, int batchSize) {
        int c = model.hiddenSize();
        float[][][] out = new float[enc.size()][][];
        forEachBatch(enc, batchSize, Progress.NONE, (i, hidden, offset, count) -> {
            float[][] rows = new float[count][c];
            for (int t = 0; t < count; t++) System.arraycopy(hidden, offset + t * c, rows[t], 0, c);
            out[i] = rows;
        });
        return Arrays.asList(out);
    }

    /** Receives the hidden states of input {@code index}: {@code count} rows of C floats at {@code offset}. */
    private interface RowSink {
        void accept(int index, float[] hidden, int offset, int count);
    }

    /**
     * Batches of at most this many real tokens run one per thread ({@link Parallel#forEachTask}),
     * each with its kernels on that thread alone, instead of one after another with every kernel
     * split over the threads: below a few thousand rows a split GEMM spends much of its time
     * packing, waking the other thread and waiting for it. Interleaved in one JVM over the bench's
     * 1,000 mixed sentences (batches of 32, 192 to 7,700 tokens), encode took 3% less time with a
     * limit of 1,024 tokens, 6% with 2,048, 8-15% with 4,096 and 6% with every batch one per thread.
     * Package-private and mutable for the tests and benchmarks (0 turns it off); results do not
     * depend on it, since no kernel's output depends on how it is split.
     */
    static volatile int smallBatchTokens = Integer.getInteger("attn4j.smallBatchTokens", 4096);

    /**
     * Runs the encoder over length-sorted batches, handing each input's rows to {@code sink}
     * (from the batch's thread: sinks write disjoint slots). Batches of more than
     * {@link #smallBatchTokens} tokens run in turn, the rest one per thread.
     */
    private void forEachBatch(List<Encoding> enc, int batchSize, Progress progress, RowSink sink) {
        if (batchSize <= 0) throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        int n = enc.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -enc.get(i).length()));  // longest first, stable
        int batches = (n + batchSize - 1) / batchSize;
        int small = batches;                                                    // first batch of the small ones
        int limit = smallBatchTokens;
        while (small > 0 && batchTokens(enc, order, (small - 1) * batchSize, Math.min(n, small * batchSize)) <= limit) small--;
        int[] done = {0};
        java.util.function.IntConsumer run = batch -> {
            int start = batch * batchSize, end = Math.min(n, start + batchSize);
            runBatch(enc, order, start, end, sink);
            synchronized (done) {
                done[0] += end - start;
                progress.update(done[0], n);
            }
        };
        for (int batch = 0; batch < small; batch++) run.accept(batch);
        int first = small;
        Parallel.forEachTask(batches - first, k -> run.accept(first + k));
    }

    private static int batchTokens(List<Encoding> enc, Integer[] order, int start, int end) {
        int tokens = 0;
        for (int k = start; k < end; k++) tokens += enc.get(order[k]).length();
        return tokens;
    }

    /** The inputs order[start .. end - 1] as one padded batch through the encoder, real tokens only. */
    private void runBatch(List<Encoding> enc, Integer[] order, int start, int end, RowSink sink) {
        List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
        for (int k = start; k < end; k++) {
            Encoding e = enc.get(order[k]);
            ids.add(e.ids());
            types.add(e.typeIds());
        }
        EncoderInput in = EncoderInput.padded(ids, types, model.config().padTokenId());
        PackedHiddenStates hidden;
        try (var g = GradMode.noGrad()) {
            hidden = model.forwardPacked(in);                                       // real tokens only, [N, C]
        }
        for (int b = 0; b < end - start; b++) {
            sink.accept(order[start + b], hidden.values(), hidden.valueOffset(b), hidden.length(b));
        }
    }

    /** Unmaps the model's weights. */
    @Override
    public void close() {
        model.close();
    }
}
