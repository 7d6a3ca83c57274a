package dev.attn4j.models.gguf;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.io.gguf.GgufFile;
import dev.attn4j.models.DecoderModels;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.tensor.QuantType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A checkpoint written as GGUF by attn4j ({@link GgufExport}) and read back gives the checkpoint's
 * logits: exactly up to F16 rounding of the linear weights without quantization, within the
 * format's error with Q8_0 (cosine of the logits); quantizing on load ({@link DecoderModels#quantize})
 * gives the same logits as the Q8_0 file. The written file reads back bit-identically.
 */
class GgufExportTest {
    static Path dir(String name) throws Exception {
        return Path.of(GgufExportTest.class.getResource("/decoder/" + name + "/config.json").toURI()).getParent();
    }

    static float[] logits(CausalDecoder m, int[][] ids) {
        try (var g = GradMode.noGrad()) {
            return m.forward(ids, null, false, false).logits().data().contiguous().toFloatArray();
        }
    }

    static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    @org.junit.jupiter.api.Test
    void attentionScalingGgufCannotSayIsRefused(@TempDir Path tmp) throws Exception {
        try (CausalDecoder hf = DecoderModels.load(dir("gpt2-sharded"))) {                     // scale_attn_by_inverse_layer_idx
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> GgufExport.write(hf, QuantType.Q8_0, null, tmp.resolve("x.gguf")))
                    .hasMessageContaining("GGUF has no key for that");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "gemma", "llama3-rope", "mistral-swa", "qwen3-bf16"})
    void writtenGgufGivesTheCheckpointsLogits(String name, @TempDir Path tmp) throws Exception {
        int[][] ids = {{1, 7, 3, 9, 12, 5, 30, 2}, {4, 4, 8, 16, 23, 42, 11, 0}};
        try (CausalDecoder hf = DecoderModels.load(dir(name))) {
            float[] want = logits(hf, ids);
            Path f16 = tmp.resolve("f.gguf"), q8 = tmp.resolve("q8.gguf");
            GgufExport.write(hf, null, null, f16);
            GgufExport.write(hf, QuantType.Q8_0, null, q8);
            try (CausalDecoder m = GgufDecoders.load(f16)) {
                float[] got = logits(m, ids);
                double worst = 0;
                for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
                assertThat(worst).as(name + " F16 GGUF vs checkpoint").isLessThan(name.contains("bf16") ? 1e-4 : 2e-2);
                assertThat(cosine(got, want)).isGreaterThan(0.9999);
            }
            try (CausalDecoder m = GgufDecoders.load(q8); GgufFile f = GgufFile.open(q8)) {
                assertThat(f.tensors().get("blk.0.ffn_down.weight").type().name()).isEqualTo("Q8_0");
                float[] got = logits(m, ids);
                assertThat(cosine(got, want)).as(name + " Q8_0 GGUF logits cosine").isGreaterThan(0.999);
                if (!name.startsWith("gpt2")) {
                    try (CausalDecoder onLoad = DecoderModels.load(dir(name))) {
                        DecoderModels.quantize(onLoad, QuantType.Q8_0);
                        float[] q = logits(onLoad, ids);
                        assertThat(cosine(q, want)).as(name + " --quantize q8_0 cosine").isGreaterThan(0.999);
                    }
                }
                Path again = tmp.resolve("again.gguf");
                GgufExport.write(m, null, null, again);
                try (GgufFile g = GgufFile.open(again)) {
                    for (var t : f.tensors().values()) {
                        if (t.type().quantType() != null && !t.name().equals("output.weight")) {
                            assertThat(g.bytes(t.name()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).as(t.name())
                                    .isEqualTo(f.bytes(t.name()).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
                        }
                    }
                }
            }
        }
    }
}
