package dev.attn4j.spark.job;

import dev.attn4j.spark.EncoderStage;
import dev.attn4j.spark.TextEmbedder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;

/** {@code attn4j spark embed}: sentence embeddings of a text column ({@link TextEmbedder}). */
@Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sentence embeddings of every row's text, as `attn4j embed` computes them. The output holds the id column "
                + "(its type kept), the text column and the embedding as array<float> (in CSV: a JSON array).",
                "Prints Spark's stage progress on stderr and a last line {\"rows\", \"seconds\", \"rowsPerSecond\", \"partitions\"}."})
public final class EmbedJob extends TextJob {
    @Option(names = "--output-column", paramLabel = "NAME", defaultValue = "embedding", order = 20,
            description = "Column of the embeddings (default ${DEFAULT-VALUE}).")
    String outputColumn;

    @Override
    EncoderStage stage(String textColumn) {
        TextEmbedder e = new TextEmbedder().setInputCol(textColumn).setOutputCol(outputColumn);
        if (model != null) e.setModel(model);
        return e;
    }

    @Override
    List<String> outputColumns() {
        return List.of(outputColumn);
    }
}
