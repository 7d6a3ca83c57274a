package dev.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.generate.BeamSearch;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code attn4j attention --checkpoint DIR --out FILE.png "text"}: decodes the text and renders
 * the cross-attention weights (output characters x source characters) as a PNG heatmap.
 */
@Command(name = "attention", mixinStandardHelpOptions = true,
        description = "Render the cross-attention of a checkpoint on one input as a PNG heatmap.")
public final class AttentionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "Checkpoint directory written by 'attn4j train'.")
    Path checkpoint;

    @Option(names = "--out", required = true, description = "PNG file to write.")
    Path out;

    @Option(names = "--layer", description = "Decoder layer, from 0 (default: the last).")
    Integer layer;

    @Option(names = "--head", description = "Attention head, from 0 (default: the average over the layer's heads).")
    Integer head;

    @Option(names = "--beam", defaultValue = "4", description = "Beam size used to decode the output (default ${DEFAULT-VALUE}).")
    int beam;

    @Parameters(arity = "1", paramLabel = "TEXT", description = "The input to decode and inspect.")
    String text;

    @Override
    public Integer call() throws Exception {
        if (text.isEmpty()) throw new IllegalArgumentException("empty input");
        if (beam < 1) throw new IllegalArgumentException("--beam must be >= 1, got " + beam);
        Seq2SeqModel<?> model = CheckpointOptions.load(checkpoint);
        CheckpointOptions.Codec vocab = CheckpointOptions.codec(checkpoint);
        int[] src = vocab.encode(text);
        int[] output = BeamSearch.best(model, src, beam, 1.0, model.config().maxTargetLen()).tokens();
        float[][][][] w = model.crossAttention(src, output);                       // [layers][heads][T][S]
        int layers = w.length, heads = w[0].length;
        int l = layer == null ? layers - 1 : layer;
        if (l < 0 || l >= layers) throw new IllegalArgumentException("--layer " + l + " out of range: the model has " + layers + " decoder layer(s) (0.." + (layers - 1) + ")");
        if (head != null && (head < 0 || head >= heads)) {
            throw new IllegalArgumentException("--head " + head + " out of range: layer " + l + " has " + heads + " head(s) (0.." + (heads - 1) + ")");
        }
        float[][] map = head != null ? w[l][head] : average(w[l]);                // [T][S]
        List<String> rows = new ArrayList<>();
        for (int id : output) rows.add(vocab.token(id));
        rows.add("EOS");
        String what = head != null ? String.format(Locale.ROOT, "layer %d head %d", l, head)
                : heads == 1 ? String.format(Locale.ROOT, "layer %d (one head)", l)
                : String.format(Locale.ROOT, "layer %d, mean of %d heads", l, heads);
        String decoded = vocab.decode(output);
        List<String> title = List.of(model.config().arch().cliName + " cross-attention, " + what,
                "in:  " + text, "out: " + decoded);
        List<String> columns = new ArrayList<>();
        for (int id : src) columns.add(vocab.token(id));
        AttentionHeatmap.writePng(AttentionHeatmap.render(map, columns, rows, title), out);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("source", text);
        line.put("output", decoded);
        line.put("layer", l);
        line.put("head", head == null ? "mean" : head);
        line.put("png", out.toString());
        spec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(line));
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static float[][] average(float[][][] heads) {
        int t = heads[0].length, s = heads[0][0].length;
        float[][] out = new float[t][s];
        for (float[][] h : heads) {
            for (int i = 0; i < t; i++) for (int j = 0; j < s; j++) out[i][j] += h[i][j] / heads.length;
        }
        return out;
    }
}
