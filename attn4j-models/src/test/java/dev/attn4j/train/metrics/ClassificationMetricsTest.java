package dev.attn4j.train.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Hand-computed cases (two are the examples of scikit-learn's documentation, with its figures). */
class ClassificationMetricsTest {
    private static final double EPS = 1e-12;

    @Test
    void sklearnF1ScoreExample() {
        // sklearn.metrics.f1_score docs: y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]
        // macro 0.26666..., weighted 0.26666..., per class [0.8, 0, 0]
        ClassificationMetrics m = ClassificationMetrics.compute(new int[]{0, 1, 2, 0, 1, 2}, new int[]{0, 2, 1, 0, 0, 1}, List.of("a", "b", "c"));
        assertThat(m.accuracy()).isCloseTo(2.0 / 6, within(EPS));
        assertThat(m.macroF1()).isCloseTo(0.8 / 3, within(EPS));
        assertThat(m.weightedF1()).isCloseTo(0.8 / 3, within(EPS));
        // class a: tp 2, fp 1 (row 5), fn 0 -> precision 2/3, recall 1, F1 4/5
        assertThat(m.perClass().get("a").precision()).isCloseTo(2.0 / 3, within(EPS));
        assertThat(m.perClass().get("a").recall()).isEqualTo(1.0);
        assertThat(m.perClass().get("a").f1()).isCloseTo(0.8, within(EPS));
        assertThat(m.perClass().get("a").support()).isEqualTo(2);
        assertThat(m.perClass().get("b")).isEqualTo(new ClassificationMetrics.ClassMetrics(0, 0, 0, 2));
        assertThat(m.macroPrecision()).isCloseTo(2.0 / 9, within(EPS));
        assertThat(m.macroRecall()).isCloseTo(1.0 / 3, within(EPS));
        assertThat(m.confusionMatrix()).isEqualTo(new int[][]{{2, 0, 0}, {1, 0, 1}, {0, 2, 0}});
    }

    @Test
    void sklearnConfusionMatrixExample() {
        // sklearn.metrics.confusion_matrix docs: [[2, 0, 0], [0, 0, 1], [1, 0, 2]]
        ClassificationMetrics m = ClassificationMetrics.compute(new int[]{2, 0, 2, 2, 0, 1}, new int[]{0, 0, 2, 2, 0, 2}, List.of("ant", "bird", "cat"));
        assertThat(m.confusionMatrix()).isEqualTo(new int[][]{{2, 0, 0}, {0, 0, 1}, {1, 0, 2}});
        // ant: tp 2 fp 1 fn 0 -> P 2/3 R 1 F1 4/5; bird: 0 everywhere (zero_division=0), support 1;
        // cat: tp 2 fp 1 fn 1 -> P 2/3 R 2/3 F1 2/3
        assertThat(m.perClass().get("cat").f1()).isCloseTo(2.0 / 3, within(EPS));
        assertThat(m.macroF1()).isCloseTo((0.8 + 0 + 2.0 / 3) / 3, within(EPS));
        assertThat(m.weightedF1()).isCloseTo((0.8 * 2 + 0 + 2.0 / 3 * 3) / 6, within(EPS));
        assertThat(m.accuracy()).isCloseTo(4.0 / 6, within(EPS));
    }

    @Test
    void classesAbsentFromGoldAndPredictionsAreReportedButNotAveraged() {
        // labels a, b, c; c never occurs: macro over {a, b} as sklearn's default labels=None does
        ClassificationMetrics m = ClassificationMetrics.compute(new int[]{0, 0, 1}, new int[]{0, 1, 1}, List.of("a", "b", "c"));
        // a: tp 1 fp 0 fn 1 -> P 1, R 1/2, F1 2/3; b: tp 1 fp 1 fn 0 -> P 1/2, R 1, F1 2/3
        assertThat(m.macroF1()).isCloseTo(2.0 / 3, within(EPS));
        assertThat(m.macroPrecision()).isCloseTo(0.75, within(EPS));
        assertThat(m.perClass()).containsOnlyKeys("a", "b", "c");
        assertThat(m.perClass().get("c")).isEqualTo(new ClassificationMetrics.ClassMetrics(0, 0, 0, 0));
        // a class predicted but never gold counts in the average (precision 0, recall 0, F1 0)
        ClassificationMetrics p = ClassificationMetrics.compute(new int[]{0, 0}, new int[]{0, 2}, List.of("a", "b", "c"));
        // a: tp 1 fp 0 fn 1 -> F1 2/3; c: tp 0 fp 1 -> 0; b absent
        assertThat(p.macroF1()).isCloseTo(1.0 / 3, within(EPS));
        assertThat(p.weightedF1()).isCloseTo(2.0 / 3, within(EPS));
    }

    @Test
    void binaryPerfectAndAllWrong() {
        ClassificationMetrics ok = ClassificationMetrics.compute(new int[]{1, 0, 1}, new int[]{1, 0, 1}, List.of("neg", "pos"));
        assertThat(ok.accuracy()).isEqualTo(1.0);
        assertThat(ok.macroF1()).isEqualTo(1.0);
        ClassificationMetrics bad = ClassificationMetrics.compute(new int[]{1, 0, 1}, new int[]{0, 1, 0}, List.of("neg", "pos"));
        assertThat(bad.accuracy()).isZero();
        assertThat(bad.macroF1()).isZero();
        assertThat(bad.confusionMatrix()).isEqualTo(new int[][]{{0, 1}, {2, 0}});
    }

    @Test
    void jsonShape() throws Exception {
        ClassificationMetrics m = ClassificationMetrics.compute(new int[]{1, 0, 1, 1}, new int[]{1, 0, 0, 1}, List.of("neg", "pos"));
        JsonMapper json = new JsonMapper();
        JsonNode j = json.readTree(json.writeValueAsString(m));
        assertThat(j.get("n").intValue()).isEqualTo(4);
        assertThat(j.get("accuracy").doubleValue()).isEqualTo(0.75);
        // neg: tp 1 fp 1 fn 0 -> F1 2/3; pos: tp 2 fp 0 fn 1 -> F1 4/5
        assertThat(j.get("macroF1").doubleValue()).isCloseTo((2.0 / 3 + 0.8) / 2, within(EPS));
        assertThat(j.get("perClass").get("pos").get("recall").doubleValue()).isCloseTo(2.0 / 3, within(EPS));
        assertThat(j.get("perClass").get("neg").get("support").intValue()).isEqualTo(1);
        assertThat(j.get("labels").toString()).isEqualTo("[\"neg\",\"pos\"]");
        assertThat(j.get("confusionMatrix").toString()).isEqualTo("[[1,0],[1,2]]");
    }

    @Test
    void argmaxAndBadInput() {
        assertThat(ClassificationMetrics.argmax(new float[][]{{0.1f, 0.9f}, {2f, 2f}, {-1f, -3f, 5f}})).containsExactly(1, 0, 2);
        assertThatThrownBy(() -> ClassificationMetrics.compute(new int[]{0}, new int[]{0, 1}, List.of("a", "b")))
                .hasMessageContaining("1 gold labels but 2 predictions");
        assertThatThrownBy(() -> ClassificationMetrics.compute(new int[]{0}, new int[]{2}, List.of("a", "b")))
                .hasMessageContaining("predicted label id 2 at 0 is outside 0..1");
        assertThatThrownBy(() -> ClassificationMetrics.compute(new int[0], new int[0], List.of("a")))
                .hasMessageContaining("no examples");
    }
}
