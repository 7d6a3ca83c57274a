package dev.attn4j.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BeamSearchTest {
    /** Greedy takes A (0.6) then A (0.4) then EOS: 0.24; beam search finds B EOS: 0.4 * 0.9 = 0.36. */
    private static TableModel trap() {
        return new TableModel(Map.of(
                "", TableModel.p(0, 0.6, 0.4, 0),
                "A", TableModel.p(0.3, 0.4, 0.3, 0),
                "AA", TableModel.p(1, 0, 0, 0),
                "AB", TableModel.p(1, 0, 0, 0),
                "B", TableModel.p(0.9, 0.05, 0.05, 0)));
    }

    @Test
    void beamSearchFindsABetterSequenceThanGreedy() {
        Hypothesis greedy = Greedy.decodeWithScores(trap(), List.of(new int[] {7}), 10).get(0);
        assertThat(TableModel.text(greedy.tokens())).isEqualTo("AA");
        assertThat(greedy.logProb()).isCloseTo(Math.log(0.24), org.assertj.core.data.Offset.offset(1e-6));
        Hypothesis beam = BeamSearch.best(trap(), new int[] {7}, 2, 0.0, 10);
        assertThat(TableModel.text(beam.tokens())).isEqualTo("B");
        assertThat(beam.logProb()).isCloseTo(Math.log(0.36), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(beam.finished()).isTrue();
        assertThat(beam.logProb()).isGreaterThan(greedy.logProb());
    }

    @Test
    void beamOneEqualsGreedyOnRandomTables() {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        for (int trial = 0; trial < 50; trial++) {
            Map<String, double[]> table = new HashMap<>();
            randomTable(rng, "", 4, table);
            TableModel m = new TableModel(table);
            Hypothesis g = Greedy.decodeWithScores(m, List.of(new int[] {1}), 6).get(0);
            Hypothesis b = BeamSearch.best(new TableModel(table), new int[] {1}, 1, 0.0, 6);
            assertThat(TableModel.text(b.tokens())).as("trial %d, seed %d", trial, seed).isEqualTo(TableModel.text(g.tokens()));
            assertThat(b.logProb()).as("trial %d, seed %d", trial, seed).isCloseTo(g.logProb(), org.assertj.core.data.Offset.offset(1e-9));
        }
    }

    /** Short "A" has p = 0.5 (length 2); long "BCCC" has p = 0.5 * 0.9^3 = 0.3645 (length 5): alpha decides. */
    @Test
    void lengthPenaltyDividesByLengthToTheAlphaAsHuggingFace() {
        Map<String, double[]> t = new HashMap<>();
        t.put("", TableModel.p(0, 0.5, 0.5, 0));
        t.put("A", TableModel.p(1, 0, 0, 0));
        t.put("B", TableModel.p(0.1, 0, 0, 0.9));
        t.put("BC", TableModel.p(0.1, 0, 0, 0.9));
        t.put("BCC", TableModel.p(0.1, 0, 0, 0.9));
        t.put("BCCC", TableModel.p(1, 0, 0, 0));
        List<Hypothesis> none = BeamSearch.decode(new TableModel(t), new int[] {1}, 2, 0.0, 10);
        assertThat(TableModel.text(none.get(0).tokens())).isEqualTo("A");
        List<Hypothesis> strong = BeamSearch.decode(new TableModel(t), new int[] {1}, 2, 2.0, 10);
        assertThat(TableModel.text(strong.get(0).tokens())).isEqualTo("BCCC");
        for (Hypothesis h : strong) {
            // HF: sum_logprobs / len(input_ids)^alpha, input_ids = decoder start token + tokens (EOS excluded)
            assertThat(h.score()).isCloseTo(h.logProb() / Math.pow(1 + h.tokens().length, 2.0), org.assertj.core.data.Offset.offset(1e-12));
        }
        assertThat(strong).isSortedAccordingTo((x, y) -> Double.compare(y.score(), x.score()));
        // log 0.3645 / 5^2 = -0.040 beats log 0.5 / 2^2 = -0.173
        assertThat(strong.get(0).logProb()).isCloseTo(Math.log(0.3645), org.assertj.core.data.Offset.offset(1e-6));
        assertThat(strong.get(0).score()).isCloseTo(Math.log(0.3645) / 25, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(none.get(0).score()).isCloseTo(Math.log(0.5), org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void maxLengthCutsUnfinishedBeams() {
        Map<String, double[]> t = new HashMap<>();
        t.put("", TableModel.p(0, 1, 0, 0));
        t.put("A", TableModel.p(0, 1, 0, 0));
        t.put("AA", TableModel.p(0, 1, 0, 0));
        Hypothesis h = BeamSearch.best(new TableModel(t), new int[] {1}, 3, 1.0, 2);
        assertThat(TableModel.text(h.tokens())).isEqualTo("AA");
        assertThat(h.finished()).isFalse();
        assertThatThrownBy(() -> BeamSearch.best(new TableModel(t), new int[] {1}, 0, 1.0, 2)).hasMessageContaining("beam size");
        assertThatThrownBy(() -> Greedy.decode(new TableModel(t), List.of(new int[] {1}), 0)).hasMessageContaining("maxLength");
    }

    private static void randomTable(SplittableRandom rng, String prefix, int depth, Map<String, double[]> out) {
        if (depth == 0) return;
        double[] p = {0, 0, rng.nextDouble() * 0.5, rng.nextDouble(), rng.nextDouble(), rng.nextDouble()};
        double s = p[2] + p[3] + p[4] + p[5];
        for (int i = 2; i < 6; i++) p[i] /= s;
        out.put(prefix, p);
        for (char c : new char[] {'A', 'B', 'C'}) randomTable(rng, prefix + c, depth - 1, out);
    }
}
