package dev.attn4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.explain.Explainer;
import dev.attn4j.explain.Explanation;
import dev.attn4j.models.bert.BertConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.tokenizers.Encoding;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.Truncation;
import dev.attn4j.train.metrics.ClassificationMetrics;
import dev.attn4j.train.data.DataFiles;
import dev.attn4j.train.data.LabelMapping;
import dev.attn4j.train.data.LabeledData;
import dev.attn4j.train.data.LabeledExample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code attn4j classify}: labels texts with a *ForSequenceClassification checkpoint. */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Classifies texts with a sequence-classification checkpoint (attn4j's or transformers'): one JSON line "
                + "{\"text\", \"label\", \"score\", \"scores\"} per input, in input order. With --format the file is a labelled "
                + "set: each line also has \"gold\", and a last line {\"accuracy\", \"macroF1\", \"n\"} summarises.")
public final class ClassifyCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "Model directory or Hugging Face id; or a peft LoRA adapter "
            + "directory (its base_model_name_or_path is loaded with it); with --adapter, the adapter's base model.")
    String model;

    @Option(names = "--adapter", paramLabel = "DIR", description = "A peft LoRA adapter directory to apply to --model "
            + "(default base: the adapter's base_model_name_or_path).")
    Path adapter;

    @Option(names = "--file", paramLabel = "F", description = "Input file: one text per line, or with --format a labelled file.")
    Path file;

    @Mixin
    DataFileOptions files = new DataFileOptions();

    @Option(names = "--top-k", paramLabel = "K", description = "Only the K most likely labels in \"scores\".")
    Integer topK;

    @Option(names = "--batch-size", defaultValue = "32", description = "Texts per forward pass (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--max-length", description = "Tokens per text (default: the model's maximum, at most 512).")
    Integer maxLength;

    @Option(names = "--quantize", paramLabel = "T",
            description = "Quantize the encoder's linear weights on load: q8_0, q4_0, q4_1, q4_k, q5_k or q6_k (embeddings, norms, "
                    + "biases and the classifier head stay float).")
    String quantize;

    @Option(names = "--explain", description = "Add \"explain\": per-token attributions of the predicted label "
            + "(tokens, offsets, special, gradientXInput, attentionRollout).")
    boolean explain;

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts to classify (after those of --file).")
    List<String> texts;

    @Override
    public Integer call() throws Exception {
        if (batchSize <= 0) throw new IllegalArgumentException("--batch-size must be positive, got " + batchSize);
        if (topK != null && topK <= 0) throw new IllegalArgumentException("--top-k must be positive, got " + topK);
        dev.attn4j.tensor.QuantType q = quantize == null ? null : dev.attn4j.tensor.QuantType.byName(quantize);
        boolean labelled = files.formatGiven();
        if (labelled && file == null) throw new IllegalArgumentException("--format needs --file");
        List<LabeledExample> rows = new ArrayList<>();
        if (file != null) {
            if (labelled) {
                LabeledData d = DataFiles.load(file, files.forFile(file));
                rows.addAll(d.examples());
                if (d.skippedSummary() != null) System.err.println(d.skippedSummary());
            }
            else for (String t : ModelOptions.readLines(file)) rows.add(new LabeledExample(t, null, null, rows.size() + 1));
        }
        if (texts != null) for (String t : texts) rows.add(new LabeledExample(t, null, null, 0));
        if (rows.isEmpty()) throw new IllegalArgumentException(file == null ? "no input: give texts as arguments or --file F" : file + ": no texts");
        if (model == null && adapter == null) throw new IllegalArgumentException("give --model (a model or an adapter directory) or --adapter");
        AdapterModels.Loaded loaded = AdapterModels.load(model, adapter, q);
        PrintStream out = System.out;
        Tokenizer tok;
        try {
            tok = tokenizer(loaded, maxLength, model);
        } catch (IllegalArgumentException | java.io.IOException e) {
            loaded.model().close();
            throw e;
        }
        try (EncoderClassifier m = loaded.model()) {
            List<String> names = m.head().id2label();
            int[] gold = new int[rows.size()];
            if (labelled) gold = LabelMapping.of(names).ids(rows, file);   // an unknown gold label: named with its line
            List<Encoding> enc = rows.parallelStream().map(r -> tok.encode(r.text(), true)).toList();
            List<float[]> probs = m.probabilities(enc, batchSize);
            int[] pred = new int[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                float[] p = probs.get(i);
                Integer[] rank = new Integer[p.length];
                for (int k = 0; k < p.length; k++) rank[k] = k;
                Arrays.sort(rank, (x, y) -> Float.compare(p[y], p[x]));
                pred[i] = rank[0];
                ObjectNode o = FinetuneCommand.JSON.createObjectNode();
                o.put("text", rows.get(i).text());
                o.put("label", names.get(rank[0]));
                o.put("score", p[rank[0]]);
                ObjectNode scores = o.putObject("scores");
                int k = topK == null ? p.length : Math.min(topK, p.length);
                for (int j = 0; j < k; j++) scores.put(names.get(rank[j]), p[rank[j]]);
                if (labelled) o.put("gold", rows.get(i).label());
                if (explain) o.set("explain", explanationJson(Explainer.explain(m, enc.get(i), rank[0])));
                out.println(FinetuneCommand.JSON.writeValueAsString(o));
            }
            if (labelled) {
                ClassificationMetrics em = ClassificationMetrics.compute(gold, pred, names);
                ObjectNode s = FinetuneCommand.JSON.createObjectNode();
                s.put("accuracy", em.accuracy());
                s.put("macroF1", em.macroF1());
                s.put("n", em.n());
                out.println(FinetuneCommand.JSON.writeValueAsString(s));
            }
        }
        return 0;
    }

    /**
     * The tokenizer classify reads texts with: the loaded model's tokenizer.json, truncated to
     * {@code maxLength} (default: the model's maximum, at most 512), no padding.
     */
    static Tokenizer tokenizer(AdapterModels.Loaded loaded, Integer maxLength, String modelArg) throws java.io.IOException {
        Path tokFile = loaded.tokenizerDir().resolve("tokenizer.json");
        if (!Files.isRegularFile(tokFile)) {
            throw new IllegalArgumentException("--model " + modelArg + ": no tokenizer.json in " + loaded.tokenizerDir());
        }
        return Tokenizer.fromFile(tokFile).withTruncation(Truncation.of(maxLength(loaded.model().config(), maxLength))).withPadding(null);
    }

    /** {@code maxLength}, or the model's position table (RoBERTa's less its padding offset) capped at 512. */
    static int maxLength(BertConfig c, Integer maxLength) {
        int max = c.maxInputLength();
        return maxLength != null ? maxLength : Math.min(512, max);
    }

    /** {@code {"tokens", "offsets", "special", "gradientXInput", "attentionRollout"}} of one explanation. */
    static ObjectNode explanationJson(Explanation x) {
        ObjectNode e = FinetuneCommand.JSON.createObjectNode();
        var tokens = e.putArray("tokens");
        var offsets = e.putArray("offsets");
        var special = e.putArray("special");
        var gxi = e.putArray("gradientXInput");
        var rollout = e.putArray("attentionRollout");
        for (int t = 0; t < x.length(); t++) {
            tokens.add(x.tokens().get(t));
            offsets.addArray().add(x.offsets()[t][0]).add(x.offsets()[t][1]);
            special.add(x.special()[t]);
            gxi.add(x.gradientXInput()[t]);
            rollout.add(x.attentionRollout()[t]);
        }
        return e;
    }
}
