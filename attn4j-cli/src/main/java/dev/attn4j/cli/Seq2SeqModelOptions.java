package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.Seq2SeqModels;
import dev.attn4j.models.seq2seq.EncoderDecoderModel;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Inputs of the commands that run a pretrained encoder-decoder ({@code translate --model},
 * {@code summarize}, {@code attention --model}): texts (positional or {@code --file}) tokenized
 * by the model's tokenizer as transformers' {@code tokenizer(text)} does (EOS appended), or token
 * ids taken verbatim ({@code --ids}, {@code --ids-file}), which need no tokenizer file.
 */
final class Seq2SeqModelOptions {
    @Option(names = "--file", paramLabel = "F", description = "UTF-8 file with one text input per line (blank lines skipped); '-' reads stdin.")
    Path file;

    @Option(names = "--ids", paramLabel = "IDS",
            description = "A source given as token ids, e.g. \"1,2,3\" (repeatable); taken verbatim: no EOS is added.")
    List<String> ids;

    @Option(names = "--ids-file", paramLabel = "F", description = "File with one source a line as comma-separated token ids.")
    Path idsFile;

    @Option(names = "--prefix", paramLabel = "TEXT", description = "Text put in front of every text input (T5's task prefixes, e.g. "
            + "\"translate English to German: \").")
    String prefix;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "16",
            description = "Sources decoded together (their beams in one batch; default ${DEFAULT-VALUE}).")
    int batchSize;

    /** One input: its text (null when given as ids) and its token ids. */
    record Input(String text, int[] ids) {
    }

    private ModelDirectory dir;
    private Tokenizer tokenizer;
    private boolean tokenizerLooked;
    private String model;

    /**
     * Loads {@code model} (a directory or Hub id); a model that is not an encoder-decoder of a
     * supported type, a missing or corrupt weight file, or weights that do not fit the config
     * are one-line errors.
     */
    EncoderDecoderModel load(String model) throws IOException {
        this.model = model;
        dir = ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(model);
        return Seq2SeqModels.load(dir);
    }

    ModelDirectory directory() {
        return dir;
    }

    /** The model's generation defaults (its generation_config.json, else config.json), as transformers' {@code model.generation_config}. */
    GenerationConfig generationDefaults() throws IOException {
        return GenerationConfig.from(dir);
    }

    /** config.json's {@code task_specific_params.<task>}, or null. */
    JsonNode taskParams(String task) throws IOException {
        JsonNode t = dir.config().path("task_specific_params").path(task);
        return t.isObject() ? t : null;
    }

    /** The model's tokenizer (tokenizer.json, Marian's files, T5's spiece.model, ...), or null when the directory has none. */
    Tokenizer tokenizer() throws IOException {
        if (!tokenizerLooked) {
            tokenizerLooked = true;
            Path p = dir.path();
            boolean any = false;
            for (String f : List.of("tokenizer.json", "source.spm", "target.spm", "vocab.json", "spiece.model", "tokenizer.model")) {
                any |= dir.has(f);
            }
            String type = dir.config().path("model_type").asText("");
            boolean bartFiles = (type.equals("bart") || type.equals("mbart")) && !dir.has("tokenizer.json") && dir.has("vocab.json")
                    && dir.has("merges.txt");
            if (bartFiles) tokenizer = Tokenizer.fromBartFiles(p.resolve("vocab.json"), p.resolve("merges.txt"));   // BartTokenizerFast
            else if (any) tokenizer = Tokenizer.fromDirectory(p);
        }
        return tokenizer;
    }

    /** The inputs in order: texts (--file, then positional), then ids (--ids, then --ids-file). Texts need the tokenizer. */
    List<Input> inputs(List<String> positional, int vocab) throws IOException {
        List<String> texts = new ArrayList<>();
        if (file != null) for (String l : ModelOptions.readLines(file)) if (!l.isBlank()) texts.add(l.strip());
        if (positional != null) texts.addAll(positional);
        List<Input> out = new ArrayList<>();
        if (!texts.isEmpty()) {
            Tokenizer tok = tokenizer();
            if (tok == null) {
                throw new IllegalArgumentException(model + " has no tokenizer file (tokenizer.json; source.spm, target.spm and vocab.json; "
                        + "spiece.model): give sources as token ids with --ids or --ids-file");
            }
            for (String t : texts) {
                if (t.isEmpty()) throw new IllegalArgumentException("empty input");
                int[] encoded = tok.encode(prefix == null ? t : prefix + t).ids();
                for (int id : encoded) {
                    if (id >= vocab) {
                        throw new IllegalArgumentException("input '" + t + "': the tokenizer gave id " + id + ", outside the model's "
                                + "vocabulary [0, " + vocab + ")");
                    }
                }
                out.add(new Input(t, encoded));
            }
        }
        if (ids != null) for (String s : ids) out.add(new Input(null, CausalModelOptions.parseIds(s, "--ids", vocab)));
        if (idsFile != null) {
            List<String> lines = ModelOptions.readLines(idsFile);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) continue;
                out.add(new Input(null, CausalModelOptions.parseIds(lines.get(i), idsFile + " line " + (i + 1), vocab)));
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no input: give texts as arguments or --file F, or ids with --ids / --ids-file");
        if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        return out;
    }
}
