package dev.attn4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code attn4j score}: the log-probability of each token of each input given the ones before it
 * under a decoder-only LM, and the perplexity.
 */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = {"Scores inputs with a decoder-only LM: one JSON line per input {\"text\", \"tokens\", \"logprobs\", \"perplexity\"}: "
                + "the tokens, the natural-log probability of each token after the first given the ones before it (T-1 entries, "
                + "aligned with tokens 2..T) and exp(-mean(logprobs)) (null for a single token).",
                "Inputs given with --ids / --ids-file print \"ids\" instead of \"text\" (and \"tokens\" only when the model has a "
                        + "tokenizer)."})
public final class ScoreCommand implements Callable<Integer> {
    @Mixin
    CausalModelOptions options = new CausalModelOptions();

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts (after those of --file).")
    List<String> texts;

    @Override
    public Integer call() throws IOException {
        try (CausalDecoder m = options.load(); var grad = GradMode.noGrad()) {
            List<CausalModelOptions.Input> inputs = options.inputs(texts, m.vocabSize());
            CausalModelOptions.checkContext(inputs, Math.min(m.maxPositions(), m.config().maxPositionEmbeddings()));
            Tokenizer tok = options.tokenizer();
            PrintStream ps = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            try (JsonGenerator g = new JsonFactory().createGenerator((OutputStream) ps)) {
                g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
                g.setRootValueSeparator(null);
                for (CausalModelOptions.Input in : inputs) {
                    double[] logprobs = logprobs(m, in.ids());
                    g.writeStartObject();
                    if (in.fromIds()) {
                        g.writeArrayFieldStart("ids");
                        for (int id : in.ids()) g.writeNumber(id);
                        g.writeEndArray();
                    } else {
                        g.writeStringField("text", in.text());
                    }
                    if (tok != null) {
                        g.writeArrayFieldStart("tokens");
                        for (int id : in.ids()) g.writeString(tok.idToToken(id));
                        g.writeEndArray();
                    }
                    g.writeArrayFieldStart("logprobs");
                    double sum = 0;
                    for (double lp : logprobs) {
                        g.writeNumber(lp);
                        sum += lp;
                    }
                    g.writeEndArray();
                    if (logprobs.length > 0) g.writeNumberField("perplexity", Math.exp(-sum / logprobs.length));
                    else g.writeNullField("perplexity");
                    g.writeEndObject();
                    g.writeRaw('\n');
                    g.flush();
                }
            }
            ps.flush();
        }
        return 0;
    }

    /** log p(ids[j] | ids[..j]) for j = 1..T-1, from one forward pass. */
    static double[] logprobs(CausalDecoder m, int[] ids) {
        double[] out = new double[ids.length - 1];
        if (out.length == 0) return out;
        float[][] logits = m.forward(m.newCache(1, ids.length), new int[][] {ids}, null, true)[0];   // [T][V]
        for (int j = 1; j < ids.length; j++) {
            float[] row = logits[j - 1];
            double max = Double.NEGATIVE_INFINITY;
            for (float v : row) max = Math.max(max, v);
            double sum = 0;
            for (float v : row) sum += Math.exp(v - max);
            out[j - 1] = row[ids[j]] - max - Math.log(sum);
        }
        return out;
    }
}
