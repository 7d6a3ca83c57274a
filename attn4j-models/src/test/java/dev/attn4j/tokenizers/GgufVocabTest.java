package dev.attn4j.tokenizers;

import dev.attn4j.io.gguf.GgufFile;
import dev.attn4j.io.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tokenizer of a GGUF file: a real Hugging Face tokenizer (../shared/tokenizers) written as
 * llama.cpp's metadata ({@link GgufVocab#write}: tokens, token types, merges or scores, pre type,
 * special ids) and read back ({@link GgufVocab#tokenizer}) encodes llama.cpp's 46 test strings to
 * the ids Hugging Face's tokenizer gave, adds the same BOS, and decodes back.
 */
class GgufVocabTest {
    @ParameterizedTest(name = "{0} with {1}")
    @CsvSource({"llama3, llama-bpe", "qwen2, qwen2", "llama2, llama-spm"})
    void hfTokenizerThroughGgufMetadataMatchesTheTestVectors(String folder, String vectors, @TempDir Path tmp) throws Exception {
        Tokenizer hf = SharedTokenizers.load(folder);
        Path file = tmp.resolve(folder + ".gguf");
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama");
        assertThat(GgufVocab.write(SharedTokenizers.dir(folder), w, null, new int[0])).isTrue();
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(GgufVocab.present(f)).isTrue();
            Tokenizer tok = GgufVocab.tokenizer(f);
            List<String> in = SharedTokenizers.inputs(vectors);
            List<int[]> want = SharedTokenizers.expected(vectors);
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < in.size(); i++) {
                int[] got = tok.encode(in.get(i), false).ids();
                if (!Arrays.equals(got, want.get(i))) {
                    failures.add("case " + (i + 1) + ": expected " + Arrays.toString(want.get(i)) + ", got " + Arrays.toString(got));
                }
                if (!Arrays.equals(tok.encode(in.get(i)).ids(), hf.encode(in.get(i)).ids())) {
                    failures.add("case " + (i + 1) + " with special tokens differs from the HF tokenizer");
                }
                assertThat(tok.decode(got)).isEqualTo(hf.decode(got));
            }
            assertThat(failures).as(folder + " through GGUF vs " + vectors).isEmpty();
            assertThat(tok.vocabSize()).isEqualTo(hf.vocabSize());
        }
    }

    @Test
    void unsupportedPreTokenizerIsOneClearError(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("x.gguf");
        new GgufWriter().putString("tokenizer.ggml.model", "gpt2").putString("tokenizer.ggml.pre", "falcon")
                .put("tokenizer.ggml.tokens", dev.attn4j.io.gguf.GgufValue.ofStrings(List.of("a", "b")))
                .put("tokenizer.ggml.merges", dev.attn4j.io.gguf.GgufValue.ofStrings(List.of())).write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThatThrownBy(() -> GgufVocab.tokenizer(f)).isInstanceOf(TokenizerException.class)
                    .hasMessageContaining("tokenizer.ggml.pre 'falcon' is not supported");
        }
    }
}
