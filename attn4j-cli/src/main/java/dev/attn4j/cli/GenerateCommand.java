package dev.attn4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.GenerationResult;
import dev.attn4j.generate.Generator;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.tokenizers.StreamingDecoder;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;

/**
 * {@code attn4j generate}: continues prompts with a decoder-only LM with transformers'
 * {@code generate()} semantics ({@link Generator}, {@code dev.attn4j.generate.BeamSearch}), the
 * model's generation_config.json giving the defaults. Without {@code --json} each prompt's new
 * text is streamed to stdout as it is generated, one prompt after another, each ended by a
 * newline; with {@code --json} the prompts run as one left-padded batch and each gets one JSON
 * line {@code {"prompt", "output", "token_ids", "prompt_tokens", "generated_tokens",
 * "stop_reason", "tokens_per_second"}}.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Continues prompts with a decoder-only LM (greedy, sampling or beam search, as transformers' generate(); "
                + "the model's generation_config.json gives the defaults).",
                "Streams each prompt's new text (its new token ids when the model has no tokenizer) to stdout, one line per prompt, "
                        + "one prompt after another; with --json, runs the prompts as one batch "
                        + "and prints one line per prompt: {\"prompt\", \"output\", \"token_ids\" (the new ids, with the final EOS), "
                        + "\"prompt_tokens\", \"generated_tokens\", \"stop_reason\" (eos, length, stop_string), \"tokens_per_second\"}."})
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    CausalModelOptions options = new CausalModelOptions();

    @Mixin
    GenerationOptions generation = new GenerationOptions();

    @picocli.CommandLine.Option(names = "--json", description = "One JSON line per prompt instead of streamed text.")
    boolean json;

    @Parameters(paramLabel = "PROMPT", arity = "0..*", description = "Prompts (after those of --file).")
    List<String> prompts;

    @Override
    public Integer call() throws IOException {
        try (CausalDecoder m = options.load(); var grad = GradMode.noGrad()) {
            GenerationConfig config = generation.apply(options.generationDefaults());
            Tokenizer tok = options.tokenizer();
            List<CausalModelOptions.Input> inputs = options.inputs(prompts, m.vocabSize());
            CausalModelOptions.checkContext(inputs, m.config().maxPositionEmbeddings());
            if (config.padTokenId() == null && config.eosTokenId().length == 0) config = config.toBuilder().padTokenId(0).build();
            if (!config.stopStrings().isEmpty() && tok == null) {
                throw new IllegalArgumentException("--stop needs the model's tokenizer (" + options.model + " has none)");
            }
            IntFunction<String> tokenText = tok == null ? null : id -> tok.decode(new int[] {id}, false);
            Generator generator = new Generator(m, tokenText);
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);   // UTF-8 whatever the locale
            if (json) {
                printJson(generator, config, inputs, tok, out);
            } else {
                for (CausalModelOptions.Input in : inputs) stream(generator, config, in, tok, out);
            }
            out.flush();
        }
        return 0;
    }

    /** Generates for one prompt, printing its text (or, without a tokenizer, its ids) as the tokens come. */
    static void stream(Generator generator, GenerationConfig config, CausalModelOptions.Input in, Tokenizer tok, PrintStream out) {
        StreamingDecoder text = tok == null ? null : new StreamingDecoder(tok);   // holds back unfinished UTF-8
        boolean[] first = {true};
        generator.generate(List.of(in.ids()), config, (row, token) -> {
            if (text != null) {
                out.print(text.next(token));
            } else {
                out.print((first[0] ? "" : " ") + token);
                first[0] = false;
            }
            out.flush();
        });
        if (text != null) out.print(text.flush());
        out.println();
        out.flush();
    }

    /** Generates for all prompts as one batch, then prints one JSON line per prompt. */
    static void printJson(Generator generator, GenerationConfig config, List<CausalModelOptions.Input> inputs, Tokenizer tok,
                          PrintStream out) throws IOException {
        List<int[]> ids = new ArrayList<>();
        for (CausalModelOptions.Input in : inputs) ids.add(in.ids());
        long[] finished = new long[inputs.size()];
        int[] counts = new int[inputs.size()];
        long start = System.nanoTime();
        List<GenerationResult> results = generator.generate(ids, config, (row, token) -> {
            counts[row]++;
            finished[row] = System.nanoTime();
        });
        long end = System.nanoTime();
        try (JsonGenerator g = new JsonFactory().createGenerator((OutputStream) out)) {
            g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            g.setRootValueSeparator(null);
            for (GenerationResult r : results) {
                CausalModelOptions.Input in = inputs.get(r.prompt());
                g.writeStartObject();
                if (in.fromIds()) {
                    g.writeArrayFieldStart("prompt");
                    for (int id : in.ids()) g.writeNumber(id);
                    g.writeEndArray();
                } else {
                    g.writeStringField("prompt", in.text());
                }
                if (tok != null) g.writeStringField("output", tok.decode(r.tokens(), true));
                else g.writeNullField("output");
                g.writeArrayFieldStart("token_ids");
                for (int id : r.tokens()) g.writeNumber(id);
                g.writeEndArray();
                g.writeNumberField("prompt_tokens", r.promptTokens());
                g.writeNumberField("generated_tokens", r.newTokens());
                g.writeStringField("stop_reason", r.stopReason() == null ? null : r.stopReason().label());
                // beam search reports its tokens at the end: the whole run's time
                long stop = config.numBeams() > 1 || finished[r.prompt()] == 0 ? end : finished[r.prompt()];
                double seconds = Math.max(stop - start, 1) / 1e9;
                g.writeNumberField("tokens_per_second", Math.round(r.newTokens() / seconds * 100) / 100.0);
                g.writeEndObject();
                g.writeRaw('\n');
            }
        }
        out.flush();
    }
}
