package dev.attn4j.models.onnx;

import dev.attn4j.tensor.NDArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One {@code TensorProto}: name, element type, dimensions and data. The data is either
 * {@code raw_data} (little-endian bytes, kept as a slice of the parsed bytes, not copied) or one of
 * the typed repeated fields ({@code float_data}, {@code int32_data}, {@code int64_data},
 * {@code double_data}). Tensors whose data lives in an external file are recognised and refused
 * when their values are asked for.
 */
public final class OnnxTensor {
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final String name;
    private final OnnxDataType dataType;
    private final long[] dims;
    private final String source;
    private final long offset;
    private final MemorySegment rawData;
    private final float[] floatData;
    private final long[] int32Data;
    private final long[] int64Data;
    private final double[] doubleData;
    private final boolean external;

    OnnxTensor(String name, OnnxDataType dataType, long[] dims, String source, long offset, MemorySegment rawData,
               float[] floatData, long[] int32Data, long[] int64Data, double[] doubleData, boolean external) {
        this.name = name;
        this.dataType = dataType;
        this.dims = dims;
        this.source = source;
        this.offset = offset;
        this.rawData = rawData;
        this.floatData = floatData;
        this.int32Data = int32Data;
        this.int64Data = int64Data;
        this.doubleData = doubleData;
        this.external = external;
    }

    /** The tensor's name ("" when it has none, e.g. a Constant node's value). */
    public String name() {
        return name;
    }

    /** Element type. */
    public OnnxDataType dataType() {
        return dataType;
    }

    /** Dimensions (a copy); empty for a scalar. */
    public long[] dims() {
        return dims.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Number of elements (product of the dimensions; 1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : dims) n *= d;
        return n;
    }

    /** Byte offset of this TensorProto in its source, for error messages. */
    public long offset() {
        return offset;
    }

    /** Whether the values are stored in an external file (not supported for reading). */
    public boolean isExternal() {
        return external;
    }

    /** The dimensions as ints, for {@link NDArray} shapes. */
    public int[] intDims() throws OnnxFormatException {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] > Integer.MAX_VALUE) {
                throw new OnnxFormatException(source, offset, "tensor '" + name + "' dimension " + i + " is " + dims[i]
                        + ", too large for an array");
            }
            out[i] = (int) dims[i];
        }
        return out;
    }

    /**
     * The values as floats (FLOAT, DOUBLE, FLOAT16 and BFLOAT16 tensors), row-major.
     *
     * @throws OnnxFormatException for another element type, external data, or a data length that
     *                             does not match the dimensions
     */
    public float[] floats() throws OnnxFormatException {
        int n = checkedNumel();
        float[] out = new float[n];
        if (rawData != null) {
            checkRawLength(n);
            switch (dataType) {
                case FLOAT -> MemorySegment.copy(rawData, F32_LE, 0, out, 0, n);
                case DOUBLE -> { for (int i = 0; i < n; i++) out[i] = (float) rawData.getAtIndex(F64_LE, i); }
                case FLOAT16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(rawData.getAtIndex(I16_LE, i)); }
                case BFLOAT16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((rawData.getAtIndex(I16_LE, i) & 0xffff) << 16); }
                default -> throw notType("floating-point");
            }
            return out;
        }
        switch (dataType) {
            case FLOAT -> { checkTyped(floatData == null ? 0 : floatData.length, n, "float_data"); if (n > 0) System.arraycopy(floatData, 0, out, 0, n); }
            case DOUBLE -> { checkTyped(doubleData == null ? 0 : doubleData.length, n, "double_data"); for (int i = 0; i < n; i++) out[i] = (float) doubleData[i]; }
            case FLOAT16 -> { checkTyped(int32Data == null ? 0 : int32Data.length, n, "int32_data"); for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat((short) int32Data[i]); }
            case BFLOAT16 -> { checkTyped(int32Data == null ? 0 : int32Data.length, n, "int32_data"); for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat(((int) int32Data[i] & 0xffff) << 16); }
            default -> throw notType("floating-point");
        }
        return out;
    }

    /**
     * The values as longs (INT64, INT32, INT16, INT8, UINT8, UINT16, UINT32, BOOL tensors), row-major.
     *
     * @throws OnnxFormatException for another element type, external data, or a data length that
     *                             does not match the dimensions
     */
    public long[] longs() throws OnnxFormatException {
        int n = checkedNumel();
        long[] out = new long[n];
        if (rawData != null) {
            checkRawLength(n);
            for (int i = 0; i < n; i++) {
                out[i] = switch (dataType) {
                    case INT64, UINT64 -> rawData.getAtIndex(I64_LE, i);
                    case INT32 -> rawData.getAtIndex(I32_LE, i);
                    case UINT32 -> rawData.getAtIndex(I32_LE, i) & 0xffffffffL;
                    case INT16 -> rawData.getAtIndex(I16_LE, i);
                    case UINT16 -> rawData.getAtIndex(I16_LE, i) & 0xffff;
                    case INT8 -> rawData.get(ValueLayout.JAVA_BYTE, i);
                    case UINT8, BOOL -> rawData.get(ValueLayout.JAVA_BYTE, i) & 0xff;
                    default -> throw notType("integer");
                };
            }
            return out;
        }
        long[] src = switch (dataType) {
            case INT64 -> int64Data;
            case UINT64, UINT32 -> int64Data; // uint64_data is read into the same list
            case INT32, INT16, INT8, UINT8, UINT16, BOOL -> int32Data;
            default -> throw notType("integer");
        };
        checkTyped(src == null ? 0 : src.length, n, "typed data");
        if (n > 0) System.arraycopy(src, 0, out, 0, n);
        return out;
    }

    /** The values as an F32 {@link NDArray} of this tensor's shape (floating-point tensors only). */
    public NDArray toNDArray() throws OnnxFormatException {
        int[] shape = intDims();
        return NDArray.of(floats(), shape);
    }

    @Override
    public String toString() {
        return "OnnxTensor['" + name + "' " + dataType + " " + Arrays.toString(dims) + "]";
    }

    private int checkedNumel() throws OnnxFormatException {
        if (external) {
            throw new OnnxFormatException(source, offset, "tensor '" + name
                    + "' keeps its data in an external file; external data is not supported");
        }
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new OnnxFormatException(source, offset, "tensor '" + name + "' has a negative dimension: "
                        + Arrays.toString(dims));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException overflow) {
                n = Long.MAX_VALUE;
            }
            if (n > Integer.MAX_VALUE - 8) {
                throw new OnnxFormatException(source, offset, "tensor '" + name + "' " + Arrays.toString(dims)
                        + " has too many elements for one array");
            }
        }
        return (int) n;
    }

    private void checkRawLength(int n) throws OnnxFormatException {
        long want = (long) n * dataType.byteSize();
        if (dataType.byteSize() == 0 || rawData.byteSize() != want) {
            throw new OnnxFormatException(source, offset, "tensor '" + name + "' " + dataType + " "
                    + Arrays.toString(dims) + " needs " + want + " bytes of raw_data, found " + rawData.byteSize());
        }
    }

    private void checkTyped(int have, int n, String field) throws OnnxFormatException {
        if (have != n) {
            throw new OnnxFormatException(source, offset, "tensor '" + name + "' " + dataType + " "
                    + Arrays.toString(dims) + " needs " + n + " values in " + field + ", found " + have);
        }
    }

    private OnnxFormatException notType(String wanted) {
        return new OnnxFormatException(source, offset, "tensor '" + name + "' has element type " + dataType
                + ", expected " + wanted);
    }
}
