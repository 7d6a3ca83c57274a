package dev.attn4j.io.safetensors;

import dev.attn4j.tensor.NDArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Random corruptions of valid files: opening and reading every tensor must either succeed or
 * throw SafetensorsException, never anything else.
 */
class SafetensorsFuzzTest {
    private static final String[] DTYPES = {"F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "C64", "F4", "U64", "X"};

    @TempDir
    Path dir;

    @Test
    void corruptedFilesFailCleanly() throws Exception {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        List<byte[]> seeds = validFiles(rng);
        Path p = dir.resolve("fuzz.safetensors");
        int iterations = 3000, opened = 0, rejected = 0;
        for (int it = 0; it < iterations; it++) {
            byte[] base = seeds.get(rng.nextInt(seeds.size()));
            StringBuilder how = new StringBuilder();
            byte[] bad = mutate(rng, base, how);
            Files.write(p, bad);
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (String n : f.names()) {
                    TensorInfo t = f.info(n);
                    if (t.dtype().convertibleToF32()) {
                        NDArray a = f.get(n);
                        assertThat((long) a.numel()).isEqualTo(t.numel());
                        a.toFloatArray();
                    }
                    if (t.dtype().isInteger()) {
                        try {
                            f.getInts(n);
                        } catch (SafetensorsException ignored) {
                            // a value out of int range is a legitimate refusal
                        }
                    }
                }
                opened++;
            } catch (SafetensorsException e) {
                rejected++;
                assertThat(e.getMessage()).as("seed %d iteration %d (%s)", seed, it, how).startsWith(p.toString());
            } catch (Throwable t) {
                fail("seed " + seed + " iteration " + it + " (" + how + "): expected success or SafetensorsException, got " + t, t);
            }
        }
        System.out.printf("fuzz seed %d: %d corrupted files opened fine, %d rejected%n", seed, opened, rejected);
        assertThat(rejected).as("seed %d", seed).isGreaterThan(iterations / 4);
    }

    private List<byte[]> validFiles(SplittableRandom rng) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (SafetensorsDType t : List.of(SafetensorsDType.F32, SafetensorsDType.F16, SafetensorsDType.BF16, SafetensorsDType.F64)) {
            Map<String, NDArray> m = new LinkedHashMap<>();
            m.put("a", NDArray.uniform(rng, dev.attn4j.tensor.Shape.of(3, 5), -2, 2));
            m.put("b.weight", NDArray.scalar(rng.nextDouble()));
            m.put("c", NDArray.zeros(0, 2));
            m.put("d", NDArray.uniform(rng, dev.attn4j.tensor.Shape.of(7), -1, 1).narrow(0, 1, 5));
            Path p = dir.resolve("seed-" + t + ".safetensors");
            SafetensorsWriter.write(p, m, Map.of("format", "pt", "k", "v"), t);
            out.add(Files.readAllBytes(p));
        }
        String ints = "{\"ids\":{\"dtype\":\"I64\",\"shape\":[1,4],\"data_offsets\":[0,32]},"
                + "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[32,36]},"
                + "\"i32\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[36,44]},"
                + "\"u8\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[44,48]}}";
        byte[] data = new byte[48];
        rng.nextBytes(data);
        out.add(StBytes.file(ints, data));
        return out;
    }

    private static byte[] mutate(SplittableRandom rng, byte[] base, StringBuilder how) {
        long headerLen = ByteBuffer.wrap(base).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int hEnd = (int) (8 + headerLen);
        byte[] b = base.clone();
        int rounds = 1 + rng.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            switch (rng.nextInt(9)) {
                case 0 -> {                                  // truncate
                    int n = rng.nextInt(b.length + 1);
                    how.append("truncate to ").append(n).append("; ");
                    b = Arrays.copyOf(b, n);
                }
                case 1 -> {                                  // flip bytes anywhere
                    for (int k = 1 + rng.nextInt(4); k > 0 && b.length > 0; k--) {
                        int i = rng.nextInt(b.length);
                        b[i] ^= (byte) (1 + rng.nextInt(255));
                        how.append("flip byte ").append(i).append("; ");
                    }
                }
                case 7, 8 -> {                               // flip data bytes only: must still open
                    for (int k = 1 + rng.nextInt(8); k > 0 && b.length > hEnd; k--) {
                        int i = hEnd + rng.nextInt(b.length - hEnd);
                        b[i] ^= (byte) (1 + rng.nextInt(255));
                        how.append("flip data byte ").append(i).append("; ");
                    }
                }
                case 2 -> {                                  // flip a byte of the length field
                    if (b.length >= 8) {
                        int i = rng.nextInt(8);
                        b[i] ^= (byte) (1 << rng.nextInt(8));
                        how.append("flip length byte ").append(i).append("; ");
                    }
                }
                default -> {                                 // edit the header text, keeping the length right
                    if (b.length < hEnd) break;
                    String h = new String(b, 8, hEnd - 8, StandardCharsets.UTF_8);
                    String edited = editHeader(rng, h, how);
                    byte[] hb = edited.getBytes(StandardCharsets.UTF_8);
                    byte[] rest = Arrays.copyOfRange(b, hEnd, b.length);
                    b = StBytes.withLength(hb.length, hb, rest);
                    hEnd = 8 + hb.length;
                }
            }
        }
        return b;
    }

    private static String editHeader(SplittableRandom rng, String h, StringBuilder how) {
        if (h.isEmpty()) return h;
        int i = rng.nextInt(h.length());
        switch (rng.nextInt(6)) {
            case 0 -> {                                      // change a digit
                int d = indexOfNext(h, i, "0123456789");
                if (d < 0) return h;
                String repl = switch (rng.nextInt(4)) {
                    case 0 -> "-1";
                    case 1 -> "99999999999999999999";
                    case 2 -> "1.5";
                    default -> String.valueOf(rng.nextInt(10));
                };
                how.append("digit at ").append(d).append(" -> ").append(repl).append("; ");
                return h.substring(0, d) + repl + h.substring(d + 1);
            }
            case 1 -> {                                      // swap a dtype (often for one of the same size)
                int q = h.indexOf("\"dtype\":\"", i);
                if (q < 0) q = h.indexOf("\"dtype\":\"");
                if (q < 0) return h;
                int s = q + 9, e = h.indexOf('"', s);
                if (e < 0) return h; // an earlier edit removed the closing quote
                String old = h.substring(s, e);
                String dt = rng.nextBoolean() ? DTYPES[rng.nextInt(DTYPES.length)] : sameSize(rng, old);
                how.append("dtype at ").append(s).append(" -> ").append(dt).append("; ");
                return h.substring(0, s) + dt + h.substring(e);
            }
            case 2 -> {                                      // delete a span
                int n = 1 + rng.nextInt(Math.min(12, h.length() - i));
                how.append("delete ").append(n).append(" chars at ").append(i).append("; ");
                return h.substring(0, i) + h.substring(i + n);
            }
            case 3 -> {                                      // insert JSON-ish noise
                String[] noise = {"{", "}", "[", "]", ",", ":", "\"", "\"x\"", "\"x\":1,", "null", " ", "\\", "\u00e9", "[[[[[[[["};
                String s = noise[rng.nextInt(noise.length)];
                how.append("insert ").append(s).append(" at ").append(i).append("; ");
                return h.substring(0, i) + s + h.substring(i);
            }
            case 4 -> {                                      // duplicate an entry name
                int q = h.indexOf("\"b.weight\"");
                if (q < 0) return h;
                how.append("rename b.weight to a; ");
                return h.replace("\"b.weight\"", "\"a\"");
            }
            default -> {                                     // rewrite data_offsets of one tensor
                int q = h.indexOf("\"data_offsets\":[", i);
                if (q < 0) q = h.indexOf("\"data_offsets\":[");
                if (q < 0) return h;
                int s = q + 16, e = h.indexOf(']', s);
                if (e < 0) return h; // an earlier edit removed the closing bracket
                String repl = rng.nextInt(1000) + "," + rng.nextInt(1000);
                how.append("offsets at ").append(s).append(" -> ").append(repl).append("; ");
                return h.substring(0, s) + repl + h.substring(e);
            }
        }
    }

    private static String sameSize(SplittableRandom rng, String dtype) {
        String[][] groups = {{"F32", "I32", "U32"}, {"F16", "BF16", "I16", "U16"}, {"F64", "I64", "U64", "C64"},
                {"U8", "I8", "BOOL", "F8_E4M3", "F8_E5M2", "F8_E8M0"}};
        for (String[] g : groups) {
            if (Arrays.asList(g).contains(dtype)) return g[rng.nextInt(g.length)];
        }
        return dtype;
    }

    private static int indexOfNext(String s, int from, String chars) {
        for (int k = 0; k < s.length(); k++) {
            int j = (from + k) % s.length();
            if (chars.indexOf(s.charAt(j)) >= 0) return j;
        }
        return -1;
    }
}
