package dev.attn4j.tokenizers;

/** A tokenizer file that cannot be loaded, or input that cannot be encoded with it. */
public class TokenizerException extends RuntimeException {
    /** Creates the exception with a message that names what is wrong. */
    public TokenizerException(String message) {
        super(message);
    }

    /** Creates the exception with a message and its cause. */
    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
