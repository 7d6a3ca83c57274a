package dev.attn4j.models.gguf;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.io.gguf.GgufFile;
import dev.attn4j.io.gguf.GgufValue;
import dev.attn4j.io.gguf.GgufWriter;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.llama.Llama2c;
import dev.attn4j.tensor.QuantType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * llama.cpp (the Maven artifact de.kherud:llama, which bundles it) loads a GGUF file attn4j wrote
 * from a trained Llama-architecture checkpoint (stories260K, ../shared) and both give the same
 * prompt tokens (from the file's tokenizer) and the same greedy completion. stories260K's vocabulary
 * is not available, so the file carries a synthetic SentencePiece one (byte pieces and letters).
 * The binding's token probabilities abort in its JSON code and its close can hang, so llama.cpp
 * runs in a child JVM ({@link LlamaCppRunner}) and only tokens are compared.
 */
class LlamaCppInteropTest {
    static final Path STORIES = Path.of("../../shared/models/stories260K/stories260K.bin");

    static Path stories() {
        for (Path p : List.of(STORIES, Path.of("../shared/models/stories260K/stories260K.bin"))) if (Files.isRegularFile(p)) return p;
        return null;
    }

    @ParameterizedTest
    @ValueSource(strings = {"q8_0", "f16"})
    void llamaCppLoadsAttn4jsGgufAndAgrees(String type, @TempDir Path tmp) throws Exception {
        Path bin = stories();
        assumeTrue(bin != null, "../shared/models/stories260K absent");
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")
                && System.getProperty("os.arch", "").matches("amd64|x86_64"), "de.kherud:llama bundles llama.cpp for linux-x86_64 here");
        QuantType q = type.equals("f16") ? null : QuantType.byName(type);
        Path raw = tmp.resolve("raw.gguf"), file = tmp.resolve("stories-" + type + ".gguf");
        try (CausalDecoder m = Llama2c.load(bin)) {
            GgufExport.write(m, q, null, raw);
        }
        try (GgufFile f = GgufFile.open(raw)) {                                   // the same file plus a vocabulary
            GgufWriter w = new GgufWriter();
            for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) if (!e.getKey().startsWith("tokenizer.")) w.put(e.getKey(), e.getValue());
            dev.attn4j.tokenizers.GgufVocab.writePlaceholder(w, (int) f.tensors().get("token_embd.weight").shape()[0]);
            for (var t : f.tensors().values()) w.addTensor(t.name(), t.type(), t.shape(), f.bytes(t.name()));
            w.write(file);
        }
        String prompt = "ABCDEF";
        int steps = 12;
        // llama.cpp in a child JVM (the binding's close can hang): prompt ids and the greedy completion
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), LlamaCppRunner.class.getName(), file.toString(), prompt, Integer.toString(steps))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String idsLine = null, outLine = null;
        try (var r = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(), java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("IDS ")) idsLine = line.substring(4);
                if (line.startsWith("OUT ")) outLine = line.substring(4);
            }
        } finally {
            if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) p.destroyForcibly();
        }
        assertThat(outLine).as("llama.cpp produced no completion for " + file).isNotNull();
        String theirs = new String(java.util.Base64.getDecoder().decode(outLine), java.nio.charset.StandardCharsets.UTF_8);
        // attn4j: the file's tokenizer, greedy
        try (CausalDecoder m = GgufDecoders.load(file); GgufFile f = GgufFile.open(file); var g = GradMode.noGrad()) {
            dev.attn4j.tokenizers.Tokenizer tok = dev.attn4j.tokenizers.GgufVocab.tokenizer(f);
            int[] ids = tok.encode(prompt).ids();
            assertThat(Arrays.toString(ids)).as("prompt ids, attn4j vs llama.cpp").isEqualTo(idsLine);
            int[] gen = new int[steps];
            for (int s = 0; s < steps; s++) {
                float[] all = m.forward(new int[][] {ids}, null, false, false).logits().data().contiguous().toFloatArray();
                int v = m.vocabSize(), best = all.length - v;
                for (int i = all.length - v; i < all.length; i++) if (all[i] > all[best]) best = i;
                gen[s] = best - (all.length - v);
                ids = Arrays.copyOf(ids, ids.length + 1);
                ids[ids.length - 1] = gen[s];
            }
            assertThat(tok.decode(gen)).as(type + ": attn4j's greedy completion vs llama.cpp's").isEqualTo(theirs);
        }
    }
}
