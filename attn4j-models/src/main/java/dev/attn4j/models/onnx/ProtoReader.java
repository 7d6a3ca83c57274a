package dev.attn4j.models.onnx;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads one protobuf message in wire format (varint, 64-bit, length-delimited and 32-bit fields)
 * from a byte range of a {@link MemorySegment}. Offsets are absolute in the segment, so errors can
 * name the byte offset in the file. Groups (wire types 3 and 4, deprecated) are rejected.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment seg;
    private final String source;
    private final String message;
    private final long end;
    private long pos;
    private int fieldNumber;
    private int wireType;
    private long fieldStart;

    /** Reads {@code message} (a type name for error messages) from bytes [start, end) of {@code seg}. */
    ProtoReader(MemorySegment seg, String source, String message, long start, long end) {
        this.seg = seg;
        this.source = source;
        this.message = message;
        this.pos = start;
        this.end = end;
    }

    String source() {
        return source;
    }

    MemorySegment segment() {
        return seg;
    }

    /**
     * Moves to the next field; false at the end of the message.
     *
     * @throws OnnxFormatException for a malformed tag, field number 0 or a group wire type
     */
    boolean next() throws OnnxFormatException {
        if (pos >= end) {
            return false;
        }
        fieldStart = pos;
        long key = readVarint();
        fieldNumber = (int) (key >>> 3);
        wireType = (int) (key & 7);
        if ((key >>> 3) > Integer.MAX_VALUE || fieldNumber == 0) {
            throw error(fieldStart, "invalid field number " + (key >>> 3) + " in " + message);
        }
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32) {
            throw error(fieldStart, "field " + fieldNumber + " of " + message + " has wire type " + wireType
                    + " (groups and unknown wire types are not supported)");
        }
        return true;
    }

    int field() {
        return fieldNumber;
    }

    int wireType() {
        return wireType;
    }

    /** Byte offset of the current field's tag. */
    long fieldOffset() {
        return fieldStart;
    }

    /** The current field as an unsigned varint (also accepts int32/int64/enum/bool). */
    long varint() throws OnnxFormatException {
        expect(VARINT);
        return readVarint();
    }

    /** The current varint field as an int (int32 fields are sign-extended to 64 bits on the wire). */
    int int32() throws OnnxFormatException {
        long v = varint();
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw error(fieldStart, "field " + fieldNumber + " of " + message + " does not fit in 32 bits: " + v);
        }
        return (int) v;
    }

    /** The current 32-bit field as a float. */
    float fixed32Float() throws OnnxFormatException {
        expect(FIXED32);
        need(4);
        float f = Float.intBitsToFloat(seg.get(INT_LE, pos));
        pos += 4;
        return f;
    }

    /** The current 64-bit field as a double. */
    double fixed64Double() throws OnnxFormatException {
        expect(FIXED64);
        need(8);
        double d = Double.longBitsToDouble(seg.get(LONG_LE, pos));
        pos += 8;
        return d;
    }

    /** The payload of the current length-delimited field, as [start, end) offsets; moves past it. */
    long[] bytesRange() throws OnnxFormatException {
        expect(LENGTH_DELIMITED);
        long len = readVarint();
        if (len < 0 || len > end - pos) {
            throw error(fieldStart, "field " + fieldNumber + " of " + message + " has length " + len
                    + " but only " + (end - pos) + " bytes are left in the " + message + " (truncated or corrupt file)");
        }
        long start = pos;
        pos += len;
        return new long[] {start, pos};
    }

    /** A reader for the embedded message held by the current length-delimited field. */
    ProtoReader message(String type) throws OnnxFormatException {
        long[] r = bytesRange();
        return new ProtoReader(seg, source, type, r[0], r[1]);
    }

    /** The current length-delimited field as UTF-8 text. */
    String string() throws OnnxFormatException {
        long at = fieldStart;
        long[] r = bytesRange();
        long n = r[1] - r[0];
        if (n > Integer.MAX_VALUE) {
            throw error(at, "string field " + fieldNumber + " of " + message + " is " + n + " bytes long");
        }
        byte[] b = seg.asSlice(r[0], n).toArray(ValueLayout.JAVA_BYTE);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw error(at, "string field " + fieldNumber + " of " + message + " is not valid UTF-8");
        }
    }

    /** The current length-delimited field as a slice of the segment (no copy). */
    MemorySegment bytes() throws OnnxFormatException {
        long[] r = bytesRange();
        return seg.asSlice(r[0], r[1] - r[0]);
    }

    /**
     * Appends a repeated varint field to {@code out}: one value if unpacked, all of them if
     * packed (a length-delimited run of varints).
     */
    void repeatedVarint(LongList out) throws OnnxFormatException {
        if (wireType == VARINT) {
            out.add(readVarint());
            return;
        }
        long at = fieldStart;
        long[] r = bytesRange();
        long save = pos;
        pos = r[0];
        try {
            while (pos < r[1]) {
                out.add(readVarintBounded(r[1], at));
            }
        } finally {
            pos = save;
        }
    }

    /** Appends a repeated float field (packed or not) to {@code out}. */
    void repeatedFloat(FloatList out) throws OnnxFormatException {
        if (wireType == FIXED32) {
            out.add(fixed32Float());
            return;
        }
        long at = fieldStart;
        long[] r = bytesRange();
        long n = r[1] - r[0];
        if (n % 4 != 0) {
            throw error(at, "packed float field " + fieldNumber + " of " + message + " has " + n
                    + " bytes, not a multiple of 4");
        }
        for (long p = r[0]; p < r[1]; p += 4) {
            out.add(Float.intBitsToFloat(seg.get(INT_LE, p)));
        }
    }

    /** Appends a repeated double field (packed or not) to {@code out}. */
    void repeatedDouble(DoubleList out) throws OnnxFormatException {
        if (wireType == FIXED64) {
            out.add(fixed64Double());
            return;
        }
        long at = fieldStart;
        long[] r = bytesRange();
        long n = r[1] - r[0];
        if (n % 8 != 0) {
            throw error(at, "packed double field " + fieldNumber + " of " + message + " has " + n
                    + " bytes, not a multiple of 8");
        }
        for (long p = r[0]; p < r[1]; p += 8) {
            out.add(Double.longBitsToDouble(seg.get(LONG_LE, p)));
        }
    }

    /** Skips the current field's value. */
    void skip() throws OnnxFormatException {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> { need(8); pos += 8; }
            case FIXED32 -> { need(4); pos += 4; }
            case LENGTH_DELIMITED -> bytesRange();
            default -> throw new IllegalStateException("wire type " + wireType);
        }
    }

    OnnxFormatException error(long offset, String problem) {
        return new OnnxFormatException(source, offset, problem);
    }

    private void expect(int wt) throws OnnxFormatException {
        if (wireType != wt) {
            throw error(fieldStart, "field " + fieldNumber + " of " + message + " has wire type " + wireType
                    + ", expected " + wt);
        }
    }

    private void need(long n) throws OnnxFormatException {
        if (end - pos < n) {
            throw error(fieldStart, "field " + fieldNumber + " of " + message + " needs " + n + " bytes but only "
                    + (end - pos) + " are left (truncated or corrupt file)");
        }
    }

    private long readVarint() throws OnnxFormatException {
        return readVarintBounded(end, pos);
    }

    private long readVarintBounded(long limit, long errorAt) throws OnnxFormatException {
        long result = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= limit) {
                throw error(errorAt, "varint runs past the end of the " + message + " (truncated or corrupt file)");
            }
            byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw error(errorAt, "varint longer than 10 bytes in " + message + " (corrupt file)");
    }

    /** A growable list of longs. */
    static final class LongList {
        private long[] a = new long[4];
        private int n;

        void add(long v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int size() {
            return n;
        }

        long[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }

    /** A growable list of floats. */
    static final class FloatList {
        private float[] a = new float[4];
        private int n;

        void add(float v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int size() {
            return n;
        }

        float[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }

    /** A growable list of doubles. */
    static final class DoubleList {
        private double[] a = new double[4];
        private int n;

        void add(double v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, n * 2);
            a[n++] = v;
        }

        int size() {
            return n;
        }

        double[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
