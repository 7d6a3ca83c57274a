package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/** The input split in pieces, each normalized on its own and, once tokenized, holding its tokens. */
final class PreTokenizedString {
    /** One piece: its normalized string and its tokens (null until tokenized). */
    static final class Split {
        final NormalizedString normalized;
        List<Token> tokens;

        Split(NormalizedString normalized, List<Token> tokens) {
            this.normalized = normalized;
            this.tokens = tokens;
        }
    }

    final String original;
    List<Split> splits = new ArrayList<>();

    PreTokenizedString(String s) {
        original = s;
        splits.add(new Split(new NormalizedString(s), null));
    }

    /** Replaces every untokenized split by the pieces {@code f} returns; empty pieces are dropped. */
    void split(Function<NormalizedString, List<NormalizedString>> f) {
        List<Split> out = new ArrayList<>(splits.size() * 2);
        for (Split s : splits) {
            if (s.tokens != null) {
                out.add(s);
                continue;
            }
            for (NormalizedString piece : f.apply(s.normalized)) {
                if (!piece.isEmpty()) {
                    out.add(new Split(piece, null));
                }
            }
        }
        splits = out;
    }

    /** Like {@link #split} but the function may also return tokens for a piece. */
    void splitWithTokens(Function<NormalizedString, List<Split>> f) {
        List<Split> out = new ArrayList<>(splits.size() * 2);
        for (Split s : splits) {
            if (s.tokens != null) {
                out.add(s);
                continue;
            }
            for (Split piece : f.apply(s.normalized)) {
                if (!piece.normalized.isEmpty()) {
                    out.add(piece);
                }
            }
        }
        splits = out;
    }

    /** Applies {@code f} to every untokenized split in place. */
    void normalize(Consumer<NormalizedString> f) {
        for (Split s : splits) {
            if (s.tokens == null) {
                f.accept(s.normalized);
            }
        }
    }
}
