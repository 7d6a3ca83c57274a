package dev.attn4j.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The llama.cpp side of {@code attn4j bench generate --model F.gguf}: one timed round of prefill
 * and greedy decode on the same file, through {@link LlamaCpp}, in its own JVM (the CLI starts it
 * between its own rounds). Arguments: {@code FILE THREADS NEW_TOKENS PROMPT_IDS} (comma-separated).
 * Like attn4j's round: a warm-up of a short prefill and three decode steps, the cache cleared, then
 * the prompt in one {@code llama_decode} (logits of its last token) and {@code NEW_TOKENS}
 * one-token steps each feeding back the argmax. Prints one JSON line
 * {@code {"prefill_seconds", "decode_seconds", "tokens", "system_info"}} and halts.
 */
public final class LlamaCppGenerate {
    private LlamaCppGenerate() {
    }

    public static void main(String[] args) {
        int rc = 0;
        try {
            if (args.length != 4) throw new IllegalArgumentException("usage: LlamaCppGenerate FILE THREADS NEW_TOKENS PROMPT_IDS");
            Path file = Path.of(args[0]);
            int threads = Integer.parseInt(args[1]);
            int newTokens = Integer.parseInt(args[2]);
            int[] prompt = Arrays.stream(args[3].split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
            LlamaCpp m = LlamaCpp.open(file, prompt.length + newTokens + 8, Math.max(prompt.length, 8), threads);
            m.decode(Arrays.copyOf(prompt, Math.min(prompt.length, 8)));
            int t = 0;
            for (int i = 0; i < 3; i++) t = m.decodeArgmax(t);
            m.clear();
            long t0 = System.nanoTime();
            int next = m.decodeArgmax(prompt);
            long t1 = System.nanoTime();
            int[] out = new int[newTokens];
            for (int i = 0; i < newTokens; i++) {
                out[i] = next;
                next = m.decodeArgmax(next);
            }
            long t2 = System.nanoTime();
            StringBuilder ids = new StringBuilder();
            for (int i = 0; i < out.length; i++) ids.append(i == 0 ? "" : ",").append(out[i]);
            System.out.printf(Locale.ROOT, "{\"prefill_seconds\": %.6f, \"decode_seconds\": %.6f, \"tokens\": [%s], \"system_info\": \"%s\"}%n",
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, ids, LlamaCpp.systemInfo().replace("\"", "'"));
            System.out.flush();
        } catch (RuntimeException e) {
            System.err.println("llama.cpp: " + e.getMessage());
            rc = 1;
        }
        // no close(): llama.cpp's OpenMP threads and the mapping go with the process
        Runtime.getRuntime().halt(rc);
    }
}
