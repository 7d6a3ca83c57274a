package dev.attn4j.train.metrics;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Corpus BLEU exactly as sacreBLEU computes its default ({@code sacrebleu REF < HYP}, or
 * {@code BLEU().corpus_score(hyps, [refs])}): the {@code 13a} tokenizer (mteval-v13a), cased,
 * n-grams up to 4, the brevity penalty against the closest reference length, the {@code exp}
 * smoothing (mteval's: the k-th order without a match gets precision 100 / (2^k total)) and no
 * effective order. Signature: {@code nrefs:N|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0}
 * (the sacreBLEU release these rules were read from; they have not changed since 2.0).
 *
 * <p>Details that matter for equality with sacreBLEU: every segment is right-stripped of Python
 * whitespace before tokenizing; tokens are what Python's {@code str.split()} yields (so no-break
 * and other Unicode spaces separate tokens); an order with no hypothesis n-grams at all ends the
 * precision loop and makes the score 0 (log 0 is floored to -9999999999); a corpus with no
 * matching unigram scores 0 outright; figures are formatted as Python's f-strings round them (half
 * to even on the exact binary value).
 */
public final class Bleu {
    /** Largest n-gram order. */
    public static final int MAX_ORDER = 4;
    /** The sacreBLEU version whose BLEU this reproduces (for the signature). */
    public static final String SACREBLEU_VERSION = "2.6.0";

    private Bleu() {
    }

    /**
     * A corpus BLEU result, as sacreBLEU's {@code BLEUScore}.
     *
     * @param score      BLEU in [0, 100]
     * @param counts     matched n-grams per order (clipped by the reference counts)
     * @param totals     hypothesis n-grams per order
     * @param precisions n-gram precisions in percent (smoothed as {@code exp})
     * @param bp         brevity penalty
     * @param hypLen     hypothesis tokens
     * @param refLen     (closest) reference tokens
     * @param nrefs      references per segment
     */
    public record Score(double score, long[] counts, long[] totals, double[] precisions, double bp, long hypLen, long refLen,
                        int nrefs) {
        /** hyp_len / ref_len (0 without reference tokens). */
        public double ratio() {
            return refLen == 0 ? 0 : (double) hypLen / refLen;
        }

        /** sacreBLEU's signature for these settings. */
        public String signature() {
            return Bleu.signature(nrefs);
        }

        /** sacreBLEU's verbose line: {@code BLEU = 34.12 65.1/41.2/27.9/19.3 (BP = 0.980 ratio = 0.980 hyp_len = 9 ref_len = 9)}. */
        public String format() {
            return format(2);
        }

        /** As {@link #format()} with the score to {@code width} decimals (sacreBLEU's {@code --width}). */
        public String format(int width) {
            StringBuilder s = new StringBuilder("BLEU = ").append(fixed(score, width)).append(' ');
            for (int i = 0; i < precisions.length; i++) s.append(i > 0 ? "/" : "").append(fixed(precisions[i], 1));
            return s.append(" (BP = ").append(fixed(bp, 3)).append(" ratio = ").append(fixed(ratio(), 3)).append(" hyp_len = ")
                    .append(hypLen).append(" ref_len = ").append(refLen).append(')').toString();
        }
    }

    /** sacreBLEU's signature of its default BLEU with {@code nrefs} references per segment. */
    public static String signature(int nrefs) {
        return "nrefs:" + nrefs + "|case:mixed|eff:no|tok:13a|smooth:exp|version:" + SACREBLEU_VERSION;
    }

    /**
     * Corpus BLEU of {@code hypotheses} against one or more reference streams (each as long as
     * the hypotheses; {@code references.get(r).get(i)} is reference r of segment i).
     */
    public static Score corpus(List<String> hypotheses, List<List<String>> references) {
        if (references.isEmpty()) throw new IllegalArgumentException("BLEU: no reference stream given");
        for (int r = 0; r < references.size(); r++) {
            if (references.get(r).size() != hypotheses.size()) {
                throw new IllegalArgumentException("BLEU: the hypotheses have " + hypotheses.size() + " segments but reference stream "
                        + (r + 1) + " has " + references.get(r).size());
            }
        }
        long hypLen = 0, refLen = 0;
        long[] correct = new long[MAX_ORDER], total = new long[MAX_ORDER];
        for (int i = 0; i < hypotheses.size(); i++) {
            String hyp = hypotheses.get(i);
            if (hyp == null) throw new IllegalArgumentException("BLEU: hypothesis " + (i + 1) + " is null");
            Map<String, Integer> refCounts = new HashMap<>();
            int[] refLens = new int[references.size()];
            for (int r = 0; r < references.size(); r++) {
                String ref = references.get(r).get(i);
                if (ref == null) throw new IllegalArgumentException("BLEU: reference " + (r + 1) + " of segment " + (i + 1) + " is null");
                String[] toks = split(tokenize13a(rstrip(ref)));
                refLens[r] = toks.length;
                for (Map.Entry<String, Integer> e : ngrams(toks).entrySet()) refCounts.merge(e.getKey(), e.getValue(), Math::max);
            }
            String[] toks = split(tokenize13a(rstrip(hyp)));
            hypLen += toks.length;
            refLen += closestRefLength(toks.length, refLens);
            for (Map.Entry<String, Integer> e : ngrams(toks).entrySet()) {
                int n = order(e.getKey());
                total[n - 1] += e.getValue();
                Integer inRef = refCounts.get(e.getKey());
                if (inRef != null) correct[n - 1] += Math.min(e.getValue(), inRef);
            }
        }
        return fromStatistics(correct, total, hypLen, refLen, references.size());
    }

    /** BLEU from summed statistics, as sacreBLEU's {@code compute_bleu} with {@code smooth_method='exp'}. */
    public static Score fromStatistics(long[] correct, long[] total, long hypLen, long refLen, int nrefs) {
        if (correct.length != MAX_ORDER || total.length != MAX_ORDER) {
            throw new IllegalArgumentException("BLEU statistics need " + MAX_ORDER + " orders, got " + correct.length + " and " + total.length);
        }
        double bp = 1.0;
        if (hypLen < refLen) bp = hypLen > 0 ? Math.exp(1 - (double) refLen / hypLen) : 0.0;
        double[] precisions = new double[MAX_ORDER];
        boolean anyMatch = false;
        for (long c : correct) anyMatch |= c != 0;
        if (!anyMatch) return new Score(0.0, correct.clone(), total.clone(), precisions, bp, hypLen, refLen, nrefs);
        double smooth = 1.0;
        for (int n = 1; n <= MAX_ORDER; n++) {
            if (total[n - 1] == 0) break;
            if (correct[n - 1] == 0) {
                smooth *= 2;
                precisions[n - 1] = 100.0 / (smooth * total[n - 1]);
            } else {
                precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1];
            }
        }
        double logSum = 0;
        for (double p : precisions) logSum += p == 0.0 ? -9999999999.0 : Math.log(p);
        double score = bp * Math.exp(logSum / MAX_ORDER);
        return new Score(score, correct.clone(), total.clone(), precisions, bp, hypLen, refLen, nrefs);
    }

    // ---------------------------------------------------------------- 13a tokenization

    /** mteval-v13a's punctuation: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ / */
    private static final Pattern PUNCT = Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
    /** Period and comma unless preceded by a digit. */
    private static final Pattern PERIOD_COMMA_AFTER = Pattern.compile("([^0-9])([\\.,])");
    /** Period and comma unless followed by a digit. */
    private static final Pattern PERIOD_COMMA_BEFORE = Pattern.compile("([\\.,])([^0-9])");
    /** A dash preceded by a digit. */
    private static final Pattern DIGIT_DASH = Pattern.compile("([0-9])(-)");

    /** sacreBLEU's {@code 13a} tokenization of one segment: tokens joined by single spaces. */
    public static String tokenize13a(String line) {
        line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ");
        if (line.indexOf('&') >= 0) {
            line = line.replace("&quot;", "\"").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
        }
        line = " " + line + " ";
        line = PUNCT.matcher(line).replaceAll(" $1 ");
        line = PERIOD_COMMA_AFTER.matcher(line).replaceAll("$1 $2 ");
        line = PERIOD_COMMA_BEFORE.matcher(line).replaceAll(" $1 $2");
        line = DIGIT_DASH.matcher(line).replaceAll("$1 $2 ");
        return String.join(" ", split(line));
    }

    /** Python's {@code str.split()}: runs of whitespace ({@link #isPythonSpace}) separate; no empty pieces. */
    static String[] split(String s) {
        List<String> out = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            if (isPythonSpace(c)) {
                if (start >= 0) out.add(s.substring(start, i));
                start = -1;
            } else if (start < 0) {
                start = i;
            }
            i += Character.charCount(c);
        }
        if (start >= 0) out.add(s.substring(start));
        return out.toArray(new String[0]);
    }

    /** Python's {@code str.rstrip()}. */
    static String rstrip(String s) {
        int end = s.length();
        while (end > 0) {
            int c = s.codePointBefore(end);
            if (!isPythonSpace(c)) break;
            end -= Character.charCount(c);
        }
        return s.substring(0, end);
    }

    /**
     * Python's {@code str.isspace()} for one code point: tab, line feed, vertical tab, form feed,
     * carriage return, the file/group/record/unit separators 0x1C-0x1F, space, U+0085, U+00A0,
     * U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000.
     */
    static boolean isPythonSpace(int c) {
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    // ---------------------------------------------------------------- n-grams

    /** Counts of every n-gram of orders 1..4, keyed by its tokens joined with single spaces (never inside a token). */
    private static Map<String, Integer> ngrams(String[] tokens) {
        Map<String, Integer> out = new HashMap<>();
        StringBuilder key = new StringBuilder();
        for (int n = 1; n <= MAX_ORDER; n++) {
            for (int i = 0; i + n <= tokens.length; i++) {
                key.setLength(0);
                for (int j = i; j < i + n; j++) {
                    if (j > i) key.append(' ');
                    key.append(tokens[j]);
                }
                out.merge(key.toString(), 1, Integer::sum);
            }
        }
        return out;
    }

    private static int order(String key) {
        int n = 1;
        for (int i = 0; i < key.length(); i++) if (key.charAt(i) == ' ') n++;
        return n;
    }

    /** The reference length closest to {@code hypLen}; ties go to the shorter reference. */
    static int closestRefLength(int hypLen, int[] refLens) {
        int bestDiff = -1, best = -1;
        for (int r : refLens) {
            int diff = Math.abs(hypLen - r);
            if (bestDiff == -1 || diff < bestDiff) {
                bestDiff = diff;
                best = r;
            } else if (diff == bestDiff && r < best) {
                best = r;
            }
        }
        return best;
    }

    /** Python's {@code f"{x:.{digits}f}"}: the exact binary value rounded half to even. */
    static String fixed(double x, int digits) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        String s = new BigDecimal(x).setScale(digits, RoundingMode.HALF_EVEN).toPlainString();
        if (x < 0 || (x == 0 && 1 / x < 0)) {
            if (!s.startsWith("-")) s = "-" + s;
        }
        return s;
    }
}
