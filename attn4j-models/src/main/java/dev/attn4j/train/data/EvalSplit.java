package dev.attn4j.train.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * {@code --eval-fraction P}: a seeded random split of one file's rows into training and
 * evaluation rows.
 * <p>
 * The row indices are shuffled by Fisher-Yates with {@code java.util.Random(seed)} (whose sequence
 * the JDK specifies, so a seed gives the same split on every JVM); the first
 * {@code ceil(P * n)} shuffled rows are the evaluation set (the size Hugging Face datasets'
 * {@code train_test_split(test_size=P)} and sklearn give), the rest the training set. Each part
 * keeps the file's row order.
 */
public final class EvalSplit {
    private EvalSplit() {
    }

    /** The two parts. */
    public record Split(List<LabeledExample> train, List<LabeledExample> eval) {
        public Split {
            train = List.copyOf(train);
            eval = List.copyOf(eval);
        }
    }

    /**
     * Splits {@code rows}.
     *
     * @throws IllegalArgumentException when {@code fraction} is not in (0, 1) or either part would
     *                                  be empty
     */
    public static Split split(List<LabeledExample> rows, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("--eval-fraction must be between 0 and 1 (exclusive), got " + fraction);
        }
        int n = rows.size();
        int nEval = (int) Math.ceil(fraction * n);
        if (nEval >= n) {
            throw new IllegalArgumentException("--eval-fraction " + fraction + " of " + n + " rows leaves no training rows");
        }
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) perm[i] = i;
        Random rnd = new Random(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        boolean[] isEval = new boolean[n];
        for (int i = 0; i < nEval; i++) isEval[perm[i]] = true;
        List<LabeledExample> train = new ArrayList<>(n - nEval);
        List<LabeledExample> eval = new ArrayList<>(nEval);
        for (int i = 0; i < n; i++) (isEval[i] ? eval : train).add(rows.get(i));
        return new Split(train, eval);
    }
}
