package dev.attn4j.io.gguf;

/**
 * A tensor's entry in a GGUF file. {@code ne} is ggml's dimension order (ne[0] the contiguous,
 * innermost one; a Linear weight [out, in] has ne = [in, out]); {@link #shape()} is the PyTorch
 * order (reversed). {@code offset} is in bytes from the start of the data section.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long offset) {

    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    /** Dimensions outermost first, as PyTorch / numpy (gguf-py's reader) give them. */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) s[i] = ne[ne.length - 1 - i];
        return s;
    }

    /** Number of elements. */
    public long numel() {
        long n = 1;
        for (long d : ne) n = Math.multiplyExact(n, d);
        return n;
    }

    /** Bytes of data: numel / blockSize blocks of typeSize. */
    public long byteSize() {
        return Math.multiplyExact(numel() / type.blockSize(), (long) type.typeSize());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && t.name.equals(name) && t.type == type
                && java.util.Arrays.equals(t.ne, ne) && t.offset == offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + java.util.Arrays.hashCode(ne);
    }

    @Override
    public String toString() {
        return name + " " + type + " ne=" + java.util.Arrays.toString(ne) + " @" + offset;
    }
}
