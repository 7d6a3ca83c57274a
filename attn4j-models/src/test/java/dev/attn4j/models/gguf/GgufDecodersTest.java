package dev.attn4j.models.gguf;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.io.gguf.GgufException;
import dev.attn4j.io.gguf.GgufFile;
import dev.attn4j.io.gguf.GgufWriter;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GGUF files converted from the tiny transformers checkpoints of DecoderReferenceTest by
 * scripts/make-gguf-references.py (llama.cpp's converter rules: names, metadata, q / k row
 * permutation, rope_freqs, Gemma's 1 + w norms, GPT-2's transposed Conv1D) give the logits
 * transformers gave for the checkpoints.
 */
class GgufDecodersTest {
    static Path resource(String path) throws Exception {
        return Path.of(GgufDecodersTest.class.getResource(path).toURI());
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "gemma", "gpt2-sharded", "qwen3-bf16", "llama3-rope", "mistral-swa"})
    void ggufOfACheckpointGivesTheCheckpointsLogits(String name) throws Exception {
        Path file = resource("/gguf/" + name + ".gguf");
        // gpt2-sharded scales attention by 1 / layer, which GGUF cannot say: its reference is transformers' logits without
        var own = GgufDecodersTest.class.getResource("/gguf/" + name + ".reference.safetensors");
        Path ref = own != null ? Path.of(own.toURI()) : resource("/decoder/" + name + "/reference.safetensors");
        try (CausalDecoder m = GgufDecoders.load(file); SafetensorsCheckpoint r = SafetensorsCheckpoint.open(ref); var g = GradMode.noGrad()) {
            long[] flat = r.getLongs("unpadded.input_ids");
            int rows = (int) r.info("unpadded.input_ids").shape()[0], cols = flat.length / rows;
            int[][] ids = new int[rows][cols];
            for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) ids[i][j] = (int) flat[i * cols + j];
            DecoderOutput out = m.forward(ids, null, false, false);
            float[] got = out.logits().data().contiguous().toFloatArray(), want = r.getCopy("unpadded.logits").toFloatArray();
            assertThat(got.length).isEqualTo(want.length);
            double worst = 0;
            for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
            assertThat(worst).as(name + ": largest logit difference from transformers").isLessThan(2e-4);
        }
    }

    @Test
    void unsupportedArchitectureAndMissingTensorsAreOneClearError(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bert.gguf");
        new GgufWriter().putString("general.architecture", "bert").addF32("token_embd.weight", new float[64], 2, 32).write(bad);
        assertThatThrownBy(() -> GgufDecoders.load(bad)).isInstanceOf(GgufException.class)
                .hasMessageContaining("general.architecture 'bert' is not supported");
        Path src = resource("/gguf/llama.gguf"), partial = dir.resolve("partial.gguf");
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            for (var t : f.tensors().values()) {
                if (t.name().equals("blk.1.ffn_down.weight")) continue;
                long[] s = t.shape();
                w.addTensor(t.name(), t.type(), s, f.bytes(t.name()));
            }
            w.addF32("extra.weight", new float[4], 4);
            w.write(partial);
        }
        assertThatThrownBy(() -> GgufDecoders.load(partial)).isInstanceOf(GgufException.class)
                .hasMessageContaining("blk.1.ffn_down.weight").hasMessageContaining("extra.weight");
        assertThat(Arrays.asList(GgufDecoders.ARCHITECTURES)).isNotEmpty();
    }
}
