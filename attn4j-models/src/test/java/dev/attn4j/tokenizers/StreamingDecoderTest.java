package dev.attn4j.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Streaming decode over each real tokenizer of ../shared: the 46 llama.cpp strings and more
 * (emoji, CJK, byte-fallback pieces), encoded and fed back one id at a time. The pieces must be
 * whole characters and add up to {@link Tokenizer#decode} of all the ids.
 */
class StreamingDecoderTest {
    static final List<String> MORE = List.of(
            "😀👍🏽 👨‍👩‍👧 ❤️ 🇫🇷",
            "我爱北京天安门。今日はいい天気ですね。안녕하세요",
            "Ελληνικά, русский, עברית, العربية, हिन्दी, ภาษาไทย",
            "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𐍈 𝄞 — math and music",
            "  spaces   and\ttabs\nand\n\nnewlines  ",
            "The quick brown fox jumps over the lazy dog. 1234567890");

    static List<String> texts() {
        List<String> all = new ArrayList<>(SharedTokenizers.inputs("llama-bpe"));
        all.addAll(MORE);
        return all;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2", "llama3", "llama3.1", "qwen2", "mistral", "llama2", "bge-small-zh-v1.5"})
    void piecesAddUpToDecode(String folder) {
        Tokenizer tok = SharedTokenizers.load(folder);
        for (boolean special : new boolean[] {false, true}) {
            for (String text : texts()) {
                int[] ids = tok.encode(text, special).ids();
                for (boolean skip : new boolean[] {true, false}) {
                    String want = tok.decode(ids, skip);
                    StreamingDecoder d = new StreamingDecoder(tok, skip);
                    StringBuilder got = new StringBuilder();
                    for (int id : ids) {
                        String piece = d.next(id);
                        assertWhole(piece, want, folder, text);
                        got.append(piece);
                    }
                    got.append(d.flush());
                    assertThat(got.toString()).as("%s skip=%s: %s", folder, skip, TestVectorsTest.escape(text))
                            .isEqualTo(want);
                }
            }
        }
    }

    /** A byte-level tokenizer with no merges: every UTF-8 byte is its own token (no ../shared needed). */
    static Tokenizer bytesOnly() {
        StringBuilder vocab = new StringBuilder();
        for (int b = 0; b < 256; b++) {
            String c = new String(Character.toChars(ByteChars.BYTE_TO_CHAR[b]));
            vocab.append(b == 0 ? "" : ",").append('"').append(c.equals("\"") || c.equals("\\") ? "\\" + c : c)
                    .append("\":").append(b);
        }
        return Tokenizer.fromJson("{\"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab + "}, \"merges\": []},"
                + " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},"
                + " \"decoder\": {\"type\": \"ByteLevel\"}}");
    }

    @Test
    void eachCharacterComesOutWhenItsLastByteArrives() {
        Tokenizer tok = bytesOnly();
        String text = "a😀é中\n";
        int[] ids = tok.encode(text, false).ids();
        assertThat(ids).hasSize(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
        StreamingDecoder d = new StreamingDecoder(tok);
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(d.next(id));
        }
        assertThat(pieces).containsExactly("a", "", "", "", "😀", "", "é", "", "", "中", "\n");
        assertThat(d.flush()).isEmpty();
        // a sequence cut inside a character: flush gives what decode gives (U+FFFD)
        d.next(ids[1]);
        d.next(ids[2]);
        assertThat(d.flush()).isEqualTo(tok.decode(new int[] {ids[1], ids[2]})).contains("\uFFFD");
    }

    @Test
    void sentencePieceUnigramStreams() throws IOException {
        Tokenizer tok = Tokenizer.fromSentencePiece(SharedTokenizers.dir("opus-mt-fr-en").resolve("source.spm"));
        for (String text : texts()) {
            int[] ids = tok.encode(text, false).ids();
            StreamingDecoder d = new StreamingDecoder(tok);
            StringBuilder got = new StringBuilder();
            for (int id : ids) {
                got.append(d.next(id));
            }
            assertThat(got.append(d.flush()).toString()).isEqualTo(tok.decode(ids));
        }
    }

    @Test
    void incompleteBytesAreHeldBack() {
        // Llama 3: "😀" is one token, but "🇫🇷" splits inside its UTF-8 bytes.
        Tokenizer tok = SharedTokenizers.load("llama3");
        int[] ids = tok.encode("a🇫🇷", false).ids();
        assertThat(ids.length).isGreaterThan(2);
        StreamingDecoder d = new StreamingDecoder(tok);
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(d.next(id));
        }
        assertThat(pieces.get(0)).isEqualTo("a");
        assertThat(String.join("", pieces)).isEqualTo("a🇫🇷");
        assertThat(pieces).allSatisfy(p -> assertThat(p).doesNotContain("\uFFFD"));
        assertThat(pieces.subList(1, pieces.size()).stream().filter(p -> !p.isEmpty()).count())
                .as("some ids complete nothing").isLessThan(ids.length - 1);

        // Llama 2 byte fallback: a CJK char not in the vocabulary is three <0xNN> pieces.
        Tokenizer llama2 = SharedTokenizers.load("llama2");
        Encoding e = llama2.encode("x 龘", false);
        assertThat(e.tokens()).contains("<0xE9>");
        StreamingDecoder d2 = new StreamingDecoder(llama2);
        List<String> p2 = new ArrayList<>();
        for (int id : e.ids()) {
            p2.add(d2.next(id));
        }
        assertThat(p2).containsExactly("x", " ", "", "", "龘");
        assertThat(d2.flush()).isEmpty();
    }

    @Test
    void flushGivesWhatDecodeGivesForACutSequence() {
        Tokenizer tok = SharedTokenizers.load("llama2");
        int[] ids = tok.encode("龘", false).ids(); // ▁ <0xE9> <0xBE> <0x98>
        StreamingDecoder d = new StreamingDecoder(tok);
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < ids.length - 1; i++) {
            got.append(d.next(ids[i]));
        }
        got.append(d.flush());
        assertThat(got.toString()).isEqualTo(tok.decode(java.util.Arrays.copyOf(ids, ids.length - 1)));
        assertThat(d.length()).isZero();
    }

    private static void assertWhole(String piece, String full, String folder, String text) {
        for (int i = 0; i < piece.length(); i++) {
            char c = piece.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertThat(i + 1 < piece.length() && Character.isLowSurrogate(piece.charAt(i + 1)))
                        .as("%s: split surrogate pair in %s", folder, text).isTrue();
                i++;
            } else {
                assertThat(Character.isLowSurrogate(c)).as("%s: lone surrogate", folder).isFalse();
            }
        }
        if (piece.contains("\uFFFD")) {
            assertThat(full).as("%s: U+FFFD streamed for %s", folder, TestVectorsTest.escape(text)).contains("\uFFFD");
        }
    }
}
