package dev.attn4j.cli;

import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.llama.Llama2c;
import dev.attn4j.tokenizers.Tokenizer;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Options of the commands that run a causal LM: {@code --model} (directory, Hub id, or a llama2.c
 * {@code .bin}), inputs as texts (positional or {@code --file}, tokenized by the model's tokenizer
 * with the special tokens it adds, as transformers' {@code tokenizer(text)}) or as token ids taken
 * verbatim ({@code --ids "1,2,3"}, repeatable, or {@code --ids-file F}, one comma-separated list a line).
 */
final class CausalModelOptions {
    @Option(names = "--model", paramLabel = "M", required = true,
            description = "Model directory or Hugging Face id of a decoder-only LM (model_type llama, mistral, qwen2, qwen3, phi3, "
                    + "gemma, olmo, gpt2), a GGUF file (llama.cpp's format; its tokenizer comes with it), or a llama2.c .bin file.")
    String model;

    @Option(names = "--quantize", paramLabel = "T",
            description = "Quantize the linear weights on load: q8_0, q4_0, q4_1, q4_k, q5_k or q6_k (embeddings and norms stay float).")
    String quantize;

    @Option(names = "--file", paramLabel = "F", description = "UTF-8 file with one text input per line; '-' reads stdin.")
    Path file;

    @Option(names = "--ids", paramLabel = "IDS",
            description = "An input given as token ids, e.g. \"1,2,3\" (repeatable); taken verbatim: no BOS is added.")
    List<String> ids;

    @Option(names = "--ids-file", paramLabel = "F", description = "File with one input a line as comma-separated token ids.")
    Path idsFile;

    /** One input: its text (null when given as ids) and its token ids. */
    record Input(String text, int[] ids) {
        boolean fromIds() {
            return text == null;
        }
    }

    private ModelDirectory dir;
    private Path gguf;
    private CausalDecoder loaded;
    private Tokenizer tokenizer;
    private boolean tokenizerLooked;

    /** Loads the model; an unsupported model_type or a missing / corrupt weight file is an IOException of one line. */
    CausalDecoder load() throws IOException {
        Path local = Path.of(model);
        dev.attn4j.tensor.QuantType q = quantize == null ? null : dev.attn4j.tensor.QuantType.byName(quantize);
        if (dev.attn4j.models.gguf.GgufDecoders.isGguf(local)) {
            gguf = local;
            loaded = dev.attn4j.models.gguf.GgufDecoders.load(local);
        } else if (Files.isRegularFile(local) && model.endsWith(".bin")) {
            loaded = Llama2c.load(local);
        } else {
            dir = ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(model);
            loaded = DecoderModels.load(dir);
        }
        if (q != null) DecoderModels.quantize(loaded, q);
        return loaded;
    }

    /**
     * The model's chat template: a GGUF file's {@code tokenizer.chat_template}, or the model
     * directory's ({@link dev.attn4j.tokenizers.ChatTemplate#fromDirectory}); an error naming the
     * model when it has none.
     */
    dev.attn4j.tokenizers.ChatTemplate chatTemplate() throws IOException {
        if (gguf != null) {
            try (dev.attn4j.io.gguf.GgufFile f = dev.attn4j.io.gguf.GgufFile.open(gguf)) {
                dev.attn4j.tokenizers.ChatTemplate t = dev.attn4j.tokenizers.GgufVocab.chatTemplateOf(f);
                if (t == null) throw new IllegalArgumentException(model + " has no chat template (no tokenizer.chat_template in the file)");
                return t;
            }
        }
        if (dir == null) throw new IllegalArgumentException(model + " has no chat template (a llama2.c file has no tokenizer)");
        return dev.attn4j.tokenizers.ChatTemplate.fromDirectory(dir.path());
    }

    /** The model's tokenizer (tokenizer.json, GPT-2's vocab.json + merges.txt, or tokenizer.model), or null when it has none. */
    Tokenizer tokenizer() throws IOException {
        if (!tokenizerLooked) {
            tokenizerLooked = true;
            if (gguf != null) {
                try (dev.attn4j.io.gguf.GgufFile f = dev.attn4j.io.gguf.GgufFile.open(gguf)) {
                    if (dev.attn4j.tokenizers.GgufVocab.present(f)) tokenizer = dev.attn4j.tokenizers.GgufVocab.tokenizer(f);
                }
            }
            if (dir != null) {
                // as AutoTokenizer finds it: tokenizer.json, else vocab.json + merges.txt, else tokenizer.model
                if (dir.has("tokenizer.json")) {
                    tokenizer = Tokenizer.fromFile(dir.requireFile("tokenizer.json"));
                } else if (dir.has("vocab.json") && dir.has("merges.txt") || dir.has("tokenizer.model")) {
                    Path any = dir.has("tokenizer.model") ? dir.requireFile("tokenizer.model") : dir.requireFile("vocab.json");
                    if (dir.has("merges.txt")) dir.requireFile("merges.txt");
                    if (dir.has("tokenizer_config.json")) dir.requireFile("tokenizer_config.json");
                    tokenizer = Tokenizer.fromDirectory(any.getParent());
                }
            }
        }
        return tokenizer;
    }

    /** The model's directory (null for a llama2.c file). */
    ModelDirectory directory() {
        return dir;
    }

    /**
     * The model's generation defaults: its generation_config.json (else config.json's generation
     * fields), as transformers' {@code model.generation_config}; for a llama2.c file the defaults
     * with the config's EOS / BOS ids.
     */
    GenerationConfig generationDefaults() throws IOException {
        if (dir != null) return GenerationConfig.from(dir);
        DecoderConfig c = loaded.config();
        return GenerationConfig.builder().eosTokenId(c.eosTokenIds()).bosTokenId(c.bosTokenId()).padTokenId(c.padTokenId()).build();
    }

    /**
     * The inputs in order: texts (those of {@code --file}, then the positional ones), then id lists
     * ({@code --ids}, then {@code --ids-file}). Texts need the model's tokenizer.
     */
    List<Input> inputs(List<String> positional, int vocab) throws IOException {
        List<String> texts = new ArrayList<>();
        if (file != null) texts.addAll(ModelOptions.readLines(file));
        if (positional != null) texts.addAll(positional);
        List<Input> out = new ArrayList<>();
        if (!texts.isEmpty()) {
            Tokenizer tok = tokenizer();
            if (tok == null) {
                throw new IllegalArgumentException(model + " has no tokenizer (tokenizer.json, vocab.json + merges.txt or tokenizer.model): "
                        + "give inputs as token ids with --ids or --ids-file");
            }
            for (String t : texts) {
                int[] encoded = tok.encode(t).ids();
                if (encoded.length == 0) throw new IllegalArgumentException("input '" + t + "' has no tokens");
                out.add(new Input(t, encoded));
            }
        }
        if (ids != null) for (String s : ids) out.add(new Input(null, parseIds(s, "--ids", vocab)));
        if (idsFile != null) {
            List<String> lines = ModelOptions.readLines(idsFile);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) throw new IllegalArgumentException(idsFile + " line " + (i + 1) + ": empty");
                out.add(new Input(null, parseIds(lines.get(i), idsFile + " line " + (i + 1), vocab)));
            }
        }
        if (out.isEmpty()) throw new IllegalArgumentException("no input: give texts as arguments or --file F, or ids with --ids / --ids-file");
        return out;
    }

    /** "1,2,3" (commas and / or spaces) as ids in [0, vocab). */
    static int[] parseIds(String s, String where, int vocab) {
        String[] parts = s.trim().split("[\\s,]+");
        List<Integer> out = new ArrayList<>();
        for (String p : parts) {
            if (p.isEmpty()) continue;
            int id;
            try {
                id = Integer.parseInt(p);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + ": '" + s + "' is not a comma-separated list of token ids ('" + p + "')");
            }
            if (id < 0 || id >= vocab) throw new IllegalArgumentException(where + ": id " + id + " is outside the vocabulary [0, " + vocab + ")");
            out.add(id);
        }
        if (out.isEmpty()) throw new IllegalArgumentException(where + ": no token ids in '" + s + "'");
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** An error when an input is longer than the model's context. */
    static void checkContext(List<Input> inputs, int maxPositions) {
        for (int i = 0; i < inputs.size(); i++) {
            int n = inputs.get(i).ids().length;
            if (n > maxPositions) {
                throw new IllegalArgumentException("input " + (i + 1) + " has " + n + " tokens, more than the model's context of "
                        + maxPositions + " positions");
            }
        }
    }
}
