package dev.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code attn4j convert} on the all-MiniLM-L6-v2 jar the build ships, and its errors. */
class ConvertCommandTest {
    @TempDir
    Path tmp;

    static Path miniLmJar() throws Exception {
        URL url = ConvertCommandTest.class.getResource(dev.attn4j.models.onnx.DefaultModel.ONNX_RESOURCE);
        assertThat(url).isNotNull();
        return Path.of(((JarURLConnection) url.openConnection()).getJarFileURL().toURI());
    }

    @Test
    void convertsTheMiniLmJarIntoAModelThatEmbedsAsTheBuiltInOne() throws Exception {
        Path out = tmp.resolve("minilm");
        EmbedTokenizeCommandTest.Run r = EmbedTokenizeCommandTest.run("convert", "--from", miniLmJar().toString(),
                "--out", out.toString(), "--max-seq-length", "256");
        assertThat(r.code()).as(r.err()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines).hasSize(1);
        JsonNode j = JsonMapper.builder().build().readTree(lines[0]);
        assertThat(j.get("layers").intValue()).isEqualTo(6);
        assertThat(j.get("hiddenSize").intValue()).isEqualTo(384);
        assertThat(j.get("pooling").textValue()).isEqualTo("mean");
        assertThat(j.get("maxSeqLength").intValue()).isEqualTo(256);
        assertThat(Path.of(j.get("out").textValue())).isEqualTo(out.toAbsolutePath().normalize());

        String old = System.getProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY);
        System.setProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY, tmp.resolve("cache").toString());
        try {
            EmbedTokenizeCommandTest.Run converted = EmbedTokenizeCommandTest.run("embed", "--model", out.toString(), "Converted from the jar.");
            EmbedTokenizeCommandTest.Run builtIn = EmbedTokenizeCommandTest.run("embed", "Converted from the jar.");
            assertThat(converted.code()).as(converted.err()).isZero();
            assertThat(converted.out()).startsWith("{\"text\":").isEqualTo(builtIn.out());
        } finally {
            if (old == null) System.clearProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY);
            else System.setProperty(dev.attn4j.models.onnx.DefaultModel.MODELS_DIR_PROPERTY, old);
        }

        // converting again into the now full directory: one error line, exit 2, the directory untouched
        long before = Files.getLastModifiedTime(out.resolve("model.safetensors")).toMillis();
        EmbedTokenizeCommandTest.Run again = EmbedTokenizeCommandTest.run("convert", "--from", miniLmJar().toString(), "--out", out.toString());
        assertThat(again.code()).isEqualTo(2);
        assertThat(again.err()).contains("attn4j: ").contains("not empty");
        assertThat(again.out()).isEmpty();
        assertThat(Files.getLastModifiedTime(out.resolve("model.safetensors")).toMillis()).isEqualTo(before);
    }

    @Test
    void badInputIsOneErrorLineAndExitTwo() throws Exception {
        Path out = tmp.resolve("never");
        EmbedTokenizeCommandTest.Run missing = EmbedTokenizeCommandTest.run("convert", "--from", tmp.resolve("nope.onnx").toString(),
                "--out", out.toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err().strip().lines().filter(l -> l.startsWith("attn4j: ")).toList()).hasSize(1);
        assertThat(missing.err()).contains("nope.onnx");
        EmbedTokenizeCommandTest.Run pooling = EmbedTokenizeCommandTest.run("convert", "--from", miniLmJar().toString(),
                "--out", out.toString(), "--pooling", "max");
        assertThat(pooling.code()).isEqualTo(2);
        assertThat(pooling.err()).contains("unknown pooling 'max' (expected cls or mean)");
        Path lonely = Files.write(tmp.resolve("m.onnx"), new byte[] {8, 7});
        EmbedTokenizeCommandTest.Run noTok = EmbedTokenizeCommandTest.run("convert", "--from", lonely.toString(), "--out", out.toString());
        assertThat(noTok.code()).isEqualTo(2);
        assertThat(noTok.err()).contains("--tokenizer");
        assertThat(out).doesNotExist();
    }
}
