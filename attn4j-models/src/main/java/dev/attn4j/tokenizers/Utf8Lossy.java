package dev.attn4j.tokenizers;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 decoding with Rust's from_utf8_lossy replacement rules. */
final class Utf8Lossy {
    private Utf8Lossy() {
    }

    /** Decodes {@code b}, each maximal invalid subpart becoming one U+FFFD. */
    static String decode(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length);
        int i = 0;
        while (i < b.length) {
            int x = b[i] & 0xFF;
            if (x < 0x80) {
                sb.append((char) x);
                i++;
                continue;
            }
            int need;
            int lo = 0x80;
            int hi = 0xBF;
            if (x >= 0xC2 && x <= 0xDF) {
                need = 1;
            } else if (x >= 0xE0 && x <= 0xEF) {
                need = 2;
                if (x == 0xE0) {
                    lo = 0xA0;
                } else if (x == 0xED) {
                    hi = 0x9F;
                }
            } else if (x >= 0xF0 && x <= 0xF4) {
                need = 3;
                if (x == 0xF0) {
                    lo = 0x90;
                } else if (x == 0xF4) {
                    hi = 0x8F;
                }
            } else {
                sb.append('\uFFFD');
                i++;
                continue;
            }
            int cp = x & (0x3F >> need);
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                if (j >= b.length) {
                    ok = false;
                    break;
                }
                int y = b[j] & 0xFF;
                int l = k == 0 ? lo : 0x80;
                int h = k == 0 ? hi : 0xBF;
                if (y < l || y > h) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (y & 0x3F);
            }
            if (ok) {
                sb.appendCodePoint(cp);
                i = j;
            } else {
                sb.append('\uFFFD');
                i = j; // skip the maximal valid prefix of the broken sequence
            }
        }
        return sb.toString();
    }

    /** Decodes valid UTF-8, or returns null. */
    static String decodeStrict(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
