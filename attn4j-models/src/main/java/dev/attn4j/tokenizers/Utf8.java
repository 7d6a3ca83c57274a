package dev.attn4j.tokenizers;

/** UTF-8 helpers. */
final class Utf8 {
    private Utf8() {
    }

    /** Writes the UTF-8 bytes of {@code c} (a lone surrogate as its 3-byte form) and returns their count. */
    static int encode(int c, byte[] out) {
        if (c < 0x80) {
            out[0] = (byte) c;
            return 1;
        } else if (c < 0x800) {
            out[0] = (byte) (0xC0 | (c >> 6));
            out[1] = (byte) (0x80 | (c & 0x3F));
            return 2;
        } else if (c < 0x10000) {
            out[0] = (byte) (0xE0 | (c >> 12));
            out[1] = (byte) (0x80 | ((c >> 6) & 0x3F));
            out[2] = (byte) (0x80 | (c & 0x3F));
            return 3;
        } else {
            out[0] = (byte) (0xF0 | (c >> 18));
            out[1] = (byte) (0x80 | ((c >> 12) & 0x3F));
            out[2] = (byte) (0x80 | ((c >> 6) & 0x3F));
            out[3] = (byte) (0x80 | (c & 0x3F));
            return 4;
        }
    }

    /** Number of UTF-8 bytes of {@code c}. */
    static int length(int c) {
        return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    }
}
