package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The decoding of transformers' slow SentencePiece tokenizers ({@code PreTrainedTokenizer._decode}
 * with {@code convert_tokens_to_string}) for the seq2seq layouts without a {@code tokenizer.json}:
 * the tokens are cut into groups at the legacy added tokens (T5's {@code <extra_id_N>} above the
 * SentencePiece vocabulary), each group becomes text, and the groups are joined with spaces; then
 * {@code clean_up_tokenization_spaces} when the tokenizer config asks for it. Within a group the
 * pieces between special tokens are decoded by SentencePiece ({@link SentencePiece#decodePieces})
 * and the special tokens written as they are:
 *
 * <ul>
 * <li>{@link Style#MARIAN} ({@code MarianTokenizer}, the target model's pieces): each special
 *     token followed by a space, then {@code ▁} read as a space and the text stripped;</li>
 * <li>{@link Style#T5} ({@code T5Tokenizer}, {@code add_prefix_space}): the first token loses a
 *     leading {@code ▁}; a space before a special token unless the previous token was special;
 *     the text stripped.</li>
 * </ul>
 */
record SlowSentencePieceDecoder(SentencePiece.ModelProto model, Map<String, Integer> index, Set<String> specials,
                                Set<String> groupBreaks, Style style, boolean cleanUp) implements Decoders.Decoder {
    enum Style { MARIAN, T5 }

    @Override
    public List<String> decodeChain(List<String> tokens) {
        List<String> groups = new ArrayList<>();
        List<String> current = new ArrayList<>();
        for (String t : tokens) {
            if (groupBreaks.contains(t)) {
                if (!current.isEmpty()) {
                    String g = toText(current);
                    if (!g.isEmpty()) groups.add(g);
                    current = new ArrayList<>();
                }
                groups.add(t);
            } else {
                current.add(t);
            }
        }
        if (!current.isEmpty()) groups.add(toText(current));
        String text = String.join(" ", groups);
        return List.of(cleanUp ? cleanUpSpaces(text) : text);
    }

    /** {@code convert_tokens_to_string}. */
    private String toText(List<String> tokens) {
        StringBuilder out = new StringBuilder();
        List<String> sub = new ArrayList<>();
        if (style == Style.MARIAN) {
            for (String t : tokens) {
                if (specials.contains(t)) {
                    out.append(SentencePiece.decodePieces(model, index, sub)).append(t).append(' ');
                    sub.clear();
                } else {
                    sub.add(t);
                }
            }
            out.append(SentencePiece.decodePieces(model, index, sub));
            return Py.strip(out.toString().replace('\u2581', ' '), null, true, true);
        }
        boolean prevSpecial = false;
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (i == 0 && t.startsWith("\u2581")) t = t.substring(1);
            if (specials.contains(t)) {
                if (!prevSpecial) out.append(' ');
                out.append(SentencePiece.decodePieces(model, index, sub)).append(t);
                prevSpecial = true;
                sub.clear();
            } else {
                sub.add(t);
                prevSpecial = false;
            }
        }
        out.append(SentencePiece.decodePieces(model, index, sub));
        return Py.strip(out.toString(), null, true, true);
    }

    /** {@code PreTrainedTokenizerBase.clean_up_tokenization}. */
    static String cleanUpSpaces(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s").replace(" 've", "'ve").replace(" 're", "'re");
    }
}
