package dev.attn4j.models.onnx;

import java.io.IOException;

/**
 * An ONNX file is not valid protobuf, or holds something the reader does not support (external
 * tensor data, an unknown element type). The message names the source and, where known, the
 * byte offset of the problem.
 */
public class OnnxFormatException extends IOException {
    private final String source;
    private final long offset;

    /** A problem at byte {@code offset} of {@code source} (a file name or resource); offset -1 if unknown. */
    public OnnxFormatException(String source, long offset, String problem) {
        super(source + (offset >= 0 ? ": at byte offset " + offset : "") + ": " + problem);
        this.source = source;
        this.offset = offset;
    }

    /** The file or resource that was being read. */
    public String source() {
        return source;
    }

    /** Byte offset of the problem in the source, or -1 when it is not tied to one place. */
    public long offset() {
        return offset;
    }
}
