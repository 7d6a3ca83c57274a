package dev.attn4j.io.gguf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.kernels.Quants;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.QuantType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A GGUF file attn4j writes, read by gguf-py (llama.cpp's Python package) through
 * scripts/gguf-dump.py: the same metadata (types and values), tensor names, types, shapes, and
 * dequantized values bit for bit. Skipped unless /usr/bin/python3 can import gguf (with
 * {@code GGUF_PYTHONPATH} as its PYTHONPATH when set; scripts/gen-quant-refs.py says how to
 * install it). The other direction, a file gguf-py wrote, is GgufFileTest's committed file.
 */
class GgufPyInteropTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");
    private static final Path SCRIPT = Path.of("../scripts/gguf-dump.py");

    @TempDir
    Path dir;

    private static ProcessBuilder python(String... args) {
        List<String> cmd = new ArrayList<>(List.of(PYTHON.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        String pp = System.getenv("GGUF_PYTHONPATH");
        if (pp != null) pb.environment().put("PYTHONPATH", pp);
        return pb;
    }

    private static String run(ProcessBuilder pb) throws IOException, InterruptedException {
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("python timed out");
        }
        return p.exitValue() == 0 ? out : null;
    }

    @Test
    void ggufPyReadsWhatAttn4jWrites() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON) && Files.isRegularFile(SCRIPT), "needs /usr/bin/python3 and scripts/gguf-dump.py");
        assumeTrue(run(python("-c", "import gguf")) != null, "gguf-py not importable (set GGUF_PYTHONPATH)");
        SplittableRandom rng = new SplittableRandom(9);
        float[] w = new float[6 * 256];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        short[] bf = new short[w.length], hf = new short[w.length];
        for (int i = 0; i < w.length; i++) {
            bf[i] = DType.BF16.roundBits(w[i]);
            hf[i] = Float.floatToFloat16(w[i]);
        }
        GgufWriter wr = new GgufWriter()
                .putString("general.architecture", "llama")
                .put("a.u8", GgufValue.of(GgufValueType.UINT8, 250))
                .put("a.i8", GgufValue.of(GgufValueType.INT8, -7))
                .put("a.u16", GgufValue.of(GgufValueType.UINT16, 65535))
                .put("a.i16", GgufValue.of(GgufValueType.INT16, -2))
                .put("a.u32", GgufValue.ofU32(3000000000L))
                .put("a.i32", GgufValue.ofI32(-5))
                .put("a.f32", GgufValue.ofF32(0.1f))
                .put("a.u64", GgufValue.ofU64(1L << 40))
                .put("a.i64", GgufValue.of(GgufValueType.INT64, -(1L << 50)))
                .put("a.f64", GgufValue.ofF64(1e-300))
                .put("a.bool", GgufValue.ofBool(true))
                .put("a.str", GgufValue.ofString("ünïcødé ✓"))
                .put("a.strs", GgufValue.ofStrings(List.of("<s>", "", "▁the")))
                .put("a.f32s", GgufValue.ofArray(GgufValueType.FLOAT32, List.of(GgufValue.ofF32(-1.25f), GgufValue.ofF32(3f))));
        wr.addF32("w.f32", w, 6, 256);
        wr.addTensor("w.bf16", GgmlType.BF16, new long[] {6, 256}, MemorySegment.ofArray(bf));
        wr.addTensor("w.f16", GgmlType.F16, new long[] {2, 3, 256}, MemorySegment.ofArray(hf));
        for (QuantType t : QuantType.values()) wr.addQuantized("w." + t, Quants.quantize(t, w, 0, 6, 256));
        Path file = dir.resolve("attn4j.gguf"), out = dir.resolve("dump");
        wr.write(file);
        String log = run(python(SCRIPT.toString(), file.toString(), out.toString()));
        assertThat(log).as("gguf-dump.py failed").isNotNull();

        ObjectMapper json = new ObjectMapper();
        JsonNode meta = json.readTree(out.resolve("meta.json").toFile());
        try (GgufFile f = GgufFile.open(file)) {
            assertThat(meta.size()).isEqualTo(f.metadata().size());
            for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
                JsonNode m = meta.get(e.getKey());
                assertThat(m).as(e.getKey()).isNotNull();
                GgufValue v = e.getValue();
                assertThat(m.get("type").get(0).asText()).as(e.getKey()).isEqualTo(v.type().name());
                JsonNode val = m.get("value");
                switch (v.type()) {
                    case STRING -> assertThat(val.asText()).isEqualTo(v.asString());
                    case BOOL -> assertThat(val.asBoolean()).isEqualTo(v.asBoolean());
                    case FLOAT32 -> assertThat((float) val.asDouble()).isEqualTo((Float) v.value());
                    case FLOAT64 -> assertThat(val.asDouble()).isEqualTo((Double) v.value());
                    case ARRAY -> {
                        assertThat(m.get("type").get(1).asText()).isEqualTo(v.elementType().name());
                        assertThat(val.size()).isEqualTo(v.asList().size());
                        for (int i = 0; i < val.size(); i++) {
                            GgufValue x = v.asList().get(i);
                            if (x.type() == GgufValueType.STRING) assertThat(val.get(i).asText()).isEqualTo(x.asString());
                            else assertThat(val.get(i).asDouble()).isEqualTo(x.asDouble());
                        }
                    }
                    default -> assertThat(val.asLong()).as(e.getKey()).isEqualTo(v.asLong());
                }
            }
            JsonNode tensors = json.readTree(out.resolve("tensors.json").toFile());
            assertThat(tensors.size()).isEqualTo(f.tensors().size());
            int i = 0;
            for (GgufTensorInfo t : f.tensors().values()) {
                JsonNode n = tensors.get(i);
                assertThat(n.get("name").asText()).isEqualTo(t.name());
                assertThat(n.get("type").asText()).isEqualTo(t.type().name());
                List<Long> shape = new ArrayList<>();
                n.get("shape").forEach(d -> shape.add(d.asLong()));
                assertThat(shape).as(t.name()).containsExactly(java.util.Arrays.stream(t.shape()).boxed().toArray(Long[]::new));
                float[] theirs = GgufFileTest.floats(Files.readAllBytes(out.resolve(i + ".f32")));
                float[] ours = t.type().quantType() != null ? Quants.dequantize(f.quantized(t.name())) : f.array(t.name()).toFloatArray();
                assertThat(theirs).as(t.name()).containsExactly(ours);
                i++;
            }
        }
    }
}
