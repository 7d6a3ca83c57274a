package dev.attn4j.models.decoder;

import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.models.DecoderModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loader errors: each is one message naming the file and what is wrong. */
class DecoderModelsTest {
    @TempDir
    Path tmp;

    private Path copy(String name) throws Exception {
        Path src = DecoderReferenceTest.dir(name), dst = tmp.resolve(name);
        Files.createDirectories(dst);
        try (var files = Files.list(src)) {
            for (Path f : files.toList()) Files.copy(f, dst.resolve(f.getFileName()));
        }
        return dst;
    }

    @Test
    void unsupportedModelTypeNamesItAndTheSupportedOnes() throws Exception {
        Path d = copy("llama");
        String cfg = Files.readString(d.resolve("config.json")).replace("\"model_type\": \"llama\"", "\"model_type\": \"mamba\"");
        Files.writeString(d.resolve("config.json"), cfg);
        assertThatThrownBy(() -> DecoderModels.load(d)).isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining("config.json").hasMessageContaining("'mamba'").hasMessageContaining("llama, mistral, qwen2");
    }

    @Test
    void missingWeightsAreAnError() throws Exception {
        Path d = copy("llama");
        Files.delete(d.resolve("model.safetensors"));
        assertThatThrownBy(() -> DecoderModels.load(d)).isInstanceOf(ModelDirectoryException.class).hasMessageContaining(d.toString());
    }

    @Test
    void corruptWeightsAreAnErrorNamingTheFile() throws Exception {
        Path d = copy("llama");
        Path w = d.resolve("model.safetensors");
        byte[] all = Files.readAllBytes(w);
        Files.write(w, Arrays.copyOf(all, all.length / 2));
        assertThatThrownBy(() -> DecoderModels.load(d)).isInstanceOf(java.io.IOException.class).hasMessageContaining("model.safetensors");
    }

    @Test
    void wrongShapeNamesTheKey() throws Exception {
        Path d = copy("llama");
        String cfg = Files.readString(d.resolve("config.json")).replace("\"intermediate_size\": 32", "\"intermediate_size\": 40");
        Files.writeString(d.resolve("config.json"), cfg);
        assertThatThrownBy(() -> DecoderModels.load(d)).isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining("model.layers.0.mlp.gate_proj.weight").hasMessageContaining("[40, 32]");
    }

    @Test
    void stateDictNamesAreTransformersKeys() throws Exception {
        try (CausalDecoder m = DecoderModels.load(DecoderReferenceTest.dir("qwen3-bf16"))) {
            assertThat(m.stateDict().keySet()).contains("model.embed_tokens.weight", "model.layers.1.self_attn.q_norm.weight",
                    "model.layers.0.mlp.down_proj.weight", "model.norm.weight", "lm_head.weight");
        }
        try (CausalDecoder m = DecoderModels.load(DecoderReferenceTest.dir("gpt2-sharded"))) {
            assertThat(m.stateDict().keySet()).contains("transformer.wte.weight", "transformer.h.1.attn.c_attn.weight",
                    "transformer.h.0.mlp.c_fc.bias", "transformer.ln_f.weight");
            assertThat(m.stateDict().get("transformer.h.0.attn.c_attn.weight").shape().toArray()).containsExactly(32, 96);
        }
    }
}
