package dev.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.models.seq2seq.Arch;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.train.DatesData;
import dev.attn4j.train.TrainConfig;
import dev.attn4j.train.TrainResult;
import dev.attn4j.train.Trainer;
import dev.attn4j.train.TranslationTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code attn4j train --task dates --arch transformer|gru-bahdanau|gru-luong --out DIR}: trains,
 * printing progress lines on stderr and, last on stdout, one JSON object with the final
 * held-out exact match and tokens/s. {@code --task translation} trains a Transformer on a
 * parallel corpus ({@link TranslationTrainer}).
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a sequence-to-sequence model: the synthetic dates task, or translation of a parallel corpus; "
                + "the last stdout line is a JSON summary.")
public final class TrainCommand implements Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--task", defaultValue = "dates", description = "dates (English dates to ISO 8601) or translation.")
    String task;

    @Option(names = "--arch", defaultValue = "transformer", description = "transformer, gru-bahdanau or gru-luong.")
    String arch;

    @Option(names = "--out", required = true, description = "Checkpoint directory to write (or resume from).")
    Path out;

    @Option(names = "--minutes", defaultValue = "9", description = "Wall-clock budget for training in minutes (default ${DEFAULT-VALUE}).")
    double minutes;

    @Option(names = "--seed", defaultValue = "1", description = "Seed for weights and data (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--resume", description = "Continue the run checkpointed in --out.")
    boolean resume;

    @Option(names = "--steps", description = "Stop after this many further steps (default: the schedule's max).")
    Long steps;

    @Option(names = "--max-steps", description = "Schedule length: the step limit the cosine decay ends at.")
    Integer maxSteps;

    @Option(names = "--warmup", description = "Warm-up steps.")
    Integer warmup;

    @Option(names = "--batch-size", description = "Examples per step.")
    Integer batchSize;

    @Option(names = "--lr", description = "Peak learning rate.")
    Double lr;

    @Option(names = "--eval-every", description = "Steps between held-out evaluations and checkpoints.")
    Integer evalEvery;

    @Option(names = "--eval-size", description = "Examples in the periodic held-out evaluation.")
    Integer evalSize;

    @Option(names = "--final-eval-size", description = "Examples in the final held-out evaluation (default 1000).")
    Integer finalEvalSize;

    @Option(names = "--log-every", description = "Steps between progress lines.")
    Integer logEvery;

    @Option(names = "--d-model", description = "Transformer width / GRU embedding size.")
    Integer dModel;

    @Option(names = "--heads", description = "Attention heads (transformer).")
    Integer heads;

    @Option(names = "--layers", description = "Encoder and decoder layers (transformer).")
    Integer layers;

    @Option(names = {"--ff", "--ffn"}, description = "Feed-forward width (transformer).")
    Integer ff;

    @Option(names = "--hidden", description = "GRU hidden size.")
    Integer hidden;

    @picocli.CommandLine.ArgGroup(exclusive = false, heading = "Translation (--task translation):%n")
    TranslationOptions translation = new TranslationOptions();

    @Override
    public Integer call() throws Exception {
        if (TranslationTrainer.TASK.equals(task)) return translation.run(this);
        if (!DatesData.TASK.equals(task)) throw new IllegalArgumentException("unknown task '" + task + "'; expected dates or translation");
        translation.refuse();
        if (!(minutes > 0)) throw new IllegalArgumentException("--minutes must be > 0, got " + minutes);
        java.io.PrintWriter err = spec.commandLine().getErr();
        java.util.function.Consumer<String> log = line -> {
            err.println(line);
            err.flush();
        };
        Trainer trainer;
        if (resume) {
            if (!Files.isDirectory(out)) throw new IllegalArgumentException("--resume: checkpoint directory " + out + " does not exist");
            trainer = Trainer.resume(out, log);
            log.accept("resuming " + out + ": architecture, sizes, seed and schedule come from the checkpoint");
        } else {
            Arch a = Arch.byName(arch);
            Seq2SeqConfig m = Seq2SeqConfig.defaults(a, CharVocab.dates().size());
            m = m.withSizes(dModel != null ? dModel : m.dModel(), heads != null ? heads : m.heads(),
                    layers != null ? layers : m.encoderLayers(), ff != null ? ff : m.dimFeedforward(), hidden != null ? hidden : m.hidden());
            TrainConfig t = TrainConfig.defaults(a, seed);
            int ms = maxSteps != null ? maxSteps : t.maxSteps();
            t = t.withSteps(ms, warmup != null ? warmup : Math.min(t.warmupSteps(), ms), evalEvery != null ? evalEvery : t.evalEvery(),
                    logEvery != null ? logEvery : t.logEvery());
            t = t.withBatch(batchSize != null ? batchSize : t.batchSize(), lr != null ? lr : t.peakLr());
            t = t.withEval(evalSize != null ? evalSize : t.evalSize(), finalEvalSize != null ? finalEvalSize : t.finalEvalSize(),
                    t.targetExactMatch());
            trainer = Trainer.create(m, t, out, log);
        }
        TrainResult r = trainer.run(minutes * 60, steps != null ? steps : 0);
        spec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(r));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
