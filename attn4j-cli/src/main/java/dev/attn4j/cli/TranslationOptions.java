package dev.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.models.seq2seq.Arch;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.tokenizers.TokenizerTrainer;
import dev.attn4j.train.TranslationConfig;
import dev.attn4j.train.TranslationEval;
import dev.attn4j.train.TranslationResult;
import dev.attn4j.train.TranslationTrainer;
import dev.attn4j.train.data.TextLines;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import picocli.CommandLine.Option;

/** The options of {@code attn4j train --task translation} (and the run they describe). */
final class TranslationOptions {
    @Option(names = "--train-src", description = "Training sources, one sentence per line (UTF-8, gzip allowed).")
    Path trainSrc;

    @Option(names = "--train-tgt", description = "Training targets, line i translating line i of --train-src.")
    Path trainTgt;

    @Option(names = "--valid-src", description = "Validation sources.")
    Path validSrc;

    @Option(names = "--valid-tgt", description = "Validation targets (BLEU references).")
    Path validTgt;

    @Option(names = "--test-src", description = "Test sources: translated by the final model after training (not used to choose it).")
    Path testSrc;

    @Option(names = "--test-tgt", description = "Test references for --test-src.")
    Path testTgt;

    @Option(names = "--tokenizer", description = "A tokenizer.json with <pad>,<s>,</s> at ids 0,1,2 (default: train one on the training files).")
    Path tokenizer;

    @Option(names = "--vocab-size", description = "Size of the joint vocabulary trained when --tokenizer is not given (default 8000).")
    Integer vocabSize;

    @Option(names = "--tokenizer-type", description = "bpe (byte-level, default) or unigram (Metaspace) for the trained vocabulary.")
    String tokenizerType;

    @Option(names = "--dropout", description = "Dropout of the Transformer (default 0.1).")
    Double dropout;

    @Option(names = "--label-smoothing", description = "Label smoothing (default 0.1).")
    Double labelSmoothing;

    @Option(names = "--max-tokens", description = "Padded tokens per batch, as fairseq's --max-tokens (default 4096).")
    Integer maxTokens;

    @Option(names = "--schedule", description = "inverse-sqrt (default; --lr is the peak) or noam (--lr is the factor).")
    String schedule;

    @Option(names = "--warmup-init-lr", description = "inverse-sqrt: learning rate at the start of warm-up (default 0).")
    Double warmupInitLr;

    @Option(names = "--weight-decay", description = "AdamW weight decay (default 0).")
    Double weightDecay;

    @Option(names = "--clip-norm", description = "Gradient-norm clip, 0 = none (default 0).")
    Double clipNorm;

    @Option(names = "--adam-betas", split = ",", description = "Adam betas (default 0.9,0.98).")
    List<Double> adamBetas;

    @Option(names = "--eval-beam", description = "Beam size of the validation BLEU (default 4; 1 = greedy).")
    Integer evalBeam;

    @Option(names = "--length-penalty", description = "Beam score = log p / length^alpha (default 1.0).")
    Double lengthPenalty;

    @Option(names = "--average-last", description = "Average the last K weight snapshots at the end (default 5; 0 = off).")
    Integer averageLast;

    @Option(names = "--save-every", description = "Updates between the snapshots kept for averaging (default 200).")
    Integer saveEvery;

    @Option(names = "--max-epochs", description = "Stop after this many epochs (default: no limit).")
    Integer maxEpochs;

    @Option(names = "--max-positions", description = "Longest source / target in tokens (default 256).")
    Integer maxPositions;

    /** Fails when a translation option was given to another task. */
    void refuse() {
        Object[] given = {trainSrc, trainTgt, validSrc, validTgt, testSrc, testTgt, tokenizer, vocabSize, tokenizerType, dropout, labelSmoothing,
                maxTokens, schedule, warmupInitLr, weightDecay, clipNorm, adamBetas, evalBeam, lengthPenalty, averageLast, saveEvery, maxEpochs, maxPositions};
        for (Object o : given) {
            if (o != null) throw new IllegalArgumentException("that option belongs to --task translation");
        }
    }

    int run(TrainCommand c) throws Exception {
        long commandStart = System.nanoTime();
        if (!(c.minutes > 0)) throw new IllegalArgumentException("--minutes must be > 0, got " + c.minutes);
        if (c.batchSize != null || c.evalSize != null || c.finalEvalSize != null || c.hidden != null) {
            throw new IllegalArgumentException("--batch-size, --eval-size, --final-eval-size and --hidden belong to --task dates "
                    + "(translation batches by tokens: --max-tokens)");
        }
        if ((testSrc == null) != (testTgt == null)) throw new IllegalArgumentException("--test-src and --test-tgt go together");
        PrintWriter err = c.spec.commandLine().getErr();
        Consumer<String> log = line -> {
            err.println(line);
            err.flush();
        };
        TranslationTrainer trainer;
        if (c.resume) {
            if (!Files.isDirectory(c.out)) throw new IllegalArgumentException("--resume: directory " + c.out + " does not exist");
            trainer = TranslationTrainer.resume(c.out, c.maxSteps != null ? Long.valueOf(c.maxSteps) : null, log);
            log.accept("resuming " + c.out.resolve("last") + ": data, model, tokenizer and settings come from the checkpoint"
                    + (c.maxSteps != null ? " (but --max-steps " + c.maxSteps + ")" : ""));
        } else {
            for (Object[] o : new Object[][] {{trainSrc, "--train-src"}, {trainTgt, "--train-tgt"}, {validSrc, "--valid-src"},
                    {validTgt, "--valid-tgt"}}) {
                if (o[0] == null) throw new IllegalArgumentException("--task translation needs " + o[1]);
            }
            Arch arch = Arch.byName(c.arch);
            if (arch != Arch.TRANSFORMER) throw new IllegalArgumentException("--task translation trains --arch transformer only");
            String tokJson = tokenizerJson(log);
            int vocab = dev.attn4j.tokenizers.Tokenizer.fromJson(tokJson).vocabSize();
            int d = c.dModel != null ? c.dModel : 256;
            int layers = c.layers != null ? c.layers : 3;
            int positions = maxPositions != null ? maxPositions : 256;
            Seq2SeqConfig m = new Seq2SeqConfig(Arch.TRANSFORMER, vocab, d, c.heads != null ? c.heads : 4, layers, layers,
                    c.ff != null ? c.ff : 4 * d, d, dropout != null ? dropout : 0.1, true, positions, positions);
            TranslationConfig t = TranslationConfig.defaults(c.seed, trainSrc.toString(), trainTgt.toString(), validSrc.toString(),
                    validTgt.toString());
            if (adamBetas != null && adamBetas.size() != 2) throw new IllegalArgumentException("--adam-betas takes two values, e.g. 0.9,0.98");
            t = new TranslationConfig(c.seed, maxTokens != null ? maxTokens : t.maxTokens(), schedule != null ? schedule : t.schedule(),
                    c.lr != null ? c.lr : t.lr(), c.warmup != null ? c.warmup : t.warmupSteps(),
                    warmupInitLr != null ? warmupInitLr : t.warmupInitLr(), labelSmoothing != null ? labelSmoothing : t.labelSmoothing(),
                    weightDecay != null ? weightDecay : t.weightDecay(), clipNorm != null ? clipNorm : t.clipNorm(),
                    adamBetas != null ? adamBetas.get(0) : t.adamBeta1(), adamBetas != null ? adamBetas.get(1) : t.adamBeta2(), t.adamEps(),
                    c.evalEvery != null ? c.evalEvery : t.evalEvery(), evalBeam != null ? evalBeam : t.evalBeam(),
                    lengthPenalty != null ? lengthPenalty : t.lengthPenalty(), t.maxLenA(), t.maxLenB(),
                    averageLast != null ? averageLast : t.averageLast(), saveEvery != null ? saveEvery : t.saveEvery(), c.logEvery != null ? c.logEvery : t.logEvery(),
                    c.maxSteps != null ? c.maxSteps : t.maxSteps(), maxEpochs != null ? maxEpochs : t.maxEpochs(), t.trainSource(),
                    t.trainTarget(), t.validSource(), t.validTarget());
            trainer = TranslationTrainer.create(m, t, tokJson, c.out, log);
        }
        // --minutes counts from the start of the command: reading and tokenizing the data (and training a vocabulary) too
        TranslationResult r = trainer.run(commandStart, c.minutes * 60, c.steps != null ? c.steps : 0, true);
        if (testSrc != null) {
            long t0 = System.nanoTime();
            Path hyp = c.out.resolve("test.hyp");
            TranslationEval.Translations tr = TranslationTrainer.test(c.out, testSrc, testTgt, hyp, trainer.config().evalBeam(),
                    trainer.config().lengthPenalty());
            log.accept(String.format(java.util.Locale.ROOT, "test %s: %s  (%s, %.0f s)", testSrc, tr.bleu().format(), tr.bleu().signature(),
                    (System.nanoTime() - t0) / 1e9));
            r = r.withTest(tr.bleu().score(), hyp.toString());
        }
        c.spec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(r));
        c.spec.commandLine().getOut().flush();
        return 0;
    }

    private String tokenizerJson(Consumer<String> log) throws Exception {
        if (tokenizer != null) {
            if (vocabSize != null || tokenizerType != null) {
                throw new IllegalArgumentException("--tokenizer gives the vocabulary; --vocab-size and --tokenizer-type train one instead");
            }
            if (!Files.isRegularFile(tokenizer)) throw new IllegalArgumentException("--tokenizer " + tokenizer + " does not exist");
            String json = Files.readString(tokenizer, StandardCharsets.UTF_8);
            dev.attn4j.tokenizers.Tokenizer.fromJson(json);
            return json;
        }
        TokenizerTrainer.ModelType type = TokenizerTrainer.ModelType.byName(tokenizerType != null ? tokenizerType : "bpe");
        int size = vocabSize != null ? vocabSize : 8000;
        long t0 = System.nanoTime();
        List<String> lines = new ArrayList<>();
        for (Path f : List.of(trainSrc, trainTgt)) for (String l : TextLines.read(f)) lines.add(l.strip());
        String json = TokenizerTrainer.trainJson(lines, TokenizerTrainer.Options.defaults(type, size));
        log.accept(String.format(java.util.Locale.ROOT, "trained a joint %s vocabulary of %d on %s and %s in %.1f s",
                type.name().toLowerCase(java.util.Locale.ROOT), size, trainSrc, trainTgt, (System.nanoTime() - t0) / 1e9));
        return json;
    }
}
