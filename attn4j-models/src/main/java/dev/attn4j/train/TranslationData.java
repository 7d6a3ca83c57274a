package dev.attn4j.train;

import dev.attn4j.models.seq2seq.Batch;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.train.data.TextLines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A parallel corpus for translation: line i of the source file translates line i of the target
 * file; both are tokenized with one (joint) tokenizer whose {@code <pad>}, {@code <s>} and
 * {@code </s>} have the ids the sequence-to-sequence models use (0, 1, 2).
 *
 * <p>Training batches are made as fairseq's {@code --max-tokens} makes them: each epoch the pairs
 * are shuffled (a generator seeded by (seed, epoch)), stably sorted by target then source length,
 * cut into batches whose padded size (pairs x the longest source or target, EOS/BOS included)
 * stays within {@code maxTokens}, and the batches shuffled. Epoch e is thus a function of the seed
 * and e alone, which is what makes resuming exact.
 */
public final class TranslationData {
    /** One tokenized pair (ids without BOS/EOS) and its original target text. */
    public record Pair(int[] source, int[] target, String sourceText, String targetText) {
    }

    private final List<Pair> pairs;
    private final int skipped;

    private TranslationData(List<Pair> pairs, int skipped) {
        this.pairs = pairs;
        this.skipped = skipped;
    }

    /** The tokenizer's ids for pad, BOS and EOS must be the models' (0, 1, 2); the error names what is where. */
    public static void checkSpecialTokens(Tokenizer tok, String where) {
        String[] names = {"<pad>", "<s>", "</s>"};
        int[] ids = {CharVocab.PAD, CharVocab.BOS, CharVocab.EOS};
        for (int i = 0; i < names.length; i++) {
            Integer id = tok.tokenToId(names[i]);
            if (id == null || id != ids[i]) {
                throw new IllegalArgumentException(where + ": the translation models need " + names[i] + " at id " + ids[i] + ", but the tokenizer has "
                        + (id == null ? "no " + names[i] : names[i] + " at id " + id)
                        + " (train one with 'attn4j tokenizer train', whose default special tokens are <pad>,<s>,</s>,<unk>)");
            }
        }
    }

    /**
     * Reads and tokenizes a parallel corpus. Lines are stripped; pairs with an empty side are
     * dropped, as are (when {@code maxLength > 0}) pairs with a side longer than {@code maxLength}
     * tokens; {@link #skipped()} counts both.
     */
    public static TranslationData read(Path sourceFile, Path targetFile, Tokenizer tok, int maxLength) {
        List<String> src = TextLines.read(sourceFile), tgt = TextLines.read(targetFile);
        if (src.size() != tgt.size()) {
            throw new IllegalArgumentException("parallel files differ in length: " + sourceFile + " has " + src.size() + " lines, "
                    + targetFile + " has " + tgt.size());
        }
        return of(src, tgt, tok, maxLength);
    }

    /** As {@link #read} on lines in memory. */
    public static TranslationData of(List<String> sources, List<String> targets, Tokenizer tok, int maxLength) {
        if (sources.size() != targets.size()) {
            throw new IllegalArgumentException("parallel data: " + sources.size() + " sources but " + targets.size() + " targets");
        }
        List<Pair> pairs = new ArrayList<>(sources.size());
        int skipped = 0;
        for (int i = 0; i < sources.size(); i++) {
            String s = sources.get(i).strip(), t = targets.get(i).strip();
            if (s.isEmpty() || t.isEmpty()) {
                skipped++;
                continue;
            }
            int[] a = encode(tok, s), b = encode(tok, t);
            if (maxLength > 0 && (a.length > maxLength || b.length > maxLength)) {
                skipped++;
                continue;
            }
            pairs.add(new Pair(a, b, s, t));
        }
        return new TranslationData(List.copyOf(pairs), skipped);
    }

    /** Token ids of {@code text}, without special tokens. */
    public static int[] encode(Tokenizer tok, String text) {
        return tok.encode(text, false).ids();
    }

    public List<Pair> pairs() {
        return pairs;
    }

    public int size() {
        return pairs.size();
    }

    /** Pairs dropped when reading (an empty side, or longer than the limit). */
    public int skipped() {
        return skipped;
    }

    /** Source + target tokens of the corpus (EOS counted on the target side, as trained on). */
    public long tokens() {
        long n = 0;
        for (Pair p : pairs) n += p.source.length + p.target.length + 1;
        return n;
    }

    /** The batches of epoch {@code epoch} (from 1), as lists of pair indices. */
    public List<int[]> epochBatches(long seed, long epoch, int maxTokens) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + 0x5EED);
        int n = pairs.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        for (int i = n - 1; i > 0; i--) {                                            // Fisher-Yates
            int j = rng.nextInt(i + 1);
            Integer t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        Arrays.sort(order, (x, y) -> {                                               // stable: ties keep the shuffle
            int c = Integer.compare(pairs.get(x).target.length, pairs.get(y).target.length);
            return c != 0 ? c : Integer.compare(pairs.get(x).source.length, pairs.get(y).source.length);
        });
        List<int[]> batches = new ArrayList<>();
        List<Integer> current = new ArrayList<>();
        int longest = 0;
        for (int idx : order) {
            Pair p = pairs.get(idx);
            int len = Math.max(p.source.length, p.target.length + 1);
            int widest = Math.max(longest, len);
            if (!current.isEmpty() && (long) widest * (current.size() + 1) > maxTokens) {
                batches.add(current.stream().mapToInt(Integer::intValue).toArray());
                current.clear();
                widest = len;
            }
            current.add(idx);
            longest = widest;
        }
        if (!current.isEmpty()) batches.add(current.stream().mapToInt(Integer::intValue).toArray());
        for (int i = batches.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int[] t = batches.get(i);
            batches.set(i, batches.get(j));
            batches.set(j, t);
        }
        return batches;
    }

    /** The padded batch of pairs {@code indices}. */
    public Batch batch(int[] indices) {
        List<int[]> s = new ArrayList<>(indices.length), t = new ArrayList<>(indices.length);
        for (int i : indices) {
            s.add(pairs.get(i).source);
            t.add(pairs.get(i).target);
        }
        return Batch.of(s, t);
    }
}
