package dev.attn4j.models.seq2seq;

import java.util.Arrays;
import java.util.Locale;

/** The sequence-to-sequence architectures, with their command-line names. */
public enum Arch {
    /** Encoder-decoder Transformer ({@link TransformerSeq2Seq}). */
    TRANSFORMER("transformer"),
    /** Bidirectional GRU encoder, GRU decoder with additive attention ({@link GruAttentionSeq2Seq}). */
    GRU_BAHDANAU("gru-bahdanau"),
    /** GRU encoder, GRU decoder with Luong "general" attention and input feeding ({@link GruAttentionSeq2Seq}). */
    GRU_LUONG("gru-luong");

    public final String cliName;

    Arch(String cliName) {
        this.cliName = cliName;
    }

    /** The architecture named {@code name} ("transformer", "gru-bahdanau", "gru-luong"). */
    public static Arch byName(String name) {
        for (Arch a : values()) {
            if (a.cliName.equals(name) || a.name().equals(name.toUpperCase(Locale.ROOT))) return a;
        }
        throw new IllegalArgumentException("unknown architecture '" + name + "'; expected one of "
                + Arrays.stream(values()).map(a -> a.cliName).toList());
    }
}
