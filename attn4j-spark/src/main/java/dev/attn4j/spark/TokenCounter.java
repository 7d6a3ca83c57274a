package dev.attn4j.spark;

import dev.attn4j.models.sentence.SentenceTokenizer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;

import java.nio.file.Path;
import java.util.List;

/**
 * Tokens per text, for planning a job (batch sizes, how much gets truncated): the number of
 * tokens the model's tokenizer makes of each text, special tokens included, before truncation
 * ({@link SentenceTokenizer#countTokens}), in {@code outputCol} (default {@code tokens}, int). A
 * count above the model's limit means the embedder or classifier truncates that text. Needs only
 * the model's tokenizer.json and config.json; a null text gives null.
 */
public final class TokenCounter extends TextStage {
    private final Param<String> outputCol;

    public TokenCounter() {
        this(Identifiable.randomUID("tokenCounter"));
    }

    public TokenCounter(String uid) {
        super(uid);
        this.outputCol = new Param<>(this, "outputCol", "output column of token counts (int)");
        setDefault(outputCol, "tokens");
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public TokenCounter setInputCol(String v) {
        set(inputCol(), v);
        return this;
    }

    public TokenCounter setOutputCol(String v) {
        set(outputCol, v);
        return this;
    }

    public TokenCounter setModel(String v) {
        set(model(), v);
        return this;
    }

    @Override
    List<StructField> outputFields() {
        return List.of(new StructField(getOutputCol(), DataTypes.IntegerType, true, Metadata.empty()));
    }

    @Override
    TextChunks prepare(int textIndex, int inputWidth) {
        ModelLocation location = ModelLocation.onDriver("TokenCounter", getModel());
        LoadedModels.sentenceTokenizer(Path.of(location.driverPath()));
        return new Chunks(textIndex, inputWidth, outputFields(), location);
    }

    private static final class Chunks extends TextChunks {
        private final ModelLocation location;

        Chunks(int textIndex, int inputWidth, List<StructField> fields, ModelLocation location) {
            super(textIndex, inputWidth, fields);
            this.location = location;
        }

        @Override
        Object[][] compute(List<String> texts) {
            SentenceTokenizer tok = LoadedModels.sentenceTokenizer(location.resolve());
            Object[][] out = new Object[texts.size()][];
            for (int i = 0; i < out.length; i++) out[i] = new Object[] {tok.countTokens(texts.get(i))};
            return out;
        }
    }

    @Override
    public TokenCounter copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    private static final DefaultParamsReadable<TokenCounter> READER = new DefaultParamsReadable<>() { };

    public static MLReader<TokenCounter> read() {
        return READER.read();
    }

    public static TokenCounter load(String path) {
        return READER.load(path);
    }
}
