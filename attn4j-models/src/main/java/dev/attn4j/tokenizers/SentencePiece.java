package dev.attn4j.tokenizers;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * SentencePiece {@code tokenizer.model} files (a protobuf {@code ModelProto}) read in pure Java,
 * and the tokenizer they make: SentencePiece's own normalizer (precompiled char map, extra
 * whitespace removal, {@code ▁} dummy prefix), then its BPE (merges by piece score, byte
 * fallback) or Unigram (Viterbi) segmentation, then Hugging Face's Llama-style post-processing
 * and decoding ({@code <s>} in front, {@code ▁} read as a space, {@code <0xNN>} pieces as bytes).
 *
 * <p>Field numbers are those of google/sentencepiece {@code sentencepiece_model.proto}:
 * {@code ModelProto} 1 pieces, 2 trainer_spec, 3 normalizer_spec; {@code SentencePiece} 1 piece,
 * 2 score, 3 type; {@code TrainerSpec} 3 model_type, 24 treat_whitespace_as_suffix, 35
 * byte_fallback, 40-42 unk/bos/eos ids, 44 unk_surface; {@code NormalizerSpec} 1 name, 2
 * precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces, 5 escape_whitespaces.
 */
final class SentencePiece {
    static final int NORMAL = 1;
    static final int UNKNOWN = 2;
    static final int CONTROL = 3;
    static final int USER_DEFINED = 4;
    static final int UNUSED = 5;
    static final int BYTE = 6;

    static final int UNIGRAM = 1;
    static final int BPE = 2;

    private static final int SPACE = '\u2581';

    private SentencePiece() {
    }

    /** The parts of a {@code ModelProto} that encoding and decoding need. */
    record ModelProto(List<String> pieces, float[] scores, int[] types, int modelType, boolean byteFallback,
            boolean treatWhitespaceAsSuffix, int unkId, int bosId, int eosId, String normalizerName,
            byte[] charsmap, boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
    }

    // ---------------------------------------------------------------- protobuf wire format

    /** One protobuf message in wire format inside {@code buf[start, end)}; errors name the file and byte offset. */
    private static final class Proto {
        final byte[] buf;
        final String source;
        final String message;
        final int end;
        int pos;
        int field;
        int wire;
        int tagAt;

        Proto(byte[] buf, String source, String message, int start, int end) {
            this.buf = buf;
            this.source = source;
            this.message = message;
            this.pos = start;
            this.end = end;
        }

        TokenizerException error(String problem) {
            return new TokenizerException(source + ": byte " + tagAt + ": " + problem + " (not a SentencePiece"
                    + " model, or a truncated one)");
        }

        boolean next() {
            if (pos >= end) {
                return false;
            }
            tagAt = pos;
            long key = varint();
            field = (int) (key >>> 3);
            wire = (int) (key & 7);
            if (field <= 0 || (wire != 0 && wire != 1 && wire != 2 && wire != 5)) {
                throw error("bad field tag " + key + " in " + message);
            }
            return true;
        }

        long varint() {
            long r = 0;
            for (int shift = 0; shift < 70; shift += 7) {
                if (pos >= end) {
                    throw error("varint runs past the end of " + message);
                }
                byte b = buf[pos++];
                r |= (long) (b & 0x7F) << shift;
                if (b >= 0) {
                    return r;
                }
            }
            throw error("varint longer than 10 bytes in " + message);
        }

        int int32() {
            expect(0);
            return (int) varint();
        }

        boolean bool() {
            expect(0);
            return varint() != 0;
        }

        float fixed32Float() {
            expect(5);
            if (end - pos < 4) {
                throw error("float field " + field + " of " + message + " runs past its end");
            }
            float f = ByteBuffer.wrap(buf, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat();
            pos += 4;
            return f;
        }

        int[] range() {
            expect(2);
            long len = varint();
            if (len < 0 || len > end - pos) {
                throw error("field " + field + " of " + message + " has length " + len + " but only " + (end - pos)
                        + " bytes are left");
            }
            int s = pos;
            pos += (int) len;
            return new int[] {s, pos};
        }

        Proto message(String type) {
            int[] r = range();
            return new Proto(buf, source, type, r[0], r[1]);
        }

        String string() {
            int[] r = range();
            return new String(buf, r[0], r[1] - r[0], StandardCharsets.UTF_8);
        }

        byte[] bytes() {
            int[] r = range();
            return java.util.Arrays.copyOfRange(buf, r[0], r[1]);
        }

        void skip() {
            switch (wire) {
                case 0 -> varint();
                case 1 -> pos += 8;
                case 2 -> range();
                case 5 -> pos += 4;
                default -> throw error("wire type " + wire);
            }
            if (pos > end) {
                throw error("field " + field + " of " + message + " runs past its end");
            }
        }

        private void expect(int w) {
            if (wire != w) {
                throw error("field " + field + " of " + message + " has wire type " + wire + ", expected " + w);
            }
        }
    }

    /** Parses a {@code ModelProto}; {@code source} names the file in errors. */
    static ModelProto read(byte[] bytes, String source) {
        Proto r = new Proto(bytes, source, "ModelProto", 0, bytes.length);
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int modelType = UNIGRAM;
        boolean byteFallback = false;
        boolean suffix = false;
        int unkId = 0;
        int bosId = 1;
        int eosId = 2;
        String name = null;
        byte[] charsmap = new byte[0];
        boolean dummy = true;
        boolean removeExtra = true;
        boolean escape = true;
        boolean sawTrainer = false;
        while (r.next()) {
            switch (r.field) {
                case 1 -> {
                    Proto p = r.message("SentencePiece");
                    String piece = null;
                    float score = 0;
                    int type = NORMAL;
                    while (p.next()) {
                        switch (p.field) {
                            case 1 -> piece = p.string();
                            case 2 -> score = p.fixed32Float();
                            case 3 -> type = p.int32();
                            default -> p.skip();
                        }
                    }
                    if (piece == null) {
                        throw p.error("piece " + pieces.size() + " has no piece string");
                    }
                    if (type < NORMAL || type > BYTE) {
                        throw p.error("piece " + pieces.size() + " ('" + piece + "') has unknown type " + type);
                    }
                    pieces.add(piece);
                    scores.add(score);
                    types.add(type);
                }
                case 2 -> {
                    sawTrainer = true;
                    Proto t = r.message("TrainerSpec");
                    while (t.next()) {
                        switch (t.field) {
                            case 3 -> modelType = t.int32();
                            case 24 -> suffix = t.bool();
                            case 35 -> byteFallback = t.bool();
                            case 40 -> unkId = t.int32();
                            case 41 -> bosId = t.int32();
                            case 42 -> eosId = t.int32();
                            default -> t.skip();
                        }
                    }
                }
                case 3 -> {
                    Proto n = r.message("NormalizerSpec");
                    while (n.next()) {
                        switch (n.field) {
                            case 1 -> name = n.string();
                            case 2 -> charsmap = n.bytes();
                            case 3 -> dummy = n.bool();
                            case 4 -> removeExtra = n.bool();
                            case 5 -> escape = n.bool();
                            default -> n.skip();
                        }
                    }
                }
                default -> r.skip();
            }
        }
        if (pieces.isEmpty()) {
            throw new TokenizerException(source + ": no pieces (not a SentencePiece model file?)");
        }
        if (!sawTrainer) {
            throw new TokenizerException(source + ": no trainer_spec, so the model type (BPE or Unigram) is unknown");
        }
        if (modelType != UNIGRAM && modelType != BPE) {
            throw new TokenizerException(source + ": model type " + modelType
                    + " is not supported (only UNIGRAM = 1 and BPE = 2; WORD and CHAR models are not)");
        }
        if (suffix) {
            throw new TokenizerException(source + ": treat_whitespace_as_suffix is set, which is not supported");
        }
        float[] sc = new float[scores.size()];
        int[] ty = new int[types.size()];
        for (int i = 0; i < sc.length; i++) {
            sc[i] = scores.get(i);
            ty[i] = types.get(i);
        }
        if (unkId < 0 || unkId >= pieces.size() || ty[unkId] != UNKNOWN) {
            throw new TokenizerException(source + ": unk_id " + unkId + " is not an UNKNOWN piece");
        }
        return new ModelProto(List.copyOf(pieces), sc, ty, modelType, byteFallback, suffix, unkId, bosId, eosId,
                name, charsmap, dummy, removeExtra, escape);
    }

    // ---------------------------------------------------------------- the tokenizer

    /**
     * The tokenizer for a model file, as Hugging Face's {@code LlamaTokenizer(Fast)} (legacy mode)
     * builds it: {@code <s>} added in front when {@code addBos}, {@code </s>} at the end when
     * {@code addEos}, control and unknown pieces matched as special tokens in the input.
     */
    static Tokenizer tokenizer(ModelProto m, String source, boolean addBos, boolean addEos) {
        return tokenizer(m, source, addBos, addEos, true);
    }

    /**
     * As {@link #tokenizer(ModelProto, String, boolean, boolean)}; with {@code matchSpecials} false
     * control and unknown pieces written in the text are not special tokens but text, as
     * SentencePiece's own {@code encode} reads them.
     */
    static Tokenizer tokenizer(ModelProto m, String source, boolean addBos, boolean addEos, boolean matchSpecials) {
        Normalizers.Normalizer normalizer = new Normalizer(m, source);
        Models.Model model = model(m);
        List<AddedToken> added = new ArrayList<>();
        for (int i = 0; i < m.pieces().size(); i++) {
            int t = m.types()[i];
            if (matchSpecials && (t == CONTROL || t == UNKNOWN)) {
                added.add(new AddedToken(i, m.pieces().get(i), false, false, false, false, true));
            }
        }
        Map<String, PostProcessors.SpecialToken> specials = new LinkedHashMap<>();
        List<PostProcessors.Piece> single = new ArrayList<>();
        List<PostProcessors.Piece> pair = new ArrayList<>();
        String bos = special(m, m.bosId(), addBos, "bos", source);
        String eos = special(m, m.eosId(), addEos, "eos", source);
        for (String s : new String[] {bos, eos}) {
            if (s != null) {
                specials.put(s, new PostProcessors.SpecialToken(s, new int[] {m.pieces().indexOf(s)}, new String[] {s}));
            }
        }
        // As LlamaTokenizer: "<s> $A </s>" and "<s> $A </s> <s> $B </s>", each part optional.
        for (int seq = 0; seq < 2; seq++) {
            for (List<PostProcessors.Piece> t : seq == 0 ? List.of(single, pair) : List.of(pair)) {
                if (bos != null) {
                    t.add(new PostProcessors.Piece(false, -1, bos, seq));
                }
                t.add(new PostProcessors.Piece(true, seq, null, seq));
                if (eos != null) {
                    t.add(new PostProcessors.Piece(false, -1, eos, seq));
                }
            }
        }
        PostProcessors.PostProcessor post = specials.isEmpty() ? null
                : new PostProcessors.Template(single, pair, specials);
        List<Decoders.Decoder> decoders = new ArrayList<>();
        decoders.add(new Decoders.Replace("\u2581", null, " "));
        decoders.add(new Decoders.ByteFallback());
        decoders.add(new Decoders.Fuse());
        if (m.addDummyPrefix()) {
            decoders.add(new Decoders.Strip(' ', 1, 0));
        }
        return new Tokenizer(normalizer, null, model, post, new Decoders.Sequence(decoders),
                new AddedVocabulary(added, normalizer), null, null);
    }

    /** The segmentation model of {@code m}: BPE by piece score, or Unigram over its normal and user-defined pieces. */
    static Models.Model model(ModelProto m) {
        if (m.modelType() == BPE) {
            return new Bpe(m);
        }
        double[] scores = new double[m.scores().length];
        boolean[] matchable = new boolean[scores.length];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = m.scores()[i];
            int t = m.types()[i];
            matchable[i] = t == NORMAL || t == USER_DEFINED;
        }
        boolean[] userDefined = new boolean[scores.length];
        for (int i = 0; i < scores.length; i++) userDefined[i] = m.types()[i] == USER_DEFINED;
        return new Models.Unigram(m.pieces(), scores, m.unkId(), m.byteFallback(), matchable).sentencePieceScoring(userDefined);
    }

    /**
     * SentencePiece's {@code DecodePieces} (what transformers' slow tokenizers call on the pieces
     * between special tokens): a piece the model does not know is copied as it is; control pieces
     * vanish; {@code <unk>} becomes " \u2047 "; byte pieces become their bytes; every other piece
     * has {@code ▁} read as a space, the first one that lands on empty output losing its leading
     * {@code ▁} (when the model adds a dummy prefix or removes extra whitespace).
     */
    static String decodePieces(ModelProto m, Map<String, Integer> index, List<String> pieces) {
        StringBuilder text = new StringBuilder();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        boolean stripFirst = m.addDummyPrefix() || m.removeExtraWhitespaces();
        for (String piece : pieces) {
            Integer id = index.get(piece);
            if (id != null && m.types()[id] == BYTE) {
                bytes.write(Integer.parseInt(piece.substring(3, 5), 16));
                continue;
            }
            if (bytes.size() > 0) {
                text.append(Utf8Lossy.decode(bytes.toByteArray()));
                bytes.reset();
            }
            if (id == null) {
                text.append(piece);
                continue;
            }
            int type = m.types()[id];
            if (type == CONTROL) {
                continue;
            }
            if (type == UNKNOWN) {
                text.append(" \u2047 ");
                continue;
            }
            String p = piece;
            if (text.length() == 0 && stripFirst && p.startsWith("\u2581")) {
                p = p.substring(1);
            }
            text.append(p.replace('\u2581', ' '));
        }
        if (bytes.size() > 0) {
            text.append(Utf8Lossy.decode(bytes.toByteArray()));
        }
        return text.toString();
    }

    private static String special(ModelProto m, int id, boolean wanted, String what, String source) {
        if (!wanted) {
            return null;
        }
        if (id < 0 || id >= m.pieces().size()) {
            throw new TokenizerException(source + ": add_" + what + "_token is set but the model has no " + what
                    + " piece (" + what + "_id " + id + ")");
        }
        return m.pieces().get(id);
    }

    // ---------------------------------------------------------------- normalizer

    /**
     * SentencePiece's {@code Normalizer::Normalize}: the longest match in the precompiled char map
     * (a darts-clone double-array trie over UTF-8 bytes) replaces each prefix; leading, trailing
     * and repeated spaces are removed when {@code remove_extra_whitespaces}; {@code ▁} goes in
     * front when {@code add_dummy_prefix}; spaces become {@code ▁} when {@code escape_whitespaces}.
     */
    static final class Normalizer implements Normalizers.Normalizer {
        private final int[] trie;
        private final byte[] blob;
        private final boolean addDummyPrefix;
        private final boolean removeExtra;
        private final boolean escape;
        private final String source;

        Normalizer(ModelProto m, String source) {
            this.source = source;
            this.addDummyPrefix = m.addDummyPrefix();
            this.removeExtra = m.removeExtraWhitespaces();
            this.escape = m.escapeWhitespaces();
            byte[] cm = m.charsmap();
            if (cm.length == 0) {
                trie = null;
                blob = null;
            } else {
                if (cm.length < 4) {
                    throw new TokenizerException(source + ": precompiled_charsmap is " + cm.length + " bytes long");
                }
                long trieSize = ByteBuffer.wrap(cm, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xFFFFFFFFL;
                if (trieSize % 4 != 0 || trieSize > cm.length - 4L || trieSize == 0) {
                    throw new TokenizerException(source + ": precompiled_charsmap trie size " + trieSize
                            + " does not fit its " + cm.length + " bytes");
                }
                trie = new int[(int) (trieSize / 4)];
                ByteBuffer.wrap(cm, 4, (int) trieSize).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(trie);
                blob = java.util.Arrays.copyOfRange(cm, 4 + (int) trieSize, cm.length);
            }
        }

        /** {[length in bytes, value]} of the longest key of the trie that prefixes {@code key[start..]}, or null. */
        private int[] longestPrefix(byte[] key, int start) {
            int node = 0;
            int unit = trie[0];
            node ^= offset(unit);
            int[] best = null;
            for (int i = start; i < key.length; i++) {
                int c = key[i] & 0xFF;
                node ^= c;
                if (node < 0 || node >= trie.length) {
                    throw new TokenizerException(source + ": precompiled_charsmap trie points outside itself");
                }
                unit = trie[node];
                if ((unit & ((1 << 31) | 0xFF)) != c) {
                    break;
                }
                node ^= offset(unit);
                if (node < 0 || node >= trie.length) {
                    throw new TokenizerException(source + ": precompiled_charsmap trie points outside itself");
                }
                if (((unit >>> 8) & 1) == 1) {
                    best = new int[] {i - start + 1, trie[node] & 0x7FFFFFFF};
                }
            }
            return best;
        }

        private static int offset(int unit) {
            return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
        }

        private String blobString(int at) {
            if (at < 0 || at >= blob.length) {
                throw new TokenizerException(source + ": precompiled_charsmap value " + at + " is outside its strings");
            }
            int e = at;
            while (e < blob.length && blob[e] != 0) {
                e++;
            }
            return new String(blob, at, e - at, StandardCharsets.UTF_8);
        }

        @Override
        public void normalize(NormalizedString s) {
            String str = s.get();
            byte[] in = str.getBytes(StandardCharsets.UTF_8);
            // UTF-16 index at each byte offset (a continuation byte rounds up to the next char).
            int[] u16 = new int[in.length + 1];
            int b = 0;
            for (int i = 0; i < str.length(); ) {
                int c = str.codePointAt(i);
                int len = Utf8.length(c);
                int next = i + Character.charCount(c);
                u16[b] = i;
                for (int k = 1; k < len; k++) {
                    u16[b + k] = next;
                }
                b += len;
                i = next;
            }
            u16[in.length] = str.length();
            IntList cps = new IntList();
            IntList from = new IntList();
            IntList to = new IntList();
            int pos = 0;
            if (removeExtra) {
                while (pos < in.length) {
                    Prefix p = prefix(in, pos);
                    if (!p.text().equals(" ")) {
                        break;
                    }
                    pos += p.length();
                }
            }
            if (pos >= in.length) {
                s.rewrite(new int[0], new int[0], new int[0]);
                return;
            }
            if (addDummyPrefix) {
                cps.add(SPACE);
                from.add(u16[pos]);
                to.add(u16[pos]);
            }
            boolean prevSpace = removeExtra;
            while (pos < in.length) {
                Prefix p = prefix(in, pos);
                String sp = p.text();
                int k = 0;
                while (prevSpace && k < sp.length() && sp.charAt(k) == ' ') {
                    k++;
                }
                sp = sp.substring(k);
                if (!sp.isEmpty()) {
                    int f = u16[pos];
                    int t = u16[Math.min(pos + p.length(), in.length)];
                    for (int i = 0; i < sp.length(); ) {
                        int c = sp.codePointAt(i);
                        cps.add(escape && c == ' ' ? SPACE : c);
                        from.add(f);
                        to.add(t);
                        i += Character.charCount(c);
                    }
                    prevSpace = sp.endsWith(" ");
                }
                pos += p.length();
                if (!removeExtra) {
                    prevSpace = false;
                }
            }
            if (removeExtra) {
                int space = escape ? SPACE : ' ';
                while (cps.size > 0 && cps.a[cps.size - 1] == space) {
                    cps.size--;
                    from.size--;
                    to.size--;
                }
            }
            s.rewrite(cps.toArray(), from.toArray(), to.toArray());
        }

        /** What one prefix of the input normalizes to, and how many bytes it covers. */
        private record Prefix(int length, String text) {
        }

        /** SentencePiece's NormalizePrefix: the longest char-map match, else one UTF-8 char as it is. */
        private Prefix prefix(byte[] in, int pos) {
            if (trie != null) {
                int[] m = longestPrefix(in, pos);
                if (m != null) {
                    return new Prefix(m[0], blobString(m[1]));
                }
            }
            int lead = in[pos] & 0xFF;
            int len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
            len = Math.min(len, in.length - pos);
            return new Prefix(len, new String(in, pos, len, StandardCharsets.UTF_8));
        }
    }

    /** A growable int list. */
    private static final class IntList {
        int[] a = new int[16];
        int size;

        void add(int v) {
            if (size == a.length) {
                a = java.util.Arrays.copyOf(a, size * 2);
            }
            a[size++] = v;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, size);
        }
    }

    // ---------------------------------------------------------------- BPE

    /**
     * SentencePiece BPE ({@code bpe_model.cc}): start from single characters and repeatedly merge
     * the adjacent pair whose concatenation is the highest-scoring piece (leftmost on ties);
     * symbols left that are not pieces become their UTF-8 bytes ({@code <0xNN>}) when
     * {@code byte_fallback}, else the unknown piece.
     */
    static final class Bpe implements Models.Model {
        private final List<String> pieces;
        private final float[] scores;
        private final Map<String, Integer> all = new HashMap<>();
        /** Pieces a merge may produce and a symbol may end as: NORMAL and USER_DEFINED. */
        private final Map<String, Integer> mergeable = new HashMap<>();
        private final int[] byteIds = new int[256];
        private final int unkId;
        private final boolean byteFallback;

        Bpe(ModelProto m) {
            this.pieces = m.pieces();
            this.scores = m.scores();
            this.unkId = m.unkId();
            this.byteFallback = m.byteFallback();
            java.util.Arrays.fill(byteIds, -1);
            for (int i = 0; i < pieces.size(); i++) {
                String p = pieces.get(i);
                all.putIfAbsent(p, i);
                int t = m.types()[i];
                if (t == NORMAL || t == USER_DEFINED) {
                    mergeable.putIfAbsent(p, i);
                } else if (t == BYTE) {
                    if (p.length() != 6 || !p.startsWith("<0x") || !p.endsWith(">")) {
                        throw new TokenizerException("SentencePiece BYTE piece " + i + " is '" + p + "', not <0xNN>");
                    }
                    byteIds[Integer.parseInt(p.substring(3, 5), 16)] = i;
                }
            }
        }

        @Override
        public List<Token> tokenize(String s) {
            if (s.isEmpty()) {
                return List.of();
            }
            int n = s.codePointCount(0, s.length());
            String[] sym = new String[n];
            int[] start = new int[n];
            int[] end = new int[n];
            int[] prev = new int[n];
            int[] next = new int[n];
            for (int i = 0, k = 0; i < s.length(); k++) {
                int c = s.codePointAt(i);
                int e = i + Character.charCount(c);
                sym[k] = s.substring(i, e);
                start[k] = i;
                end[k] = e;
                prev[k] = k - 1;
                next[k] = k + 1 < n ? k + 1 : -1;
                i = e;
            }
            // Queue entry: {left, right, merged length}; higher score first, then leftmost.
            record Pair(int left, int right, String merged, float score) {
            }
            PriorityQueue<Pair> queue = new PriorityQueue<>((x, y) -> x.score != y.score
                    ? Float.compare(y.score, x.score) : Integer.compare(x.left, y.left));
            java.util.function.BiConsumer<Integer, Integer> maybeAdd = (l, r) -> {
                String merged = sym[l] + sym[r];
                Integer id = mergeable.get(merged);
                if (id != null) {
                    queue.add(new Pair(l, r, merged, scores[id]));
                }
            };
            for (int k = 0; k + 1 < n; k++) {
                maybeAdd.accept(k, k + 1);
            }
            while (!queue.isEmpty()) {
                Pair top = queue.poll();
                int l = top.left;
                int r = top.right;
                if (sym[l] == null || sym[r] == null || sym[l].length() + sym[r].length() != top.merged.length()) {
                    continue; // stale: one side was merged since
                }
                sym[l] = top.merged;
                sym[r] = null;
                end[l] = end[r];
                next[l] = next[r];
                if (next[r] >= 0) {
                    prev[next[r]] = l;
                }
                if (prev[l] >= 0) {
                    maybeAdd.accept(prev[l], l);
                }
                if (next[l] >= 0) {
                    maybeAdd.accept(l, next[l]);
                }
            }
            List<Token> out = new ArrayList<>();
            for (int k = 0; k >= 0; k = next[k]) {
                Integer id = mergeable.get(sym[k]);
                if (id != null) {
                    out.add(new Token(id, sym[k], start[k], end[k]));
                    continue;
                }
                if (byteFallback) {
                    byte[] bytes = sym[k].getBytes(StandardCharsets.UTF_8);
                    boolean ok = true;
                    for (byte bt : bytes) {
                        ok &= byteIds[bt & 0xFF] >= 0;
                    }
                    if (ok) {
                        for (byte bt : bytes) {
                            int bid = byteIds[bt & 0xFF];
                            out.add(new Token(bid, pieces.get(bid), start[k], end[k]));
                        }
                        continue;
                    }
                }
                out.add(new Token(unkId, pieces.get(unkId), start[k], end[k]));
            }
            return out;
        }

        @Override
        public Integer tokenToId(String token) {
            return all.get(token);
        }

        @Override
        public String idToToken(int id) {
            return id >= 0 && id < pieces.size() ? pieces.get(id) : null;
        }

        @Override
        public int vocabSize() {
            return pieces.size();
        }
    }
}
