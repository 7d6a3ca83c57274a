package dev.attn4j.io.gguf;

import dev.attn4j.kernels.Quants;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.QuantType;
import dev.attn4j.tensor.QuantizedMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GGUF reading and writing: a file gguf-py (llama.cpp's Python package) wrote is read with every
 * metadata type and tensor type it holds, rewritten by attn4j byte for byte the same; attn4j's
 * own files read back identically; each kind of bad input is one GgufException naming it.
 */
class GgufFileTest {
    @TempDir
    Path dir;

    static byte[] resource(String name) throws IOException {
        try (InputStream in = GgufFileTest.class.getResourceAsStream("/quant/" + name)) {
            assertThat(in).as("resource %s", name).isNotNull();
            return in.readAllBytes();
        }
    }

    private Path ggufPyFile() throws IOException {
        Path p = dir.resolve("gguf-py.gguf");
        Files.write(p, resource("gguf-py.gguf"));
        return p;
    }

    @Test
    void readsWhatGgufPyWrote() throws IOException {
        try (GgufFile f = GgufFile.open(ggufPyFile())) {
            assertThat(f.version()).isEqualTo(3);
            assertThat(f.alignment()).isEqualTo(32);
            Map<String, GgufValue> m = f.metadata();
            assertThat(m.get("general.architecture")).isEqualTo(GgufValue.ofString("llama"));
            assertThat(m.get("test.u8")).isEqualTo(GgufValue.of(GgufValueType.UINT8, 200));
            assertThat(m.get("test.i8")).isEqualTo(GgufValue.of(GgufValueType.INT8, -100));
            assertThat(m.get("test.u16")).isEqualTo(GgufValue.of(GgufValueType.UINT16, 60000));
            assertThat(m.get("test.i16")).isEqualTo(GgufValue.of(GgufValueType.INT16, -30000));
            assertThat(m.get("test.u32")).isEqualTo(GgufValue.ofU32(4000000000L));
            assertThat(m.get("test.i32")).isEqualTo(GgufValue.ofI32(-2000000000));
            assertThat(m.get("test.f32")).isEqualTo(GgufValue.ofF32(1.5f));
            assertThat(m.get("test.u64").asLong()).isEqualTo(Long.MIN_VALUE + 5);         // 2^63 + 5 unsigned
            assertThat(m.get("test.u64").asDouble()).isEqualTo(9.223372036854775813E18);
            assertThat(m.get("test.i64")).isEqualTo(GgufValue.of(GgufValueType.INT64, -(1L << 62)));
            assertThat(m.get("test.f64")).isEqualTo(GgufValue.ofF64(-2.25));
            assertThat(m.get("test.bool")).isEqualTo(GgufValue.ofBool(true));
            assertThat(m.get("test.str").asString()).isEqualTo("héllo ✓");
            assertThat(m.get("test.arr.str")).isEqualTo(GgufValue.ofStrings(List.of("a", "bc", "")));
            assertThat(m.get("test.arr.i32").asList()).extracting(GgufValue::asLong).containsExactly(1L, -2L, 3L);
            assertThat(m.get("test.arr.i32").elementType()).isEqualTo(GgufValueType.INT32);
            assertThat(m.get("test.arr.f32").asList()).extracting(GgufValue::asDouble).containsExactly(0.5, -1.0);
            assertThat(m.get("test.arr.u8").asList()).extracting(GgufValue::asLong).containsExactly(1L, 2L, 255L);

            NDArray f32 = f.array("f32"), f16 = f.array("f16"), bf16 = f.array("bf16");
            assertThat(f32.shape().toArray()).containsExactly(3, 5);
            assertThat(f.info("f32").ne()).containsExactly(5, 3);
            assertThat(f16.dtype()).isEqualTo(DType.F16);
            assertThat(bf16.dtype()).isEqualTo(DType.BF16);
            float[] a = f32.toFloatArray(), h = f16.toFloatArray(), b = bf16.toFloatArray();
            for (int i = 0; i < 15; i++) {
                assertThat(h[i]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(a[i])));
                assertThat(b[i]).isEqualTo(DType.BF16.widen(DType.BF16.roundBits(a[i])));
            }
            float[] input = floats(resource("input.f32"));
            for (QuantType t : QuantType.values()) {
                if (t.isK()) continue;                                    // gguf-py.gguf holds the 32-value formats
                QuantizedMatrix q = f.quantized(t.name().toLowerCase());
                assertThat(q.type()).isEqualTo(t);
                assertThat(q.rows()).isEqualTo(12);
                assertThat(q.cols()).isEqualTo(96);
                assertThat(q.data().toArray(ValueLayout.JAVA_BYTE)).isEqualTo(resource(t + ".bin"));
                assertThat(q.data().toArray(ValueLayout.JAVA_BYTE))
                        .isEqualTo(Quants.quantize(t, input, 0, 12, 96).data().toArray(ValueLayout.JAVA_BYTE));
            }
            assertThatThrownBy(() -> f.array("q8_0")).isInstanceOf(GgufException.class).hasMessageContaining("is Q8_0");
            assertThatThrownBy(() -> f.quantized("f32")).isInstanceOf(GgufException.class);
            assertThatThrownBy(() -> f.info("nope")).isInstanceOf(GgufException.class).hasMessageContaining("'nope'");
        }
    }

    /** Everything read from gguf-py's file, written again by GgufWriter: the same bytes. */
    @Test
    void rewritingGgufPysFileGivesTheSameBytes() throws IOException {
        Path src = ggufPyFile(), out = dir.resolve("again.gguf");
        try (GgufFile f = GgufFile.open(src)) {
            copy(f).write(out);
        }
        assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(src));
    }

    static GgufWriter copy(GgufFile f) throws GgufException {
        GgufWriter w = new GgufWriter();
        f.metadata().forEach(w::put);
        for (GgufTensorInfo t : f.tensors().values()) w.addTensor(t.name(), t.type(), t.shape(), f.bytes(t.name()));
        return w;
    }

    @Test
    void roundTripIsBitIdentical() throws IOException {
        SplittableRandom rng = new SplittableRandom(3);
        float[] w = new float[5 * 256];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        short[] half = new short[7];
        for (int i = 0; i < half.length; i++) half[i] = (short) rng.nextInt(1 << 16);
        GgufWriter wr = new GgufWriter()
                .putString("general.architecture", "llama")
                .put("general.alignment", GgufValue.ofU32(64))
                .put("a.u8", GgufValue.of(GgufValueType.UINT8, 255))
                .put("a.i16", GgufValue.of(GgufValueType.INT16, -1))
                .put("a.u64", GgufValue.ofU64(-1L))
                .put("a.f32.nan", GgufValue.ofF32(Float.intBitsToFloat(0x7fc00123)))
                .put("a.bool", GgufValue.ofBool(false))
                .put("a.empty", GgufValue.ofArray(GgufValueType.INT64, List.of()))
                .put("a.nested", GgufValue.ofArray(GgufValueType.ARRAY, List.of(GgufValue.ofStrings(List.of("x", "")),
                        GgufValue.ofStrings(List.of()))));
        wr.addF32("w.f32", w, 5, 256);
        wr.addTensor("w.f16", GgmlType.F16, new long[] {7}, MemorySegment.ofArray(half));
        wr.addTensor("scalar", GgmlType.F32, new long[] {}, MemorySegment.ofArray(new float[] {3f}));
        wr.addTensor("empty", GgmlType.F32, new long[] {0, 4}, MemorySegment.ofArray(new byte[0]));
        for (QuantType t : QuantType.values()) wr.addQuantized("w." + t, Quants.quantize(t, w, 0, 5, 256));
        Path p = dir.resolve("mine.gguf");
        wr.write(p);
        try (GgufFile f = GgufFile.open(p)) {
            assertThat(f.alignment()).isEqualTo(64);
            assertThat(f.dataOffset() % 64).isZero();
            assertThat(f.get("a.u64").asLong()).isEqualTo(-1L);
            assertThat(Float.floatToRawIntBits((Float) f.get("a.f32.nan").value())).isEqualTo(0x7fc00123);
            assertThat(f.get("a.nested").asList().get(0).asList()).extracting(GgufValue::asString).containsExactly("x", "");
            assertThat(f.tensors().keySet()).containsExactly("w.f32", "w.f16", "scalar", "empty", "w.Q8_0", "w.Q4_0", "w.Q4_1", "w.Q4_K",
                    "w.Q5_K", "w.Q6_K");
            for (GgufTensorInfo t : f.tensors().values()) assertThat(t.offset() % 64).isZero();
            assertThat(f.array("w.f32").toFloatArray()).containsExactly(w);
            assertThat(f.bytes("w.f16").toArray(ValueLayout.JAVA_SHORT)).containsExactly(half);
            assertThat(f.array("scalar").toFloatArray()).containsExactly(3f);
            assertThat(f.array("empty").shape().toArray()).containsExactly(0, 4);
            for (QuantType t : QuantType.values()) {
                assertThat(f.quantized("w." + t).data().toArray(ValueLayout.JAVA_BYTE))
                        .isEqualTo(Quants.quantize(t, w, 0, 5, 256).data().toArray(ValueLayout.JAVA_BYTE));
            }
            Path again = dir.resolve("again.gguf");
            copy(f).write(again);
            assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(p));
            assertThat(Files.size(p) % 64).isZero();
        }
        try (var s = Files.list(dir)) {
            assertThat(s.map(x -> x.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }

    @Test
    void writerRejectsBadTensors() {
        GgufWriter w = new GgufWriter();
        assertThatThrownBy(() -> w.addTensor("t", GgmlType.Q8_0, new long[] {2, 40}, MemorySegment.ofArray(new byte[0])))
                .hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> w.addTensor("t", GgmlType.F32, new long[] {2, 3}, MemorySegment.ofArray(new byte[20])))
                .hasMessageContaining("needs 24 bytes");
        assertThatThrownBy(() -> GgufValue.of(GgufValueType.UINT8, 256)).hasMessageContaining("does not fit UINT8");
    }

    // ---- bad input: one clear error each ----

    /** A GGUF built by hand: header fields and raw kv / tensor-info bytes. */
    static final class Raw {
        final ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);

        Raw header(int magic, int version, long nTensors, long nKv) {
            b.putInt(magic).putInt(version).putLong(nTensors).putLong(nKv);
            return this;
        }

        Raw str(String s) {
            byte[] x = s.getBytes(StandardCharsets.UTF_8);
            b.putLong(x.length).put(x);
            return this;
        }

        Raw tensor(String name, int type, long offset, long... ne) {
            str(name);
            b.putInt(ne.length);
            for (long d : ne) b.putLong(d);
            b.putInt(type).putLong(offset);
            return this;
        }

        Raw putU32(int v) {
            b.putInt(v);
            return this;
        }

        Raw lng(long v) {
            b.putLong(v);
            return this;
        }

        Raw u8(int v) {
            b.put((byte) v);
            return this;
        }

        Raw raw(byte... x) {
            b.put(x);
            return this;
        }

        Raw padTo(int a) {
            while (b.position() % a != 0) b.put((byte) 0);
            return this;
        }

        Raw zeros(int n) {
            b.put(new byte[n]);
            return this;
        }

        byte[] bytes() {
            return java.util.Arrays.copyOf(b.array(), b.position());
        }
    }

    private String errorOf(byte[] content) throws IOException {
        Path p = dir.resolve("bad.gguf");
        Files.write(p, content);
        try (GgufFile f = GgufFile.open(p)) {
            throw new AssertionError("opened: " + f.tensors());
        } catch (GgufException e) {
            assertThat(e.getMessage()).startsWith(p.toString() + ": ");
            return e.getMessage();
        }
    }

    @Test
    void eachBadInputIsOneClearError() throws IOException {
        int M = GgufFile.MAGIC;
        byte[] good = new Raw().header(M, 3, 1, 1).str("k").putU32(7).u8(1).tensor("t", 0, 0, 4, 2).padTo(32).zeros(32).bytes();
        try (GgufFile f = GgufFile.open(write(good))) {
            assertThat(f.array("t").shape().toArray()).containsExactly(2, 4);
        }
        assertThat(errorOf(new byte[] {'G', 'G'})).contains("truncated");
        assertThat(errorOf(java.util.Arrays.copyOf(good, 30))).contains("truncated");
        assertThat(errorOf(java.util.Arrays.copyOf(good, good.length - 1))).contains("tensor 't'").contains("runs past the end");
        assertThat(errorOf(new Raw().header(0x46554746, 3, 0, 0).bytes())).contains("bad magic");
        assertThat(errorOf(new Raw().header(M, 1, 0, 0).bytes())).contains("version 1 is not supported");
        assertThat(errorOf(new Raw().header(M, 7, 0, 0).bytes())).contains("unknown GGUF version 7");
        assertThat(errorOf(new Raw().header(M, 3 << 24, 0, 0).bytes())).contains("big-endian");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).str("k").putU32(13).bytes())).contains("'k'").contains("unknown value type 13");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).lng(1L << 40).zeros(20).bytes()))
                .contains("metadata key #0").contains("runs past the end");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).str("s").putU32(8).lng(100).zeros(10).bytes()))
                .contains("value of 's'").contains("string of 100 bytes runs past the end");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).str("a").putU32(9).putU32(6).lng(1L << 50).bytes()))
                .contains("'a'").contains("cannot fit");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).str("a").putU32(9).putU32(99).lng(1).bytes())).contains("unknown array element type 99");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).str("b").putU32(7).u8(2).bytes())).contains("bool byte 2");
        assertThat(errorOf(new Raw().header(M, 3, 1L << 40, 0).bytes())).contains("tensor_count");
        assertThat(errorOf(new Raw().header(M, 3, 1, 0).tensor("t", 77, 0, 4).padTo(32).zeros(16).bytes()))
                .contains("tensor 't'").contains("unknown ggml type 77");
        assertThat(errorOf(new Raw().header(M, 3, 1, 0).tensor("t", 0, 0, 1, 1, 1, 1, 1).padTo(32).bytes())).contains("5 dims");
        assertThat(errorOf(new Raw().header(M, 3, 1, 0).tensor("t", 0, 0, 1L << 40, 1L << 40).padTo(32).bytes()))
                .contains("overflow");
        assertThat(errorOf(new Raw().header(M, 3, 1, 0).tensor("t", 0, 0, -1).padTo(32).bytes())).contains("negative");
        assertThat(errorOf(new Raw().header(M, 3, 1, 0).tensor("t", 0, 64, 4).padTo(32).zeros(32).bytes()))
                .contains("tensor 't'").contains("runs past the end");
        assertThat(errorOf(new Raw().header(M, 3, 1, 0).tensor("t", 0, 4, 4).padTo(32).zeros(64).bytes())).contains("not a multiple of the alignment");
        assertThat(errorOf(new Raw().header(M, 3, 1, 0).tensor("t", 8, 0, 40).padTo(32).zeros(64).bytes())).contains("multiple of 32");
        assertThat(errorOf(new Raw().header(M, 3, 2, 0).tensor("t", 0, 0, 8).tensor("u", 0, 0, 8).padTo(32).zeros(64).bytes()))
                .contains("overlap");
        assertThat(errorOf(new Raw().header(M, 3, 2, 0).tensor("t", 0, 0, 8).tensor("t", 0, 32, 8).padTo(32).zeros(64).bytes()))
                .contains("duplicate tensor 't'");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).str("general.alignment").putU32(4).putU32(24).bytes())).contains("power of two");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).str("general.alignment").putU32(10).lng(32).bytes())).contains("must be UINT32");
        assertThat(errorOf(new Raw().header(M, 3, 0, 1).lng(2).raw((byte) 0xC3, (byte) 0x28).putU32(0).u8(0).bytes())).contains("UTF-8");
    }

    private Path write(byte[] b) throws IOException {
        Path p = dir.resolve("ok.gguf");
        Files.write(p, b);
        return p;
    }

    static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
