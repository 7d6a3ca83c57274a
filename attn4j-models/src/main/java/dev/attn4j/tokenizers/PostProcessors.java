package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The post-processors of tokenizer.json: add special tokens, set type ids, fix offsets. */
final class PostProcessors {
    private PostProcessors() {
    }

    /** Rewrites the encodings of one input (one or two sequences) before they are merged. */
    interface PostProcessor {
        /** Tokens this processor adds, for truncation. */
        int addedTokens(boolean isPair);

        List<Enc> processEncodings(List<Enc> encodings, boolean addSpecialTokens);
    }

    /** [CLS] A [SEP] (B [SEP]); type ids 0 for A, 1 for B. */
    record Bert(String sep, int sepId, String cls, int clsId) implements PostProcessor {
        @Override
        public int addedTokens(boolean isPair) {
            return isPair ? 3 : 2;
        }

        @Override
        public List<Enc> processEncodings(List<Enc> encodings, boolean addSpecialTokens) {
            if (!addSpecialTokens) {
                return encodings;
            }
            List<Enc> out = new ArrayList<>();
            for (int i = 0; i < encodings.size(); i++) {
                Enc e = encodings.get(i);
                if (i == 0) {
                    e.setTypeIds(0);
                    out.add(Enc.merge(List.of(Enc.special(new int[] {clsId}, new String[] {cls}, 0, -1), e,
                            Enc.special(new int[] {sepId}, new String[] {sep}, 0, -1))));
                } else {
                    out.add(Enc.merge(List.of(e, Enc.special(new int[] {sepId}, new String[] {sep}, 1, -1))));
                }
            }
            return out;
        }
    }

    /** &lt;s&gt; A &lt;/s&gt; (&lt;/s&gt; B &lt;/s&gt;); type ids all 0; optional offset trimming. */
    record Roberta(String sep, int sepId, String cls, int clsId, boolean trimOffsets, boolean addPrefixSpace)
            implements PostProcessor {
        @Override
        public int addedTokens(boolean isPair) {
            return isPair ? 4 : 2;
        }

        @Override
        public List<Enc> processEncodings(List<Enc> encodings, boolean addSpecialTokens) {
            if (trimOffsets) {
                for (Enc e : encodings) {
                    ByteLevel.trim(e, addPrefixSpace);
                }
            }
            if (!addSpecialTokens) {
                return encodings;
            }
            List<Enc> out = new ArrayList<>();
            for (int i = 0; i < encodings.size(); i++) {
                Enc e = encodings.get(i);
                e.setTypeIds(0);
                Enc first = i == 0 ? Enc.special(new int[] {clsId}, new String[] {cls}, 0, -1)
                        : Enc.special(new int[] {sepId}, new String[] {sep}, 0, -1);
                out.add(Enc.merge(List.of(first, e, Enc.special(new int[] {sepId}, new String[] {sep}, 0, -1))));
            }
            return out;
        }
    }

    /** Byte-level offset trimming only. */
    record ByteLevel(boolean trimOffsets, boolean addPrefixSpace) implements PostProcessor {
        @Override
        public int addedTokens(boolean isPair) {
            return 0;
        }

        @Override
        public List<Enc> processEncodings(List<Enc> encodings, boolean addSpecialTokens) {
            if (trimOffsets) {
                for (Enc e : encodings) {
                    trim(e, addPrefixSpace);
                }
            }
            return encodings;
        }

        private static boolean isSpaceLike(int c) {
            return c == ByteChars.BYTE_TO_CHAR[' '] || CharClass.isWhitespace(c);
        }

        /** Moves offsets past leading/trailing spaces of each token (Rust process_offsets). */
        static void trim(Enc e, boolean addPrefixSpace) {
            for (int i = 0; i < e.length(); i++) {
                int[] cps = e.tokens[i].codePoints().toArray();
                int lead = 0;
                while (lead < cps.length && isSpaceLike(cps[lead])) {
                    lead++;
                }
                int trail = 0;
                while (trail < cps.length && isSpaceLike(cps[cps.length - 1 - trail])) {
                    trail++;
                }
                if (lead > 0) {
                    boolean isFirst = i == 0 || e.starts[i] == 0;
                    if (isFirst && addPrefixSpace && lead == 1) {
                        lead = 0;
                    }
                    e.starts[i] = Math.min(e.starts[i] + lead, e.ends[i]);
                }
                if (trail > 0 && e.ends[i] >= trail) {
                    e.ends[i] = Math.max(e.ends[i] - trail, e.starts[i]);
                }
            }
        }
    }

    /** One piece of a template: a sequence (A = 0, B = 1) or a special token, with a type id. */
    record Piece(boolean isSequence, int sequence, String specialId, int typeId) {
    }

    /** A special token of a template: its ids and token strings. */
    record SpecialToken(String id, int[] ids, String[] tokens) {
    }

    /** Templates such as "[CLS] $A [SEP]" / "[CLS] $A [SEP] $B:1 [SEP]:1". */
    record Template(List<Piece> single, List<Piece> pair, Map<String, SpecialToken> specialTokens)
            implements PostProcessor {
        @Override
        public int addedTokens(boolean isPair) {
            int n = 0;
            for (Piece p : isPair ? pair : single) {
                if (!p.isSequence()) {
                    n += specialTokens.get(p.specialId()).ids().length;
                }
            }
            return n;
        }

        @Override
        public List<Enc> processEncodings(List<Enc> encodings, boolean addSpecialTokens) {
            List<Piece> template = encodings.size() == 2 ? pair : single;
            List<Enc> out = new ArrayList<>();
            for (Piece p : template) {
                if (p.isSequence()) {
                    Enc e = encodings.get(p.sequence());
                    e.setTypeIds(p.typeId());
                    e.setSequenceId(p.sequence());
                    out.add(e);
                } else if (addSpecialTokens) {
                    SpecialToken t = specialTokens.get(p.specialId());
                    out.add(Enc.special(t.ids(), t.tokens(), p.typeId(), -1));
                }
            }
            return out;
        }
    }

    /** Applies processors in order. */
    record Sequence(List<PostProcessor> processors) implements PostProcessor {
        @Override
        public int addedTokens(boolean isPair) {
            int n = 0;
            for (PostProcessor p : processors) {
                n += p.addedTokens(isPair);
            }
            return n;
        }

        @Override
        public List<Enc> processEncodings(List<Enc> encodings, boolean addSpecialTokens) {
            for (PostProcessor p : processors) {
                encodings = p.processEncodings(encodings, addSpecialTokens);
            }
            return encodings;
        }
    }
}
