package dev.attn4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code attn4j score}: log-likelihood and perplexity of each text under a decoder-only LM. */
@Command(name = "score", mixinStandardHelpOptions = true,
        description = "Scores texts with a decoder-only LM: one JSON line {\"text\", \"tokens\", \"scored\", \"logprob\", "
                + "\"perplexity\"} per input: the summed natural-log probability of every token after the first given the "
                + "ones before it (as transformers' labels=input_ids loss, times the count), and exp(-logprob / scored).")
public final class ScoreCommand implements Callable<Integer> {
    @Mixin
    CausalModelOptions options = new CausalModelOptions();

    @Parameters(paramLabel = "TEXT", arity = "0..*", description = "Texts (after those of --file).")
    List<String> texts;

    @Override
    public Integer call() throws IOException {
        List<String> input = options.inputs(texts);
        try (CausalDecoder m = options.load(); var grad = GradMode.noGrad()) {
            Tokenizer tok = options.ids ? null : options.tokenizer();
            PrintStream ps = System.out;
            try (JsonGenerator g = new JsonFactory().createGenerator((OutputStream) ps)) {
                g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
                g.setRootValueSeparator(null);
                for (String text : input) {
                    int[] ids = options.encode(text, tok, m.vocabSize());
                    if (ids.length > m.maxPositions()) {
                        throw new IllegalArgumentException("'" + text + "' has " + ids.length + " tokens, more than the model's "
                                + m.maxPositions() + " positions");
                    }
                    double logprob = 0;
                    if (ids.length > 1) {
                        Tensor logp = m.forward(new int[][] {ids}, null, false, false).logits().logSoftmax(-1);   // [1, T, V]
                        for (int j = 1; j < ids.length; j++) logprob += logp.data().getDouble(0, j - 1, ids[j]);
                    }
                    int scored = ids.length - 1;
                    g.writeStartObject();
                    g.writeStringField("text", text);
                    g.writeNumberField("tokens", ids.length);
                    g.writeNumberField("scored", scored);
                    g.writeNumberField("logprob", logprob);
                    if (scored > 0) g.writeNumberField("perplexity", Math.exp(-logprob / scored));
                    else g.writeNullField("perplexity");
                    g.writeEndObject();
                    g.writeRaw('\n');
                }
            }
            ps.flush();
        }
        return 0;
    }
}
