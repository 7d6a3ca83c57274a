package dev.attn4j.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.BeamSearch;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.GenerationResult;
import dev.attn4j.generate.Greedy;
import dev.attn4j.generate.Seq2SeqGenerator;
import dev.attn4j.models.seq2seq.EncoderDecoderModel;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.TokenizerException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code attn4j translate}: decodes inputs with a pretrained encoder-decoder ({@code --model}:
 * Marian, T5, BART, mBART in Hugging Face layout, generation with transformers' semantics and the
 * model's generation config) or with a checkpoint written by {@code attn4j train}
 * ({@code --checkpoint}, the dates task: one JSON line {"source", "output"} per input).
 */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = {"Translate texts with a pretrained encoder-decoder (--model: Marian, T5, BART, mBART) or a checkpoint of "
                + "'attn4j train' (--checkpoint).",
                "With --model: one output text per line in input order; with --json one line {\"source\", \"output\", \"token_ids\"} per "
                        + "input (token_ids: the generated ids without the decoder start token, with the final EOS). The model's "
                        + "generation_config.json (else config.json) gives the defaults (num_beams, max_length, bad_words_ids, ...)."})
public final class TranslateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", description = "Checkpoint directory written by 'attn4j train'.")
    Path checkpoint;

    @Option(names = "--model", paramLabel = "M", description = "Directory or Hugging Face id of an encoder-decoder (model_type marian, t5, "
            + "mt5, bart, mbart).")
    String model;

    @Mixin
    Seq2SeqModelOptions inputs = new Seq2SeqModelOptions();

    @Mixin
    GenerationOptions generation = new GenerationOptions();

    @Option(names = "--max-length", description = "--checkpoint: longest output (default: the model's).")
    Integer maxLength;

    @Option(names = "--json", description = "--model: one JSON line {\"source\", \"output\", \"token_ids\"} per input.")
    boolean json;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Inputs to decode.")
    List<String> texts = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if ((checkpoint == null) == (model == null)) throw new IllegalArgumentException("give exactly one of --model M and --checkpoint DIR");
        if (model != null) {
            runPretrained(model, inputs, generation, texts, json, null);
            return 0;
        }
        translateCheckpoint();
        return 0;
    }

    /** The dates checkpoints of 'attn4j train': one JSON line {"source", "output"} per input. */
    private void translateCheckpoint() throws IOException {
        int beam = generation.numBeams != null ? generation.numBeams : 4;
        double lengthPenalty = generation.lengthPenalty != null ? generation.lengthPenalty : 1.0;
        if (beam < 1) throw new IllegalArgumentException("--beam must be >= 1, got " + beam);
        List<String> list = new ArrayList<>();
        if (inputs.file != null) {
            if (!Files.isRegularFile(inputs.file)) throw new IllegalArgumentException("--file " + inputs.file + " does not exist");
            for (String line : Files.readAllLines(inputs.file, StandardCharsets.UTF_8)) if (!line.isBlank()) list.add(line.strip());
        }
        list.addAll(texts);
        if (list.isEmpty()) throw new IllegalArgumentException("nothing to translate: give TEXT arguments or --file");
        Seq2SeqModel<?> m = CheckpointOptions.load(checkpoint);
        CheckpointOptions.Codec vocab = CheckpointOptions.codec(checkpoint);
        int max = maxLength != null ? maxLength : m.config().maxTargetLen();
        ObjectMapper mapper = new ObjectMapper();
        PrintWriter out = spec.commandLine().getOut();
        for (String text : list) {
            if (text.isEmpty()) throw new IllegalArgumentException("empty input");
            int[] ids = vocab.encode(text);
            int[] output = beam == 1 ? Greedy.decode(m, List.of(ids), max).get(0)
                    : BeamSearch.best(m, ids, beam, lengthPenalty, max).tokens();
            Map<String, String> line = new LinkedHashMap<>();
            line.put("source", text);
            line.put("output", vocab.decode(output));
            out.println(mapper.writeValueAsString(line));
        }
        out.flush();
    }

    /**
     * Loads {@code model}, reads the inputs and prints the outputs (shared by translate and
     * summarize). {@code task}, when not null, names the {@code task_specific_params} entry whose
     * generation fields and {@code prefix} apply (as transformers' pipelines do).
     */
    static void runPretrained(String model, Seq2SeqModelOptions inputs, GenerationOptions generation, List<String> texts, boolean json,
                              String task) throws IOException {
        try (EncoderDecoderModel m = inputs.load(model); var g = GradMode.noGrad()) {
            GenerationConfig defaults = inputs.generationDefaults();
            var params = task == null ? null : inputs.taskParams(task);
            if (params != null) {
                defaults = defaults.withOverrides(params, inputs.directory().path().resolve("config.json") + " task_specific_params." + task);
                if (inputs.prefix == null && params.hasNonNull("prefix")) inputs.prefix = params.get("prefix").asText();
            }
            GenerationConfig config = generation.apply(defaults, false);
            Seq2SeqGenerator.decoderStartId(config);                              // fails early without one
            List<Seq2SeqModelOptions.Input> in = inputs.inputs(texts, m.sourceVocabSize());
            Tokenizer tok = outputTokenizer(inputs);
            if (!config.stopStrings().isEmpty() && tok == null) throw new IllegalArgumentException("--stop needs the model's tokenizer");
            IntFunction<String> tokenText = tok == null ? null : id -> tok.decode(new int[] {id}, false);
            Seq2SeqGenerator generator = new Seq2SeqGenerator(m, tokenText);
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);   // UTF-8 whatever the locale
            for (int from = 0; from < in.size(); from += inputs.batchSize) {
                List<Seq2SeqModelOptions.Input> batch = in.subList(from, Math.min(in.size(), from + inputs.batchSize));
                List<int[]> sources = new ArrayList<>();
                for (Seq2SeqModelOptions.Input x : batch) sources.add(x.ids());
                List<GenerationResult> results = generator.generate(sources, config);
                for (GenerationResult r : results) print(batch.get(r.prompt()), r, tok, json, out);
                out.flush();
            }
        }
    }

    /** The tokenizer for decoding outputs, or null (ids-only use of a directory whose tokenizer files are absent or broken). */
    private static Tokenizer outputTokenizer(Seq2SeqModelOptions inputs) throws IOException {
        try {
            return inputs.tokenizer();
        } catch (TokenizerException e) {
            return null;
        }
    }

    private static void print(Seq2SeqModelOptions.Input in, GenerationResult r, Tokenizer tok, boolean json, PrintStream out) throws IOException {
        String text = tok == null ? null : tok.decode(r.tokens(), true);
        if (!json) {
            if (text != null) {
                out.println(text.replace('\n', ' '));
            } else {
                StringBuilder sb = new StringBuilder();
                for (int id : r.tokens()) sb.append(sb.length() == 0 ? "" : " ").append(id);
                out.println(sb);
            }
            return;
        }
        StringWriter s = new StringWriter();
        try (JsonGenerator g = new JsonFactory().createGenerator(s)) {
            g.writeStartObject();
            if (in.text() != null) {
                g.writeStringField("source", in.text());
            } else {
                g.writeArrayFieldStart("source");
                for (int id : in.ids()) g.writeNumber(id);
                g.writeEndArray();
            }
            if (text != null) g.writeStringField("output", text);
            else g.writeNullField("output");
            g.writeArrayFieldStart("token_ids");
            for (int id : r.tokens()) g.writeNumber(id);
            g.writeEndArray();
            g.writeEndObject();
        }
        out.println(s);
    }
}
