package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/** The models of tokenizer.json: WordPiece, BPE, Unigram. */
final class Models {
    private Models() {
    }

    /** Turns one pre-tokenized piece into tokens. */
    interface Model {
        /** Tokens with [start, end) offsets in {@code s} (UTF-16 units). */
        List<Token> tokenize(String s);

        Integer tokenToId(String token);

        String idToToken(int id);

        int vocabSize();
    }

    /** Converts a UTF-8 byte offset inside {@code s} to the UTF-16 index of the char holding it. */
    private static int charStartOfByte(String s, int byteOffset) {
        int b = 0;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            int len = Utf8.length(c);
            if (byteOffset < b + len) {
                return i;
            }
            b += len;
            i += Character.charCount(c);
        }
        return s.length();
    }

    /** Maps a byte range of {@code s} to the UTF-16 range of the chars it touches. */
    private static int[] byteRangeToChars(String s, int bStart, int bEnd) {
        int start = charStartOfByte(s, bStart);
        if (bEnd <= bStart) {
            return new int[] {start, start};
        }
        int last = charStartOfByte(s, bEnd - 1);
        int end = last < s.length() ? last + Character.charCount(s.codePointAt(last)) : s.length();
        return new int[] {start, end};
    }

    /** Vocabulary lookups shared by the models. */
    abstract static class Vocab implements Model {
        final Map<String, Integer> vocab;
        final Map<Integer, String> vocabR;

        Vocab(Map<String, Integer> vocab) {
            this.vocab = vocab;
            this.vocabR = new HashMap<>(vocab.size() * 2);
            for (Map.Entry<String, Integer> e : vocab.entrySet()) {
                vocabR.put(e.getValue(), e.getKey());
            }
        }

        @Override
        public Integer tokenToId(String token) {
            return vocab.get(token);
        }

        @Override
        public String idToToken(int id) {
            return vocabR.get(id);
        }

        @Override
        public int vocabSize() {
            return vocab.size();
        }
    }

    /** Greedy longest-match-first subwords. */
    static final class WordPiece extends Vocab {
        final String unkToken;
        final String prefix;
        final int maxInputCharsPerWord;

        /** Longest vocabulary entry (UTF-16 units): longer candidates cannot match. */
        private final int maxKeyLength;

        WordPiece(Map<String, Integer> vocab, String unkToken, String prefix, int maxInputCharsPerWord) {
            super(vocab);
            this.unkToken = unkToken;
            this.prefix = prefix;
            this.maxInputCharsPerWord = maxInputCharsPerWord;
            int max = 0;
            for (String k : vocab.keySet()) {
                max = Math.max(max, k.length());
            }
            this.maxKeyLength = max;
        }

        private Token unk(String s) {
            Integer id = vocab.get(unkToken);
            if (id == null) {
                throw new TokenizerException("WordPiece: unk_token '" + unkToken + "' is not in the vocabulary");
            }
            return new Token(id, unkToken, 0, s.length());
        }

        @Override
        public List<Token> tokenize(String s) {
            if (s.codePointCount(0, s.length()) > maxInputCharsPerWord) {
                return List.of(unk(s));
            }
            List<Token> out = new ArrayList<>();
            int start = 0;
            while (start < s.length()) {
                // Same result as trying from the end of the word (as Rust does): longer
                // candidates than the longest vocabulary entry cannot match.
                int end = Math.min(s.length(), start + maxKeyLength);
                if (end < s.length() && end > start && Character.isLowSurrogate(s.charAt(end))) {
                    end--;
                }
                if (end <= start) {
                    end = s.offsetByCodePoints(start, 1);
                }
                Token cur = null;
                while (start < end) {
                    String sub = s.substring(start, end);
                    if (start > 0) {
                        sub = prefix + sub;
                    }
                    Integer id = vocab.get(sub);
                    if (id != null) {
                        cur = new Token(id, sub, start, end);
                        break;
                    }
                    end = s.offsetByCodePoints(end, -1);
                }
                if (cur == null) {
                    return List.of(unk(s));
                }
                out.add(cur);
                start = end;
            }
            return out;
        }
    }

    /** Byte-pair encoding with ranked merges. */
    static final class Bpe extends Vocab {
        /** (left id, right id) packed in a long to (rank, new id) packed in a long. */
        final Map<Long, Long> merges;
        final String unkToken;
        final String continuingSubwordPrefix;
        final String endOfWordSuffix;
        final boolean fuseUnk;
        final boolean byteFallback;
        final boolean ignoreMerges;

        Bpe(Map<String, Integer> vocab, List<String[]> mergeList, String unkToken, String continuingSubwordPrefix,
                String endOfWordSuffix, boolean fuseUnk, boolean byteFallback, boolean ignoreMerges) {
            super(vocab);
            this.unkToken = unkToken;
            this.continuingSubwordPrefix = continuingSubwordPrefix;
            this.endOfWordSuffix = endOfWordSuffix;
            this.fuseUnk = fuseUnk;
            this.byteFallback = byteFallback;
            this.ignoreMerges = ignoreMerges;
            this.merges = new HashMap<>(mergeList.size() * 2);
            int prefixLen = continuingSubwordPrefix == null ? 0 : continuingSubwordPrefix.length();
            for (int rank = 0; rank < mergeList.size(); rank++) {
                String a = mergeList.get(rank)[0];
                String b = mergeList.get(rank)[1];
                Integer aId = vocab.get(a);
                Integer bId = vocab.get(b);
                if (aId == null || bId == null) {
                    throw new TokenizerException("model.merges[" + rank + "]: token '" + (aId == null ? a : b)
                            + "' is not in the vocabulary");
                }
                String bPart = prefixLen > 0 && b.startsWith(continuingSubwordPrefix) ? b.substring(prefixLen) : b;
                String merged = a + bPart;
                Integer newId = vocab.get(merged);
                if (newId == null) {
                    throw new TokenizerException("model.merges[" + rank + "]: merged token '" + merged
                            + "' is not in the vocabulary");
                }
                merges.put(pair(aId, bId), ((long) rank << 32) | (newId & 0xFFFFFFFFL));
            }
        }

        /** Growable symbol arrays. */
        private static final class Symbols {
            int[] ids;
            int[] start;
            int[] end;
            int count;

            Symbols(int cap) {
                ids = new int[cap];
                start = new int[cap];
                end = new int[cap];
            }

            void add(int id, int byteLen) {
                if (count == ids.length) {
                    ids = java.util.Arrays.copyOf(ids, count * 2);
                    start = java.util.Arrays.copyOf(start, count * 2);
                    end = java.util.Arrays.copyOf(end, count * 2);
                }
                int s = count == 0 ? 0 : end[count - 1];
                ids[count] = id;
                start[count] = s;
                end[count] = s + byteLen;
                count++;
            }
        }

        private static long pair(int a, int b) {
            return ((long) a << 32) | (b & 0xFFFFFFFFL);
        }

        @Override
        public List<Token> tokenize(String s) {
            if (s.isEmpty()) {
                return List.of();
            }
            if (ignoreMerges) {
                Integer id = vocab.get(s);
                if (id != null) {
                    return List.of(new Token(id, s, 0, s.length()));
                }
            }
            // Symbols: id and [start, end) in UTF-8 bytes of s. As Rust's Word::add, each symbol
            // starts where the previous one ended.
            Symbols w = new Symbols(s.length() * 2 + 4);
            int unkId = -1;
            int unkLen = 0;
            for (int i = 0; i < s.length(); ) {
                int c = s.codePointAt(i);
                int next = i + Character.charCount(c);
                String sym = s.substring(i, next);
                int byteLen = Utf8.length(c);
                if (i > 0 && continuingSubwordPrefix != null) {
                    sym = continuingSubwordPrefix + sym;
                }
                if (next >= s.length() && endOfWordSuffix != null) {
                    sym = sym + endOfWordSuffix;
                }
                i = next;
                Integer id = vocab.get(sym);
                if (id != null) {
                    if (unkId >= 0) {
                        w.add(unkId, unkLen);
                        unkId = -1;
                    }
                    w.add(id, byteLen);
                    continue;
                }
                if (byteFallback) {
                    byte[] bytes = sym.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    int[] bIds = new int[bytes.length];
                    boolean all = true;
                    for (int k = 0; k < bytes.length && all; k++) {
                        Integer bid = vocab.get(String.format("<0x%02X>", bytes[k] & 0xFF));
                        if (bid == null) {
                            all = false;
                        } else {
                            bIds[k] = bid;
                        }
                    }
                    if (all) {
                        // Rust adds the byte tokens (1 byte each) without flushing a pending unk.
                        for (int bid : bIds) {
                            w.add(bid, 1);
                        }
                        continue;
                    }
                }
                if (unkToken != null) {
                    Integer uid = vocab.get(unkToken);
                    if (uid == null) {
                        throw new TokenizerException("BPE: unk_token '" + unkToken + "' is not in the vocabulary");
                    }
                    if (unkId >= 0 && fuseUnk) {
                        unkLen += byteLen;
                    } else {
                        if (unkId >= 0) {
                            w.add(unkId, unkLen);
                        }
                        unkId = uid;
                        unkLen = byteLen;
                    }
                }
            }
            if (unkId >= 0) {
                w.add(unkId, unkLen);
            }
            int[] ids = w.ids;
            int[] bs = w.start;
            int[] be = w.end;
            int count = w.count;
            mergeAll(ids, bs, be, count);
            List<Token> out = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                if (be[k] < 0) {
                    continue; // merged away
                }
                int[] r = byteRangeToChars(s, bs[k], be[k]);
                out.add(new Token(ids[k], vocabR.get(ids[k]), r[0], r[1]));
            }
            return out;
        }

        /** Rust Word::merge_all: lowest rank first, then leftmost; stale queue entries skipped. */
        private void mergeAll(int[] ids, int[] bs, int[] be, int count) {
            int[] prev = new int[count];
            int[] next = new int[count];
            for (int k = 0; k < count; k++) {
                prev[k] = k - 1;
                next[k] = k + 1 < count ? k + 1 : -1;
            }
            // entry: rank (hi 32) | pos (lo 32); new id kept alongside.
            PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0])
                    : Long.compare(x[1], y[1]));
            for (int k = 0; k + 1 < count; k++) {
                Long m = merges.get(pair(ids[k], ids[k + 1]));
                if (m != null) {
                    queue.add(new long[] {m >>> 32, k, (int) (long) m});
                }
            }
            while (!queue.isEmpty()) {
                long[] top = queue.poll();
                int pos = (int) top[1];
                int newId = (int) top[2];
                if (be[pos] < 0) {
                    continue;
                }
                int nx = next[pos];
                if (nx == -1) {
                    continue;
                }
                Long m = merges.get(pair(ids[pos], ids[nx]));
                if (m == null || (int) (long) m != newId) {
                    continue;
                }
                ids[pos] = newId;
                be[pos] = be[nx];
                be[nx] = -1;
                int nn = next[nx];
                next[pos] = nn;
                if (nn != -1) {
                    prev[nn] = pos;
                }
                if (prev[pos] >= 0) {
                    int p = prev[pos];
                    Long pm = merges.get(pair(ids[p], ids[pos]));
                    if (pm != null) {
                        queue.add(new long[] {pm >>> 32, p, (int) (long) pm});
                    }
                }
                if (nn != -1) {
                    Long nm = merges.get(pair(ids[pos], ids[nn]));
                    if (nm != null) {
                        queue.add(new long[] {nm >>> 32, pos, (int) (long) nm});
                    }
                }
            }
        }
    }

    /** SentencePiece-style unigram language model, Viterbi decoding. */
    static final class Unigram implements Model {
        private static final double UNK_PENALTY = 10.0;
        final List<String> pieces;
        final double[] scores;
        final Map<String, Integer> tokenToIds;
        final Integer unkId;
        final boolean byteFallback;
        final boolean fuseUnk = true;
        final double minScore;
        /**
         * SentencePiece's own Viterbi ({@code unigram_model.cc}): path scores summed in float32, and
         * user-defined pieces scored {@code length in bytes * max score - 0.1}; off for tokenizer.json
         * models (the Rust library sums in double).
         */
        private boolean sentencePieceScoring;
        private boolean[] userDefined;
        private float maxScore;
        private final TrieNode root = new TrieNode();

        /** Trie over UTF-16 units; a node with id >= 0 ends a piece. */
        private static final class TrieNode {
            final Map<Character, TrieNode> children = new HashMap<>(4);
            int id = -1;
        }

        Unigram(List<String> pieces, double[] scores, Integer unkId, boolean byteFallback) {
            this(pieces, scores, unkId, byteFallback, null);
        }

        /**
         * A Unigram model whose segmentation may use only the pieces marked {@code matchable}
         * (null: all), as SentencePiece leaves control, unknown and byte pieces out of its trie.
         */
        Unigram(List<String> pieces, double[] scores, Integer unkId, boolean byteFallback, boolean[] matchable) {
            this.pieces = pieces;
            this.scores = scores;
            this.unkId = unkId;
            this.byteFallback = byteFallback;
            this.tokenToIds = new HashMap<>(pieces.size() * 2);
            double min = Double.POSITIVE_INFINITY;
            for (int i = 0; i < pieces.size(); i++) {
                String p = pieces.get(i);
                tokenToIds.put(p, i);
                if (matchable != null && !matchable[i]) {
                    continue;
                }
                if (scores[i] < min) {
                    min = scores[i];
                }
                TrieNode node = root;
                for (int k = 0; k < p.length(); k++) {
                    node = node.children.computeIfAbsent(p.charAt(k), ch -> new TrieNode());
                }
                node.id = i;
            }
            this.minScore = min;
            if (unkId != null && (unkId < 0 || unkId >= pieces.size())) {
                throw new TokenizerException("model.unk_id: " + unkId + " is outside the vocabulary of "
                        + pieces.size() + " pieces");
            }
        }

        /** Scores paths as SentencePiece does (see {@link #sentencePieceScoring}); {@code userDefined} marks those pieces. */
        Unigram sentencePieceScoring(boolean[] userDefined) {
            this.sentencePieceScoring = true;
            this.userDefined = userDefined.clone();
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < scores.length; i++) if (!userDefined[i]) max = Math.max(max, (float) scores[i]);
            this.maxScore = max;
            return this;
        }

        @Override
        public Integer tokenToId(String token) {
            return tokenToIds.get(token);
        }

        @Override
        public String idToToken(int id) {
            return id >= 0 && id < pieces.size() ? pieces.get(id) : null;
        }

        @Override
        public int vocabSize() {
            return pieces.size();
        }

        private List<String> encode(String s) {
            int size = s.length();
            double unkScore = sentencePieceScoring ? (float) minScore - (float) UNK_PENALTY : minScore - UNK_PENALTY;
            int[] nodeId = new int[size + 1];
            double[] best = new double[size + 1];
            int[] startsAt = new int[size + 1];
            java.util.Arrays.fill(startsAt, -1);
            int pos = 0;
            while (pos < size) {
                double here = best[pos];
                boolean hasSingle = false;
                int mblen = Character.charCount(s.codePointAt(pos));
                TrieNode node = root;
                for (int k = pos; k < size; k++) {
                    node = node.children.get(s.charAt(k));
                    if (node == null) {
                        break;
                    }
                    if (node.id >= 0) {
                        int keyPos = k + 1;
                        double cand;
                        if (sentencePieceScoring) {
                            // EncodeOptimized: a double candidate (score is double there) compared with the
                            // float stored per position, then stored as float
                            double score = userDefined[node.id]
                                    ? (double) (s.substring(pos, keyPos).getBytes(java.nio.charset.StandardCharsets.UTF_8).length * maxScore)
                                    - 0.1 : (float) scores[node.id];
                            cand = score + (float) here;
                        } else {
                            cand = scores[node.id] + here;
                        }
                        if (startsAt[keyPos] < 0 || cand > best[keyPos]) {
                            best[keyPos] = sentencePieceScoring ? (float) cand : cand;
                            startsAt[keyPos] = pos;
                            nodeId[keyPos] = node.id;
                        }
                        if (!hasSingle && keyPos - pos == mblen) {
                            hasSingle = true;
                        }
                    }
                }
                if (!hasSingle) {
                    int keyPos = pos + mblen;
                    double cand = sentencePieceScoring ? (float) unkScore + (float) here : unkScore + here;
                    if (startsAt[keyPos] < 0 || cand > best[keyPos]) {
                        if (unkId == null) {
                            throw new TokenizerException("Unigram: no unk_id set but '" + s.substring(pos, keyPos)
                                    + "' cannot be tokenized");
                        }
                        best[keyPos] = cand;
                        startsAt[keyPos] = pos;
                        nodeId[keyPos] = unkId;
                    }
                }
                pos += mblen;
            }
            List<String> results = new ArrayList<>();
            StringBuilder unkRun = null;
            int end = size;
            while (end > 0) {
                int start = startsAt[end];
                String piece = s.substring(start, end);
                if (fuseUnk && unkId != null && nodeId[end] == unkId) {
                    unkRun = unkRun == null ? new StringBuilder(piece) : unkRun.insert(0, piece);
                } else {
                    if (unkRun != null) {
                        results.add(unkRun.toString());
                        unkRun = null;
                    }
                    results.add(piece);
                }
                end = start;
            }
            if (unkRun != null) {
                results.add(unkRun.toString());
            }
            java.util.Collections.reverse(results);
            return results;
        }

        @Override
        public List<Token> tokenize(String s) {
            if (s.isEmpty()) {
                return List.of();
            }
            List<String> strs = encode(s);
            List<Token> out = new ArrayList<>(strs.size());
            int offset = 0;
            for (String str : strs) {
                int len = str.length();
                Integer id = tokenToIds.get(str);
                if (id == null) {
                    if (byteFallback) {
                        byte[] bytes = str.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                        List<Token> byteTokens = new ArrayList<>(bytes.length);
                        for (byte b : bytes) {
                            String name = String.format("<0x%02X>", b & 0xFF);
                            Integer bid = tokenToIds.get(name);
                            if (bid == null) {
                                byteTokens = null;
                                break;
                            }
                            // As in Rust, every byte token spans the whole piece.
                            byteTokens.add(new Token(bid, name, offset, offset + len));
                        }
                        if (byteTokens != null) {
                            out.addAll(byteTokens);
                            offset += len;
                            continue;
                        }
                    }
                    if (unkId == null) {
                        throw new TokenizerException("Unigram: no unk_id set but '" + str + "' is not in the vocabulary");
                    }
                    id = unkId;
                }
                out.add(new Token(id, str, offset, offset + len));
                offset += len;
            }
            return out;
        }
    }
}
