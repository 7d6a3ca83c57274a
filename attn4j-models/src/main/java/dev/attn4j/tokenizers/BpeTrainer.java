package dev.attn4j.tokenizers;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;

/**
 * BPE training as Hugging Face's {@code BpeTrainer} ({@code tokenizers/src/models/bpe/trainer.rs})
 * does it, step for step, so that the vocabulary and merges come out the same:
 * <ol>
 * <li>the special tokens take the first ids, in order;</li>
 * <li>the alphabet: every character of the words (weighted by word count) and the initial
 *     alphabet; with a limit, the least frequent characters go (HF breaks count ties in hash
 *     order; here by code point); the kept characters get the next ids in code-point order;</li>
 * <li>each word becomes its characters (those outside the alphabet are dropped); pairs are
 *     counted by word frequency;</li>
 * <li>merges: a max-heap of (count, pair) entries, the smaller pair (by ids) first among equal
 *     counts; an entry whose count is stale is re-queued with the current count; the top pair is
 *     merged in the words the entry lists, creating token {@code left + right} (or reusing its id
 *     when that string already exists) and re-queuing the pairs the merge created, until the
 *     vocabulary has {@code vocabSize} tokens, nothing is left or the best count is under
 *     {@code minFrequency}.</li>
 * </ol>
 * The rare quirks of the Rust code are kept: the merged pair's own count is not decremented, so a
 * second heap entry for it (possible only when a merge re-created an existing token) can merge it
 * again, and a pair merged twice keeps its later rank. No continuing-subword prefix or end-of-word
 * suffix (byte-level and Metaspace vocabularies need neither).
 */
final class BpeTrainer {
    private BpeTrainer() {
    }

    /** The vocabulary (index = id) and the merges in rank order. */
    record Result(List<String> vocab, List<String[]> merges) {
    }

    /** One heap entry: a pair, its count when queued, and the words it was seen in. */
    private record Merge(long pair, long count, Set<Integer> pos) {
    }

    private static int left(long pair) {
        return (int) (pair >>> 32);
    }

    private static int right(long pair) {
        return (int) pair;
    }

    private static long pair(int a, int b) {
        return ((long) a << 32) | (b & 0xffffffffL);
    }

    /** A word as a list of symbol ids. */
    private static final class Word {
        int[] symbols;
        int size;

        Word(int[] symbols) {
            this.symbols = symbols;
            this.size = symbols.length;
        }

        /** Merges every (c1, c2) left to right into {@code replacement}; the pair-count changes it causes. */
        void merge(int c1, int c2, int replacement, List<long[]> changes) {
            int i = 0;
            while (i < size) {
                if (symbols[i] == c1 && i + 1 < size && symbols[i + 1] == c2) {
                    if (i > 0) {
                        changes.add(new long[] {pair(symbols[i - 1], c1), -1});
                        changes.add(new long[] {pair(symbols[i - 1], replacement), 1});
                    }
                    symbols[i] = replacement;
                    System.arraycopy(symbols, i + 2, symbols, i + 1, size - i - 2);
                    size--;
                    if (i < size - 1) {
                        changes.add(new long[] {pair(c2, symbols[i + 1]), -1});
                        changes.add(new long[] {pair(replacement, symbols[i + 1]), 1});
                    }
                }
                i++;
            }
        }
    }

    /**
     * Trains on {@code wordCounts} (pre-tokenized, normalized words and their counts).
     *
     * @param initialAlphabet characters always in the vocabulary (code points), e.g. the 256 byte chars
     * @param limitAlphabet   most characters kept, or null for all
     */
    static Result train(Map<String, Long> wordCounts, int vocabSize, long minFrequency, List<String> specialTokens,
                        Collection<Integer> initialAlphabet, Integer limitAlphabet) {
        Map<String, Integer> wordToId = new HashMap<>(vocabSize * 2);
        List<String> idToWord = new ArrayList<>(vocabSize);
        for (String s : specialTokens) {
            if (!wordToId.containsKey(s)) {
                idToWord.add(s);
                wordToId.put(s, idToWord.size() - 1);
            }
        }
        // deterministic word order (HF: hash order, which changes nothing but the heap's insertion order)
        List<String> words = new ArrayList<>(new TreeMap<>(wordCounts).keySet());
        // the alphabet
        Map<Integer, Long> alphabet = new HashMap<>();
        for (String w : words) {
            long n = wordCounts.get(w);
            w.codePoints().forEach(c -> alphabet.merge(c, n, Long::sum));
        }
        for (int c : initialAlphabet) alphabet.put(c, Long.MAX_VALUE);
        List<Map.Entry<Integer, Long>> kept = new ArrayList<>(alphabet.entrySet());
        int toRemove = limitAlphabet == null ? 0 : Math.max(0, alphabet.size() - limitAlphabet);
        if (toRemove > 0) {
            kept.sort(Map.Entry.<Integer, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()));
            kept = new ArrayList<>(kept.subList(toRemove, kept.size()));
        }
        kept.sort(Map.Entry.comparingByKey());
        for (Map.Entry<Integer, Long> e : kept) {
            String s = new String(Character.toChars(e.getKey()));
            if (!wordToId.containsKey(s)) {
                idToWord.add(s);
                wordToId.put(s, idToWord.size() - 1);
            }
        }
        // words as symbols
        List<Word> ws = new ArrayList<>(words.size());
        long[] counts = new long[words.size()];
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            counts[i] = wordCounts.get(w);
            int[] syms = w.codePoints().mapToObj(c -> wordToId.get(new String(Character.toChars(c))))
                    .filter(java.util.Objects::nonNull).mapToInt(Integer::intValue).toArray();
            ws.add(new Word(syms));
        }
        // pair counts
        Map<Long, Long> pairCounts = new HashMap<>();
        Map<Long, Set<Integer>> whereToUpdate = new LinkedHashMap<>();
        for (int i = 0; i < ws.size(); i++) {
            Word w = ws.get(i);
            for (int j = 0; j + 1 < w.size; j++) {
                long p = pair(w.symbols[j], w.symbols[j + 1]);
                pairCounts.merge(p, counts[i], Long::sum);
                whereToUpdate.computeIfAbsent(p, k -> new HashSet<>()).add(i);
            }
        }
        PriorityQueue<Merge> queue = new PriorityQueue<>(Math.max(16, pairCounts.size()), (x, y) -> {
            if (x.count != y.count) return Long.compare(y.count, x.count);            // larger count first
            int c = Integer.compareUnsigned(left(x.pair), left(y.pair));
            return c != 0 ? c : Integer.compareUnsigned(right(x.pair), right(y.pair)); // then the smaller pair
        });
        drainInto(whereToUpdate, pairCounts, queue);
        // merges
        List<long[]> merges = new ArrayList<>();                                       // {pair, new id}
        List<long[]> changes = new ArrayList<>();
        while (wordToId.size() < vocabSize) {
            Merge top = queue.poll();
            if (top == null) break;
            long current = pairCounts.get(top.pair);
            if (top.count != current) {
                queue.add(new Merge(top.pair, current, top.pos));
                continue;
            }
            if (top.count < 1 || minFrequency > top.count) break;
            String newToken = idToWord.get(left(top.pair)) + idToWord.get(right(top.pair));
            Integer existing = wordToId.get(newToken);
            int newId = existing != null ? existing : idToWord.size();
            if (existing == null) {
                idToWord.add(newToken);
                wordToId.put(newToken, newId);
            }
            merges.add(new long[] {top.pair, newId});
            for (int i : top.pos) {
                changes.clear();
                ws.get(i).merge(left(top.pair), right(top.pair), newId, changes);
                for (long[] ch : changes) {
                    pairCounts.merge(ch[0], ch[1] * counts[i], Long::sum);
                    if (ch[1] > 0) whereToUpdate.computeIfAbsent(ch[0], k -> new HashSet<>()).add(i);
                }
            }
            drainInto(whereToUpdate, pairCounts, queue);
        }
        // as the Rust model stores them: pair -> rank in a map (a pair merged twice keeps its later rank)
        Map<Long, Integer> rank = new HashMap<>();
        for (int r = 0; r < merges.size(); r++) rank.put(merges.get(r)[0], r);
        long[][] ordered = rank.entrySet().stream().map(e -> new long[] {e.getKey(), e.getValue()})
                .sorted((x, y) -> Long.compare(x[1], y[1])).toArray(long[][]::new);
        List<String[]> mergeStrings = new ArrayList<>(ordered.length);
        for (long[] m : ordered) mergeStrings.add(new String[] {idToWord.get(left(m[0])), idToWord.get(right(m[0]))});
        return new Result(List.copyOf(idToWord), mergeStrings);
    }

    private static void drainInto(Map<Long, Set<Integer>> whereToUpdate, Map<Long, Long> pairCounts, PriorityQueue<Merge> queue) {
        for (Map.Entry<Long, Set<Integer>> e : whereToUpdate.entrySet()) {
            long count = pairCounts.get(e.getKey());
            if (count > 0) queue.add(new Merge(e.getKey(), count, e.getValue()));
        }
        whereToUpdate.clear();
    }

    /** GPT-2's 256 byte characters, the initial alphabet of a byte-level vocabulary. */
    static List<Integer> byteLevelAlphabet() {
        List<Integer> out = new ArrayList<>(256);
        for (int c : ByteChars.BYTE_TO_CHAR) out.add(c);
        return out;
    }
}
