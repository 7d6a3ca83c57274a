package dev.attn4j.models.gguf;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.ModelParameters;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Runs llama.cpp (de.kherud:llama) in its own JVM for {@link LlamaCppInteropTest}: loads the GGUF
 * file {@code args[0]}, prints the prompt {@code args[1]}'s token ids and the greedy completion of
 * {@code args[2]} tokens (Base64 of its UTF-8), then halts (the binding's close can hang).
 */
public final class LlamaCppRunner {
    private LlamaCppRunner() {
    }

    public static void main(String[] args) {
        LlamaModel.setLogger(de.kherud.llama.args.LogFormat.TEXT, (level, msg) -> { });
        LlamaModel llama = new LlamaModel(new ModelParameters().setModel(args[0]).setThreads(2).setCtxSize(128));
        System.out.println("IDS " + Arrays.toString(llama.encode(args[1])));
        InferenceParameters ip = new InferenceParameters(args[1]).setTemperature(0f).setNPredict(Integer.parseInt(args[2]))
                .setIgnoreEos(true).setCachePrompt(false).setSeed(1);
        String out = llama.complete(ip);
        System.out.println("OUT " + Base64.getEncoder().encodeToString(out.getBytes(StandardCharsets.UTF_8)));
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }
}
