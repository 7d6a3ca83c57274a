package dev.attn4j.cli;

import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.gguf.GgufDecoders;
import dev.attn4j.models.gguf.GgufExport;
import dev.attn4j.tensor.QuantType;
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
    @Option(names = "--model", paramLabel = "M", required = true, description = "Model directory, Hugging Face id, or GGUF file.")
    String model;

    @Option(names = "--type", paramLabel = "T", required = true, description = "q8_0, q4_0, q4_1, q4_k, q5_k or q6_k; f16 keeps float weights.")
    String type;

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "The GGUF file to write (atomically).")
    Path out;

    @Override
    public Integer call() throws Exception {
        QuantType q = type.equalsIgnoreCase("f16") ? null : QuantType.byName(type);
        Path local = Path.of(model);
        Path tokenizerDir = null;
        CausalDecoder m;
        long t0 = System.nanoTime();
        if (GgufDecoders.isGguf(local)) {
            throw new IllegalArgumentException("--model " + model + " is a GGUF file already; quantize reads Hugging Face checkpoints");
        }
        ModelDirectory dir = ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(model);
        m = DecoderModels.load(dir);
        tokenizerDir = dir.path();
        try (CausalDecoder model = m) {
            Path target = out.toAbsolutePath();
            if (target.getParent() != null) Files.createDirectories(target.getParent());
            GgufExport.write(model, q, tokenizerDir, target);
        }
        System.err.printf("wrote %s (%s, %.1f MB) in %.1f s%n", out, q == null ? "f16" : q.name().toLowerCase(),
                Files.size(out) / 1e6, (System.nanoTime() - t0) / 1e9);
        return 0;
    }
}
