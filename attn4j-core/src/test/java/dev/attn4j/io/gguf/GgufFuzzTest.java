package dev.attn4j.io.gguf;

import dev.attn4j.kernels.Kernels;
import dev.attn4j.kernels.Quants;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Random corruptions of valid GGUF files (gguf-py's and attn4j's): opening one and using every
 * tensor (F32/F16/BF16 widened, quantized ones dequantized and multiplied) either works or throws
 * GgufException naming the file, never anything else and never a hang.
 */
class GgufFuzzTest {
    @TempDir
    Path dir;

    @Test
    void corruptedFilesFailCleanly() throws Exception {
        long seed = Long.getLong("attn4j.fuzz.seed", System.nanoTime());   // -Dattn4j.fuzz.seed=N replays a reported run
        SplittableRandom rng = new SplittableRandom(seed);
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(GgufFileTest.resource("gguf-py.gguf"));
        float[] w = new float[3 * 256];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        GgufWriter wr = new GgufWriter().putString("general.architecture", "llama")
                .put("t.tokens", GgufValue.ofStrings(List.of("a", "b", "<s>")))
                .put("t.nested", GgufValue.ofArray(GgufValueType.ARRAY, List.of(GgufValue.ofStrings(List.of("x")))));
        wr.addF32("w", w, 3, 256);
        for (QuantType t : QuantType.values()) wr.addQuantized("q." + t, Quants.quantize(t, w, 0, 3, 256));
        Path mine = dir.resolve("mine.gguf");
        wr.write(mine);
        seeds.add(Files.readAllBytes(mine));

        Path p = dir.resolve("fuzz.gguf");
        int iterations = 3000, opened = 0, rejected = 0;
        for (int it = 0; it < iterations; it++) {
            StringBuilder how = new StringBuilder();
            byte[] bad = mutate(rng, seeds.get(rng.nextInt(seeds.size())), how);
            Files.write(p, bad);
            try (GgufFile f = GgufFile.open(p)) {
                for (GgufTensorInfo t : f.tensors().values()) {
                    switch (t.type()) {
                        case F32, F16, BF16 -> assertThat((long) f.array(t.name()).toFloatArray().length).isEqualTo(t.numel());
                        default -> {
                            if (t.type().quantType() != null) {
                                QuantizedMatrix q = f.quantized(t.name());
                                Quants.dequantize(q);
                                Kernels.get().matVecQ(q, new float[q.cols()], 0, new float[q.rows()], 0);
                            } else {
                                f.bytes(t.name());
                            }
                        }
                    }
                }
                f.metadata().values().forEach(Object::toString);
                opened++;
            } catch (GgufException e) {
                rejected++;
                assertThat(e.getMessage()).as("seed %d iteration %d (%s)", seed, it, how).startsWith(p.toString());
            } catch (Throwable t) {
                fail("seed " + seed + " iteration " + it + " (" + how + "): expected success or GgufException, got " + t, t);
            }
        }
        System.out.printf("gguf fuzz seed %d: %d corrupted files opened fine, %d rejected%n", seed, opened, rejected);
        assertThat(rejected).as("seed %d", seed).isGreaterThan(iterations / 4);
    }

    private static byte[] mutate(SplittableRandom rng, byte[] base, StringBuilder how) {
        byte[] b = base.clone();
        int rounds = 1 + rng.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            switch (rng.nextInt(6)) {
                case 0 -> {
                    int n = rng.nextInt(b.length + 1);
                    how.append("truncate to ").append(n).append("; ");
                    b = Arrays.copyOf(b, n);
                }
                case 1, 2 -> {
                    for (int k = 1 + rng.nextInt(4); k > 0 && b.length > 0; k--) {
                        int i = rng.nextInt(Math.min(b.length, 1200));            // mostly the header
                        b[i] ^= (byte) (1 + rng.nextInt(255));
                        how.append("flip byte ").append(i).append("; ");
                    }
                }
                case 3 -> {                                                        // a plausible-looking large u64 / u32
                    if (b.length >= 32) {
                        int i = 8 + rng.nextInt(Math.min(b.length, 1200) - 16);
                        long v = switch (rng.nextInt(4)) {
                            case 0 -> -1L;
                            case 1 -> 1L << rng.nextInt(63);
                            case 2 -> rng.nextInt(64);
                            default -> b.length + rng.nextInt(-64, 64);
                        };
                        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(i, v);
                        how.append("u64 at ").append(i).append(" = ").append(v).append("; ");
                    }
                }
                default -> {
                    for (int k = 1 + rng.nextInt(8); k > 0 && b.length > 0; k--) {
                        int i = rng.nextInt(b.length);
                        b[i] ^= (byte) (1 + rng.nextInt(255));
                        how.append("flip byte ").append(i).append("; ");
                    }
                }
            }
        }
        return b;
    }
}
