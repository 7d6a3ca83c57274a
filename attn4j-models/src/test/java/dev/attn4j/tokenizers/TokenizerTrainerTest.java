package dev.attn4j.tokenizers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.train.data.TextLines;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Tokenizer training against Hugging Face tokenizers 0.23.2 (scripts/make-tokenizer-train-references.py):
 * BPE vocabularies and merges equal to BpeTrainer's; every trained file encodes the samples as
 * Hugging Face encodes them with the same file.
 */
class TokenizerTrainerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path dir() throws URISyntaxException {
        return Path.of(TokenizerTrainerTest.class.getResource("/tokenizers/train/corpus.txt").toURI()).getParent();
    }

    private static List<String> corpus() throws URISyntaxException {
        return TextLines.read(dir().resolve("corpus.txt"));
    }

    private static JsonNode read(String name) throws IOException, URISyntaxException {
        return JSON.readTree(Files.readString(dir().resolve(name)));
    }

    private static void assertEncodesAsHuggingFace(String json, String name) throws Exception {
        JsonNode samples = read("samples.json");
        assertThat(samples.get("ids").has(name)).as("samples.json has ids for " + name).isTrue();
        Tokenizer tok = Tokenizer.fromJson(json);
        for (int i = 0; i < samples.get("samples").size(); i++) {
            String s = samples.get("samples").get(i).asText();
            int[] ids = tok.encode(s).ids();
            int[] want = new int[samples.get("ids").get(name).get(i).size()];
            for (int k = 0; k < want.length; k++) want[k] = samples.get("ids").get(name).get(i).get(k).asInt();
            assertThat(ids).as(name + ": '" + s + "'").containsExactly(want);
            assertThat(tok.decode(ids)).as(name + " decode '" + s + "'").isEqualTo(samples.get("decoded").get(name).get(i).asText());
        }
    }

    @Test
    void byteLevelBpeEqualsHuggingFaceBpeTrainer() throws Exception {
        TokenizerTrainer.Options o = TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.BPE, 600);
        String json = TokenizerTrainer.trainJson(corpus(), o);
        JsonNode mine = JSON.readTree(json), hf = read("hf-bpe-bytelevel.json");
        assertThat(mine.get("model").get("vocab")).isEqualTo(hf.get("model").get("vocab"));
        assertThat(mine.get("model").get("merges")).isEqualTo(hf.get("model").get("merges"));
        assertThat(mine.get("model").get("merges").size()).isGreaterThan(300);
        assertThat(mine.get("added_tokens")).isEqualTo(hf.get("added_tokens"));
        assertThat(mine.get("pre_tokenizer")).isEqualTo(hf.get("pre_tokenizer"));
        assertEncodesAsHuggingFace(json, "hf-bpe-bytelevel.json");
        Tokenizer tok = Tokenizer.fromJson(json);
        assertThat(tok.tokenToId("<pad>")).isZero();
        assertThat(tok.tokenToId("</s>")).isEqualTo(2);
    }

    @Test
    void metaspaceBpeEqualsHuggingFaceBpeTrainer() throws Exception {
        TokenizerTrainer.Options o = TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.BPE, 300)
                .withPreTokenization(TokenizerTrainer.PreTokenization.METASPACE).withNormalization(TokenizerTrainer.Normalization.NFKC);
        String json = TokenizerTrainer.trainJson(corpus(), o);
        JsonNode mine = JSON.readTree(json), hf = read("hf-bpe-metaspace.json");
        assertThat(mine.get("model").get("vocab")).isEqualTo(hf.get("model").get("vocab"));
        assertThat(mine.get("model").get("merges")).isEqualTo(hf.get("model").get("merges"));
        assertThat(mine.get("model").get("unk_token").asText()).isEqualTo("<unk>");
        assertEncodesAsHuggingFace(json, "hf-bpe-metaspace.json");
    }

    @Test
    void unigramIsStableAndEncodesAsHuggingFace() throws Exception {
        TokenizerTrainer.Options o = TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.UNIGRAM, 300);
        String json = TokenizerTrainer.trainJson(corpus(), o);
        // the committed file is this training's output (the samples were encoded with it by Hugging Face)
        assertThat(JSON.readTree(json)).isEqualTo(read("attn4j-unigram.json"));
        JsonNode vocab = JSON.readTree(json).get("model").get("vocab");
        assertThat(vocab.size()).isEqualTo(300);
        assertThat(vocab.get(0).get(0).asText()).isEqualTo("<pad>");
        assertThat(JSON.readTree(json).get("model").get("unk_id").asInt()).isEqualTo(3);
        double previous = 0;
        for (int i = 4; i < vocab.size(); i++) {
            double score = vocab.get(i).get(1).asDouble();
            assertThat(score).as("scores descend").isLessThanOrEqualTo(i == 4 ? 0 : previous).isNegative();
            previous = score;
        }
        // every character of the corpus is a piece, so nothing in it is unknown
        Tokenizer tok = Tokenizer.fromJson(json);
        for (String line : corpus()) {
            int[] ids = tok.encode(line).ids();
            assertThat(ids).as(line).doesNotContain(3);
        }
        assertEncodesAsHuggingFace(json, "attn4j-unigram.json");
    }

    @Test
    void unigramSeedsAsTheRustTrainerTest() {
        // tokenizers' unigram trainer test_unigram_chars: seeds of ("This is a", 1), ("こんにちは友達", 1)
        List<String> pieces = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        UnigramTrainer.seeds(List.of(sentence("This is a"), sentence("こんにちは友達")), UnigramTrainer.Options.defaults(8000), pieces, scores);
        assertThat(pieces).containsExactly("s", "i", " ", "達", "友", "ん", "は", "に", "ち", "こ", "h", "a", "T", "is ", "s ");
        double[] want = {-2.5649493574615367, -2.5649493574615367, -2.5649493574615367, -3.258096538021482, -3.258096538021482,
                -3.258096538021482, -3.258096538021482, -3.258096538021482, -3.258096538021482, -3.258096538021482,
                -3.258096538021482, -3.258096538021482, -3.258096538021482, -1.4663370687934272, -1.8718021769015916};
        for (int i = 0; i < want.length; i++) assertThat(scores.get(i)).isCloseTo(want[i], within(1e-12));
    }

    private static UnigramTrainer.Sentence sentence(String s) {
        return new UnigramTrainer.Sentence(s.codePoints().toArray(), 1);
    }

    @Test
    void suffixArrayAndLcpMatchNaive() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + rng.nextInt(60);
            int[] s = new int[n];
            for (int i = 0; i < n; i++) s[i] = rng.nextInt(1 + trial % 4);
            Integer[] naive = new Integer[n];
            for (int i = 0; i < n; i++) naive[i] = i;
            Arrays.sort(naive, (a, b) -> Arrays.compare(s, a, n, s, b, n));
            int[] sa = UnigramTrainer.suffixArray(s);
            assertThat(Arrays.stream(sa).boxed().toArray()).isEqualTo(naive);
            int[] lcp = UnigramTrainer.lcp(s, sa);
            for (int i = 1; i < n; i++) {
                int h = 0;
                while (sa[i - 1] + h < n && sa[i] + h < n && s[sa[i - 1] + h] == s[sa[i] + h]) h++;
                assertThat(lcp[i]).isEqualTo(h);
            }
        }
    }

    @Test
    void digammaMatchesKnownValues() {
        assertThat(UnigramTrainer.digamma(1)).isCloseTo(-0.5772156649015329, within(1e-9));
        assertThat(UnigramTrainer.digamma(0.5)).isCloseTo(-1.9635100260214235, within(1e-9));
        assertThat(UnigramTrainer.digamma(100)).isCloseTo(4.600161852738087, within(1e-9));
    }

    @Test
    void badOptionsAreRefused() {
        assertThatThrownBy(() -> TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.BPE, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("too small").hasMessageContaining("256 bytes");
        assertThatThrownBy(() -> TokenizerTrainer.trainJson(List.of("abcdefghijklmnop"),
                TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.UNIGRAM, 10)))
                .isInstanceOf(TokenizerException.class).hasMessageContaining("too small");
        assertThatThrownBy(() -> TokenizerTrainer.Options.defaults(TokenizerTrainer.ModelType.BPE, 600)
                .withSpecialTokens(List.of("<s>", "<s>"), null)).hasMessageContaining("repeat");
    }
}
