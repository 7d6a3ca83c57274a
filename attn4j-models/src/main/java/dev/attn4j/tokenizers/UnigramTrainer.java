package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Unigram language-model training as SentencePiece's {@code unigram_model_trainer.cc} and Hugging
 * Face's {@code UnigramTrainer} do it:
 * <ol>
 * <li>seed pieces: every character (scored by its frequency) and every substring of 2 to
 *     {@code maxPieceLength} characters that is an internal node of the suffix tree of the distinct
 *     words joined by NUL (a repeated substring followed by more than one character), scored by
 *     occurrences x length; the best {@code seedSize}, as log-probabilities;</li>
 * <li>EM: E step = expected piece counts by forward-backward over each word's lattice (weighted by
 *     the word's count); M step = drop pieces expected less than 0.5 times, then the Bayesian
 *     (digamma) re-estimate {@code digamma(count) - digamma(total)}; two sub-iterations per round;</li>
 * <li>pruning, while more than 1.1 x vocabSize pieces remain: each piece's alternative is its
 *     second-best segmentation; the loss of removing it is its share of words times the drop in
 *     log-likelihood when its Viterbi uses go to the alternative; the pieces with the largest loss
 *     stay, shrinking the set by 0.75 each round;</li>
 * <li>final vocabulary: the special tokens (score 0), then every character of the data (those
 *     pruned away come back just under the lowest score) and the best pieces, by score.</li>
 * </ol>
 * Where this differs from Hugging Face's trainer: the training-time {@code <UNK>} piece is not matched in
 * the text; the pruning loss uses SentencePiece's
 * {@code log(sum + freq * (alternatives_of_this_piece - 1))} where the Rust code uses the number of
 * pieces instead of the number of alternatives; ties (equal counts, equal scores) are broken by
 * code point / string order, where Rust uses hash order; the second-best segmentation is the best
 * one without the piece itself (as the n-best lattice gives it, up to ties).
 */
final class UnigramTrainer {
    private static final double UNK_PENALTY = 10.0;
    private static final String TRAINING_UNK = "<UNK>";

    private UnigramTrainer() {
    }

    /** The pieces (index = id), their scores, and the id of the unknown token. */
    record Result(List<String> pieces, double[] scores, int unkId) {
    }

    /** Settings; HF's defaults are {@link #defaults(int)}. */
    record Options(int vocabSize, int maxPieceLength, int seedSize, int subIterations, double shrinkingFactor) {
        static Options defaults(int vocabSize) {
            return new Options(vocabSize, 16, 1_000_000, 2, 0.75);
        }
    }

    /** A distinct word (code points) and its count. */
    record Sentence(int[] chars, long count) {
    }

    /** Pieces with scores and a trie over their code points; id 0 is the training-time unknown token. */
    private static final class Model {
        final List<String> pieces;
        final double[] scores;
        final double minScore;
        final Node root = new Node();

        static final class Node {
            final Map<Integer, Node> children = new HashMap<>(4);
            int id = -1;
        }

        Model(List<String> pieces, double[] scores) {
            this.pieces = pieces;
            this.scores = scores;
            double min = Double.POSITIVE_INFINITY;
            for (int i = 0; i < pieces.size(); i++) {
                if (scores[i] < min) min = scores[i];                                  // NaN never is
                if (i == 0) continue;                                                  // the training <UNK> matches no text
                Node n = root;
                int[] cps = pieces.get(i).codePoints().toArray();
                for (int c : cps) n = n.children.computeIfAbsent(c, k -> new Node());
                if (n.id < 0) n.id = i;
            }
            minScore = min;
        }
    }

    /** The lattice of one string: nodes in insertion order (by start, then length; unknown last). */
    private static final class Lattice {
        final int n;
        int size;
        int[] begin = new int[16], len = new int[16], id = new int[16];
        double[] score = new double[16];

        Lattice(int[] chars, Model m) {
            n = chars.length;
            double unk = m.minScore - UNK_PENALTY;
            for (int b = 0; b < n; b++) {
                boolean single = false;
                Model.Node node = m.root;
                for (int e = b; e < n; e++) {
                    node = node.children.get(chars[e]);
                    if (node == null) break;
                    if (node.id >= 0) {
                        add(b, e - b + 1, node.id, m.scores[node.id]);
                        if (e == b) single = true;
                    }
                }
                if (!single) add(b, 1, 0, unk);
            }
        }

        void add(int b, int l, int i, double s) {
            if (size == begin.length) {
                int c = size * 2;
                begin = Arrays.copyOf(begin, c);
                len = Arrays.copyOf(len, c);
                id = Arrays.copyOf(id, c);
                score = Arrays.copyOf(score, c);
            }
            begin[size] = b;
            len[size] = l;
            id[size] = i;
            score[size] = s;
            size++;
        }

        /** The best path as node indices (empty when there is none); node {@code excluded} (or -1) is left out. */
        int[] viterbi(int excluded) {
            double[] best = new double[n + 1];
            int[] back = new int[n + 1];
            boolean[] reached = new boolean[n + 1];
            reached[0] = true;
            Arrays.fill(back, -1);
            // nodes are sorted by start, so every node's start is final when it is visited
            for (int k = 0; k < size; k++) {
                if (k == excluded || !reached[begin[k]]) continue;
                int e = begin[k] + len[k];
                double s = best[begin[k]] + score[k];
                if (!reached[e] || s > best[e]) {
                    best[e] = s;
                    back[e] = k;
                    reached[e] = true;
                }
            }
            if (!reached[n]) return new int[0];
            List<Integer> path = new ArrayList<>();
            for (int p = n; p > 0; p = begin[back[p]]) path.add(back[p]);
            int[] out = new int[path.size()];
            for (int i = 0; i < out.length; i++) out[i] = path.get(out.length - 1 - i);
            return out;
        }

        /** Adds count x the marginal of every node to {@code expected} (by piece id); returns log Z. */
        double marginals(double count, double[] expected) {
            double[] a = new double[n + 1], b = new double[n + 1];
            boolean[] ra = new boolean[n + 1], rb = new boolean[n + 1];
            ra[0] = true;
            for (int k = 0; k < size; k++) {
                if (!ra[begin[k]]) continue;
                int e = begin[k] + len[k];
                double v = a[begin[k]] + score[k];
                a[e] = ra[e] ? logSumExp(a[e], v) : v;
                ra[e] = true;
            }
            rb[n] = true;
            for (int k = size - 1; k >= 0; k--) {
                int e = begin[k] + len[k];
                if (!rb[e]) continue;
                double v = b[e] + score[k];
                b[begin[k]] = rb[begin[k]] ? logSumExp(b[begin[k]], v) : v;
                rb[begin[k]] = true;
            }
            double z = a[n];
            for (int k = 0; k < size; k++) {
                if (!ra[begin[k]] || !rb[begin[k] + len[k]]) continue;
                expected[id[k]] += count * Math.exp(a[begin[k]] + score[k] + b[begin[k] + len[k]] - z);
            }
            return z;
        }
    }

    /** SentencePiece's LogSumExp (differences beyond 50 nats are dropped). */
    private static double logSumExp(double x, double y) {
        double lo = Math.min(x, y), hi = Math.max(x, y);
        return hi > lo + 50 ? hi : hi + Math.log(Math.exp(lo - hi) + 1.0);
    }

    static double digamma(double x) {
        double result = 0;
        while (x < 7) {
            result -= 1 / x;
            x += 1;
        }
        x -= 0.5;
        double xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
        return result + Math.log(x) + xx2 / 24 - 7.0 / 960 * xx4 + 31.0 / 8064 * xx4 * xx2 - 127.0 / 30720 * xx4 * xx4;
    }

    /**
     * Trains on {@code wordCounts}; the result starts with {@code specialTokens} (and
     * {@code unkToken} first when it is not among them).
     */
    static Result train(Map<String, Long> wordCounts, Options o, List<String> specialTokens, String unkToken,
                        Collection<Integer> initialAlphabet) {
        List<Sentence> sentences = new ArrayList<>(wordCounts.size());
        for (Map.Entry<String, Long> e : new TreeMap<>(wordCounts).entrySet()) {
            if (!e.getKey().isEmpty()) sentences.add(new Sentence(e.getKey().codePoints().toArray(), e.getValue()));
        }
        TreeSet<Integer> required = new TreeSet<>(initialAlphabet);
        for (Sentence s : sentences) for (int c : s.chars) required.add(c);
        int specials = specialTokens.size() + (specialTokens.contains(unkToken) ? 0 : 1);
        if (required.size() + specials > o.vocabSize()) {
            throw new TokenizerException("unigram training: vocab size " + o.vocabSize() + " is too small for the " + required.size()
                    + " characters of the data and " + specials + " special token(s)");
        }
        List<String> pieces = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        pieces.add(TRAINING_UNK);
        scores.add(Double.NaN);
        seeds(sentences, o, pieces, scores);
        int desired = o.vocabSize() * 11 / 10;
        Model model = new Model(pieces, unbox(scores));
        while (true) {
            for (int it = 0; it < o.subIterations(); it++) {
                double[] expected = eStep(model, sentences);
                model = mStep(model, expected);
            }
            if (model.pieces.size() <= desired) break;
            model = prune(model, sentences, o);
        }
        return finish(model, o.vocabSize(), required, specialTokens, unkToken);
    }

    private static double[] unbox(List<Double> l) {
        double[] a = new double[l.size()];
        for (int i = 0; i < a.length; i++) a[i] = l.get(i);
        return a;
    }

    // ---------------------------------------------------------------- seeds

    /** Appends the seed pieces (characters, then frequent substrings) with log-probability scores. */
    static void seeds(List<Sentence> sentences, Options o, List<String> pieces, List<Double> scores) {
        int total = 0;
        for (Sentence s : sentences) total += s.chars.length + 1;
        int[] text = new int[total];
        Map<Integer, Long> charCounts = new HashMap<>();
        int at = 0;
        for (Sentence s : sentences) {
            for (int c : s.chars) {
                text[at++] = c;
                if (c != 0) charCounts.merge(c, s.count, Long::sum);
            }
            text[at++] = 0;                                                            // the boundary
        }
        List<long[]> chars = new ArrayList<>();                                        // {count, char}
        for (Map.Entry<Integer, Long> e : charCounts.entrySet()) chars.add(new long[] {e.getValue(), e.getKey()});
        chars.sort((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(y[1], x[1]));
        double sum = 0;
        int firstSeed = pieces.size();
        for (long[] c : chars) {
            pieces.add(new String(Character.toChars((int) c[1])));
            scores.add((double) c[0]);
            sum += c[0];
        }
        record Sub(long score, int start, int length) {
        }
        int[] sa = suffixArray(text);
        int[] lcp = lcp(text, sa);
        List<Sub> subs = new ArrayList<>();
        // lcp intervals = internal nodes of the suffix tree: (depth, left bound) on a stack
        int[] stackDepth = new int[64], stackLeft = new int[64];
        int top = 0;
        stackDepth[0] = 0;
        stackLeft[0] = 0;
        for (int i = 1; i <= text.length; i++) {
            int h = i == text.length ? 0 : lcp[i];
            int left = i - 1;
            while (h < stackDepth[top]) {
                int depth = stackDepth[top], lb = stackLeft[top];
                top--;
                int freq = i - lb;
                if (depth > 1 && depth <= o.maxPieceLength()) {
                    int start = sa[lb];
                    boolean boundary = false;
                    for (int k = start; k < start + depth && !boundary; k++) boundary = text[k] == 0;
                    if (!boundary) subs.add(new Sub((long) freq * depth, start, depth));
                }
                left = lb;
            }
            if (h > stackDepth[top]) {
                if (++top == stackDepth.length) {
                    stackDepth = Arrays.copyOf(stackDepth, top * 2);
                    stackLeft = Arrays.copyOf(stackLeft, top * 2);
                }
                stackDepth[top] = h;
                stackLeft[top] = left;
            }
        }
        subs.sort((x, y) -> {
            if (x.score != y.score) return Long.compare(y.score, x.score);
            return -Arrays.compare(text, x.start, x.start + x.length, text, y.start, y.start + y.length);
        });
        for (Sub s : subs) {
            if (pieces.size() - firstSeed >= o.seedSize()) break;
            pieces.add(new String(text, s.start, s.length));
            scores.add((double) s.score);
            sum += s.score;
        }
        double logSum = Math.log(sum);
        for (int i = firstSeed; i < scores.size(); i++) scores.set(i, Math.log(scores.get(i)) - logSum);
    }

    /** Suffix array by prefix doubling with radix sorts, O(n log n). */
    static int[] suffixArray(int[] s) {
        int n = s.length;
        int[] sa = new int[n], rank = new int[n], tmp = new int[n], sa2 = new int[n];
        if (n == 0) return sa;
        int[] sorted = s.clone();
        Arrays.sort(sorted);
        Map<Integer, Integer> dense = new HashMap<>();
        for (int v : sorted) dense.putIfAbsent(v, dense.size());
        for (int i = 0; i < n; i++) rank[i] = dense.get(s[i]);
        int classes = dense.size();
        for (int k = 1; ; k <<= 1) {
            // sort by (rank[i], rank[i + k] or -1): second key first, then a stable pass on the first
            int[] cnt = new int[Math.max(classes, n) + 1];
            for (int i = 0; i < n; i++) cnt[i + k < n ? rank[i + k] + 1 : 0]++;
            for (int i = 1; i < cnt.length; i++) cnt[i] += cnt[i - 1];
            for (int i = n - 1; i >= 0; i--) sa2[--cnt[i + k < n ? rank[i + k] + 1 : 0]] = i;
            Arrays.fill(cnt, 0);
            for (int i = 0; i < n; i++) cnt[rank[i]]++;
            for (int i = 1; i < cnt.length; i++) cnt[i] += cnt[i - 1];
            for (int i = n - 1; i >= 0; i--) sa[--cnt[rank[sa2[i]]]] = sa2[i];
            tmp[sa[0]] = 0;
            int c = 0;
            for (int i = 1; i < n; i++) {
                int a = sa[i - 1], b = sa[i];
                int a2 = a + k < n ? rank[a + k] : -1, b2 = b + k < n ? rank[b + k] : -1;
                if (rank[a] != rank[b] || a2 != b2) c++;
                tmp[b] = c;
            }
            System.arraycopy(tmp, 0, rank, 0, n);
            classes = c + 1;
            if (classes == n) break;
        }
        return sa;
    }

    /** Kasai's LCP: lcp[i] = common prefix of suffixes sa[i - 1] and sa[i] (lcp[0] = 0). */
    static int[] lcp(int[] s, int[] sa) {
        int n = s.length;
        int[] rank = new int[n], lcp = new int[n];
        for (int i = 0; i < n; i++) rank[sa[i]] = i;
        int h = 0;
        for (int i = 0; i < n; i++) {
            if (rank[i] > 0) {
                int j = sa[rank[i] - 1];
                while (i + h < n && j + h < n && s[i + h] == s[j + h]) h++;
                lcp[rank[i]] = h;
                if (h > 0) h--;
            } else {
                h = 0;
            }
        }
        return lcp;
    }

    // ---------------------------------------------------------------- EM

    private static double[] eStep(Model m, List<Sentence> sentences) {
        double[] expected = new double[m.pieces.size()];
        for (Sentence s : sentences) {
            double z = new Lattice(s.chars, m).marginals(s.count, expected);
            if (Double.isNaN(z)) throw new TokenizerException("unigram training: likelihood is NaN (a word too long?)");
        }
        return expected;
    }

    private static Model mStep(Model m, double[] expected) {
        List<String> pieces = new ArrayList<>();
        List<Double> counts = new ArrayList<>();
        double sum = 0;
        for (int i = 0; i < m.pieces.size(); i++) {
            if (i == 0) {
                pieces.add(m.pieces.get(0));
                counts.add(Double.NaN);
                continue;
            }
            if (expected[i] < 0.5) continue;
            pieces.add(m.pieces.get(i));
            counts.add(expected[i]);
            sum += expected[i];
        }
        double logSum = digamma(sum);
        double[] scores = new double[pieces.size()];
        for (int i = 0; i < scores.length; i++) scores[i] = digamma(counts.get(i)) - logSum;
        return new Model(pieces, scores);
    }

    // ---------------------------------------------------------------- pruning

    private static Model prune(Model m, List<Sentence> sentences, Options o) {
        int size = m.pieces.size();
        boolean[] alwaysKeep = new boolean[size];
        int[][] alternatives = new int[size][];
        for (int id = 1; id < size; id++) {
            Lattice l = new Lattice(m.pieces.get(id).codePoints().toArray(), m);
            int[] best = l.viterbi(-1);
            alternatives[id] = new int[0];
            if (best.length != 1) {
                alwaysKeep[id] = false;                                                // itself not the best path
                continue;
            }
            int[] second = l.viterbi(best[0]);
            alwaysKeep[id] = true;
            if (second.length > 0) {
                int[] alt = new int[second.length];
                for (int k = 0; k < alt.length; k++) alt[k] = l.id[second[k]];
                alternatives[id] = alt;
            }
        }
        double[] freq = new double[size];
        List<List<Integer>> inverted = new ArrayList<>(size);
        for (int i = 0; i < size; i++) inverted.add(new ArrayList<>());
        double vsum = 0;
        for (int si = 0; si < sentences.size(); si++) {
            Sentence s = sentences.get(si);
            Lattice l = new Lattice(s.chars, m);
            vsum += s.count;
            for (int node : l.viterbi(-1)) {
                freq[l.id[node]] += s.count;
                inverted.get(l.id[node]).add(si);
            }
        }
        double sum = 0;
        for (double f : freq) sum += f;
        double logSum = Math.log(sum);
        List<Integer> kept = new ArrayList<>();
        List<double[]> candidates = new ArrayList<>();                                 // {id, loss}
        kept.add(0);
        for (int id = 1; id < size; id++) {
            if (freq[id] == 0 && !alwaysKeep[id]) continue;                            // never on a Viterbi path
            if (alternatives[id].length == 0) {
                kept.add(id);
                continue;
            }
            double f = 0;
            for (int si : inverted.get(id)) f += sentences.get(si).count;
            if (f == 0 || Double.isNaN(f)) continue;
            f /= vsum;
            double logProbPiece = Math.log(freq[id]) - logSum;
            double logSumAlt = Math.log(sum + freq[id] * (alternatives[id].length - 1));
            double logProbAlt = 0;
            for (int alt : alternatives[id]) logProbAlt += Math.log(freq[alt] + freq[id]) - logSumAlt;
            candidates.add(new double[] {id, f * (logProbPiece - logProbAlt)});
        }
        int desired = o.vocabSize() * 11 / 10;
        int prunedSize = Math.max(desired, (int) (size * o.shrinkingFactor()));
        candidates.sort(Comparator.comparingDouble((double[] c) -> -c[1]));
        for (double[] c : candidates) {
            if (kept.size() >= prunedSize) break;
            kept.add((int) c[0]);
        }
        List<String> pieces = new ArrayList<>(kept.size());
        double[] scores = new double[kept.size()];
        for (int i = 0; i < kept.size(); i++) {
            pieces.add(m.pieces.get(kept.get(i)));
            scores[i] = m.scores[kept.get(i)];
        }
        return new Model(pieces, scores);
    }

    // ---------------------------------------------------------------- the final vocabulary

    private static Result finish(Model m, int vocabSize, Set<Integer> required, List<String> specialTokens, String unkToken) {
        Map<String, Double> existing = new HashMap<>();
        for (int i = 0; i < m.pieces.size(); i++) existing.putIfAbsent(m.pieces.get(i), m.scores[i]);
        List<String> pieces = new ArrayList<>();
        List<Double> scores = new ArrayList<>();
        Set<String> inserted = new HashSet<>();
        inserted.add(TRAINING_UNK);
        double penalty = 0;
        for (int c : required) {
            String s = new String(Character.toChars(c));
            inserted.add(s);
            pieces.add(s);
            Double score = existing.get(s);
            if (score != null) {
                scores.add(score);
            } else {
                scores.add(m.minScore + penalty);
                penalty += 0.0001;
            }
        }
        boolean addUnk = unkToken != null && !specialTokens.contains(unkToken);
        int room = vocabSize - specialTokens.size() - (addUnk ? 1 : 0);
        for (int i = 0; i < m.pieces.size() && pieces.size() < room; i++) {
            String p = m.pieces.get(i);
            if (!inserted.add(p)) continue;
            pieces.add(p);
            scores.add(Double.isNaN(m.scores[i]) ? 0.0 : m.scores[i]);
        }
        Integer[] order = new Integer[pieces.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(scores.get(y), scores.get(x)));   // stable: ties keep their order
        List<String> outPieces = new ArrayList<>(vocabSize);
        List<Double> outScores = new ArrayList<>(vocabSize);
        if (addUnk) {
            outPieces.add(unkToken);
            outScores.add(0.0);
        }
        for (String s : specialTokens) {
            outPieces.add(s);
            outScores.add(0.0);
        }
        for (int i : order) {
            outPieces.add(pieces.get(i));
            outScores.add(scores.get(i));
        }
        int unkId = unkToken == null ? -1 : outPieces.indexOf(unkToken);
        return new Result(List.copyOf(outPieces), unbox(outScores), unkId);
    }
}
