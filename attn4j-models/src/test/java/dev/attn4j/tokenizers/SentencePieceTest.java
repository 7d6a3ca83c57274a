package dev.attn4j.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * SentencePiece model files read in pure Java, against the ids Debian's python3-sentencepiece
 * gives for the 46 llama.cpp strings and more (resources/tokenizers/sentencepiece-refs.json,
 * made by scripts/gen-sentencepiece-refs.py): Llama 2's BPE with byte fallback and OPUS-MT's two
 * Unigram models with the nmt_nfkc char map.
 */
class SentencePieceTest {
    static JsonNode refs() throws IOException {
        try (InputStream in = SentencePieceTest.class.getResourceAsStream("/tokenizers/sentencepiece-refs.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama2/tokenizer.model", "opus-mt-fr-en/source.spm", "opus-mt-fr-en/target.spm"})
    void idsEqualSentencePiece(String model) throws IOException {
        Path file = SharedTokenizers.root().resolve(model);
        SharedTokenizers.dir(model.substring(0, model.indexOf('/')));
        Tokenizer tok = Tokenizer.fromSentencePiece(file);
        JsonNode r = refs();
        JsonNode texts = r.get("texts");
        JsonNode rows = r.get("models").get(model);
        assertThat(rows.size()).isEqualTo(texts.size()).isGreaterThan(60);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i).asText();
            int[] want = ids(rows.get(i).get("ids"));
            Encoding e = tok.encode(text, false);
            if (!Arrays.equals(e.ids(), want)) {
                failures.add("case " + i + " " + TestVectorsTest.escape(text) + ": expected " + Arrays.toString(want)
                        + " " + rows.get(i).get("pieces") + ", got " + Arrays.toString(e.ids()) + " "
                        + e.tokens());
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void decodeEqualsSentencePieceForLlama2() throws IOException {
        Tokenizer tok = Tokenizer.fromSentencePiece(SharedTokenizers.dir("llama2").resolve("tokenizer.model"));
        JsonNode r = refs();
        JsonNode rows = r.get("models").get("llama2/tokenizer.model");
        for (int i = 0; i < rows.size(); i++) {
            assertThat(tok.decode(ids(rows.get(i).get("ids")))).as("case %d", i)
                    .isEqualTo(rows.get(i).get("decoded").asText());
        }
    }

    @Test
    void llama2AddsBosAndMatchesSpecialTokens() throws IOException {
        Tokenizer tok = SharedTokenizers.load("llama2");
        // LlamaTokenizer: "<s>" in front; "</s>" in the text is the special token, and the text
        // after it gets its own dummy prefix (legacy mode).
        assertThat(tok.encode("Hello").ids()).containsExactly(1, 15043);
        assertThat(tok.encode("Hello</s>world", false).tokens()).containsExactly("▁Hello", "</s>", "▁world");
        assertThat(tok.decode(tok.encode("Hello world").ids())).isEqualTo("Hello world");
        assertThat(tok.decode(tok.encode("Hello world").ids(), false)).isEqualTo("<s> Hello world");
    }

    @Test
    void badFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        Path empty = Files.write(dir.resolve("empty.model"), new byte[0]);
        assertThatThrownBy(() -> Tokenizer.fromSentencePiece(empty))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("empty.model").hasMessageContaining("no pieces");
        Path junk = Files.write(dir.resolve("junk.model"), "{\"not\": \"protobuf\"}".getBytes());
        assertThatThrownBy(() -> Tokenizer.fromSentencePiece(junk))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("junk.model");
        Path llama = SharedTokenizers.root().resolve("llama2/tokenizer.model");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(llama), "shared llama2 model not present");
        // cut inside a piece: the error names the byte offset; cut between pieces: no trainer_spec
        byte[] cut = Arrays.copyOf(Files.readAllBytes(llama), 100_003);
        Path truncated = Files.write(dir.resolve("truncated.model"), cut);
        assertThatThrownBy(() -> Tokenizer.fromSentencePiece(truncated))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("truncated.model")
                .hasMessageContaining("byte 100000: field 1 of ModelProto has length");
        Path cutClean = Files.write(dir.resolve("nospec.model"), Arrays.copyOf(cut, 100_000));
        assertThatThrownBy(() -> Tokenizer.fromSentencePiece(cutClean))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("no trainer_spec");
    }

    @Test
    void directoryWithoutTokenizerIsAClearError(@TempDir Path dir) {
        assertThatThrownBy(() -> Tokenizer.fromDirectory(dir)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("tokenizer.json").hasMessageContaining("merges.txt")
                .hasMessageContaining("tokenizer.model");
    }

    static int[] ids(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }
}
