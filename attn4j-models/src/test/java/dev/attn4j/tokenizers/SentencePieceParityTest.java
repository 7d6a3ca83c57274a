package dev.attn4j.tokenizers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * SentencePiece parity on 5,200 varied strings (scripts/gen-sentencepiece-parity.py, which keeps
 * a CRC-32 of each string's results): Llama 2's BPE model (ids and decode), OPUS-MT's source and
 * target Unigram models (ids) against Debian's python3-sentencepiece, and transformers'
 * {@code MarianTokenizer} on the opus-mt-fr-en files (source ids, target ids, decode). Skips when
 * ../shared is absent. A failure lists the strings with attn4j's results; the script's
 * {@code --show N} prints what sentencepiece gave for string N.
 */
class SentencePieceParityTest {
    record Case(String text, String spm, String marian) {
    }

    static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (InputStream in = SentencePieceParityTest.class.getResourceAsStream("/tokenizers/sentencepiece-parity.jsonl.gz");
             BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(in), StandardCharsets.UTF_8))) {
            JsonNode head = json.readTree(r.readLine());
            for (String line; (line = r.readLine()) != null; ) {
                JsonNode row = json.readTree(line);
                out.add(new Case(row.get(0).asText(), row.get(1).asText(), row.get(2).asText()));
            }
            assertThat(out).hasSize(head.get("count").asInt());
        }
        return out;
    }

    static String crc(String s) {
        CRC32 c = new CRC32();
        c.update(s.getBytes(StandardCharsets.UTF_8));
        return String.format(Locale.ROOT, "%08x", c.getValue());
    }

    static String ids(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /** SentencePiece's own encode: "</s>" in the text is text, not the special token. */
    static Tokenizer raw(Path model) throws IOException {
        String src = model.toString();
        return SentencePiece.tokenizer(SentencePiece.read(java.nio.file.Files.readAllBytes(model), src), src, false, false, false);
    }

    @Test
    void sentencePieceIdsAndDecodeOnFiveThousandStrings() throws IOException {
        Path shared = SharedTokenizers.dir("llama2").getParent();
        SharedTokenizers.dir("opus-mt-fr-en");
        Tokenizer llama = raw(shared.resolve("llama2/tokenizer.model"));
        Tokenizer source = raw(shared.resolve("opus-mt-fr-en/source.spm"));
        Tokenizer target = raw(shared.resolve("opus-mt-fr-en/target.spm"));
        List<Case> cases = cases();
        assertThat(cases.size()).isGreaterThanOrEqualTo(5000);
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            int[] l = llama.encode(c.text(), false).ids();
            String got = String.join("\n", ids(l), llama.decode(l), ids(source.encode(c.text(), false).ids()),
                    ids(target.encode(c.text(), false).ids()));
            if (!crc(got).equals(c.spm())) failures.add("string " + i + " " + TestVectorsTest.escape(c.text()) + ": attn4j gave\n" + got);
        }
        assertThat(failures).as(failures.size() + " of " + cases.size() + " strings differ").isEmpty();
    }

    @Test
    void marianTokenizerOnFiveThousandStrings() throws IOException {
        Path dir = SharedTokenizers.dir("opus-mt-fr-en");
        Tokenizer marian = Tokenizer.fromMarianFiles(dir);
        Tokenizer marianTarget = Tokenizer.fromMarianFilesTarget(dir);
        assertThat(Tokenizer.fromDirectory(dir).encode("Le chat est noir.").ids()).isEqualTo(marian.encode("Le chat est noir.").ids());
        List<Case> cases = cases();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < cases.size(); i++) {
            Case c = cases.get(i);
            int[] t = marianTarget.encode(c.text()).ids();
            String got = String.join("\n", ids(marian.encode(c.text()).ids()), ids(t), marian.decode(t, true));
            if (!crc(got).equals(c.marian())) failures.add("string " + i + " " + TestVectorsTest.escape(c.text()) + ": attn4j gave\n" + got);
        }
        assertThat(failures).as(failures.size() + " of " + cases.size() + " strings differ").isEmpty();
    }

    @Test
    void marianSpecialTokensAndLanguageCodes() throws IOException {
        Tokenizer marian = Tokenizer.fromMarianFiles(SharedTokenizers.dir("opus-mt-fr-en"));
        // the ids MarianTokenizer gives (transformers 4.57.6)
        assertThat(marian.encode("Bonjour le monde !").ids()).containsExactly(7869, 29025, 32333, 115, 43311);
        assertThat(marian.encode("Hello</s>world").ids()).containsExactly(24205, 43311, 104, 52620, 43311);
        assertThat(marian.encode(">>fr<< Bonjour").ids()).containsExactly(50387, 7869, 43311);   // unknown code: <unk>
        assertThat(marian.encode("").ids()).containsExactly(43311);
        assertThat(marian.encode("a<unk>b <pad> c").ids()).containsExactly(1894, 50387, 6618, 53016, 8581, 43311);
        assertThat(marian.decode(new int[] {100, 200, 0, 43311, 53016, 300}, false)).isEqualTo("%) 0.01></s> <pad> .1%");
        assertThat(marian.decode(new int[] {100, 200, 0, 43311, 53016, 300}, true)).isEqualTo("%) 0.01>.1%");
    }

    @Test
    void bartFilesWithoutTokenizerJsonMatchBartTokenizer(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // GPT-2's files with BART's special tokens added (as the script builds them)
        Path gpt2 = SharedTokenizers.dir("gpt2");
        com.fasterxml.jackson.databind.node.ObjectNode vocab = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper()
                .readTree(gpt2.resolve("vocab.json").toFile());
        String[] specials = {"<s>", "<pad>", "</s>", "<unk>", "<mask>"};
        for (int i = 0; i < specials.length; i++) vocab.put(specials[i], 50257 + i);
        java.nio.file.Files.writeString(tmp.resolve("vocab.json"), vocab.toString());
        java.nio.file.Files.copy(gpt2.resolve("merges.txt"), tmp.resolve("merges.txt"));
        java.nio.file.Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"tokenizer_class\": \"BartTokenizer\"}");
        Tokenizer bart = Tokenizer.fromDirectory(tmp);
        JsonNode refs;
        try (InputStream in = SentencePieceParityTest.class.getResourceAsStream("/tokenizers/bart-files-refs.json")) {
            refs = new ObjectMapper().readTree(in).get("cases");
        }
        assertThat(refs.size()).isGreaterThan(300);
        List<String> failures = new ArrayList<>();
        for (JsonNode c : refs) {
            int[] want = SentencePieceTest.ids(c.get("ids")), got = bart.encode(c.get("text").asText()).ids();
            if (!Arrays.equals(got, want)) {
                failures.add(TestVectorsTest.escape(c.get("text").asText()) + ": " + Arrays.toString(got) + ", BartTokenizer " + Arrays.toString(want));
            }
        }
        assertThat(failures).as(failures.size() + " of " + refs.size() + " cases differ").isEmpty();
        assertThat(bart.encode("Hi").ids()).startsWith(50257).endsWith(50259);
    }

    @Test
    void t5SentencePieceMatchesT5Tokenizer() throws Exception {
        Path dir = Path.of(SentencePieceParityTest.class.getResource("/tokenizers/t5-spiece/spiece.model").toURI()).getParent();
        Tokenizer t5 = Tokenizer.fromDirectory(dir);
        JsonNode refs = new ObjectMapper().readTree(dir.resolve("t5-refs.json").toFile()).get("cases");
        assertThat(refs.size()).isGreaterThan(250);
        List<String> failures = new ArrayList<>();
        for (JsonNode c : refs) {
            String text = c.get("text").asText();
            int[] want = SentencePieceTest.ids(c.get("ids"));
            int[] got = t5.encode(text).ids();
            if (!Arrays.equals(got, want)) {
                failures.add(TestVectorsTest.escape(text) + ": ids " + Arrays.toString(got) + ", T5Tokenizer " + Arrays.toString(want));
                continue;
            }
            String d = t5.decode(want, false), ds = t5.decode(want, true);
            if (!d.equals(c.get("decode").asText()) || !ds.equals(c.get("decode_skip").asText())) {
                failures.add(TestVectorsTest.escape(text) + ": decode " + TestVectorsTest.escape(d) + " / " + TestVectorsTest.escape(ds)
                        + ", T5Tokenizer " + TestVectorsTest.escape(c.get("decode").asText()) + " / "
                        + TestVectorsTest.escape(c.get("decode_skip").asText()));
            }
        }
        assertThat(failures).as(failures.size() + " of " + refs.size() + " cases differ").isEmpty();
    }
}
