package dev.attn4j.models.onnx;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.io.safetensors.SafetensorsFile;
import dev.attn4j.testing.MiniLm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code attn4j convert}'s importer on a synthetic export, on jars, and on the MiniLM jar the build ships. */
class OnnxConverterTest {
    static final JsonMapper JSON = new JsonMapper();

    @TempDir
    Path tmp;

    /** A WordPiece tokenizer.json for TinyBertOnnx's 11-token vocabulary, with truncation and padding set. */
    static byte[] tinyTokenizer() {
        String vocab = "{\"[PAD]\":0,\"[UNK]\":1,\"[CLS]\":2,\"[SEP]\":3,\"[MASK]\":4,\"a\":5,\"b\":6,\"c\":7,\"d\":8,\"e\":9,\"##f\":10}";
        String json = "{\"version\":\"1.0\",\"truncation\":{\"direction\":\"Right\",\"max_length\":5,\"strategy\":\"LongestFirst\",\"stride\":0},"
                + "\"padding\":{\"strategy\":{\"Fixed\":5},\"direction\":\"Right\",\"pad_to_multiple_of\":null,\"pad_id\":0,\"pad_type_id\":0,\"pad_token\":\"[PAD]\"},"
                + "\"added_tokens\":[],"
                + "\"normalizer\":{\"type\":\"BertNormalizer\",\"clean_text\":true,\"handle_chinese_chars\":false,\"strip_accents\":false,\"lowercase\":false},"
                + "\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"},"
                + "\"post_processor\":{\"type\":\"TemplateProcessing\","
                + "\"single\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}}],"
                + "\"pair\":[{\"SpecialToken\":{\"id\":\"[CLS]\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":0}},"
                + "{\"Sequence\":{\"id\":\"B\",\"type_id\":1}},{\"SpecialToken\":{\"id\":\"[SEP]\",\"type_id\":1}}],"
                + "\"special_tokens\":{\"[CLS]\":{\"id\":\"[CLS]\",\"ids\":[2],\"tokens\":[\"[CLS]\"]},\"[SEP]\":{\"id\":\"[SEP]\",\"ids\":[3],\"tokens\":[\"[SEP]\"]}}},"
                + "\"decoder\":{\"type\":\"WordPiece\",\"prefix\":\"##\",\"cleanup\":true},"
                + "\"model\":{\"type\":\"WordPiece\",\"unk_token\":\"[UNK]\",\"continuing_subword_prefix\":\"##\",\"max_input_chars_per_word\":100,\"vocab\":" + vocab + "}}";
        return json.getBytes(StandardCharsets.UTF_8);
    }

    /** A class file fragment naming langchain4j's PoolingMode and one constant, as a model class's constant pool does. */
    static byte[] fakeModelClass(String constant) {
        byte[] head = {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE, 0, 0, 0, 65};
        byte[] type = "\u0001\u0000\u0030dev/langchain4j/model/embedding/onnx/PoolingMode".getBytes(StandardCharsets.ISO_8859_1);
        byte[] c = new byte[3 + constant.length()];
        c[0] = 1;
        c[2] = (byte) constant.length();
        System.arraycopy(constant.getBytes(StandardCharsets.US_ASCII), 0, c, 3, constant.length());
        byte[] out = new byte[head.length + type.length + c.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(type, 0, out, head.length, type.length);
        System.arraycopy(c, 0, out, head.length + type.length, c.length);
        return out;
    }

    private Path jar(String name, Map<String, byte[]> entries) throws IOException {
        Path j = tmp.resolve(name);
        try (OutputStream os = Files.newOutputStream(j); ZipOutputStream z = new ZipOutputStream(os)) {
            for (var e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return j;
    }

    private static List<String> siblings(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void tinyOnnxWithItsTokenizerBeside() throws IOException {
        TinyBertOnnx tiny = new TinyBertOnnx(7);
        Files.write(tmp.resolve("tiny.onnx"), tiny.build());
        Files.write(tmp.resolve("tiny-tokenizer.json"), tinyTokenizer());
        Path out = tmp.resolve("models/tiny");
        OnnxConverter.Result r = OnnxConverter.convert(tmp.resolve("tiny.onnx"), out, null, null, 0);
        assertThat(r.pooling()).isEqualTo(OnnxConverter.Pooling.MEAN);
        assertThat(r.maxSeqLength()).isEqualTo(7);
        for (String f : OnnxConverter.FILES) assertThat(out.resolve(f)).as(f).isRegularFile();
        assertThat(siblings(out.getParent())).containsExactly("tiny"); // no temporary directory left
        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        assertThat(config.get("num_hidden_layers").intValue()).isEqualTo(2);
        assertThat(config.get("hidden_size").intValue()).isEqualTo(6);
        assertThat(config.get("num_attention_heads").intValue()).isEqualTo(3);
        assertThat(config.get("intermediate_size").intValue()).isEqualTo(10);
        assertThat(config.get("vocab_size").intValue()).isEqualTo(11);
        assertThat(config.get("max_position_embeddings").intValue()).isEqualTo(7);
        assertThat(config.get("pad_token_id").intValue()).isEqualTo(0);
        JsonNode tc = JSON.readTree(out.resolve("tokenizer_config.json").toFile());
        assertThat(tc.get("do_lower_case").booleanValue()).isFalse();
        assertThat(tc.get("tokenize_chinese_chars").booleanValue()).isFalse();
        assertThat(tc.get("strip_accents").booleanValue()).isFalse();
        JsonNode tok = JSON.readTree(out.resolve("tokenizer.json").toFile());
        assertThat(tok.get("truncation").isNull()).isTrue();
        assertThat(tok.get("padding").isNull()).isTrue();
        assertThat(Files.readAllLines(out.resolve("vocab.txt"))).containsExactly(
                "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d", "e", "##f");
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertThat(f.names()).containsExactlyInAnyOrderElementsOf(tiny.hf.keySet());
            for (var e : tiny.hf.entrySet()) {
                assertThat(f.get(e.getKey()).toFloatArray()).as(e.getKey()).isEqualTo(e.getValue());
                assertThat(f.info(e.getKey()).shape()).as(e.getKey()).isEqualTo(tiny.hfShape.get(e.getKey()));
            }
        }
        ModelDirectory md = ModelDirectory.of(out);
        assertThat(md.poolingConfig().orElseThrow().meanTokens()).isTrue();
        assertThat(md.sentenceBertConfig().orElseThrow().maxSeqLength().getAsInt()).isEqualTo(7);

        // --pooling cls, --tokenizer given explicitly
        Path out2 = tmp.resolve("tiny-cls");
        Path tokElsewhere = Files.write(tmp.resolve("other.json"), tinyTokenizer());
        OnnxConverter.convert(tmp.resolve("tiny.onnx"), out2, tokElsewhere, OnnxConverter.Pooling.CLS, 5);
        assertThat(ModelDirectory.of(out2).poolingConfig().orElseThrow().clsToken()).isTrue();
        assertThat(ModelDirectory.of(out2).sentenceBertConfig().orElseThrow().maxSeqLength().getAsInt()).isEqualTo(5);
    }

    @Test
    void jarPoolingComesFromItsModelClass() throws IOException {
        byte[] onnx = new TinyBertOnnx(3).build();
        Path j = jar("tiny-model.jar", Map.of(
                "tiny.onnx", onnx,
                "tiny-tokenizer.json", tinyTokenizer(),
                "dev/example/TinyModel.class", fakeModelClass("CLS"),
                "META-INF/maven/dev.example/tiny-model/pom.properties", "groupId=dev.example\nartifactId=tiny-model\nversion=1.2\n".getBytes(StandardCharsets.ISO_8859_1)));
        Path out = tmp.resolve("from-jar");
        OnnxConverter.Result r = OnnxConverter.convert(j, out, null, null, 0);
        assertThat(r.pooling()).isEqualTo(OnnxConverter.Pooling.CLS);
        assertThat(r.poolingSource()).contains("PoolingMode.CLS");
        JsonNode info = JSON.readTree(out.resolve("attn4j_conversion.json").toFile());
        assertThat(info.get("artifact").textValue()).isEqualTo("dev.example:tiny-model:1.2");
        assertThat(info.get("model").textValue()).isEqualTo("tiny");
        assertThat(info.get("pooling").textValue()).isEqualTo("cls");
        // --pooling overrides the jar
        assertThat(OnnxConverter.convert(j, tmp.resolve("mean"), null, OnnxConverter.Pooling.MEAN, 0).pooling())
                .isEqualTo(OnnxConverter.Pooling.MEAN);
        // a class that names both constants (or none) decides nothing: mean
        Path both = jar("both.jar", Map.of("tiny.onnx", onnx, "tokenizer.json", tinyTokenizer(),
                "A.class", fakeModelClass("CLS"), "B.class", fakeModelClass("MEAN")));
        assertThat(OnnxConverter.convert(both, tmp.resolve("both"), null, null, 0).poolingSource()).startsWith("default (mean");
        assertThat(OnnxConverter.poolingConstant(fakeModelClass("MEAN"))).isEqualTo(OnnxConverter.Pooling.MEAN);
        assertThat(OnnxConverter.poolingConstant("not a class".getBytes(StandardCharsets.US_ASCII))).isNull();
    }

    @Test
    void badInputLeavesNothingBehind() throws IOException {
        byte[] onnx = new TinyBertOnnx(5).build();
        Path lonely = Files.write(tmp.resolve("lonely.onnx"), onnx);
        Path out = tmp.resolve("out");
        assertThatThrownBy(() -> OnnxConverter.convert(lonely, out, null, null, 0)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("lonely.onnx").hasMessageContaining("pass --tokenizer FILE");
        assertThatThrownBy(() -> OnnxConverter.convert(tmp.resolve("absent.onnx"), out, null, null, 0))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("absent.onnx");
        Path txt = Files.writeString(tmp.resolve("model.bin"), "x");
        assertThatThrownBy(() -> OnnxConverter.convert(txt, out, null, null, 0)).hasMessageContaining("expected an .onnx file or a .jar");
        Path noOnnx = jar("empty.jar", Map.of("tokenizer.json", tinyTokenizer()));
        assertThatThrownBy(() -> OnnxConverter.convert(noOnnx, out, null, null, 0)).hasMessageContaining("holds 0 .onnx files");
        Path two = jar("two.jar", Map.of("a.onnx", onnx, "b.onnx", onnx, "tokenizer.json", tinyTokenizer()));
        assertThatThrownBy(() -> OnnxConverter.convert(two, out, null, null, 0)).hasMessageContaining("holds 2 .onnx files");
        Path notZip = Files.writeString(tmp.resolve("broken.jar"), "not a zip");
        assertThatThrownBy(() -> OnnxConverter.convert(notZip, out, null, null, 0)).hasMessageContaining("not a readable jar");
        Path garbage = jar("garbage.jar", Map.of("m.onnx", "garbage".getBytes(StandardCharsets.US_ASCII), "tokenizer.json", tinyTokenizer()));
        assertThatThrownBy(() -> OnnxConverter.convert(garbage, out, null, null, 0)).isInstanceOf(IOException.class)
                .hasMessageContaining("garbage.jar!/m.onnx");
        Path badTok = jar("badtok.jar", Map.of("m.onnx", onnx, "tokenizer.json", "{\"model\": {\"type\": \"BPE\"}}".getBytes(StandardCharsets.UTF_8)));
        assertThatThrownBy(() -> OnnxConverter.convert(badTok, out, null, null, 0)).hasMessageContaining("model type BPE");
        Path ok = jar("ok.jar", Map.of("m.onnx", onnx, "tokenizer.json", tinyTokenizer()));
        assertThatThrownBy(() -> OnnxConverter.convert(ok, out, null, null, 8)).hasMessageContaining("exceeds the model's 7 positions");
        assertThat(siblings(tmp)).noneMatch(n -> n.startsWith("out") || n.startsWith(".out"));

        // an existing non-empty --out is refused; an empty one is filled
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertThatThrownBy(() -> OnnxConverter.convert(ok, out, null, null, 0)).isInstanceOf(DirectoryNotEmptyException.class)
                .hasMessageContaining("not empty");
        assertThat(siblings(out)).containsExactly("keep.txt");
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        OnnxConverter.convert(ok, empty, null, null, 0);
        assertThat(empty.resolve("attn4j_conversion.json")).isRegularFile();

        // a failure midway: no directory under the final name, no temporary left
        Path target = tmp.resolve("half").toAbsolutePath();
        OnnxConverter.Spec spec = OnnxConverter.readSource(ok, null, null, 0);
        assertThatThrownBy(() -> OnnxConverter.writeAtomically(target, spec, name -> {
            if (name.equals("vocab.txt")) throw new IOException("disk full (simulated)");
        })).hasMessageContaining("disk full");
        assertThat(siblings(tmp)).noneMatch(n -> n.contains("half"));
    }

    /** The jar that ships all-MiniLM-L6-v2 (on the class path): its conversion equals the built-in default model. */
    @Test
    void miniLmJarConvertsToTheDefaultModel() throws Exception {
        URL url = OnnxConverterTest.class.getResource(DefaultModel.ONNX_RESOURCE);
        assertThat(url).isNotNull();
        assertThat(url.getProtocol()).isEqualTo("jar");
        Path jarFile = Path.of(((JarURLConnection) url.openConnection()).getJarFileURL().toURI());
        Path out = tmp.resolve("minilm");
        OnnxConverter.Result r = OnnxConverter.convert(jarFile, out, null, null, 256);
        assertThat(r.pooling()).isEqualTo(OnnxConverter.Pooling.MEAN);
        assertThat(r.poolingSource()).contains("PoolingMode.MEAN").contains("AllMiniLmL6V2EmbeddingModel.class");
        assertThat(r.config().numHiddenLayers()).isEqualTo(6);
        Path builtIn = MiniLm.builtIn();
        for (String f : OnnxConverter.FILES) {
            if (f.equals("attn4j_conversion.json")) continue;
            assertThat(Files.readAllBytes(out.resolve(f))).as(f).isEqualTo(Files.readAllBytes(builtIn.resolve(f)));
        }
        JsonNode info = JSON.readTree(out.resolve("attn4j_conversion.json").toFile());
        assertThat(info.get("artifact").textValue()).isEqualTo(DefaultModel.ARTIFACT);
        assertThat(info.get("model").textValue()).isEqualTo("all-minilm-l6-v2");
    }
}
