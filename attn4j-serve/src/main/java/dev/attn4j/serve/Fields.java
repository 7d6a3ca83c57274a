package dev.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Strict reading of a JSON request object. Each route lists the fields it reads and the fields
 * OpenAI's API defines that it accepts; any other field is a 400 naming it. Every getter checks
 * the JSON type and answers a 400 naming the field ({@code param}) when it is wrong.
 */
final class Fields {
    private final ObjectNode body;

    private Fields(ObjectNode body) {
        this.body = body;
    }

    /**
     * The request body as an object whose fields are all in {@code known}.
     *
     * @throws ApiException 400 for a body that is not an object, or an unknown field
     */
    static Fields of(JsonNode body, Set<String> known) {
        if (body == null || !body.isObject()) {
            throw ApiException.invalid(null, "the request body must be a JSON object");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!known.contains(name)) {
                throw ApiException.invalid(name, "unknown field '" + name + "'; this route accepts " + new java.util.TreeSet<>(known));
            }
        }
        return new Fields((ObjectNode) body);
    }

    /** Whether the field is present and not null. */
    boolean has(String name) {
        JsonNode v = body.get(name);
        return v != null && !v.isNull();
    }

    JsonNode raw(String name) {
        return body.get(name);
    }

    /** A string field; null when absent or null and not {@code required}. */
    String string(String name, boolean required) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            if (required) throw ApiException.invalid(name, "'" + name + "' is required");
            return null;
        }
        if (!v.isTextual()) throw ApiException.invalid(name, "'" + name + "' must be a string, got " + typeName(v));
        return v.asText();
    }

    /** A string or an array of strings, as a list; null when absent and not {@code required}. */
    List<String> strings(String name, boolean required) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) {
            if (required) throw ApiException.invalid(name, "'" + name + "' is required");
            return null;
        }
        if (v.isTextual()) return List.of(v.asText());
        if (!v.isArray()) throw ApiException.invalid(name, "'" + name + "' must be a string or an array of strings, got " + typeName(v));
        List<String> out = new ArrayList<>(v.size());
        for (int i = 0; i < v.size(); i++) {
            JsonNode e = v.get(i);
            if (!e.isTextual()) {
                throw ApiException.invalid(name, "'" + name + "[" + i + "]' must be a string, got " + typeName(e));
            }
            out.add(e.asText());
        }
        return out;
    }

    /** An integer field within [min, max]; {@code fallback} when absent or null. */
    Integer integer(String name, Integer fallback, long min, long max) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return fallback;
        if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
            throw ApiException.invalid(name, "'" + name + "' must be an integer, got " + typeName(v));
        }
        long x = v.asLong();
        if (x < min || x > max) throw ApiException.invalid(name, "'" + name + "' must be in [" + min + ", " + max + "], got " + v);
        return (int) x;
    }

    /** A 64-bit integer field; null when absent. */
    Long longValue(String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiException.invalid(name, "'" + name + "' must be an integer, got " + typeName(v));
        return v.asLong();
    }

    /** A number within [min, max]; {@code fallback} when absent or null. */
    Double number(String name, Double fallback, double min, double max) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return fallback;
        if (!v.isNumber()) throw ApiException.invalid(name, "'" + name + "' must be a number, got " + typeName(v));
        double x = v.asDouble();
        if (!(x >= min && x <= max)) throw ApiException.invalid(name, "'" + name + "' must be in [" + min + ", " + max + "], got " + v);
        return x;
    }

    /** A boolean; {@code fallback} when absent or null. */
    boolean bool(String name, boolean fallback) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw ApiException.invalid(name, "'" + name + "' must be true or false, got " + typeName(v));
        return v.asBoolean();
    }

    /** An object field; null when absent or null. */
    ObjectNode object(String name) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return null;
        if (!v.isObject()) throw ApiException.invalid(name, "'" + name + "' must be an object, got " + typeName(v));
        return (ObjectNode) v;
    }

    /**
     * A field OpenAI defines whose only value this server honours is {@code neutral} (e.g.
     * {@code n} = 1, {@code presence_penalty} = 0): absent, null or that value pass; any other
     * value is a 400 saying it is not supported, rather than being silently ignored.
     */
    void onlyNeutral(String name, JsonNode neutral, String why) {
        JsonNode v = body.get(name);
        if (v == null || v.isNull()) return;
        boolean same = neutral.isNumber() && v.isNumber() ? neutral.asDouble() == v.asDouble() : neutral.equals(v);
        if (!same) throw ApiException.invalid(name, "'" + name + "' " + why);
    }

    static String typeName(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
