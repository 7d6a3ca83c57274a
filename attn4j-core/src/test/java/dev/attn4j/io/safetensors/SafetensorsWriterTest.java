package dev.attn4j.io.safetensors;

import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Writer round trips (F32 bit-exact, F16/BF16 against independent rounding references) and atomicity. */
class SafetensorsWriterTest {
    @TempDir
    Path dir;

    /** Random arrays of many layouts: contiguous, transposed, narrowed, selected, broadcast, rank 0, empty, mapped, F64. */
    static Map<String, NDArray> randomTensors(SplittableRandom rng) {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("scalar", NDArray.of(new float[] {randomFloat(rng)}));
        m.put("empty", NDArray.zeros(0, 3));
        m.put("empty.middle", NDArray.zeros(3, 0, 5));
        int r = 1 + rng.nextInt(9), c = 1 + rng.nextInt(17);
        m.put("dense", fill(rng, NDArray.zeros(r, c)));
        m.put("transposed", fill(rng, NDArray.zeros(5, 9)).transpose(0, 1));
        m.put("narrowed", fill(rng, NDArray.zeros(7, 13)).narrow(1, 3, 7).narrow(0, 1, 5));
        m.put("selected", fill(rng, NDArray.zeros(4, 6, 3)).select(1, 2));
        m.put("permuted", fill(rng, NDArray.zeros(3, 4, 5)).permute(2, 0, 1));
        m.put("broadcast", fill(rng, NDArray.zeros(1, 7)).expand(3, 7));
        m.put("specials", NDArray.of(new float[] {Float.NaN, Float.intBitsToFloat(0x7FC01234), Float.intBitsToFloat(0xFF800001),
                -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_NORMAL,
                Float.MAX_VALUE, -Float.MAX_VALUE, 65504f, 65520f, 65519.996f, 3.3895314e38f, 1e-8f, 5.9604645e-8f}, 17));
        MemorySegment seg = Arena.ofAuto().allocate(4L * 11);
        NDArray mapped = NDArray.of(seg, 11);
        fill(rng, mapped);
        m.put("segment", mapped);
        m.put("double", fill(rng, NDArray.zeros(DType.F64, Shape.of(2, 3))).transpose(0, 1));
        m.put("name with \"quotes\", ünïcödé and \\ slash", fill(rng, NDArray.zeros(2)));
        return m;
    }

    static NDArray fill(SplittableRandom rng, NDArray a) {
        NDArray.ElementCursor cur = new NDArray.ElementCursor(a);
        for (int i = 0; i < a.numel(); i++) {
            int idx = cur.next();
            if (a.dtype() == DType.F64) a.storage().setDouble(idx, randomFloat(rng) * (1 + 1e-9 * rng.nextDouble()));
            else a.storage().setFloat(idx, randomFloat(rng));
        }
        return a;
    }

    /** Floats across the whole range, plus exact F16 and BF16 rounding ties. */
    static float randomFloat(SplittableRandom rng) {
        return switch (rng.nextInt(6)) {
            case 0 -> (float) NDArray.gaussian(rng);
            case 1 -> Float.intBitsToFloat(rng.nextInt());                                    // any bits
            case 2 -> Float.intBitsToFloat((rng.nextInt() & 0xFFFF0000) | 0x8000);            // BF16 tie
            case 3 -> {                                                                       // F16 tie
                int h = rng.nextInt(0x7BFF);
                float v = (float) ((FloatRef.half(h) + FloatRef.half(h + 1)) / 2);
                yield rng.nextBoolean() ? v : -v;
            }
            case 4 -> (float) (NDArray.gaussian(rng) * Math.pow(2, rng.nextInt(-30, 20)));  // F16 subnormal..overflow
            default -> Math.scalb((float) NDArray.gaussian(rng), rng.nextInt(-140, 128));
        };
    }

    @Test
    void f32RoundTripIsBitExact() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, NDArray> tensors = randomTensors(rng);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("note", "seed " + seed + " \"quoted\" ✓");
        Path p = dir.resolve("rt.safetensors");
        SafetensorsWriter.write(p, tensors, meta, SafetensorsDType.F32);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.names()).as("seed %d", seed).containsExactlyElementsOf(tensors.keySet());
            assertThat(f.metadata()).isEqualTo(meta);
            assertThat(f.dataStart() % 8).as("header padded to 8").isZero();
            assertThat(new String(Files.readAllBytes(p), 8, (int) f.dataStart() - 8, java.nio.charset.StandardCharsets.UTF_8))
                    .startsWith("{\"__metadata__\":");
            for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                NDArray src = e.getValue();
                NDArray back = f.get(e.getKey());
                assertThat(back.shape()).as("seed %d tensor %s", seed, e.getKey()).isEqualTo(src.shape());
                assertThat(f.info(e.getKey()).dtype()).isEqualTo(SafetensorsDType.F32);
                float[] want = src.toFloatArray();
                float[] got = back.toFloatArray();
                for (int i = 0; i < want.length; i++) {
                    assertThat(Float.floatToRawIntBits(got[i])).as("seed %d tensor %s element %d", seed, e.getKey(), i)
                            .isEqualTo(Float.floatToRawIntBits(want[i]));
                }
            }
        }
    }

    @Test
    void f16AndBf16MatchIndependentRounding() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        Map<String, NDArray> tensors = randomTensors(rng);
        float[] many = new float[20_001];
        for (int i = 0; i < many.length; i++) many[i] = randomFloat(rng);
        tensors.put("many", NDArray.of(many, many.length));
        for (SafetensorsDType t : List.of(SafetensorsDType.F16, SafetensorsDType.BF16)) {
            Path p = dir.resolve("h-" + t + ".safetensors");
            SafetensorsWriter.write(p, tensors, null, t);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                assertThat(f.metadata()).isEmpty();
                for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
                    String name = e.getKey();
                    assertThat(f.info(name).dtype()).isEqualTo(t);
                    assertThat(f.info(name).byteSize()).isEqualTo(2L * e.getValue().numel());
                    float[] src = e.getValue().toFloatArray();
                    MemorySegment raw = f.bytes(name);
                    float[] back = f.get(name).toFloatArray();
                    for (int i = 0; i < src.length; i++) {
                        int stored = Short.toUnsignedInt(raw.getAtIndex(
                                ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i));
                        String what = String.format("seed %d %s tensor %s element %d value %s (bits %08x)", seed, t, name, i,
                                src[i], Float.floatToRawIntBits(src[i]));
                        if (Float.isNaN(src[i])) {
                            assertThat(back[i]).as(what).isNaN();
                            continue;
                        }
                        int expected = t == SafetensorsDType.F16 ? FloatRef.toHalf(src[i]) : FloatRef.toBf16(src[i]);
                        assertThat(Integer.toHexString(stored)).as(what).isEqualTo(Integer.toHexString(expected));
                        double decoded = t == SafetensorsDType.F16 ? SafetensorsFileTest.decodeHalf(stored)
                                : SafetensorsFileTest.decodeBf16(stored);
                        assertThat((double) back[i]).as(what).isEqualTo(decoded);
                    }
                }
            }
        }
    }

    @Test
    void f64TargetKeepsDoublesExactly() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        NDArray d = fill(rng, NDArray.zeros(DType.F64, Shape.of(3, 5))).transpose(0, 1);
        Path p = dir.resolve("d.safetensors");
        SafetensorsWriter.write(p, Map.of("d", d), Map.of(), SafetensorsDType.F64);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            MemorySegment raw = f.bytes("d");
            double[] want = d.toDoubleArray();
            for (int i = 0; i < want.length; i++) {
                // bits, so that NaN payloads compare too
                assertThat(Double.doubleToRawLongBits(raw.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i)))
                        .as("seed %d element %d", seed, i).isEqualTo(Double.doubleToRawLongBits(want[i]));
            }
            assertThat(f.get("d").toFloatArray()).as("seed %d", seed).containsExactly(d.toFloatArray());
        }
    }

    @Test
    void rejectsBadArguments() {
        Path p = dir.resolve("x.safetensors");
        NDArray a = NDArray.zeros(2);
        assertThatThrownBy(() -> SafetensorsWriter.write(p, Map.of("a", a), Map.of(), SafetensorsDType.I32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("I32");
        assertThatThrownBy(() -> SafetensorsWriter.write(p, Map.of("__metadata__", a)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        Map<String, NDArray> withNull = new LinkedHashMap<>();
        withNull.put("n", null);
        assertThatThrownBy(() -> SafetensorsWriter.write(p, withNull))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'n' is null");
        assertThat(p).doesNotExist();
        assertThat(dir).isEmptyDirectory();
    }

    @Test
    void failingMapIterationLeavesOldFileAndNoTempFile() throws Exception {
        Path p = dir.resolve("model.safetensors");
        SafetensorsWriter.write(p, Map.of("w", NDArray.arange(10)));
        byte[] before = Files.readAllBytes(p);
        Map<String, NDArray> exploding = new AbstractMap<>() {
            @Override
            public Set<Entry<String, NDArray>> entrySet() {
                return new AbstractSet<>() {
                    @Override
                    public Iterator<Entry<String, NDArray>> iterator() {
                        return new Iterator<>() {
                            int i;

                            @Override
                            public boolean hasNext() {
                                return true;
                            }

                            @Override
                            public Entry<String, NDArray> next() {
                                if (i == 2) throw new IllegalStateException("iteration failed midway");
                                return Map.entry("t" + i++, NDArray.ones(3));
                            }
                        };
                    }

                    @Override
                    public int size() {
                        return 5;
                    }
                };
            }
        };
        assertThatThrownBy(() -> SafetensorsWriter.write(p, exploding)).hasMessageContaining("iteration failed midway");
        assertThat(Files.readAllBytes(p)).isEqualTo(before);
        assertThat(listDir()).containsExactly("model.safetensors");
    }

    @Test
    void failingDataWriteLeavesOldFileAndNoTempFile() throws Exception {
        Path p = dir.resolve("model.safetensors");
        SafetensorsWriter.write(p, Map.of("w", NDArray.arange(10)));
        byte[] before = Files.readAllBytes(p);
        // A large first tensor (several 1 MiB chunks reach the temp file), then one whose memory is gone.
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        tensors.put("big", NDArray.ones(1_000_000));
        Arena arena = Arena.ofConfined();
        NDArray dead = NDArray.of(arena.allocate(4L * 8), 8);
        arena.close();
        tensors.put("dead", dead);
        assertThatThrownBy(() -> SafetensorsWriter.write(p, tensors)).isInstanceOf(IllegalStateException.class);
        assertThat(Files.readAllBytes(p)).isEqualTo(before);
        assertThat(listDir()).containsExactly("model.safetensors");

        Path fresh = dir.resolve("fresh.safetensors");
        assertThatThrownBy(() -> SafetensorsWriter.write(fresh, tensors)).isInstanceOf(IllegalStateException.class);
        assertThat(fresh).doesNotExist();
        assertThat(listDir()).containsExactly("model.safetensors");
    }

    @Test
    void overwriteKeepsExistingMappingValid() throws Exception {
        Path p = dir.resolve("m.safetensors");
        SafetensorsWriter.write(p, Map.of("w", NDArray.of(new float[] {1, 2, 3}, 3)));
        try (SafetensorsFile old = SafetensorsFile.open(p)) {
            NDArray oldView = old.get("w");
            SafetensorsWriter.write(p, Map.of("w", NDArray.of(new float[] {7, 8}, 2), "v", NDArray.ones(1)));
            assertThat(oldView.toFloatArray()).containsExactly(1, 2, 3);
            try (SafetensorsFile now = SafetensorsFile.open(p)) {
                assertThat(now.get("w").toFloatArray()).containsExactly(7, 8);
                assertThat(now.names()).containsExactlyInAnyOrder("w", "v");
            }
        }
        assertThat(listDir()).containsExactly("m.safetensors");
    }

    @Test
    void noTensorsGivesPaddedEmptyObject() throws Exception {
        Path p = dir.resolve("e.safetensors");
        SafetensorsWriter.write(p, Map.of());
        byte[] b = Files.readAllBytes(p);
        assertThat(ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(8);
        assertThat(new String(b, 8, 8, java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("{}      ");
        assertThat(b).hasSize(16);
    }

    private List<String> listDir() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(x -> x.getFileName().toString()).sorted().toList();
        }
    }

    /** Independent float16/bfloat16 rounding references (nearest, ties to even) for the tests. */
    static final class FloatRef {
        private static final double[] HALF = new double[0x7C01];   // finite non-negative halves, then 2^16 (rounds to inf)

        static {
            for (int h = 0; h < HALF.length; h++) HALF[h] = half(h);
        }

        static double half(int h) {
            int e = (h >> 10) & 31, m = h & 1023;
            return e == 0 ? m * Math.pow(2, -24) : (1024 + m) * Math.pow(2, e - 25);
        }

        static int toHalf(float x) {
            int sign = (Float.floatToRawIntBits(x) >>> 16) & 0x8000;
            double a = Math.abs((double) x);
            if (a >= 65520) return sign | 0x7C00;                      // beyond max + half ulp: infinity
            int i = Arrays.binarySearch(HALF, a);
            if (i >= 0) return sign | i;
            int lo = -i - 2, hi = lo + 1;                              // HALF[lo] < a < HALF[hi]
            double dl = a - HALF[lo], dh = HALF[hi] - a;
            int pick = dl < dh ? lo : dh < dl ? hi : ((lo & 1) == 0 ? lo : hi);
            return sign | pick;
        }

        static int toBf16(float x) {
            int bits = Float.floatToRawIntBits(x);
            int sign = (bits >>> 16) & 0x8000;
            int mag = bits & 0x7FFFFFFF;
            if (mag == 0x7F800000) return sign | 0x7F80;
            double a = Math.abs((double) x);
            int lo = mag >>> 16, hi = lo + 1;
            double vlo = Float.intBitsToFloat(lo << 16);
            double vhi = hi == 0x7F80 ? Math.pow(2, 128) : Float.intBitsToFloat(hi << 16);
            double dl = a - vlo, dh = vhi - a;
            int pick = dl < dh ? lo : dh < dl ? hi : ((lo & 1) == 0 ? lo : hi);
            return sign | pick;
        }
    }
}
