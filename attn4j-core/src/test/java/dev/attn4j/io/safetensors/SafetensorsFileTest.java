package dev.attn4j.io.safetensors;

import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Storage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static dev.attn4j.io.safetensors.StBytes.file;
import static dev.attn4j.io.safetensors.StBytes.le;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading: the real MiniLM checkpoint, dtype conversions, integer access, close semantics. */
class SafetensorsFileTest {
    /** ../shared/models (from the repository root; tests run in attn4j-core). */
    static final Path MINILM = Path.of("").toAbsolutePath().getParent()
            .resolve("../shared/models/all-MiniLM-L6-v2/model.safetensors").normalize();

    @TempDir
    Path dir;

    @Test
    void opensRealMiniLmFile() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(MINILM), "MiniLM checkpoint not present at " + MINILM);
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        long t0 = System.nanoTime();
        try (SafetensorsFile f = SafetensorsFile.open(MINILM);
             RandomAccessFile raw = new RandomAccessFile(MINILM.toFile(), "r")) {
            long openNanos = System.nanoTime() - t0;
            long t1 = System.nanoTime();
            SafetensorsFile.open(MINILM).close();
            System.out.printf("opened %s: %d tensors in %.2f ms, again in %.2f ms%n",
                    MINILM.getFileName(), f.size(), openNanos / 1e6, (System.nanoTime() - t1) / 1e6);
            assertThat(f.names()).hasSize(103);
            assertThat(f.names().getFirst()).isEqualTo("embeddings.LayerNorm.bias");
            assertThat(f.metadata()).containsEntry("format", "pt");
            TensorInfo we = f.info("embeddings.word_embeddings.weight");
            assertThat(we.dtype()).isEqualTo(SafetensorsDType.F32);
            assertThat(we.shape()).containsExactly(30522, 384);
            assertThat(f.info("encoder.layer.5.intermediate.dense.weight").shape()).containsExactly(1536, 384);

            NDArray w = f.get("embeddings.word_embeddings.weight");
            assertThat(w.storage()).isInstanceOf(Storage.Segment.class);   // zero-copy
            assertThat(w.shape().toArray()).containsExactly(30522, 384);
            // Compare random elements with plain positioned reads of the file.
            for (int k = 0; k < 200; k++) {
                int r = rng.nextInt(30522), c = rng.nextInt(384);
                raw.seek(f.dataStart() + we.begin() + 4L * (r * 384L + c));
                byte[] b = new byte[4];
                raw.readFully(b);
                float expected = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getFloat();
                assertThat(w.getFloat(r, c)).as("seed %d element [%d, %d]", seed, r, c).isEqualTo(expected);
            }
            NDArray copy = f.getCopy("embeddings.word_embeddings.weight");
            assertThat(copy.isDenseHeapF32()).isTrue();
            assertThat(copy.shape()).isEqualTo(w.shape());
            assertThat(copy.toFloatArray()).isEqualTo(w.toFloatArray());
            double sumAbs = 0;
            for (String n : f.names()) {
                NDArray a = f.get(n);
                assertThat((long) a.numel()).isEqualTo(f.info(n).numel());
                int nonFinite = 0;
                for (float v : a.toFloatArray()) {
                    if (!Float.isFinite(v)) nonFinite++;
                    sumAbs += Math.abs(v);
                }
                assertThat(nonFinite).as("non-finite values in %s", n).isZero();
            }
            assertThat(sumAbs).isGreaterThan(0);
        }
    }

    @Test
    void closeMakesViewsAndMethodsThrowNotCrash() throws Exception {
        Path p = StBytes.write(dir, "c.safetensors", file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", StBytes.floats(1, 2)));
        SafetensorsFile f = SafetensorsFile.open(p);
        NDArray view = f.get("a");
        NDArray copy = f.getCopy("a");
        assertThat(view.getFloat(1)).isEqualTo(2f);
        f.close();
        assertThat(copy.toFloatArray()).containsExactly(1f, 2f);
        f.close();   // idempotent
        assertThat(f.isClosed()).isTrue();
        assertThatThrownBy(() -> view.getFloat(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> f.get("a")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    /**
     * Heap copies are read with positional reads of the file (not through the mapping): tensors of
     * several read chunks come back exact, in F32 and in 16 bits, still from the file that was
     * opened after another one replaced it by rename, and a closed file refuses.
     */
    @Test
    void copiesReadTheOpenedFileInChunks() throws Exception {
        int n = 700_001;                                   // 2.8 MB of F32: three 1 MiB reads
        SplittableRandom rng = new SplittableRandom(7);
        float[] big = new float[n];
        for (int i = 0; i < n; i++) big[i] = (float) rng.nextGaussian();
        Path p = dir.resolve("big.safetensors"), p16 = dir.resolve("big16.safetensors");
        SafetensorsWriter.write(p, java.util.Map.of("f", NDArray.of(big, n)));
        SafetensorsWriter.write(p16, java.util.Map.of("h", NDArray.of(big, n)), java.util.Map.of(), SafetensorsDType.BF16);
        SafetensorsFile f = SafetensorsFile.open(p);
        Path other = dir.resolve("other.safetensors");
        SafetensorsWriter.write(other, java.util.Map.of("f", NDArray.zeros(n)));
        Files.move(other, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertThat(java.util.Arrays.equals(f.getCopy("f").toFloatArray(), big)).as("F32 copy equals what was written").isTrue();
        try (SafetensorsFile f16 = SafetensorsFile.open(p16)) {
            NDArray copy = f16.get16Copy("h"), view = f16.get16("h");
            assertThat(copy.dtype()).isEqualTo(dev.attn4j.tensor.DType.BF16);
            short[] copied = ((Storage.Halfs) copy.storage()).segment().toArray(java.lang.foreign.ValueLayout.JAVA_SHORT);
            short[] mapped = ((Storage.Halfs) view.storage()).segment().toArray(
                    java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            assertThat(copied).hasSize(n);
            assertThat(java.util.Arrays.equals(copied, mapped)).as("BF16 copy equals the mapped bytes").isTrue();
            assertThat(copied[n - 1]).isEqualTo((short) (Float.floatToRawIntBits(big[n - 1]) + 0x8000 >>> 16));
        }
        f.close();
        assertThatThrownBy(() -> f.getCopy("f")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    /**
     * A thread interrupted while reading closes a FileChannel for every user of it: copies then come
     * from the mapping, the same values, and the interrupt status is left for the caller.
     */
    @Test
    void copiesSurviveAnInterruptedReader() throws Exception {
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) v[i] = i * 0.5f - 7f;
        Path p = dir.resolve("int.safetensors");
        SafetensorsWriter.write(p, java.util.Map.of("v", NDArray.of(v, v.length)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Thread.currentThread().interrupt();
            float[] first;
            try {
                first = f.getCopy("v").toFloatArray();
            } finally {
                assertThat(Thread.interrupted()).as("interrupt status kept (and cleared here)").isTrue();
            }
            assertThat(first).containsExactly(v);
            assertThat(f.getCopy("v").toFloatArray()).containsExactly(v);            // the channel is closed now
            assertThat(f.isClosed()).isFalse();
        }
    }

    @Test
    void f32ViewIsReadOnly() throws Exception {
        Path p = StBytes.write(dir, "ro.safetensors", file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", StBytes.floats(3)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            NDArray a = f.get("a");
            assertThat(a.rank()).isZero();
            assertThat(a.item()).isEqualTo(3.0);
            assertThatThrownBy(() -> a.set(1.0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("read-only");
            NDArray copy = a.copy();
            copy.set(1.0);
            assertThat(copy.item()).isEqualTo(1.0);
        }
    }

    /** Every F16 bit pattern, decoded with an independent formula. */
    @Test
    void f16AndBf16ConvertExactly() throws Exception {
        int n = 65536;
        byte[] data = new byte[2 * n * 2];
        ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) b.putShort((short) i);
        for (int i = 0; i < n; i++) b.putShort((short) i);
        String h = "{\"h\":{\"dtype\":\"F16\",\"shape\":[256,256],\"data_offsets\":[0,131072]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[65536],\"data_offsets\":[131072,262144]}}";
        Path p = StBytes.write(dir, "half.safetensors", file(h, data));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            float[] hv = f.get("h").toFloatArray();
            float[] bv = f.get("b").toFloatArray();
            for (int i = 0; i < n; i++) {
                double expected = decodeHalf(i);
                if (Double.isNaN(expected)) assertThat(hv[i]).as("F16 bits %04x", i).isNaN();
                else assertThat((double) hv[i]).as("F16 bits %04x", i).isEqualTo(expected);
                double eb = decodeBf16(i);
                if (Double.isNaN(eb)) assertThat(bv[i]).as("BF16 bits %04x", i).isNaN();
                else assertThat((double) bv[i]).as("BF16 bits %04x", i).isEqualTo(eb);
            }
        }
    }

    /** IEEE half decoded from sign/exponent/mantissa (test reference, no Float.float16ToFloat). */
    static double decodeHalf(int bits) {
        int s = (bits >> 15) & 1, e = (bits >> 10) & 31, m = bits & 1023;
        double v;
        if (e == 31) v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (e == 0) v = m * Math.pow(2, -24);
        else v = (1024 + m) * Math.pow(2, e - 25);
        return s == 1 ? -v : v;
    }

    static double decodeBf16(int bits) {
        int s = (bits >> 15) & 1, e = (bits >> 7) & 255, m = bits & 127;
        double v;
        if (e == 255) v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (e == 0) v = m * Math.pow(2, -133);
        else v = (128 + m) * Math.pow(2, e - 134);
        return s == 1 ? -v : v;
    }

    @Test
    void integerAndOtherDtypes() throws Exception {
        long[] i64 = {Long.MIN_VALUE, -1, 0, 7, Long.MAX_VALUE};
        byte[] data = concat(
                le(8, i64),                                     // I64 [5]       0..40
                le(4, -5, 2147483647, -2147483648),             // I32 [3]       40..52
                le(4, 0xFFFFFFFFL, 1),                          // U32 [2]       52..60
                le(2, -2, 32767),                               // I16 [2]       60..64
                le(2, 0xFFFF, 3),                               // U16 [2]       64..68
                le(1, -128, 127, 5),                            // I8 [3]        68..71
                le(1, 255, 0, 9),                               // U8 [3]        71..74
                le(1, 0, 1, 2),                                 // BOOL [3]      74..77
                le(1, 0x38, 0x7E, 0x01, 0x7F, 0xB8),            // F8_E4M3 [5]   77..82
                le(1, 0x3C, 0x7C, 0xBC),                        // F8_E5M2 [3]   82..85
                le(1, 0x7F, 0x80, 0xFF),                        // F8_E8M0 [3]   85..88
                le(8, Double.doubleToRawLongBits(0.1), Double.doubleToRawLongBits(-1e300)), // F64 [2] 88..104
                le(8, -1L, 5L),                                 // U64 [2]       104..120
                le(8, 0x3F800000L));                            // C64 [1]       120..128
        String h = "{" + String.join(",",
                e("i64", "I64", "[5]", 0, 40), e("i32", "I32", "[3]", 40, 52), e("u32", "U32", "[2]", 52, 60),
                e("i16", "I16", "[1,2]", 60, 64), e("u16", "U16", "[2]", 64, 68), e("i8", "I8", "[3]", 68, 71),
                e("u8", "U8", "[3]", 71, 74), e("bool", "BOOL", "[3]", 74, 77), e("e4m3", "F8_E4M3", "[5]", 77, 82),
                e("e5m2", "F8_E5M2", "[3]", 82, 85), e("e8m0", "F8_E8M0", "[3]", 85, 88), e("f64", "F64", "[2]", 88, 104),
                e("u64", "U64", "[2]", 104, 120), e("c64", "C64", "[1]", 120, 128)) + "}";
        Path p = StBytes.write(dir, "ints.safetensors", file(h, data));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.getLongs("i64")).containsExactly(i64);
            assertThat(f.getInts("i32")).containsExactly(-5, Integer.MAX_VALUE, Integer.MIN_VALUE);
            assertThat(f.getLongs("u32")).containsExactly(0xFFFFFFFFL, 1);
            assertThat(f.getInts("i16")).containsExactly(-2, 32767);
            assertThat(f.getInts("u16")).containsExactly(65535, 3);
            assertThat(f.getInts("i8")).containsExactly(-128, 127, 5);
            assertThat(f.getInts("u8")).containsExactly(255, 0, 9);
            assertThat(f.getInts("bool")).containsExactly(0, 1, 1);
            assertThat(f.get("i32").toFloatArray()).containsExactly(-5f, 2147483647f, -2147483648f);
            assertThat(f.get("u8").toFloatArray()).containsExactly(255f, 0f, 9f);
            assertThat(f.get("i16").shape().toArray()).containsExactly(1, 2);
            assertThat(f.get("e4m3").toFloatArray()).containsExactly(1f, 448f, (float) Math.pow(2, -9), Float.NaN, -1f);
            assertThat(f.get("e5m2").toFloatArray()).containsExactly(1f, Float.POSITIVE_INFINITY, -1f);
            assertThat(f.get("e8m0").toFloatArray()).containsExactly(1f, 2f, Float.NaN);
            assertThat(f.get("f64").toFloatArray()).containsExactly(0.1f, Float.NEGATIVE_INFINITY);
            assertThat(f.get("u64").toFloatArray()).containsExactly(1.8446744e19f, 5f);
            assertThat(f.bytes("c64").byteSize()).isEqualTo(8);

            assertThatThrownBy(() -> f.getInts("i64")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContainingAll(p.toString(), "'i64'", "element 0", "does not fit in an int");
            assertThatThrownBy(() -> f.getInts("u32")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContainingAll("'u32'", "element 0 = 4294967295");
            assertThatThrownBy(() -> f.getLongs("u64")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContainingAll("'u64'", "18446744073709551615", "does not fit in a long");
            assertThatThrownBy(() -> f.getLongs("f64")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContainingAll("'f64'", "F64, not an integer type");
            assertThatThrownBy(() -> f.get("c64")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContainingAll("'c64'", "C64", "no conversion to F32");
        }
    }

    private static String e(String name, String dtype, String shape, long b, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + b + "," + end + "]}";
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }
}
