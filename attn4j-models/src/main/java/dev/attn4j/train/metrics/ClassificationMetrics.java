package dev.attn4j.train.metrics;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Single-label classification metrics as scikit-learn defines them, with
 * {@code zero_division=0}: a precision, recall or F1 whose denominator is 0 is 0.
 * <ul>
 *   <li>{@code accuracy}: correct / n ({@code accuracy_score}).</li>
 *   <li>Per class ({@code precision_recall_fscore_support}): precision tp / (tp + fp), recall
 *       tp / (tp + fn), F1 2 tp / (2 tp + fp + fn), support = number of gold rows of the class.
 *       Every class of the label list is reported, with zeros when it has no gold and no predicted
 *       rows.</li>
 *   <li>{@code macroF1} (and macro precision / recall): the unweighted mean over the classes that
 *       occur in the gold or the predicted labels, which is what {@code f1_score(y_true, y_pred,
 *       average="macro")} averages when not given {@code labels}; {@code weightedF1} weights each
 *       by its support ({@code average="weighted"}).</li>
 *   <li>{@code confusionMatrix[i][j]}: rows whose gold class is i and predicted class is j
 *       ({@code confusion_matrix(y_true, y_pred, labels=range(num_labels))}), over every class.</li>
 * </ul>
 * The record serialises to JSON as is (Jackson): {@code {"n", "accuracy", "macroF1", ...,
 * "perClass": {label: {"precision", "recall", "f1", "support"}}, "labels": [...],
 * "confusionMatrix": [[...]]}}.
 */
public record ClassificationMetrics(int n, double accuracy, double macroPrecision, double macroRecall, double macroF1,
                                    double weightedF1, Map<String, ClassMetrics> perClass, List<String> labels,
                                    int[][] confusionMatrix) {

    /** One class's figures. */
    public record ClassMetrics(double precision, double recall, double f1, int support) {
    }

    /**
     * The metrics of predictions {@code yPred} against gold {@code yTrue} (class ids), for classes
     * named {@code labels} (id order).
     *
     * @throws IllegalArgumentException when the arrays differ in length, are empty, or hold an id
     *                                  outside {@code 0..labels.size()-1}
     */
    public static ClassificationMetrics compute(int[] yTrue, int[] yPred, List<String> labels) {
        if (yTrue.length != yPred.length) {
            throw new IllegalArgumentException(yTrue.length + " gold labels but " + yPred.length + " predictions");
        }
        if (yTrue.length == 0) throw new IllegalArgumentException("no examples to score");
        int k = labels.size();
        int[][] cm = new int[k][k];
        for (int i = 0; i < yTrue.length; i++) {
            int t = yTrue[i], p = yPred[i];
            if (t < 0 || t >= k) throw new IllegalArgumentException("gold label id " + t + " at " + i + " is outside 0.." + (k - 1));
            if (p < 0 || p >= k) throw new IllegalArgumentException("predicted label id " + p + " at " + i + " is outside 0.." + (k - 1));
            cm[t][p]++;
        }
        int n = yTrue.length;
        long correct = 0;
        for (int c = 0; c < k; c++) correct += cm[c][c];
        Map<String, ClassMetrics> per = new LinkedHashMap<>();
        double sumP = 0, sumR = 0, sumF = 0, weighted = 0;
        int present = 0;
        for (int c = 0; c < k; c++) {
            long tp = cm[c][c], support = 0, predicted = 0;
            for (int j = 0; j < k; j++) {
                support += cm[c][j];
                predicted += cm[j][c];
            }
            long fp = predicted - tp, fn = support - tp;
            double precision = predicted == 0 ? 0 : (double) tp / predicted;
            double recall = support == 0 ? 0 : (double) tp / support;
            double f1 = 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
            per.put(labels.get(c), new ClassMetrics(precision, recall, f1, (int) support));
            if (support > 0 || predicted > 0) {
                present++;
                sumP += precision;
                sumR += recall;
                sumF += f1;
            }
            weighted += f1 * support;
        }
        return new ClassificationMetrics(n, (double) correct / n, sumP / present, sumR / present, sumF / present,
                weighted / n, Collections.unmodifiableMap(per), List.copyOf(labels), cm);
    }

    /** The predicted ids: the index of each row's largest logit (the first on ties, as torch.argmax). */
    public static int[] argmax(float[][] logits) {
        int[] out = new int[logits.length];
        for (int i = 0; i < logits.length; i++) {
            float[] row = logits[i];
            int best = 0;
            for (int j = 1; j < row.length; j++) {
                if (row[j] > row[best] || Float.isNaN(row[j]) && !Float.isNaN(row[best])) best = j;
            }
            out[i] = best;
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassificationMetrics m && m.n == n && m.accuracy == accuracy && m.macroF1 == macroF1
                && m.macroPrecision == macroPrecision && m.macroRecall == macroRecall && m.weightedF1 == weightedF1
                && m.perClass.equals(perClass) && m.labels.equals(labels)
                && java.util.Arrays.deepEquals(m.confusionMatrix, confusionMatrix);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(n, accuracy, macroF1, perClass, labels, java.util.Arrays.deepHashCode(confusionMatrix));
    }

    @Override
    public String toString() {
        return "ClassificationMetrics[n=" + n + ", accuracy=" + accuracy + ", macroF1=" + macroF1 + ", perClass=" + perClass
                + ", confusionMatrix=" + java.util.Arrays.deepToString(confusionMatrix) + "]";
    }
}
