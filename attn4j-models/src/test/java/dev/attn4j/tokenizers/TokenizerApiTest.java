package dev.attn4j.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public API on the real BERT tokenizer, and clear errors for bad files. */
class TokenizerApiTest {
    static final String MINI = """
            {"normalizer": {"type": "Sequence", "normalizers": [{"type": "Lowercase"}, {"type": "Foo"}]},
             "model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "a": 1}}}""";

    @Test
    void bertBasics() throws IOException {
        Tokenizer tok = Tokenizer.fromFile(BertParityTest.FILE);
        assertThat(tok.vocabSize()).isEqualTo(30522);
        assertThat(tok.tokenToId("[CLS]")).isEqualTo(101);
        assertThat(tok.idToToken(7592)).isEqualTo("hello");
        assertThat(tok.tokenToId("no-such-token")).isNull();
        assertThat(tok.idToToken(-1)).isNull();

        Encoding e = tok.encode("Hello, wörld! 😀");
        assertThat(e.tokens()).containsExactly("[CLS]", "hello", ",", "world", "!", "[UNK]", "[SEP]");
        assertThat(e.ids()).containsExactly(101, 7592, 1010, 2088, 999, 100, 102);
        assertThat(e.offsets()).isDeepEqualTo(new int[][] {{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {14, 15},
            {0, 0}});
        // the emoji is one code point but two UTF-16 units
        assertThat(e.utf16Offsets("Hello, wörld! 😀", null)[5]).containsExactly(14, 16);
        assertThat(e.specialTokensMask()).containsExactly(1, 0, 0, 0, 0, 0, 1);
        assertThat(e.wordIds()).containsExactly(-1, 0, 1, 2, 3, 4, -1);
        assertThat(tok.decode(e.ids(), true)).isEqualTo("hello, world!"); // [UNK] is a special added token
        assertThat(tok.decode(e.ids(), false)).isEqualTo("[CLS] hello, world! [UNK] [SEP]");

        Encoding p = tok.encode("a b", "c");
        assertThat(p.typeIds()).containsExactly(0, 0, 0, 0, 1, 1);
        assertThat(p.sequenceIds()).containsExactly(-1, 0, 0, -1, 1, -1);
        assertThat(tok.encode("a b", false).tokens()).containsExactly("a", "b");
    }

    @Test
    void truncationAndPaddingThroughTheApi() throws IOException {
        Tokenizer tok = Tokenizer.fromFile(BertParityTest.FILE)
                .withTruncation(Truncation.of(5))
                .withPadding(new Padding(0, Truncation.Direction.RIGHT, 4, 0, 0, "[PAD]"));
        List<Encoding> batch = tok.encodeBatch(List.of("one two three four five six", "one", ""));
        for (Encoding e : batch) {
            assertThat(e.length()).as(e.toString()).isEqualTo(8); // 5 rounded up to a multiple of 4
        }
        assertThat(batch.get(0).tokens()).containsExactly("[CLS]", "one", "two", "three", "[SEP]", "[PAD]", "[PAD]",
                "[PAD]");
        assertThat(batch.get(0).attentionMask()).containsExactly(1, 1, 1, 1, 1, 0, 0, 0);
        assertThat(batch.get(1).attentionMask()).containsExactly(1, 1, 1, 0, 0, 0, 0, 0);
        assertThat(batch.get(2).tokens()).containsExactly("[CLS]", "[SEP]", "[PAD]", "[PAD]", "[PAD]", "[PAD]",
                "[PAD]", "[PAD]");

        Tokenizer left = tok.withTruncation(new Truncation(4, Truncation.Strategy.LONGEST_FIRST, 0,
                Truncation.Direction.LEFT)).withPadding(Padding.fixed(6, 0, "[PAD]"));
        Encoding e = left.encode("one two three four");
        assertThat(e.tokens()).containsExactly("[CLS]", "three", "four", "[SEP]", "[PAD]", "[PAD]");
        assertThat(tok.withTruncation(null).withPadding(null).encode("one two three four").length()).isEqualTo(6);

        Tokenizer onlySecond = tok.withPadding(null).withTruncation(new Truncation(4, Truncation.Strategy.ONLY_SECOND,
                0, Truncation.Direction.RIGHT));
        assertThatThrownBy(() -> onlySecond.encode("one two three")).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("second sequence");
        assertThatThrownBy(() -> new Truncation(-1, Truncation.Strategy.ONLY_FIRST, 0, Truncation.Direction.RIGHT))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max_length");
    }

    @Test
    void unknownComponentNamesTypeAndPath() {
        assertThatThrownBy(() -> Tokenizer.fromJson(MINI)).isInstanceOf(TokenizerException.class)
                .hasMessage("normalizer.normalizers[1].type: unknown normalizer 'Foo'");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Bar"}]},
                 "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}}"""))
                .hasMessage("pre_tokenizer.pretokenizers[0].type: unknown pre-tokenizer 'Bar'");
        assertThatThrownBy(() -> Tokenizer.fromJson("{\"model\": {\"type\": \"Baz\"}}"))
                .hasMessage("model.type: unknown model 'Baz'");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "decoder": {"type": "Qux"}}"""))
                .hasMessage("decoder.type: unknown decoder 'Qux'");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}, "post_processor": {"type": "Quux"}}"""))
                .hasMessage("post_processor.type: unknown post-processor 'Quux'");
    }

    @Test
    void badFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> Tokenizer.fromJson("{\"model\": ")).isInstanceOf(TokenizerException.class)
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> Tokenizer.fromJson("{}")).hasMessage("model: missing");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}}"""))
                .hasMessageContaining("model.merges[0]").hasMessageContaining("'ab'");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]}}"""))
                .hasMessageContaining("model.merges[0]");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"model": {"type": "Unigram", "vocab": [["a", "x"]]}}"""))
                .hasMessageContaining("model.vocab[0]");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"model": {"type": "WordPiece", "vocab": {"a": "zero"}}}"""))
                .hasMessageContaining("model.vocab['a']");
        assertThatThrownBy(() -> Tokenizer.fromJson("""
                {"model": {"type": "WordPiece", "vocab": {"a": 0}},
                 "padding": {"strategy": "Sometimes"}}""")).hasMessageContaining("padding.strategy");
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, MINI);
        assertThatThrownBy(() -> Tokenizer.fromFile(f)).isInstanceOf(TokenizerException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("unknown normalizer 'Foo'");
        assertThatThrownBy(() -> Tokenizer.fromFile(dir.resolve("missing.json"))).isInstanceOf(IOException.class)
                .hasMessageContaining("missing.json");
        // a WordPiece vocabulary without its unk token fails when it is needed, naming the token
        Tokenizer noUnk = Tokenizer.fromJson("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}");
        assertThat(noUnk.encode("a").ids()).containsExactly(0);
        assertThatThrownBy(() -> noUnk.encode("b")).hasMessageContaining("unk_token '[UNK]'");
    }
}
