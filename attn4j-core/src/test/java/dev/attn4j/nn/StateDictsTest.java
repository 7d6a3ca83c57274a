package dev.attn4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictsTest {
    @TempDir
    Path dir;

    @Test
    void moduleStateDictRoundTripsWithIdenticalBits() throws Exception {
        SplittableRandom rng = new SplittableRandom(System.nanoTime());
        ModuleTest.Encoder a = new ModuleTest.Encoder(rng);
        Path file = dir.resolve("model.safetensors");
        StateDicts.save(a, file);
        var read = StateDicts.read(file);
        assertThat(read.keySet()).containsExactlyInAnyOrderElementsOf(a.stateDict().keySet());
        a.stateDict().forEach((k, v) -> {
            float[] want = v.toFloatArray(), got = read.get(k).toFloatArray();
            assertThat(got).as(k).hasSize(want.length);
            for (int i = 0; i < want.length; i++) {
                assertThat(Float.floatToRawIntBits(got[i])).as(k).isEqualTo(Float.floatToRawIntBits(want[i]));
            }
        });
        ModuleTest.Encoder b = new ModuleTest.Encoder(rng);
        StateDicts.load(b, file, true);
        b.stateDict().forEach((k, v) -> assertThat(v.toFloatArray()).as(k).isEqualTo(a.stateDict().get(k).toFloatArray()));
    }

    @Test
    void loadingIntoADifferentModelNamesTheFileAndKeys() throws Exception {
        SplittableRandom rng = new SplittableRandom(1);
        Path file = dir.resolve("lin.safetensors");
        StateDicts.save(new Linear(3, 2, rng), file);
        assertThatThrownBy(() -> StateDicts.load(new Linear(4, 2, rng), file, true))
                .hasMessageContaining(file.toString()).hasMessageContaining("weight").hasMessageContaining("[2, 4]");
        Files.writeString(file, "not a safetensors file");
        assertThatThrownBy(() -> StateDicts.read(file)).isInstanceOf(java.io.IOException.class).hasMessageContaining(file.toString());
    }
}
