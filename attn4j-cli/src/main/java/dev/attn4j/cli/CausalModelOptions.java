package dev.attn4j.cli;

import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.llama.Llama2c;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Options of the commands that run a causal LM: {@code --model} (directory, Hub id, or a llama2.c
 * {@code .bin}), inputs as texts (tokenized with the model's {@code tokenizer.json}) or as id lists
 * ({@code --ids}).
 */
final class CausalModelOptions {
    @Option(names = "--model", paramLabel = "M", required = true,
            description = "Model directory or Hugging Face id of a decoder-only LM (llama, mistral, qwen2, qwen3, phi3, gemma, "
                    + "olmo, gpt2), or a llama2.c .bin file.")
    String model;

    @Option(names = "--file", paramLabel = "F", description = "UTF-8 file with one input per line; '-' reads stdin.")
    Path file;

    @Option(names = "--ids", description = "Inputs are token ids separated by spaces or commas, not texts (no tokenizer needed).")
    boolean ids;

    private ModelDirectory dir;

    CausalDecoder load() throws IOException {
        Path local = Path.of(model);
        if (Files.isRegularFile(local) && model.endsWith(".bin")) return Llama2c.load(local);
        dir = ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(model);
        return DecoderModels.load(dir);
    }

    /** The model's tokenizer.json; an error naming the directory when there is none. */
    Tokenizer tokenizer() throws IOException {
        if (dir == null || !dir.has("tokenizer.json")) {
            throw new IllegalArgumentException(model + " has no tokenizer.json: give token ids with --ids");
        }
        return Tokenizer.fromFile(dir.requireFile("tokenizer.json"));
    }

    List<String> inputs(List<String> positional) throws IOException {
        List<String> out = new ArrayList<>();
        if (file != null) out.addAll(ModelOptions.readLines(file));
        if (positional != null) out.addAll(positional);
        if (out.isEmpty()) throw new IllegalArgumentException("no input: give inputs as arguments or --file F");
        return out;
    }

    /** The ids of one input: parsed with --ids, else tokenized (special tokens as the tokenizer adds them). */
    int[] encode(String input, Tokenizer tok, int vocab) {
        int[] out;
        if (ids) {
            String[] parts = input.trim().split("[\\s,]+");
            try {
                out = Arrays.stream(parts).filter(p -> !p.isEmpty()).mapToInt(Integer::parseInt).toArray();
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids: '" + input + "' is not a list of integers");
            }
            for (int id : out) {
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("--ids: id " + id + " is outside the vocabulary [0, " + vocab + ")");
            }
        } else {
            out = tok.encode(input).ids();
        }
        if (out.length == 0) throw new IllegalArgumentException("input '" + input + "' has no tokens");
        return out;
    }
}
