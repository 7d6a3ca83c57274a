package dev.attn4j.models.decoder;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.tensor.NDArray;
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
    void bareGpt2CheckpointWithBuffersLoadsAsTheOriginalGpt2Weights() throws Exception {
        // the original gpt2 weights: GPT2Model keys (no "transformer."), attn.bias / attn.masked_bias buffers, no lm_head
        Path src = DecoderReferenceTest.dir("gpt2-sharded"), d = tmp.resolve("gpt2-bare");
        Files.createDirectories(d);
        Files.copy(src.resolve("config.json"), d.resolve("config.json"));
        java.util.Map<String, NDArray> bare = new java.util.LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(src.resolve("model.safetensors.index.json"))) {
            for (String k : c.names()) bare.put(k.substring("transformer.".length()), c.getCopy(k));
        }
        bare.put("h.0.attn.bias", NDArray.ones(1, 1, 4, 4));
        bare.put("h.0.attn.masked_bias", NDArray.scalar(-1e4));
        SafetensorsWriter.write(d.resolve("model.safetensors"), bare);
        try (CausalDecoder m = DecoderModels.load(d); SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(src.resolve("reference.safetensors"));
             var g = GradMode.noGrad()) {
            int[][] ids = DecoderReferenceTest.rows(DecoderReferenceTest.longsAsArray(ref, "unpadded.input_ids"));
            DecoderReferenceTest.assertClose("bare gpt2 logits", m.forward(ids, null, false, false).logits().data(),
                    ref.getCopy("unpadded.logits"), null);
            assertThat(m.stateDict()).containsKey("transformer.h.0.attn.c_attn.weight");
        }
    }

    @Test
    void f16WeightsLoadWidenedToF32() throws Exception {
        Path src = DecoderReferenceTest.dir("llama"), d = tmp.resolve("llama-f16");
        Files.createDirectories(d);
        Files.copy(src.resolve("config.json"), d.resolve("config.json"));
        java.util.Map<String, NDArray> w = new java.util.LinkedHashMap<>(), rounded = new java.util.LinkedHashMap<>();
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(src.resolve("model.safetensors"))) {
            for (String k : c.names()) w.put(k, c.getCopy(k));
        }
        SafetensorsWriter.write(d.resolve("model.safetensors"), w, java.util.Map.of(), dev.attn4j.io.safetensors.SafetensorsDType.F16);
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(d.resolve("model.safetensors"))) {
            assertThat(c.info("model.norm.weight").dtype()).isEqualTo(dev.attn4j.io.safetensors.SafetensorsDType.F16);
            for (String k : c.names()) rounded.put(k, c.getCopy(k));
        }
        try (CausalDecoder f16 = DecoderModels.load(d); var g = GradMode.noGrad()) {
            // the same model built from the F16-rounded values in memory: loading must only widen them
            CausalDecoder f32 = DecoderModels.create(f16.config(), new MapParams(rounded));
            int[][] ids = {{5, 9, 2, 33, 7, 1}};
            DecoderReferenceTest.assertClose("f16 logits", f16.forward(ids, null, false, false).logits().data(),
                    f32.forward(ids, null, false, false).logits().data(), null);
            assertThat(f16.stateDict().get("model.norm.weight").dtype()).isEqualTo(dev.attn4j.tensor.DType.F32);
        }
    }

    /** Params over a map of full names (test helper). */
    private static final class MapParams extends dev.attn4j.models.Params {
        private final java.util.Map<String, NDArray> map;

        MapParams(java.util.Map<String, NDArray> map) {
            this("", map);
        }

        private MapParams(String prefix, java.util.Map<String, NDArray> map) {
            super(prefix);
            this.map = map;
        }

        @Override
        public dev.attn4j.models.Params at(String name) {
            return new MapParams(key(name) + ".", map);
        }

        @Override
        public NDArray get(String name, Init init, boolean mapped, int... shape) {
            return map.get(key(name)).copy();
        }

        @Override
        public boolean has(String name) {
            return map.containsKey(key(name));
        }
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
