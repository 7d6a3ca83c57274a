package dev.attn4j.models.onnx;

import java.io.IOException;

/**
 * An ONNX graph parsed fine but cannot be turned into a Hugging Face state dict: an initializer
 * that matches no parameter, a missing or misshapen parameter, a value that cannot be derived.
 * The message names the source and the initializers or keys concerned.
 */
public class OnnxImportException extends IOException {
    /** {@code problem} is appended to {@code source + ": "}. */
    public OnnxImportException(String source, String problem) {
        super(source + ": " + problem);
    }
}
