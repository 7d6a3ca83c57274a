package dev.attn4j.io.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader on Jackson's streaming parser (jackson-core only: loading databind's
 * ObjectMapper costs several hundred milliseconds on a cold JVM). Values become
 * {@link LinkedHashMap} (key order kept), {@link List}, {@link String}, {@link BigInteger}
 * (integral numbers), {@link Fraction} (other numbers, kept as text), {@link Boolean}, or
 * {@link #NULL}.
 * Duplicate keys and anything after the root value other than whitespace are errors.
 */
final class Json {
    /** JSON {@code null}. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** A number with a fraction or exponent, kept as its text (it is never a valid size). */
    record Fraction(String text) {
        @Override
        public String toString() {
            return text;
        }
    }

    /** Problem in a JSON text, with a human-readable position. */
    static final class JsonException extends Exception {
        JsonException(String message) {
            super(message);
        }
    }

    static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxStringLength((int) HeaderParser.MAX_HEADER_BYTES)
                    .maxNameLength((int) HeaderParser.MAX_HEADER_BYTES)
                    .build())
            .build();

    private Json() {
    }

    static Object parse(String text) throws JsonException {
        try (JsonParser p = FACTORY.createParser(text)) {
            return parseRoot(p);
        } catch (JsonProcessingException e) {
            throw new JsonException("is not valid JSON: " + e.getOriginalMessage() + where(e.getLocation()));
        } catch (IOException e) {
            throw new JsonException("is not readable: " + e.getMessage());
        }
    }

    static Object parse(byte[] utf8) throws JsonException {
        try (JsonParser p = FACTORY.createParser(utf8)) {
            return parseRoot(p);
        } catch (JsonProcessingException e) {
            throw new JsonException("is not valid JSON: " + e.getOriginalMessage() + where(e.getLocation()));
        } catch (IOException e) {
            throw new JsonException("is not readable: " + e.getMessage());
        }
    }

    private static Object parseRoot(JsonParser p) throws IOException, JsonException {
        JsonToken t = p.nextToken();
        if (t == null) throw new JsonException("is empty (no JSON value)");
        Object root = value(p, t);
        JsonToken after = p.nextToken();
        if (after != null) {
            throw new JsonException("has content after the JSON value: " + after + where(p.currentTokenLocation()));
        }
        return root;
    }

    private static Object value(JsonParser p, JsonToken t) throws IOException, JsonException {
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String key = p.currentName();
                    JsonLocation at = p.currentTokenLocation();
                    Object v = value(p, p.nextToken());
                    if (m.putIfAbsent(key, v) != null) {
                        throw new JsonException("has a duplicate key " + HeaderParser.quote(key) + where(at));
                    }
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) l.add(value(p, e));
                return l;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT -> {
                return p.getBigIntegerValue();
            }
            case VALUE_NUMBER_FLOAT -> {
                return new Fraction(p.getText());
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return NULL;
            }
            default -> throw new JsonException("has an unexpected token " + t + where(p.currentTokenLocation()));
        }
    }

    private static String where(JsonLocation loc) {
        return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }

    /** The JSON type of a parsed value, for messages. */
    static String typeOf(Object v) {
        if (v instanceof Map) return "an object";
        if (v instanceof List) return "an array";
        if (v instanceof String) return "a string";
        if (v instanceof BigInteger || v instanceof Fraction) return "a number";
        if (v instanceof Boolean) return "a boolean";
        return "null";
    }

    /** Compact JSON text of a parsed value (long output cut), for messages. */
    static String show(Object v) {
        StringBuilder sb = new StringBuilder();
        show(v, sb);
        return sb.length() > 200 ? sb.substring(0, 200) + "..." : sb.toString();
    }

    private static void show(Object v, StringBuilder sb) {
        if (sb.length() > 200) return;
        if (v instanceof Map<?, ?> m) {
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) sb.append(',');
                first = false;
                sb.append('"').append(e.getKey()).append("\":");
                show(e.getValue(), sb);
            }
            sb.append('}');
        } else if (v instanceof List<?> l) {
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(',');
                show(l.get(i), sb);
            }
            sb.append(']');
        } else if (v instanceof String s) {
            sb.append('"').append(s).append('"');
        } else {
            sb.append(v);
        }
    }
}
