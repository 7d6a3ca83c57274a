package dev.attn4j.spark;

import dev.attn4j.models.sentence.SentenceTokenizer;
import dev.attn4j.models.sentence.SentenceTransformer;
import dev.attn4j.tokenizers.Encoding;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Sentence embeddings of a text column, as {@code attn4j embed} computes them: the model
 * directory's sentence-transformers pipeline (Transformer, Pooling, Normalize) run by
 * {@link SentenceTransformer}. The output column ({@code outputCol}, default {@code embedding})
 * is {@code array<float>} ({@code outputType = "array"}, the default) or an ML {@code Vector}
 * ({@code "vector"}, with the dimension in its ML attribute metadata). A null text gives a null
 * embedding; an empty text the embedding of the empty string.
 *
 * <pre>{@code
 * Dataset<Row> out = new TextEmbedder().setInputCol("text").setModel("/models/all-MiniLM-L6-v2").transform(df);
 * }</pre>
 */
public final class TextEmbedder extends EncoderStage {
    /** {@code outputType} values. */
    public static final String ARRAY = "array", VECTOR = "vector";

    private final Param<String> outputCol;
    private final Param<String> outputType;

    public TextEmbedder() {
        this(Identifiable.randomUID("textEmbedder"));
    }

    public TextEmbedder(String uid) {
        super(uid);
        this.outputCol = new Param<>(this, "outputCol", "output column of embeddings");
        this.outputType = new Param<>(this, "outputType", "type of the output column: 'array' (array<float>) or 'vector' (ML Vector)",
                ParamValidators.inArray(List.of(ARRAY, VECTOR)));
        setDefault(outputCol, "embedding");
        setDefault(outputType, ARRAY);
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public Param<String> outputType() {
        return outputType;
    }

    public String getOutputType() {
        return getOrDefault(outputType);
    }

    public TextEmbedder setInputCol(String v) {
        set(inputCol(), v);
        return this;
    }

    public TextEmbedder setOutputCol(String v) {
        set(outputCol, v);
        return this;
    }

    public TextEmbedder setOutputType(String v) {
        set(outputType, v);
        return this;
    }

    public TextEmbedder setModel(String v) {
        set(model(), v);
        return this;
    }

    public TextEmbedder setBatchSize(int v) {
        set(batchSize(), v);
        return this;
    }

    public TextEmbedder setMaxLength(int v) {
        set(maxLength(), v);
        return this;
    }

    public TextEmbedder setThreadsPerTask(int v) {
        set(threadsPerTask(), v);
        return this;
    }

    @Override
    List<StructField> outputFields() {
        return List.of(field(-1));
    }

    private StructField field(int dimension) {
        if (getOutputType().equals(VECTOR)) {
            Metadata m = dimension > 0 ? new AttributeGroup(getOutputCol(), dimension).toMetadata() : Metadata.empty();
            return new StructField(getOutputCol(), SQLDataTypes.VectorType(), true, m);
        }
        return new StructField(getOutputCol(), DataTypes.createArrayType(DataTypes.FloatType, false), true, Metadata.empty());
    }

    @Override
    TextChunks prepare(int textIndex, int inputWidth) {
        ModelLocation location = ModelLocation.onDriver("TextEmbedder", getModel());
        SentenceTransformer st = LoadedModels.sentenceTransformer(Path.of(location.driverPath()));
        if (getMaxLength() > 0) st.tokenizer().withMaxSeqLength(getMaxLength());          // checks it against the model
        return new Chunks(textIndex, inputWidth, field(st.dimension()), location, getMaxLength(), getBatchSize(),
                getThreadsPerTask(), getOutputType().equals(VECTOR));
    }

    private static final class Chunks extends TextChunks {
        private final ModelLocation location;
        private final int maxLength, batchSize, threads;
        private final boolean vector;

        Chunks(int textIndex, int inputWidth, StructField field, ModelLocation location, int maxLength, int batchSize, int threads,
               boolean vector) {
            super(textIndex, inputWidth, List.of(field));
            this.location = location;
            this.maxLength = maxLength;
            this.batchSize = batchSize;
            this.threads = threads;
            this.vector = vector;
        }

        @Override
        Object[][] compute(List<String> texts) {
            SentenceTransformer st = LoadedModels.sentenceTransformer(location.resolve());
            SentenceTokenizer tok = maxLength > 0 ? st.tokenizer().withMaxSeqLength(maxLength) : st.tokenizer();
            List<float[]> emb = KernelThreads.run(threads, () -> {
                List<Encoding> enc = new ArrayList<>(texts.size());
                for (String t : texts) enc.add(tok.encode(t));
                return st.encodeTokens(enc, batchSize, SentenceTransformer.Progress.NONE);
            });
            Object[][] out = new Object[texts.size()][];
            for (int i = 0; i < out.length; i++) {
                float[] e = emb.get(i);
                if (vector) {
                    double[] d = new double[e.length];
                    for (int j = 0; j < e.length; j++) d[j] = e[j];
                    out[i] = new Object[] {Vectors.dense(d)};
                } else {
                    out[i] = new Object[] {e};
                }
            }
            return out;
        }
    }

    @Override
    public TextEmbedder copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    private static final DefaultParamsReadable<TextEmbedder> READER = new DefaultParamsReadable<>() { };

    /** Reads a TextEmbedder saved with {@code write().save(path)} (also how a saved Pipeline loads it). */
    public static MLReader<TextEmbedder> read() {
        return READER.read();
    }

    public static TextEmbedder load(String path) {
        return READER.load(path);
    }
}
