package dev.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.generate.BeamSearch;
import dev.attn4j.generate.Greedy;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j translate --checkpoint DIR [--file F] [text ...]}: one JSON line per input. */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = "Decode inputs with a trained checkpoint; prints {\"source\": ..., \"output\": ...} per input.")
public final class TranslateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "Checkpoint directory written by 'attn4j train'.")
    Path checkpoint;

    @Option(names = "--file", description = "Read inputs from this file, one per line (blank lines skipped).")
    Path file;

    @Option(names = "--beam", defaultValue = "4", description = "Beam size; 1 = greedy (default ${DEFAULT-VALUE}).")
    int beam;

    @Option(names = "--length-penalty", defaultValue = "1.0", description = "Beam score = log p / length^alpha (default ${DEFAULT-VALUE}).")
    double lengthPenalty;

    @Option(names = "--max-length", description = "Longest output (default: the model's).")
    Integer maxLength;

    @Parameters(arity = "0..*", paramLabel = "TEXT", description = "Inputs to decode.")
    List<String> texts = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (beam < 1) throw new IllegalArgumentException("--beam must be >= 1, got " + beam);
        List<String> inputs = new ArrayList<>();
        if (file != null) {
            if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--file " + file + " does not exist");
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) if (!line.isBlank()) inputs.add(line.strip());
        }
        inputs.addAll(texts);
        if (inputs.isEmpty()) throw new IllegalArgumentException("nothing to translate: give TEXT arguments or --file");
        Seq2SeqModel<?> model = CheckpointOptions.load(checkpoint);
        CheckpointOptions.Codec vocab = CheckpointOptions.codec(checkpoint);
        int max = maxLength != null ? maxLength : model.config().maxTargetLen();
        ObjectMapper json = new ObjectMapper();
        PrintWriter out = spec.commandLine().getOut();
        for (String text : inputs) {
            if (text.isEmpty()) throw new IllegalArgumentException("empty input");
            int[] ids = vocab.encode(text);
            int[] output = beam == 1 ? Greedy.decode(model, List.of(ids), max).get(0)
                    : BeamSearch.best(model, ids, beam, lengthPenalty, max).tokens();
            Map<String, String> line = new LinkedHashMap<>();
            line.put("source", text);
            line.put("output", vocab.decode(output));
            out.println(json.writeValueAsString(line));
        }
        out.flush();
        return 0;
    }
}
