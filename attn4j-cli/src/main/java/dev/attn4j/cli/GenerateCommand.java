package dev.attn4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.GenerationResult;
import dev.attn4j.generate.Generator;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code attn4j generate}: greedy (or beam) continuation of each prompt, one JSON line per prompt. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continues prompts with a decoder-only LM, greedily (as transformers' generate(do_sample=False)) or by "
                + "beam search: one JSON line {\"prompt\", \"ids\", \"text\"} per prompt (the new tokens; text only with a "
                + "tokenizer), in input order. Prompts run as one left-padded batch.")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    CausalModelOptions options = new CausalModelOptions();

    @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "32", description = "Tokens to generate at most (default 32).")
    int maxNewTokens;

    @Option(names = "--greedy", description = "Greedy decoding (the default).")
    boolean greedy;

    @Option(names = "--beams", paramLabel = "K", defaultValue = "1", description = "Beam search with K beams (length penalty 1).")
    int beams;

    @Parameters(paramLabel = "PROMPT", arity = "0..*", description = "Prompts (after those of --file).")
    List<String> prompts;

    @Override
    public Integer call() throws IOException {
        if (maxNewTokens < 1) throw new IllegalArgumentException("--max-new-tokens must be >= 1, got " + maxNewTokens);
        if (beams < 1) throw new IllegalArgumentException("--beams must be >= 1, got " + beams);
        if (greedy && beams > 1) throw new IllegalArgumentException("--greedy and --beams " + beams + " exclude each other");
        List<String> input = options.inputs(prompts);
        try (CausalDecoder m = options.load()) {
            Tokenizer tok = options.ids ? null : options.tokenizer();
            List<int[]> ids = new ArrayList<>();
            for (String s : input) ids.add(options.encode(s, tok, m.vocabSize()));
            int[] eos = m.config().eosTokenIds();
            Integer padConfig = m.config().padTokenId();
            int pad = padConfig != null ? padConfig : eos.length > 0 ? eos[0] : 0;
            GenerationConfig config = GenerationConfig.builder().maxNewTokens(maxNewTokens).numBeams(beams).lengthPenalty(1.0)
                    .eosTokenId(eos).padTokenId(pad).build();
            List<int[]> out = new ArrayList<>();
            for (GenerationResult r : new Generator(m).generate(ids, config)) out.add(r.tokens());
            PrintStream ps = System.out;
            try (JsonGenerator g = new JsonFactory().createGenerator((OutputStream) ps)) {
                g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
                g.setRootValueSeparator(null);
                for (int i = 0; i < input.size(); i++) {
                    g.writeStartObject();
                    g.writeStringField("prompt", input.get(i));
                    g.writeArrayFieldStart("ids");
                    for (int id : out.get(i)) g.writeNumber(id);
                    g.writeEndArray();
                    if (tok != null) g.writeStringField("text", tok.decode(out.get(i), true));
                    g.writeEndObject();
                    g.writeRaw('\n');
                }
            }
            ps.flush();
        }
        return 0;
    }
}
