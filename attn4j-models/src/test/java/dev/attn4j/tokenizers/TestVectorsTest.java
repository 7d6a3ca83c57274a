package dev.attn4j.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * llama.cpp's 46 hard strings through each real tokenizer in ../shared/tokenizers, compared with
 * the ids Hugging Face's {@code AutoTokenizer} gave ({@code add_special_tokens=False}). Each folder
 * is loaded as {@link Tokenizer#fromDirectory} finds it: tokenizer.json (Llama 3, Qwen2),
 * vocab.json + merges.txt (GPT-2), tokenizer.model (Llama 2).
 */
class TestVectorsTest {
    @ParameterizedTest(name = "{0} with {1}")
    @CsvSource({
        "gpt2, gpt-2",
        "llama3, llama-bpe",
        "llama3.1, llama-bpe",
        "qwen2, qwen2",
        "qwen2, deepseek-r1-qwen",
        "llama2, llama-spm",
        "llama2, phi-3",
    })
    void all46Match(String folder, String vectors) {
        Tokenizer tok = SharedTokenizers.load(folder);
        List<String> in = SharedTokenizers.inputs(vectors);
        List<int[]> want = SharedTokenizers.expected(vectors);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < in.size(); i++) {
            int[] got = tok.encode(in.get(i), false).ids();
            if (!java.util.Arrays.equals(got, want.get(i))) {
                failures.add("case " + (i + 1) + " " + escape(in.get(i)) + ": expected "
                        + java.util.Arrays.toString(want.get(i)) + ", got " + java.util.Arrays.toString(got));
            }
        }
        assertThat(failures).as(folder + " vs " + vectors).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void gpt2FilesGiveGpt2TokenizerFast() {
        Tokenizer tok = SharedTokenizers.load("gpt2");
        assertThat(tok.vocabSize()).isEqualTo(50257);
        // "<|endoftext|>" is matched as the special token, never split by the BPE
        Encoding e = tok.encode("Hello<|endoftext|> world", false);
        assertThat(e.ids()).containsExactly(tok.encode("Hello", false).ids()[0], 50256,
                tok.encode(" world", false).ids()[0]);
        assertThat(tok.decode(e.ids())).isEqualTo("Hello world");
        assertThat(tok.decode(e.ids(), false)).isEqualTo("Hello<|endoftext|> world");
        // no prefix space, and add_special_tokens adds nothing (GPT-2 has no BOS in its template)
        assertThat(tok.encode("Hello").ids()).containsExactly(15496);
        assertThat(tok.encode(" Hello").ids()).containsExactly(18435);
    }

    @org.junit.jupiter.api.Test
    void mergesTxtErrorsNameTheLine(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2}");
        java.nio.file.Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\na b c\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Tokenizer.fromDirectory(dir))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("merges.txt: line 3");
        java.nio.file.Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\n");
        assertThat(Tokenizer.fromDirectory(dir).encode("ab", false).ids()).containsExactly(2);
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7F) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.append('"').toString();
    }
}
