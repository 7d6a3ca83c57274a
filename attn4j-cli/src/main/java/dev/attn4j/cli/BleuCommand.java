package dev.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.train.data.TextLines;
import dev.attn4j.train.metrics.Bleu;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attn4j bleu --hyp H --ref R [--ref R2 ...] [--json]}: corpus BLEU as sacreBLEU's default
 * ({@code sacrebleu R < H}): the score line and the signature.
 */
@Command(name = "bleu", mixinStandardHelpOptions = true,
        description = "Corpus BLEU exactly as sacreBLEU's default (13a, cased, exp smoothing); files are UTF-8, one segment per line, gzip allowed.")
public final class BleuCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--hyp", required = true, description = "Hypotheses (detokenized system output).")
    Path hyp;

    @Option(names = "--ref", required = true, description = "References; repeat for several references per segment.")
    List<Path> refs = new ArrayList<>();

    @Option(names = "--width", defaultValue = "2", description = "Decimals of the score (default ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--json", description = "Print sacreBLEU's JSON form instead of two text lines.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (width < 0 || width > 10) throw new IllegalArgumentException("--width must be in 0..10, got " + width);
        List<String> hyps = TextLines.read(hyp);
        List<List<String>> references = new ArrayList<>();
        for (Path r : refs) {
            List<String> lines = TextLines.read(r);
            if (lines.size() != hyps.size()) {
                throw new IllegalArgumentException("--hyp " + hyp + " has " + hyps.size() + " lines but --ref " + r + " has " + lines.size());
            }
            references.add(lines);
        }
        Bleu.Score s = Bleu.corpus(hyps, references);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            String line = s.format(width);
            o.put("name", "BLEU");
            o.put("score", Double.parseDouble(line.substring("BLEU = ".length(), line.indexOf(' ', "BLEU = ".length()))));
            o.put("signature", s.signature());
            o.put("verbose_score", line.substring(line.indexOf(' ', "BLEU = ".length()) + 1));
            for (String kv : s.signature().split("\\|")) {
                String[] p = kv.split(":", 2);
                o.put(p[0], p[1]);
            }
            o.put("bp", s.bp());
            o.put("ratio", s.ratio());
            o.put("hyp_len", s.hypLen());
            o.put("ref_len", s.refLen());
            o.set("counts", m.valueToTree(s.counts()));
            o.set("totals", m.valueToTree(s.totals()));
            o.set("precisions", m.valueToTree(s.precisions()));
            out.println(m.writeValueAsString(o));
        } else {
            out.println(s.format(width));
            out.println(s.signature());
        }
        out.flush();
        return 0;
    }
}
