package dev.attn4j.generate;

/** Why a sequence stopped. {@link #label()} gives the names used in JSON output. */
public enum StopReason {
    /** It produced one of the EOS ids (included in its tokens). */
    EOS("eos"),
    /** It reached {@code max_new_tokens} / {@code max_length}. */
    LENGTH("length"),
    /** Its text ended with a stop string (the token completing it is included). */
    STOP_STRING("stop_string");

    private final String label;

    StopReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
