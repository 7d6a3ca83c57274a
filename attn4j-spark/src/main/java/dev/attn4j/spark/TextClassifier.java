package dev.attn4j.spark;

import dev.attn4j.tokenizers.Encoding;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.Truncation;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import scala.jdk.javaapi.CollectionConverters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Labels a text column with a {@code *ForSequenceClassification} model directory (BERT, RoBERTa
 * or DistilBERT with {@code tokenizer.json}, e.g. what {@code attn4j finetune} writes), as
 * {@code attn4j classify} does: the texts truncated to {@code maxLength} tokens (default the
 * model's positions, at most 512), softmax over the logits. Adds {@code labelCol} (default
 * {@code label}: the most probable label's name from {@code id2label}), {@code probabilityCol}
 * (default {@code probability}: its probability, float) and, when {@code scoresCol} is set, a
 * {@code map<string,float>} of every label's probability. A null text gives nulls. {@code model}
 * has no default. A peft adapter must be merged first ({@code attn4j merge}).
 */
public final class TextClassifier extends EncoderStage {
    private final Param<String> labelCol;
    private final Param<String> probabilityCol;
    private final Param<String> scoresCol;

    public TextClassifier() {
        this(Identifiable.randomUID("textClassifier"));
    }

    public TextClassifier(String uid) {
        super(uid);
        this.labelCol = new Param<>(this, "labelCol", "output column of predicted label names (string)");
        this.probabilityCol = new Param<>(this, "probabilityCol", "output column of the predicted label's probability (float)");
        this.scoresCol = new Param<>(this, "scoresCol", "output column of every label's probability (map<string,float>); empty: none");
        setDefault(labelCol, "label");
        setDefault(probabilityCol, "probability");
        setDefault(scoresCol, "");
    }

    @Override
    String defaultModelDescription() {
        return "none; required";
    }

    public Param<String> labelCol() {
        return labelCol;
    }

    public String getLabelCol() {
        return getOrDefault(labelCol);
    }

    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    public String getProbabilityCol() {
        return getOrDefault(probabilityCol);
    }

    public Param<String> scoresCol() {
        return scoresCol;
    }

    public String getScoresCol() {
        return getOrDefault(scoresCol);
    }

    public TextClassifier setInputCol(String v) {
        set(inputCol(), v);
        return this;
    }

    public TextClassifier setLabelCol(String v) {
        set(labelCol, v);
        return this;
    }

    public TextClassifier setProbabilityCol(String v) {
        set(probabilityCol, v);
        return this;
    }

    public TextClassifier setScoresCol(String v) {
        set(scoresCol, v);
        return this;
    }

    public TextClassifier setModel(String v) {
        set(model(), v);
        return this;
    }

    public TextClassifier setBatchSize(int v) {
        set(batchSize(), v);
        return this;
    }

    public TextClassifier setMaxLength(int v) {
        set(maxLength(), v);
        return this;
    }

    public TextClassifier setThreadsPerTask(int v) {
        set(threadsPerTask(), v);
        return this;
    }

    @Override
    List<StructField> outputFields() {
        List<StructField> f = new ArrayList<>(List.of(
                new StructField(getLabelCol(), DataTypes.StringType, true, Metadata.empty()),
                new StructField(getProbabilityCol(), DataTypes.FloatType, true, Metadata.empty())));
        if (!getScoresCol().isEmpty()) {
            f.add(new StructField(getScoresCol(), DataTypes.createMapType(DataTypes.StringType, DataTypes.FloatType, false), true,
                    Metadata.empty()));
        }
        return f;
    }

    @Override
    TextChunks prepare(int textIndex, int inputWidth) {
        if (getModel() == null) throw new IllegalArgumentException("TextClassifier: set model to a *ForSequenceClassification directory");
        ModelLocation location = ModelLocation.onDriver("TextClassifier", getModel());
        LoadedModels.Classifier c = LoadedModels.classifier(Path.of(location.driverPath()));
        int positions = c.model().config().maxInputLength();
        if (getMaxLength() > positions) {
            throw new IllegalArgumentException("TextClassifier: maxLength " + getMaxLength() + " exceeds the model's " + positions
                    + " positions (" + location.driverPath() + ")");
        }
        return new Chunks(textIndex, inputWidth, outputFields(), location, getMaxLength(), getBatchSize(), getThreadsPerTask(),
                !getScoresCol().isEmpty());
    }

    private static final class Chunks extends TextChunks {
        private final ModelLocation location;
        private final int maxLength, batchSize, threads;
        private final boolean scores;

        Chunks(int textIndex, int inputWidth, List<StructField> fields, ModelLocation location, int maxLength, int batchSize,
               int threads, boolean scores) {
            super(textIndex, inputWidth, fields);
            this.location = location;
            this.maxLength = maxLength;
            this.batchSize = batchSize;
            this.threads = threads;
            this.scores = scores;
        }

        @Override
        Object[][] compute(List<String> texts) {
            LoadedModels.Classifier c = LoadedModels.classifier(location.resolve());
            Tokenizer tok = maxLength > 0 ? c.tokenizer().withTruncation(Truncation.of(maxLength)) : c.tokenizer();
            List<float[]> probs = KernelThreads.run(threads, () -> {
                List<Encoding> enc = new ArrayList<>(texts.size());
                for (String t : texts) enc.add(tok.encode(t, true));
                return c.model().probabilities(enc, batchSize);
            });
            List<String> names = c.model().head().id2label();
            Object[][] out = new Object[texts.size()][];
            for (int i = 0; i < out.length; i++) {
                float[] p = probs.get(i);
                int best = 0;
                for (int k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;       // first of equals, as classify's stable sort
                if (scores) {
                    Map<String, Float> m = new LinkedHashMap<>();
                    for (int k = 0; k < p.length; k++) m.put(names.get(k), p[k]);
                    out[i] = new Object[] {names.get(best), p[best], CollectionConverters.asScala(m)};   // a Row holds Scala maps
                } else {
                    out[i] = new Object[] {names.get(best), p[best]};
                }
            }
            return out;
        }
    }

    @Override
    public TextClassifier copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    private static final DefaultParamsReadable<TextClassifier> READER = new DefaultParamsReadable<>() { };

    public static MLReader<TextClassifier> read() {
        return READER.read();
    }

    public static TextClassifier load(String path) {
        return READER.load(path);
    }
}
