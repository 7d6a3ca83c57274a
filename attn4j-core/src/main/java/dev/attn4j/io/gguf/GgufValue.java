package dev.attn4j.io.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One typed GGUF metadata value. {@code value} holds: for the integer types a {@link Long}
 * (UINT8..UINT32 zero-extended, INT* sign-extended, UINT64 as its two's-complement bits), for
 * FLOAT32 a {@link Float}, FLOAT64 a {@link Double}, BOOL a {@link Boolean}, STRING a
 * {@link String}, and for ARRAY an unmodifiable {@code List<GgufValue>} whose elements all have
 * {@code elementType} (arrays may nest). Records compare by type and value, so a value read back
 * equals the one written.
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        if (type == GgufValueType.ARRAY) {
            Objects.requireNonNull(elementType, "array element type");
            List<?> l = (List<?>) value;
            for (Object o : l) {
                if (!(o instanceof GgufValue g) || g.type != elementType) {
                    throw new IllegalArgumentException("array of " + elementType + " holds " + o);
                }
            }
            value = List.copyOf(l);
        } else {
            if (elementType != null) throw new IllegalArgumentException(type + " has no element type");
            switch (type) {
                case FLOAT32 -> check(value instanceof Float, type, value);
                case FLOAT64 -> check(value instanceof Double, type, value);
                case BOOL -> check(value instanceof Boolean, type, value);
                case STRING -> check(value instanceof String, type, value);
                default -> {
                    check(value instanceof Long, type, value);
                    long v = (Long) value;
                    boolean ok = switch (type) {
                        case UINT8 -> v >= 0 && v <= 0xFF;
                        case INT8 -> v >= Byte.MIN_VALUE && v <= Byte.MAX_VALUE;
                        case UINT16 -> v >= 0 && v <= 0xFFFF;
                        case INT16 -> v >= Short.MIN_VALUE && v <= Short.MAX_VALUE;
                        case UINT32 -> v >= 0 && v <= 0xFFFFFFFFL;
                        case INT32 -> v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE;
                        default -> true;
                    };
                    if (!ok) throw new IllegalArgumentException(v + " does not fit " + type);
                }
            }
        }
    }

    private static void check(boolean ok, GgufValueType type, Object value) {
        if (!ok) throw new IllegalArgumentException(type + " value must not be " + value.getClass().getSimpleName());
    }

    public static GgufValue of(GgufValueType integerType, long v) { return new GgufValue(integerType, null, v); }
    public static GgufValue ofU32(long v) { return of(GgufValueType.UINT32, v); }
    public static GgufValue ofI32(int v) { return of(GgufValueType.INT32, v); }
    public static GgufValue ofU64(long v) { return of(GgufValueType.UINT64, v); }
    public static GgufValue ofF32(float v) { return new GgufValue(GgufValueType.FLOAT32, null, v); }
    public static GgufValue ofF64(double v) { return new GgufValue(GgufValueType.FLOAT64, null, v); }
    public static GgufValue ofBool(boolean v) { return new GgufValue(GgufValueType.BOOL, null, v); }
    public static GgufValue ofString(String v) { return new GgufValue(GgufValueType.STRING, null, v); }

    public static GgufValue ofArray(GgufValueType elementType, List<GgufValue> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, values);
    }

    public static GgufValue ofStrings(List<String> values) {
        return ofArray(GgufValueType.STRING, values.stream().map(GgufValue::ofString).toList());
    }

    /** An integer value (any integer type) as a long; IllegalStateException for other types. */
    public long asLong() {
        if (value instanceof Long l) return l;
        throw new IllegalStateException(type + " value is not an integer");
    }

    /** A FLOAT32, FLOAT64 or integer value as a double. */
    public double asDouble() {
        if (value instanceof Number n) {
            if (type == GgufValueType.UINT64 && n.longValue() < 0) return Double.parseDouble(Long.toUnsignedString(n.longValue()));
            return n.doubleValue();
        }
        throw new IllegalStateException(type + " value is not a number");
    }

    public boolean asBoolean() {
        if (value instanceof Boolean b) return b;
        throw new IllegalStateException(type + " value is not a bool");
    }

    public String asString() {
        if (value instanceof String s) return s;
        throw new IllegalStateException(type + " value is not a string");
    }

    @SuppressWarnings("unchecked")
    public List<GgufValue> asList() {
        if (type == GgufValueType.ARRAY) return (List<GgufValue>) value;
        throw new IllegalStateException(type + " value is not an array");
    }

    @Override
    public String toString() {
        return type == GgufValueType.ARRAY ? "ARRAY<" + elementType + ">[" + asList().size() + "]" : type + " " + value;
    }
}
