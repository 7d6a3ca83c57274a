package dev.attn4j.io.safetensors;

import java.io.IOException;
import java.math.BigInteger;
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

    private static final BigInteger INT_MAX = BigInteger.valueOf(Integer.MAX_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

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
        String text = decodeUtf8(file, headerBuf.array());
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new SafetensorsException(file, "header must be a JSON object starting with '{', starts with "
                    + (text.isEmpty() ? "nothing (header length 0)" : quote(text.substring(0, Math.min(20, text.length())))));
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.JsonException e) {
            throw new SafetensorsException(file, "header " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> fields)) {
            throw new SafetensorsException(file, "header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataLength = size - dataStart;

        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        for (Map.Entry<?, ?> field : fields.entrySet()) {
            String name = (String) field.getKey();
            if (name.equals(METADATA_KEY)) {
                metadata = parseMetadata(file, field.getValue());
            } else {
                tensors.put(name, parseEntry(file, name, field.getValue(), dataLength));
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

    private static Map<String, String> parseMetadata(Path file, Object value) throws SafetensorsException {
        if (value == Json.NULL) return Map.of();
        if (!(value instanceof Map<?, ?> m)) {
            throw new SafetensorsException(file, METADATA_KEY + " must be an object of strings, is " + Json.typeOf(value));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafetensorsException(file, METADATA_KEY + " value for key " + quote((String) e.getKey())
                        + " must be a string, is " + Json.typeOf(e.getValue()) + " " + Json.show(e.getValue()));
            }
            out.put((String) e.getKey(), s);
        }
        return Collections.unmodifiableMap(out);
    }

    private static TensorInfo parseEntry(Path file, String name, Object value, long dataLength)
            throws SafetensorsException {
        String t = "tensor " + quote(name);
        if (!(value instanceof Map<?, ?> entry)) {
            throw new SafetensorsException(file, t + ": entry must be an object with dtype, shape and data_offsets, is "
                    + Json.typeOf(value));
        }
        Object dtypeValue = entry.get("dtype");
        if (dtypeValue == null) throw new SafetensorsException(file, t + ": missing field \"dtype\"");
        if (!(dtypeValue instanceof String dtypeName)) {
            throw new SafetensorsException(file, t + ": \"dtype\" must be a string, is " + Json.show(dtypeValue));
        }
        SafetensorsDType dtype = SafetensorsDType.fromHeader(dtypeName);
        if (dtype == null) {
            throw new SafetensorsException(file, t + ": unknown dtype " + quote(dtypeName)
                    + " (known: " + Arrays.toString(SafetensorsDType.values()) + ")");
        }

        Object shapeValue = entry.get("shape");
        if (shapeValue == null) throw new SafetensorsException(file, t + ": missing field \"shape\"");
        if (!(shapeValue instanceof List<?> shapeList)) {
            throw new SafetensorsException(file, t + ": \"shape\" must be an array, is " + Json.show(shapeValue));
        }
        int[] shape = new int[shapeList.size()];
        BigInteger numel = BigInteger.ONE;
        for (int i = 0; i < shape.length; i++) {
            Object d = shapeList.get(i);
            if (!(d instanceof BigInteger dim)) {
                throw new SafetensorsException(file, t + ": shape " + Json.show(shapeList)
                        + " has a non-integer dimension " + Json.show(d));
            }
            if (dim.signum() < 0) {
                throw new SafetensorsException(file, t + ": shape " + Json.show(shapeList) + " has a negative dimension " + dim);
            }
            if (dim.compareTo(INT_MAX) > 0) {
                throw new SafetensorsException(file, t + ": shape " + Json.show(shapeList) + " has dimension " + dim
                        + ", more than " + Integer.MAX_VALUE);
            }
            shape[i] = dim.intValue();
            numel = numel.multiply(dim);
        }
        if (numel.compareTo(INT_MAX) > 0) {
            throw new SafetensorsException(file, t + ": shape " + Arrays.toString(shape) + " has " + numel
                    + " elements, more than " + Integer.MAX_VALUE + " (the most one tensor can hold)");
        }
        long count = numel.longValue();

        Object offsetsValue = entry.get("data_offsets");
        if (offsetsValue == null) throw new SafetensorsException(file, t + ": missing field \"data_offsets\"");
        if (!(offsetsValue instanceof List<?> offsets) || offsets.size() != 2) {
            throw new SafetensorsException(file, t + ": \"data_offsets\" must be an array [begin, end], is "
                    + Json.show(offsetsValue));
        }
        long[] be = new long[2];
        for (int i = 0; i < 2; i++) {
            if (!(offsets.get(i) instanceof BigInteger o) || o.signum() < 0 || o.compareTo(LONG_MAX) > 0) {
                throw new SafetensorsException(file, t + ": data_offsets " + Json.show(offsets)
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
        long bits = count * dtype.bits();   // count <= 2^31-1, bits <= 64: no overflow
        if (bits % 8 != 0) {
            throw new SafetensorsException(file, t + ": " + count + " elements of " + dtype + " (" + dtype.bits()
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
