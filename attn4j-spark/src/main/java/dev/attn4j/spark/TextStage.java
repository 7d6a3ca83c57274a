package dev.attn4j.spark;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A Spark ML stage that adds columns computed from a text column with an attn4j model: the
 * params every such stage has ({@code inputCol}, {@code model}), the schema checks, and the
 * per-partition loop. Rows pass through in order with their columns unchanged; each partition
 * is read in chunks of {@link #ROWS_PER_CHUNK} rows, whose texts are computed together (sorted
 * by length into batches by the model code), so memory stays bounded whatever the partition size.
 * A null text gives null in every added column.
 */
public abstract class TextStage extends Transformer implements DefaultParamsWritable {
    /** Rows read ahead per partition and computed together. */
    static final int ROWS_PER_CHUNK = 1024;

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> model;

    protected TextStage(String uid) {
        this.uid = uid;
        this.inputCol = new Param<>(this, "inputCol", "input column of texts (string; a null text gives nulls)");
        this.model = new Param<>(this, "model", "model directory: a path every executor can read, or the name of a directory"
                + " shipped with SparkContext.addFile(dir, true) or --archives (unset: " + defaultModelDescription() + ")");
        setDefault(inputCol, "text");
    }

    /** What an unset {@code model} means, for the param's doc. */
    String defaultModelDescription() {
        return "the built-in all-MiniLM-L6-v2";
    }

    @Override
    public final String uid() {
        return uid;
    }

    public final Param<String> inputCol() {
        return inputCol;
    }

    public final String getInputCol() {
        return getOrDefault(inputCol);
    }

    public final Param<String> model() {
        return model;
    }

    /** The model param, or null when unset. */
    public final String getModel() {
        return isDefined(model) ? getOrDefault(model) : null;
    }

    /** The columns this stage adds (checked absent from the input), without model-specific metadata. */
    abstract List<StructField> outputFields();

    /**
     * Driver side, before any task: resolves and loads the model (so a missing or broken model
     * fails here, with its path in the message) and returns the function the partitions run.
     */
    abstract TextChunks prepare(int textIndex, int inputWidth);

    @Override
    public StructType transformSchema(StructType schema) {
        String in = getInputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(in)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input column '" + in + "' not found; columns: "
                    + String.join(", ", schema.fieldNames()));
        }
        if (!schema.apply(in).dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": input column '" + in + "' must be a string, it is "
                    + schema.apply(in).dataType().simpleString());
        }
        StructType out = schema;
        for (StructField f : outputFields()) {
            if (Arrays.asList(out.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": output column '" + f.name() + "' already exists");
            }
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType schema = dataset.schema();
        transformSchema(schema);
        TextChunks fn = prepare(schema.fieldIndex(getInputCol()), schema.size());
        StructType out = schema;
        for (StructField f : fn.fields) out = out.add(f);
        Dataset<Row> result = dataset.toDF().mapPartitions(fn, Encoders.row(out));
        for (StructField f : fn.fields) {
            if (!f.metadata().equals(Metadata.empty())) result = result.withMetadata(f.name(), f.metadata());   // the encoder drops it
        }
        return result;
    }

    /**
     * What the partitions run: the input rows with {@link #fields} appended, computed a chunk of
     * rows at a time by {@link #compute}. Serializable: it holds the model's location, not the model.
     */
    abstract static class TextChunks implements MapPartitionsFunction<Row, Row> {
        private final int textIndex;
        private final int inputWidth;
        final StructField[] fields;

        TextChunks(int textIndex, int inputWidth, List<StructField> fields) {
            this.textIndex = textIndex;
            this.inputWidth = inputWidth;
            this.fields = fields.toArray(StructField[]::new);
        }

        /** The added values of each text (none null), in order: {@code [texts.size()][fields.length]}. */
        abstract Object[][] compute(List<String> texts);

        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            return new Iterator<>() {
                private final List<Row> out = new ArrayList<>(ROWS_PER_CHUNK);
                private int next;

                @Override
                public boolean hasNext() {
                    if (next < out.size()) return true;
                    out.clear();
                    next = 0;
                    if (!rows.hasNext()) return false;
                    List<Row> chunk = new ArrayList<>(ROWS_PER_CHUNK);
                    List<String> texts = new ArrayList<>(ROWS_PER_CHUNK);
                    while (chunk.size() < ROWS_PER_CHUNK && rows.hasNext()) {
                        Row r = rows.next();
                        chunk.add(r);
                        if (!r.isNullAt(textIndex)) texts.add(r.getString(textIndex));
                    }
                    Object[][] values = texts.isEmpty() ? new Object[0][] : compute(texts);
                    int k = 0;
                    for (Row r : chunk) {
                        Object[] v = new Object[inputWidth + fields.length];
                        for (int i = 0; i < inputWidth; i++) v[i] = r.get(i);
                        if (!r.isNullAt(textIndex)) System.arraycopy(values[k++], 0, v, inputWidth, fields.length);
                        out.add(RowFactory.create(v));
                    }
                    return true;
                }

                @Override
                public Row next() {
                    if (!hasNext()) throw new NoSuchElementException();
                    return out.get(next++);
                }
            };
        }
    }
}
