package dev.attn4j.train;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.generate.BeamSearch;
import dev.attn4j.generate.Greedy;
import dev.attn4j.generate.Hypothesis;
import dev.attn4j.models.seq2seq.Batch;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.nn.Losses;
import dev.attn4j.nn.Reduction;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.train.metrics.Bleu;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntUnaryOperator;

/** Validation of a translation model: teacher-forced loss, and BLEU of its decoded, detokenized outputs. */
public final class TranslationEval {
    /** Rows (sources x beams) decoded together. */
    static final int DECODE_ROWS = 256;

    private TranslationEval() {
    }

    /** Summed label-smoothed loss and NLL over the target tokens (EOS included), and their count. */
    public record Loss(double loss, double nll, long tokens) {
        public double meanLoss() {
            return loss / Math.max(1, tokens);
        }

        public double meanNll() {
            return nll / Math.max(1, tokens);
        }
    }

    /** Teacher-forced loss of {@code data} in batches of at most {@code maxTokens} padded tokens (no dropout, no grad). */
    public static Loss loss(Seq2SeqModel<?> model, TranslationData data, int maxTokens, double labelSmoothing) {
        boolean training = model.isTraining();
        model.eval();
        try (var g = GradMode.noGrad()) {
            double loss = 0, nll = 0;
            long tokens = 0;
            for (int[] idx : data.epochBatches(0, 0, maxTokens)) {
                Batch b = data.batch(idx);
                Tensor logits = model.forward(b);                                          // [B, T, V]
                Tensor rows = logits.reshape(-1, logits.dim(-1));                          // [B*T, V]
                var target = b.targetOut().reshape(-1);
                loss += Losses.crossEntropy(rows, target, Losses.IGNORE_INDEX, labelSmoothing, Reduction.SUM).item();
                nll += labelSmoothing == 0 ? 0 : Losses.crossEntropy(rows, target, Losses.IGNORE_INDEX, 0, Reduction.SUM).item();
                tokens += b.targetTokens();
            }
            return new Loss(loss, labelSmoothing == 0 ? loss : nll, tokens);
        } finally {
            model.train(training);
        }
    }

    /**
     * Decodes {@code sources} (token ids) with beam search ({@code beam} 1: greedy), longest-first
     * in batches, each output at most {@code maxLength(source length)} tokens; returns the ids per
     * source, in input order.
     */
    public static List<int[]> decode(Seq2SeqModel<?> model, List<int[]> sources, int beam, double lengthPenalty,
                                     IntUnaryOperator maxLength) {
        boolean training = model.isTraining();
        model.eval();
        try {
            int n = sources.size();
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, (x, y) -> Integer.compare(sources.get(y).length, sources.get(x).length));
            int[][] out = new int[n][];
            int per = Math.max(1, DECODE_ROWS / beam);
            for (int from = 0; from < n; from += per) {
                int to = Math.min(n, from + per);
                List<int[]> chunk = new ArrayList<>(to - from);
                int longest = 0;
                for (int i = from; i < to; i++) {
                    chunk.add(sources.get(order[i]));
                    longest = Math.max(longest, sources.get(order[i]).length);
                }
                int max = maxLength.applyAsInt(longest);
                List<int[]> ids = new ArrayList<>(chunk.size());
                if (beam == 1) {
                    ids.addAll(Greedy.decode(model, chunk, max));
                } else {
                    for (Hypothesis h : BeamSearch.bestOfEach(model, chunk, beam, lengthPenalty, max)) ids.add(h.tokens());
                }
                for (int i = from; i < to; i++) out[order[i]] = ids.get(i - from);
            }
            return Arrays.asList(out);
        } finally {
            model.train(training);
        }
    }

    /** The detokenized text of decoded ids (special tokens skipped, outer whitespace stripped). */
    public static List<String> detokenize(Tokenizer tok, List<int[]> ids) {
        List<String> out = new ArrayList<>(ids.size());
        for (int[] x : ids) out.add(tok.decode(x, true).strip());
        return out;
    }

    /** Outputs and their corpus BLEU against the references. */
    public record Translations(List<String> outputs, Bleu.Score bleu) {
    }

    /** Translates the sources of {@code data} and scores them against its targets (sacreBLEU's default BLEU). */
    public static Translations bleu(Seq2SeqModel<?> model, Tokenizer tok, TranslationData data, int beam, double lengthPenalty,
                                    IntUnaryOperator maxLength) {
        List<int[]> sources = new ArrayList<>(data.size());
        List<String> refs = new ArrayList<>(data.size());
        int limit = model.config().maxSourceLen();
        for (TranslationData.Pair p : data.pairs()) {
            sources.add(p.source().length > limit ? Arrays.copyOf(p.source(), limit) : p.source());
            refs.add(p.targetText());
        }
        List<String> outputs = detokenize(tok, decode(model, sources, beam, lengthPenalty, maxLength));
        return new Translations(outputs, Bleu.corpus(outputs, List.of(refs)));
    }
}
