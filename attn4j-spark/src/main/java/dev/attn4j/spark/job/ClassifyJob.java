package dev.attn4j.spark.job;

import dev.attn4j.spark.EncoderStage;
import dev.attn4j.spark.TextClassifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code attn4j spark classify}: a label and its probability per text ({@link TextClassifier}). */
@Command(name = "classify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Labels every row's text with a *ForSequenceClassification model directory, as `attn4j classify` does. "
                + "The output holds the id column (its type kept), the text column, the label and its probability (float).",
                "Prints Spark's stage progress on stderr and a last line {\"rows\", \"seconds\", \"rowsPerSecond\", \"partitions\"}."})
public final class ClassifyJob extends TextJob {
    @Option(names = "--output-column", paramLabel = "NAME", defaultValue = "label", order = 20,
            description = "Column of the predicted labels (default ${DEFAULT-VALUE}).")
    String outputColumn;

    @Option(names = "--probability-column", paramLabel = "NAME", defaultValue = "probability", order = 21,
            description = "Column of the predicted label's probability (default ${DEFAULT-VALUE}).")
    String probabilityColumn;

    @Override
    EncoderStage stage(String textColumn) {
        if (model == null) throw new IllegalArgumentException("spark classify needs --model (a *ForSequenceClassification directory)");
        return new TextClassifier().setInputCol(textColumn).setLabelCol(outputColumn).setProbabilityCol(probabilityColumn)
                .setModel(model);
    }

    @Override
    List<String> outputColumns() {
        return List.of(outputColumn, probabilityColumn);
    }
}
