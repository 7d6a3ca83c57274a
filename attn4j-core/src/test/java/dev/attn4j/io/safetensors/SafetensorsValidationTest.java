package dev.attn4j.io.safetensors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static dev.attn4j.io.safetensors.StBytes.file;
import static dev.attn4j.io.safetensors.StBytes.floats;
import static dev.attn4j.io.safetensors.StBytes.withLength;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every malformed-file case gives a SafetensorsException naming the file and the problem. */
class SafetensorsValidationTest {
    @TempDir
    Path dir;

    private int counter;

    private void expectError(byte[] bytes, String... fragments) throws Exception {
        Path p = StBytes.write(dir, "bad" + (counter++) + ".safetensors", bytes);
        assertThatThrownBy(() -> {
            try (SafetensorsFile f = SafetensorsFile.open(p)) {
                for (String n : f.names()) f.get(n);
            }
        }).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining(p.toString())
                .hasMessageContainingAll(fragments)
                .satisfies(e -> assertThat(((SafetensorsException) e).file()).isEqualTo(p));
    }

    private static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void validFileWithSpacePaddingAndMetadataOpens() throws Exception {
        String h = "{\"__metadata__\":{\"format\":\"pt\"}," + entry("a", "F32", "[2]", 0, 8) + "}      ";
        Path p = StBytes.write(dir, "ok.safetensors", file(h, floats(1.5f, -2f)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.names()).containsExactly("a");
            assertThat(f.metadata()).containsEntry("format", "pt").hasSize(1);
            assertThat(f.get("a").toFloatArray()).containsExactly(1.5f, -2f);
            assertThat(f.dataStart()).isEqualTo(8 + h.length());
        }
    }

    @Test
    void emptyHeaderAndNoTensorsIsValid() throws Exception {
        Path p = StBytes.write(dir, "empty.safetensors", file("{}      ", new byte[0]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.names()).isEmpty();
            assertThat(f.metadata()).isEmpty();
        }
    }

    @Test
    void fileShorterThanEightBytes() throws Exception {
        expectError(new byte[0], "0 bytes", "shorter than the 8-byte");
        expectError(new byte[] {1, 0, 0, 0, 0}, "5 bytes", "shorter than the 8-byte");
    }

    @Test
    void headerLengthBeyondFileOrLimit() throws Exception {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        expectError(withLength(3, h, new byte[0]), "header length 3 runs past the end of the file", "10 bytes");
        expectError(withLength(200_000_000L, h, new byte[0]), "header length 200000000 exceeds the limit of 100000000");
        expectError(withLength(-1L, h, new byte[0]), "18446744073709551615", "exceeds the limit");
    }

    @Test
    void headerNotUtf8() throws Exception {
        byte[] h = "{\"a\u00ff\":{}}".getBytes(StandardCharsets.ISO_8859_1);
        expectError(file(h, new byte[0]), "not valid UTF-8", "header byte 3");
    }

    @Test
    void headerNotJsonObject() throws Exception {
        expectError(file("[1, 2]", new byte[0]), "must be a JSON object starting with '{'");
        expectError(file(" {}", new byte[0]), "must be a JSON object starting with '{'");
        expectError(file("", new byte[0]), "header length 0");
        expectError(file("{\"a\":", new byte[0]), "not valid JSON");
        expectError(file("{} x", new byte[0]), "not valid JSON");
        expectError(file("{}\0\0", new byte[0]), "not valid JSON");
        expectError(file("{\"a\": nope}", new byte[0]), "not valid JSON");
    }

    @Test
    void entriesMissingFields() throws Exception {
        expectError(file("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1)), "tensor 'w'", "missing field \"dtype\"");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", floats(1)), "tensor 'w'", "missing field \"shape\"");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", floats(1)), "tensor 'w'", "missing field \"data_offsets\"");
        expectError(file("{\"w\":[1,2]}", new byte[0]), "tensor 'w'", "must be an object");
        expectError(file("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", floats(1)), "tensor 'w'", "\"dtype\" must be a string");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":7,\"data_offsets\":[0,4]}}", floats(1)), "tensor 'w'", "\"shape\" must be an array");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", floats(1)), "tensor 'w'", "[begin, end]");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", floats(1)), "tensor 'w'", "[begin, end]");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", floats(1)), "tensor 'w'", "non-negative");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", floats(1)), "tensor 'w'", "non-negative integers");
        expectError(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999999]}}", floats(1)),
                "tensor 'w'", "below 2^63");
    }

    @Test
    void unknownDtype() throws Exception {
        expectError(file("{" + entry("w", "F128", "[1]", 0, 16) + "}", new byte[16]), "tensor 'w'", "unknown dtype 'F128'");
        expectError(file("{" + entry("w", "f32", "[1]", 0, 4) + "}", new byte[4]), "tensor 'w'", "unknown dtype 'f32'");
    }

    @Test
    void badShapes() throws Exception {
        expectError(file("{" + entry("w", "F32", "[-1]", 0, 4) + "}", new byte[4]), "tensor 'w'", "negative dimension -1");
        expectError(file("{" + entry("w", "F32", "[2.5]", 0, 4) + "}", new byte[4]), "tensor 'w'", "non-integer dimension 2.5");
        expectError(file("{" + entry("w", "F32", "[\"2\"]", 0, 8) + "}", new byte[8]), "tensor 'w'", "non-integer dimension \"2\"");
        expectError(file("{" + entry("w", "F32", "[null]", 0, 4) + "}", new byte[4]), "tensor 'w'", "non-integer dimension");
        expectError(file("{" + entry("w", "U8", "[4294967296]", 0, 4) + "}", new byte[4]), "tensor 'w'", "more than 2147483647");
    }

    @Test
    void moreThanIntMaxElements() throws Exception {
        expectError(file("{" + entry("w", "U8", "[65536,65536]", 0, 4) + "}", new byte[4]),
                "tensor 'w'", "4294967296 elements", "more than 2147483647");
        expectError(file("{" + entry("w", "U8", "[2147483647,2147483647,2147483647]", 0, 4) + "}", new byte[4]),
                "tensor 'w'", "9903520300447984150353281023 elements", "more than 2147483647");
    }

    @Test
    void emptyTensorWithHugeOtherDimensionsIsFine() throws Exception {
        Path p = StBytes.write(dir, "e.safetensors", file("{" + entry("w", "F32", "[2147483647,0,2147483647]", 0, 0) + "}", new byte[0]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.get("w").numel()).isZero();
            assertThat(f.info("w").shape()).containsExactly(2147483647, 0, 2147483647);
        }
    }

    @Test
    void offsetsOutOfBounds() throws Exception {
        expectError(file("{" + entry("w", "F32", "[25]", 0, 100) + "}", new byte[8]),
                "tensor 'w'", "data_offsets [0, 100]", "run past the end of the data buffer (8 bytes)");
    }

    @Test
    void beginAfterEnd() throws Exception {
        expectError(file("{" + entry("w", "F32", "[1]", 8, 4) + "}", new byte[8]), "tensor 'w'", "[8, 4]", "begin > end");
    }

    @Test
    void sizeNotShapeTimesDtype() throws Exception {
        expectError(file("{" + entry("w", "F32", "[3]", 0, 8) + "}", new byte[8]),
                "tensor 'w'", "[0, 8] hold 8 bytes", "shape [3] of F32 needs 12");
        expectError(file("{" + entry("w", "F16", "[3]", 0, 12) + "}", new byte[12]), "tensor 'w'", "needs 6");
        expectError(file("{" + entry("w", "F4", "[3]", 0, 2) + "}", new byte[2]), "tensor 'w'", "do not fill whole bytes");
    }

    @Test
    void overlappingTensors() throws Exception {
        String h = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}";
        expectError(file(h, new byte[12]), "tensor 'b'", "[4, 12]", "overlap tensor 'a' [0, 8]");
        String same = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 0, 8) + "}";
        expectError(file(same, new byte[8]), "overlap");
    }

    @Test
    void gapsAndTrailingBytes() throws Exception {
        expectError(file("{" + entry("a", "F32", "[1]", 4, 8) + "}", new byte[8]), "bytes [0, 4) belong to no tensor", "'a'");
        String h = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}";
        expectError(file(h, new byte[12]), "bytes [4, 8) belong to no tensor", "'b'");
        expectError(file("{" + entry("a", "F32", "[1]", 0, 4) + "}", new byte[9]), "data buffer is 9 bytes", "5 trailing bytes");
    }

    @Test
    void outOfOrderOffsetsAreFine() throws Exception {
        String h = "{" + entry("b", "F32", "[1]", 4, 8) + "," + entry("z", "F32", "[0]", 4, 4) + "," + entry("a", "F32", "[1]", 0, 4) + "}";
        Path p = StBytes.write(dir, "order.safetensors", file(h, floats(1, 2)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThat(f.names()).containsExactly("b", "z", "a");
            assertThat(f.get("a").item()).isEqualTo(1.0);
            assertThat(f.get("b").item()).isEqualTo(2.0);
        }
    }

    @Test
    void duplicateNames() throws Exception {
        String h = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}";
        expectError(file(h, new byte[8]), "duplicate key", "'a'");
        String dupField = "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        expectError(file(dupField, new byte[4]), "duplicate key", "'dtype'");
    }

    @Test
    void badMetadata() throws Exception {
        expectError(file("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__", "'k'", "must be a string");
        expectError(file("{\"__metadata__\":[]}", new byte[0]), "__metadata__ must be an object");
    }

    @Test
    void unknownNameListsAvailableNames() throws Exception {
        String h = "{" + entry("layer.0.weight", "F32", "[1]", 0, 4) + "," + entry("layer.0.bias", "F32", "[1]", 4, 8) + "}";
        Path p = StBytes.write(dir, "names.safetensors", file(h, new byte[8]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertThatThrownBy(() -> f.get("layer.0.weigth"))
                    .isInstanceOf(SafetensorsException.class)
                    .hasMessageContainingAll(p.toString(), "no tensor 'layer.0.weigth'", "2 tensors", "layer.0.weight", "layer.0.bias");
            assertThatThrownBy(() -> f.info("x")).isInstanceOf(SafetensorsException.class).hasMessageContaining("no tensor 'x'");
        }
    }

    @Test
    void directoryAndMissingFile() {
        assertThatThrownBy(() -> SafetensorsFile.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("is a directory");
        assertThatThrownBy(() -> SafetensorsFile.open(dir.resolve("none.safetensors")))
                .isInstanceOf(java.nio.file.NoSuchFileException.class).hasMessageContaining("none.safetensors");
    }
}
