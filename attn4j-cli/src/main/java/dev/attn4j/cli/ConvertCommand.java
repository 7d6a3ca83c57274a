package dev.attn4j.cli;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.models.onnx.OnnxConverter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code attn4j convert}: a BERT-family ONNX export (an .onnx file with its tokenizer.json, or a jar
 * holding both, such as langchain4j's embedding-model artifacts) to a Hugging Face +
 * sentence-transformers model directory that {@code embed}, {@code tokenize} and Python load.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Converts a BERT-family ONNX export (FILE.onnx with its tokenizer.json, or a jar holding both) "
                + "into a Hugging Face + sentence-transformers model directory, written atomically. Prints one JSON "
                + "line describing the result.")
public final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "FILE", description = "FILE.onnx or FILE.jar.")
    Path from;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The new model directory (must not exist or be empty).")
    Path out;

    @Option(names = "--pooling", paramLabel = "cls|mean",
            description = "Sentence embedding pooling. Default: the jar's own (langchain4j's PoolingMode), else mean.")
    String pooling;

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "The tokenizer.json of an .onnx source. Default: tokenizer.json or NAME-tokenizer.json beside it.")
    Path tokenizer;

    @Option(names = "--max-seq-length", paramLabel = "N",
            description = "sentence-transformers max_seq_length. Default: the model's positions, at most 512.")
    int maxSeqLength;

    @Override
    public Integer call() throws IOException {
        if (maxSeqLength < 0) throw new IllegalArgumentException("--max-seq-length must be positive, got " + maxSeqLength);
        OnnxConverter.Pooling p = pooling == null ? null : OnnxConverter.Pooling.parse(pooling);
        System.err.println("attn4j convert: reading " + from);
        long t0 = System.nanoTime();
        OnnxConverter.Result r = OnnxConverter.convert(from, out, tokenizer, p, maxSeqLength);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("out", r.dir().toString());
        summary.put("model", r.name());
        summary.put("layers", r.config().numHiddenLayers());
        summary.put("hiddenSize", r.config().hiddenSize());
        summary.put("heads", r.config().numAttentionHeads());
        summary.put("vocabSize", r.config().vocabSize());
        summary.put("parameters", r.parameters());
        summary.put("pooling", r.pooling().toString());
        summary.put("poolingSource", r.poolingSource());
        summary.put("maxSeqLength", r.maxSeqLength());
        summary.put("seconds", Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
        System.out.println(JsonMapper.builder().build().writeValueAsString(summary));
        System.out.flush();
        return 0;
    }
}
