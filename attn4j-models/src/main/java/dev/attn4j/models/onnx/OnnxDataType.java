package dev.attn4j.models.onnx;

/** Element types of ONNX tensors ({@code TensorProto.DataType}), with their wire codes. */
public enum OnnxDataType {
    UNDEFINED(0, 0), FLOAT(1, 4), UINT8(2, 1), INT8(3, 1), UINT16(4, 2), INT16(5, 2), INT32(6, 4),
    INT64(7, 8), STRING(8, 0), BOOL(9, 1), FLOAT16(10, 2), DOUBLE(11, 8), UINT32(12, 4), UINT64(13, 8),
    COMPLEX64(14, 8), COMPLEX128(15, 16), BFLOAT16(16, 2);

    private final int code;
    private final int byteSize;

    OnnxDataType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** The {@code data_type} number stored in the file. */
    public int code() {
        return code;
    }

    /** Bytes per element in {@code raw_data} (0 for STRING and UNDEFINED). */
    public int byteSize() {
        return byteSize;
    }

    /** Whether the type is a real floating-point type (FLOAT, DOUBLE, FLOAT16, BFLOAT16). */
    public boolean isFloating() {
        return this == FLOAT || this == DOUBLE || this == FLOAT16 || this == BFLOAT16;
    }

    /** Whether the type is a signed or unsigned integer type. */
    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, INT32, INT64, UINT32, UINT64 -> true;
            default -> false;
        };
    }

    /** The type with wire code {@code code}, or null when it is not a known code. */
    public static OnnxDataType ofCode(int code) {
        for (OnnxDataType t : values()) {
            if (t.code == code) return t;
        }
        return null;
    }
}
