package dev.attn4j.tasks;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A character-level vocabulary: four special tokens (pad 0, bos 1, eos 2, unk 3) then one id
 * per character of an alphabet, in the alphabet's order.
 */
public final class CharVocab {
    public static final int PAD = 0;
    public static final int BOS = 1;
    public static final int EOS = 2;
    public static final int UNK = 3;
    private static final List<String> SPECIALS = List.of("<pad>", "<bos>", "<eos>", "<unk>");

    /** Every character the dates task can produce, sources and targets. */
    public static final String DATES_ALPHABET =
            " ,-./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    private final String alphabet;
    private final Map<Character, Integer> ids = new HashMap<>();

    public CharVocab(String alphabet) {
        this.alphabet = alphabet;
        for (int i = 0; i < alphabet.length(); i++) {
            if (ids.put(alphabet.charAt(i), SPECIALS.size() + i) != null) {
                throw new IllegalArgumentException("alphabet repeats '" + alphabet.charAt(i) + "'");
            }
        }
    }

    public static CharVocab dates() {
        return new CharVocab(DATES_ALPHABET);
    }

    public String alphabet() {
        return alphabet;
    }

    public int size() {
        return SPECIALS.size() + alphabet.length();
    }

    /** Ids of the characters of {@code text}; unknown characters map to {@link #UNK}. */
    public int[] encode(String text) {
        int[] out = new int[text.length()];
        for (int i = 0; i < text.length(); i++) out[i] = ids.getOrDefault(text.charAt(i), UNK);
        return out;
    }

    /** The text of {@code ids}, stopping at EOS and skipping PAD/BOS; UNK shows as U+FFFD. */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id == EOS) break;
            if (id == PAD || id == BOS) continue;
            sb.append(token(id));
        }
        return sb.toString();
    }

    /** The printable form of one id: its character or the special token's name. */
    public String token(int id) {
        if (id < 0 || id >= size()) throw new IllegalArgumentException("id " + id + " out of range for vocabulary of " + size());
        if (id == UNK) return "\uFFFD";
        return id < SPECIALS.size() ? SPECIALS.get(id) : String.valueOf(alphabet.charAt(id - SPECIALS.size()));
    }
}
