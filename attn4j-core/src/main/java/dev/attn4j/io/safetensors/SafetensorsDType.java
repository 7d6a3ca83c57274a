package dev.attn4j.io.safetensors;

/**
 * Element types of the safetensors format, named exactly as in the JSON header. Sizes are in
 * bits because the 4- and 6-bit float formats pack several elements per byte.
 */
public enum SafetensorsDType {
    BOOL(8),
    F4(4),
    F6_E2M3(6),
    F6_E3M2(6),
    U8(8),
    I8(8),
    F8_E5M2(8),
    F8_E4M3(8),
    F8_E8M0(8),
    I16(16),
    U16(16),
    F16(16),
    BF16(16),
    I32(32),
    U32(32),
    F32(32),
    F64(64),
    I64(64),
    U64(64),
    C64(64);

    private final int bits;

    SafetensorsDType(int bits) {
        this.bits = bits;
    }

    /** Bits per element. */
    public int bits() {
        return bits;
    }

    /** Whether elements are integers (including BOOL, stored as one byte 0/1). */
    public boolean isInteger() {
        return switch (this) {
            case BOOL, U8, I8, I16, U16, I32, U32, I64, U64 -> true;
            default -> false;
        };
    }

    /** Whether {@link SafetensorsFile#get} can convert this type to F32. */
    public boolean convertibleToF32() {
        return switch (this) {
            case F4, F6_E2M3, F6_E3M2, C64 -> false;
            default -> true;
        };
    }

    /** The enum constant for a header dtype string, or null when there is none. */
    public static SafetensorsDType fromHeader(String name) {
        for (SafetensorsDType t : values()) {
            if (t.name().equals(name)) return t;
        }
        return null;
    }
}
