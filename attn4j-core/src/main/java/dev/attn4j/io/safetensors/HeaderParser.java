package dev.attn4j.io.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads and checks the header of a safetensors file. */
final class HeaderParser {
    /** Largest accepted JSON header, as in the reference implementation. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final String METADATA_KEY = "__metadata__";

    /**
     * JSON reader that rejects duplicate keys and anything but whitespace after the root value.
     * Strings and names may be as long as the header itself (Jackson's defaults are smaller);
     * the nesting depth limit stays at Jackson's default.
     */
    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength((int) MAX_HEADER_BYTES)
                    .maxNameLength((int) MAX_HEADER_BYTES)
                    .build())
            .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The parsed header: tensors in header order, metadata, and where the data buffer starts. */
    record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata, long dataStart) {
    }

    private HeaderParser() {
    }

    /** Reads the header from {@code ch} (a file of {@code size} bytes) and checks it against the file size. */
    static Header parse(Path file, FileChannel ch, long size) throws IOException {
        if (size < 8) {
            throw new SafetensorsException(file, "file is " + size + " bytes, shorter than the 8-byte header length field");
        }
        ByteBuffer lengthField = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lengthField, 0);
        long n = lengthField.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsException(file, "header length " + Long.toUnsignedString(n)
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + n > size) {
            throw new SafetensorsException(file, "header length " + n + " runs past the end of the file ("
                    + size + " bytes, so at most " + (size - 8) + " header bytes)");
        }
        ByteBuffer headerBuf = ByteBuffer.allocate((int) n);
        readFully(file, ch, headerBuf, 8);
        byte[] bytes = headerBuf.array();
        String text = decodeUtf8(file, bytes);
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new SafetensorsException(file, "header must be a JSON object starting with '{', starts with "
                    + (text.isEmpty() ? "nothing (header length 0)" : quote(text.substring(0, Math.min(20, text.length())))));
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(file, jsonProblem("header", e), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsException(file, "header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLength = size - dataStart;

        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(file, value);
            } else {
                tensors.put(name, parseEntry(file, name, value, dataLength));
            }
        }
        checkCoverage(file, tensors, dataLength);
        return new Header(Collections.unmodifiableMap(tensors), metadata, dataStart);
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, position + buf.position());
            if (r < 0) {
                throw new SafetensorsException(file, "file ended while reading bytes [" + position + ", "
                        + (position + buf.capacity()) + ") (was it truncated while being opened?)");
            }
        }
    }

    private static String decodeUtf8(Path file, byte[] bytes) throws SafetensorsException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) r = decoder.flush(out);
        if (r.isError()) {
            throw new SafetensorsException(file, "header is not valid UTF-8 (bad byte sequence at header byte "
                    + in.position() + ", file offset " + (8 + in.position()) + ")");
        }
        return out.flip().toString();
    }

    /** A message for a JSON syntax error, naming duplicate keys plainly. */
    static String jsonProblem(String what, JsonProcessingException e) {
        String msg = e.getOriginalMessage();
        JsonLocation loc = e.getLocation();
        String where = loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
        if (msg != null && msg.startsWith("Duplicate field")) {
            return what + " has a duplicate key: " + msg.substring("Duplicate field".length()).trim() + where;
        }
        return what + " is not valid JSON: " + msg + where;
    }

    private static Map<String, String> parseMetadata(Path file, JsonNode value) throws SafetensorsException {
        if (value.isNull()) return Map.of();
        if (!value.isObject()) {
            throw new SafetensorsException(file, METADATA_KEY + " must be an object of strings, is " + value.getNodeType());
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : value.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsException(file, METADATA_KEY + " value for key " + quote(e.getKey())
                        + " must be a string, is " + e.getValue().getNodeType());
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, JsonNode entry, long dataLength)
            throws SafetensorsException {
        String t = "tensor " + quote(name);
        if (!entry.isObject()) {
            throw new SafetensorsException(file, t + ": entry must be an object with dtype, shape and data_offsets, is "
                    + entry.getNodeType());
        }
        JsonNode dtypeNode = entry.get("dtype");
        if (dtypeNode == null) throw new SafetensorsException(file, t + ": missing field \"dtype\"");
        if (!dtypeNode.isTextual()) throw new SafetensorsException(file, t + ": \"dtype\" must be a string, is " + dtypeNode);
        SafetensorsDType dtype = SafetensorsDType.fromHeader(dtypeNode.textValue());
        if (dtype == null) {
            throw new SafetensorsException(file, t + ": unknown dtype " + quote(dtypeNode.textValue())
                    + " (known: " + Arrays.toString(SafetensorsDType.values()) + ")");
        }

        JsonNode shapeNode = entry.get("shape");
        if (shapeNode == null) throw new SafetensorsException(file, t + ": missing field \"shape\"");
        if (!shapeNode.isArray()) throw new SafetensorsException(file, t + ": \"shape\" must be an array, is " + shapeNode);
        int[] shape = new int[shapeNode.size()];
        long numel = 1;
        boolean overflow = false;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber()) {
                throw new SafetensorsException(file, t + ": shape " + shapeNode + " has a non-integer dimension " + d);
            }
            if (d.bigIntegerValue().signum() < 0) {
                throw new SafetensorsException(file, t + ": shape " + shapeNode + " has a negative dimension " + d);
            }
            if (!d.canConvertToInt()) {
                throw new SafetensorsException(file, t + ": shape " + shapeNode + " has dimension " + d
                        + ", more than " + Integer.MAX_VALUE);
            }
            shape[i] = d.intValue();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException e) {
                overflow = true;
            }
        }
        if (overflow || numel > Integer.MAX_VALUE) {
            boolean empty = Arrays.stream(shape).anyMatch(d -> d == 0);
            if (!empty) {
                throw new SafetensorsException(file, t + ": shape " + Arrays.toString(shape) + " has "
                        + (overflow ? "more than 2^63" : String.valueOf(numel)) + " elements, more than "
                        + Integer.MAX_VALUE + " (the most one tensor can hold)");
            }
            numel = 0;
        }

        JsonNode offsets = entry.get("data_offsets");
        if (offsets == null) throw new SafetensorsException(file, t + ": missing field \"data_offsets\"");
        if (!offsets.isArray() || offsets.size() != 2) {
            throw new SafetensorsException(file, t + ": \"data_offsets\" must be an array [begin, end], is " + offsets);
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            JsonNode o = offsets.get(i);
            if (!o.isIntegralNumber() || o.bigIntegerValue().signum() < 0 || !o.canConvertToLong()) {
                throw new SafetensorsException(file, t + ": data_offsets " + offsets
                        + " must hold two non-negative integers below 2^63");
            }
            be[i] = o.longValue();
        }
        long begin = be[0], end = be[1];
        if (begin > end) {
            throw new SafetensorsException(file, t + ": data_offsets [" + begin + ", " + end + "] have begin > end");
        }
        if (end > dataLength) {
            throw new SafetensorsException(file, t + ": data_offsets [" + begin + ", " + end
                    + "] run past the end of the data buffer (" + dataLength + " bytes)");
        }
        long bits = numel * dtype.bits();   // numel <= 2^31-1, bits <= 64: no overflow
        if (bits % 8 != 0) {
            throw new SafetensorsException(file, t + ": " + numel + " elements of " + dtype + " (" + dtype.bits()
                    + " bits each) do not fill whole bytes");
        }
        long needed = bits / 8;
        if (end - begin != needed) {
            throw new SafetensorsException(file, t + ": data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin) + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + needed);
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Tensors sorted by offset must tile the data buffer exactly: no overlap, no gap, no tail. */
    private static void checkCoverage(Path file, Map<String, TensorInfo> tensors, long dataLength)
            throws SafetensorsException {
        List<TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long pos = 0;
        TensorInfo prev = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < pos) {
                throw new SafetensorsException(file, "tensor " + quote(t.name()) + " data_offsets [" + t.begin() + ", "
                        + t.end() + "] overlap tensor " + quote(prev.name()) + " [" + prev.begin() + ", " + prev.end() + "]");
            }
            if (t.begin() > pos) {
                throw new SafetensorsException(file, "data buffer bytes [" + pos + ", " + t.begin()
                        + ") belong to no tensor (gap before tensor " + quote(t.name()) + " at data_offsets ["
                        + t.begin() + ", " + t.end() + "])");
            }
            pos = t.end();
            prev = t;
        }
        if (pos != dataLength) {
            throw new SafetensorsException(file, "data buffer is " + dataLength + " bytes but the tensors cover only ["
                    + "0, " + pos + "); " + (dataLength - pos) + " trailing bytes belong to no tensor");
        }
    }

    static String quote(String s) {
        String shown = s.length() > 200 ? s.substring(0, 200) + "..." : s;
        return "'" + shown + "'";
    }
}
