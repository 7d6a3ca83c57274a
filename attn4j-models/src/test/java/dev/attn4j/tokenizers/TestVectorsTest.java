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
