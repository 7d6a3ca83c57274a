package dev.attn4j.cli;

import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.gguf.GgufDecoders;
import dev.attn4j.models.gguf.GgufExport;
import dev.attn4j.tensor.QuantType;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code attn4j quantize}: writes a decoder-only LM (Hugging Face directory or Hub id, F32 / BF16 /
 * F16, or a GGUF file) as a GGUF file llama.cpp and {@code generate --model F.gguf} load, linear
 * weights quantized ({@link GgufExport}), the tokenizer and chat template included.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Writes a decoder-only LM as a GGUF file with its linear weights quantized (q8_0, q4_0, q4_1, q4_k, q5_k, q6_k; "
                + "embeddings F16, norms F32), tokenizer and chat template included; llama.cpp loads it, and so do "
                + "generate/score --model FILE.gguf.")
public final class QuantizeCommand implements Callable<Integer> {
    static final class Source {
        @Option(names = "--model", paramLabel = "M", description = "Model directory or Hugging Face id.")
        String model;
        @Option(names = "--random-config", paramLabel = "NAME", description = "Random weights of a known shape instead (as bench "
                + "generate builds them): llama-3.2-1b, tiny, or a config.json path.")
        String randomConfig;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "Directory whose tokenizer (tokenizer.json / tokenizer.model) "
            + "goes into the file (default: the model's own; a --random-config model gets a placeholder vocabulary of its size: "
            + "<unk>, <s>, </s>, 256 byte pieces, then letters).")
    Path tokenizer;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of --random-config weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--dtype", paramLabel = "T", defaultValue = "bf16", description = "Weight type a --random-config model is drawn "
            + "in: bf16, f16 or f32 (default: ${DEFAULT-VALUE}).")
    String dtype;

    @Option(names = "--type", paramLabel = "T", required = true, description = "q8_0, q4_0, q4_1, q4_k, q5_k or q6_k; f16 (or bf16) "
            + "keeps float weights as stored.")
    String type;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "The GGUF file to write (atomically).")
    Path out;

    @Override
    public Integer call() throws Exception {
        QuantType q = type.equalsIgnoreCase("f16") || type.equalsIgnoreCase("bf16") ? null : QuantType.byName(type);
        if (tokenizer != null && !Files.isDirectory(tokenizer)) throw new IllegalArgumentException("--tokenizer " + tokenizer + ": not a directory");
        Path tokenizerDir = tokenizer;
        CausalDecoder m;
        long t0 = System.nanoTime();
        if (source.randomConfig != null) {
            m = BenchGenerateCommand.randomModel(source.randomConfig, BenchGenerateCommand.weightType(dtype), seed);
        } else {
            if (GgufDecoders.isGguf(Path.of(source.model))) {
                throw new IllegalArgumentException("--model " + source.model + " is a GGUF file already; quantize reads Hugging Face checkpoints");
            }
            ModelDirectory dir = ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(source.model);
            m = DecoderModels.load(dir);
            if (tokenizerDir == null) tokenizerDir = dir.path();
        }
        try (CausalDecoder model = m) {
            Path target = out.toAbsolutePath();
            if (target.getParent() != null) Files.createDirectories(target.getParent());
            GgufExport.write(model, q, tokenizerDir, source.randomConfig != null, target);
        }
        System.err.printf("wrote %s (%s, %.1f MB) in %.1f s%n", out, q == null ? "f16" : q.name().toLowerCase(),
                Files.size(out) / 1e6, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
