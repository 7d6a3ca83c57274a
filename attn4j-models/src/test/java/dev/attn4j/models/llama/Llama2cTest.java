package dev.attn4j.models.llama;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.Generator;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.decoder.DecoderModel;
import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real stories260K (llama2.c format, ../shared) against transformers' LlamaForCausalLM running
 * the same weights (converted by scripts/make-decoder-references.py): logits of a prompt and 40
 * greedy tokens from BOS.
 */
class Llama2cTest {
    @TempDir
    Path tmp;

    static Path bin() {
        Path here = Path.of("").toAbsolutePath();
        Path root = here.getFileName().toString().startsWith("attn4j-") ? here.getParent() : here;
        return root.resolve("../shared/models/stories260K/stories260K.bin").normalize();
    }

    static Path reference() throws Exception {
        return Path.of(Llama2cTest.class.getResource("/decoder/stories260K-reference.safetensors").toURI());
    }

    @Test
    void stories260KMatchesTransformers() throws Exception {
        assumeTrue(Files.isRegularFile(bin()), "shared model not present: " + bin());
        try (DecoderModel m = Llama2c.load(bin()); SafetensorsCheckpoint ref = SafetensorsCheckpoint.open(reference());
             var g = GradMode.noGrad()) {
            assertThat(m.config().numHiddenLayers()).isEqualTo(5);
            assertThat(m.config().numKeyValueHeads()).isEqualTo(4);
            assertThat(m.parameterCount()).isEqualTo(260_032);
            int[] prompt = Arrays.stream(ref.getLongs("prompt")).mapToInt(l -> (int) l).toArray();
            NDArray logits = m.forward(new int[][] {prompt}, null, false, false).logits().data();   // [1, T, 512]
            NDArray expected = ref.getCopy("logits");
            assertThat(logits.shape()).isEqualTo(expected.shape());
            double worst = 0;
            double[] a = logits.contiguous().toDoubleArray(), e = expected.toDoubleArray();
            for (int i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]));
            assertThat(worst).as("largest logit difference from transformers").isLessThan(1e-4);
            int[] greedy = Arrays.stream(ref.getLongs("greedy")).mapToInt(l -> (int) l).toArray();
            GenerationConfig config = GenerationConfig.builder().maxNewTokens(greedy.length).build();   // greedy, no EOS
            assertThat(new Generator(m).generate(new int[] {1}, config).get(0).tokens()).isEqualTo(greedy);
        }
    }

    @Test
    void truncatedFileIsOneClearError() throws Exception {
        assumeTrue(Files.isRegularFile(bin()), "shared model not present: " + bin());
        Path cut = tmp.resolve("cut.bin");
        byte[] all = Files.readAllBytes(bin());
        Files.write(cut, Arrays.copyOf(all, all.length - 100));
        assertThatThrownBy(() -> Llama2c.load(cut)).isInstanceOf(ModelDirectoryException.class)
                .hasMessageContaining("cut.bin").hasMessageContaining("bytes, but its header");
    }

    @Test
    void halfRotationPermutesPairsPerHead() {
        // 2 heads of size 4: rows [h0: 0 1 2 3, h1: 4 5 6 7] -> [0 2 1 3, 4 6 5 7]
        float[] w = new float[8];
        for (int i = 0; i < 8; i++) w[i] = i;
        NDArray r = Llama2c.halfRotation(NDArray.of(w, 8, 1), 2);
        assertThat(r.toFloatArray()).containsExactly(0, 2, 1, 3, 4, 6, 5, 7);
    }
}
