package dev.attn4j.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Classification metrics from gold and predicted class ids, as scikit-learn computes them:
 * accuracy, per-class precision / recall / F1 (0 where undefined), macro-F1 over the classes
 * that occur in the gold or predicted labels, and the confusion matrix (rows gold, columns
 * predicted).
 */
public record EvalMetrics(int n, double accuracy, double macroF1, double[] precision, double[] recall, double[] f1,
                          int[] support, int[][] confusion) {

    public static EvalMetrics of(int[] gold, int[] predicted, int numLabels) {
        if (gold.length != predicted.length) throw new IllegalArgumentException("gold and predicted differ in length");
        int[][] cm = new int[numLabels][numLabels];
        int correct = 0;
        for (int i = 0; i < gold.length; i++) {
            cm[gold[i]][predicted[i]]++;
            if (gold[i] == predicted[i]) correct++;
        }
        double[] p = new double[numLabels], r = new double[numLabels], f = new double[numLabels];
        int[] support = new int[numLabels];
        double sumF1 = 0;
        int present = 0;
        for (int c = 0; c < numLabels; c++) {
            int tp = cm[c][c], predictedC = 0, goldC = 0;
            for (int k = 0; k < numLabels; k++) {
                predictedC += cm[k][c];
                goldC += cm[c][k];
            }
            support[c] = goldC;
            p[c] = predictedC == 0 ? 0 : (double) tp / predictedC;
            r[c] = goldC == 0 ? 0 : (double) tp / goldC;
            f[c] = p[c] + r[c] == 0 ? 0 : 2 * p[c] * r[c] / (p[c] + r[c]);
            if (goldC > 0 || predictedC > 0) {
                sumF1 += f[c];
                present++;
            }
        }
        return new EvalMetrics(gold.length, gold.length == 0 ? Double.NaN : (double) correct / gold.length,
                present == 0 ? 0 : sumF1 / present, p, r, f, support, cm);
    }

    /** The confusion matrix as nested lists (for JSON). */
    public List<List<Integer>> confusionRows() {
        List<List<Integer>> out = new ArrayList<>();
        for (int[] row : confusion) {
            List<Integer> r = new ArrayList<>();
            for (int v : row) r.add(v);
            out.add(r);
        }
        return out;
    }
}
