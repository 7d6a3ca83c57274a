package dev.attn4j.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A hand-built step model: next-token probabilities looked up by the generated prefix (a string
 * of token letters). Tokens: 0 pad, 1 BOS, 2 EOS ('$'), 3 'A', 4 'B', 5 'C'. A prefix missing
 * from the table ends with EOS for sure.
 */
final class TableModel implements StepModel<List<StringBuilder>> {
    static final String LETTERS = "..$ABC";
    private final Map<String, double[]> table;
    int steps;

    /** {@code table}: prefix (letters of generated tokens) -> probabilities over the 6 tokens. */
    TableModel(Map<String, double[]> table) {
        this.table = table;
    }

    @Override public int bosId() { return 1; }

    @Override public int eosId() { return 2; }

    @Override public int vocabSize() { return 6; }

    @Override
    public List<StringBuilder> start(List<int[]> sources) {
        List<StringBuilder> s = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) s.add(null);
        return s;
    }

    @Override
    public float[][] step(List<StringBuilder> state, int[] tokens) {
        steps++;
        float[][] out = new float[tokens.length][6];
        for (int i = 0; i < tokens.length; i++) {
            if (state.get(i) == null) state.set(i, new StringBuilder());
            else state.get(i).append(LETTERS.charAt(tokens[i]));
            double[] p = table.getOrDefault(state.get(i).toString(), new double[] {0, 0, 1, 0, 0, 0});
            for (int v = 0; v < 6; v++) out[i][v] = (float) Math.log(p[v]);
        }
        return out;
    }

    @Override
    public List<StringBuilder> select(List<StringBuilder> state, int[] rows) {
        List<StringBuilder> s = new ArrayList<>();
        for (int r : rows) s.add(state.get(r) == null ? null : new StringBuilder(state.get(r)));
        return s;
    }

    static String text(int[] tokens) {
        StringBuilder sb = new StringBuilder();
        for (int t : tokens) sb.append(LETTERS.charAt(t));
        return sb.toString();
    }

    static double[] p(double eos, double a, double b, double c) {
        double[] out = {0, 0, eos, a, b, c};
        if (Math.abs(Arrays.stream(out).sum() - 1) > 1e-9) throw new IllegalArgumentException("probabilities must sum to 1");
        return out;
    }
}
