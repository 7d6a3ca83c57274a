package dev.attn4j.io.gguf;

/** The types of GGUF metadata values ({@code enum gguf_type}), by the number the file stores. */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(8), ARRAY(12),
    UINT64(8), INT64(8), FLOAT64(8);

    private final int minBytes;

    GgufValueType(int minBytes) {
        this.minBytes = minBytes;
    }

    /** The number stored in the file (the ordinal: the enum is in file order). */
    public int id() { return ordinal(); }

    /** The fewest bytes a value of this type takes in a file (an empty string or array: its header). */
    int minBytes() { return minBytes; }

    /** The type numbered {@code id}, or null. */
    public static GgufValueType of(long id) {
        return id >= 0 && id < values().length ? values()[(int) id] : null;
    }
}
