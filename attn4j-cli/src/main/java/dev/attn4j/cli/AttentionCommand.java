package dev.attn4j.cli;

import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.generate.BeamSearch;
import dev.attn4j.generate.GenerationConfig;
import dev.attn4j.generate.GenerationResult;
import dev.attn4j.generate.Seq2SeqGenerator;
import dev.attn4j.models.seq2seq.EncoderDecoderModel;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.tokenizers.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code attn4j attention (--checkpoint DIR | --model M) --out FILE.png "text"}: decodes the text
 * and renders the cross-attention weights (output tokens x source tokens) as a PNG heatmap. With
 * {@code --model} (a pretrained encoder-decoder) the output is generated as {@code translate}
 * generates it, and the weights are those the decoder uses to predict each output token.
 */
@Command(name = "attention", mixinStandardHelpOptions = true,
        description = "Render the cross-attention of a checkpoint (--checkpoint) or a pretrained encoder-decoder (--model) on one input "
                + "as a PNG heatmap.")
public final class AttentionCommand implements Callable<Integer> {
    /** Longest token label drawn. */
    private static final int LABEL = 12;

    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", description = "Checkpoint directory written by 'attn4j train'.")
    Path checkpoint;

    @Option(names = "--model", paramLabel = "M", description = "Directory or Hugging Face id of an encoder-decoder (marian, t5, mt5, "
            + "bart, mbart).")
    String model;

    @Option(names = "--out", required = true, description = "PNG file to write.")
    Path out;

    @Option(names = "--layer", description = "Decoder layer, from 0 (default: the last).")
    Integer layer;

    @Option(names = "--head", description = "Attention head, from 0 (default: the average over the layer's heads).")
    Integer head;

    @Mixin
    Seq2SeqModelOptions inputs = new Seq2SeqModelOptions();

    @Mixin
    GenerationOptions generation = new GenerationOptions();

    @Parameters(arity = "0..1", paramLabel = "TEXT", description = "The input to decode and inspect.")
    String text;

    @Override
    public Integer call() throws Exception {
        if ((checkpoint == null) == (model == null)) throw new IllegalArgumentException("give exactly one of --model M and --checkpoint DIR");
        if (text != null && text.isEmpty()) throw new IllegalArgumentException("empty input");
        Rendered r = checkpoint != null ? fromCheckpoint() : fromModel();
        float[][][][] w = r.weights;                                               // [layers][heads][T][S]
        int layers = w.length, heads = w[0].length;
        int l = layer == null ? layers - 1 : layer;
        if (l < 0 || l >= layers) throw new IllegalArgumentException("--layer " + l + " out of range: the model has " + layers + " decoder layer(s) (0.." + (layers - 1) + ")");
        if (head != null && (head < 0 || head >= heads)) {
            throw new IllegalArgumentException("--head " + head + " out of range: layer " + l + " has " + heads + " head(s) (0.." + (heads - 1) + ")");
        }
        float[][] map = head != null ? w[l][head] : average(w[l]);                // [T][S]
        String what = head != null ? String.format(Locale.ROOT, "layer %d head %d", l, head)
                : heads == 1 ? String.format(Locale.ROOT, "layer %d (one head)", l)
                : String.format(Locale.ROOT, "layer %d, mean of %d heads", l, heads);
        List<String> title = List.of(r.name + " cross-attention, " + what, "in:  " + printable(r.source), "out: " + printable(r.output));
        AttentionHeatmap.writePng(r.columns == null ? AttentionHeatmap.render(map, r.source, r.rows, title)
                : AttentionHeatmap.render(map, r.columns, r.rows, title), out);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("source", r.source);
        line.put("output", r.output);
        line.put("layer", l);
        line.put("head", head == null ? "mean" : head);
        line.put("png", out.toString());
        // non-ASCII escaped, so the line reads the same whatever the terminal's encoding
        spec.commandLine().getOut().println(new ObjectMapper().writer().with(JsonWriteFeature.ESCAPE_NON_ASCII).writeValueAsString(line));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** Weights [layers][heads][T][S], row and column labels (null columns: the source's characters), texts. */
    private record Rendered(String name, float[][][][] weights, List<String> columns, List<String> rows, String source, String output) {
    }

    private Rendered fromCheckpoint() throws java.io.IOException {
        if (text == null) throw new IllegalArgumentException("give the TEXT to decode");
        int beam = generation.numBeams != null ? generation.numBeams : 4;
        if (beam < 1) throw new IllegalArgumentException("--beam must be >= 1, got " + beam);
        Seq2SeqModel<?> m = CheckpointOptions.load(checkpoint);
        CheckpointOptions.Codec vocab = CheckpointOptions.codec(checkpoint);
        int[] src = vocab.encode(text);
        int[] output = BeamSearch.best(m, src, beam, 1.0, m.config().maxTargetLen()).tokens();
        List<String> rows = new ArrayList<>();
        for (int id : output) rows.add(vocab.token(id));
        rows.add("EOS");
        List<String> columns = new ArrayList<>();
        for (int id : src) columns.add(vocab.token(id));
        return new Rendered(m.config().arch().cliName, m.crossAttention(src, output), columns, rows, text, vocab.decode(output));
    }

    private Rendered fromModel() throws Exception {
        try (EncoderDecoderModel m = inputs.load(model); var g = GradMode.noGrad()) {
            GenerationConfig config = generation.apply(inputs.generationDefaults(), false);
            List<Seq2SeqModelOptions.Input> in = inputs.inputs(text == null ? List.of() : List.of(text), m.sourceVocabSize());
            if (in.size() != 1) throw new IllegalArgumentException("attention renders one input; got " + in.size());
            int[] src = in.get(0).ids();
            GenerationResult result = new Seq2SeqGenerator(m).generate(List.of(src), config).get(0);
            int[] tokens = result.tokens();
            if (tokens.length == 0) throw new IllegalArgumentException("the model generated no token");
            int start = Seq2SeqGenerator.decoderStartId(config);
            // row i: the weights the decoder used to predict tokens[i] (inputs: start, tokens[0 .. i-1])
            float[][][][] w = m.crossAttention(src, start, Arrays.copyOf(tokens, tokens.length - 1));
            Tokenizer tok = inputs.tokenizer();
            List<String> columns = new ArrayList<>(), rows = new ArrayList<>();
            for (int id : src) columns.add(label(tok, id));
            for (int id : tokens) rows.add(label(tok, id));
            String source = in.get(0).text() != null ? in.get(0).text() : Arrays.toString(src);
            String output = tok != null ? tok.decode(tokens, true) : Arrays.toString(tokens);
            return new Rendered(m.modelType(), w, columns, rows, source, output);
        }
    }

    /** A token's label: its string (SentencePiece's '▁' and byte-level 'Ġ' as '_'), else its id; at most {@value #LABEL} chars. */
    static String label(Tokenizer tok, int id) {
        String s = tok == null ? null : tok.idToToken(id);
        if (s == null || s.isEmpty()) s = Integer.toString(id);
        s = s.replace('\u2581', '_').replace('\u0120', '_');
        return s.length() > LABEL ? s.substring(0, LABEL - 1) + "~" : s;
    }

    /** The text with characters the bitmap font lacks shown as '?'. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) sb.append(BitmapFont.has(s.charAt(i)) ? s.charAt(i) : '?');
        return sb.toString();
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
