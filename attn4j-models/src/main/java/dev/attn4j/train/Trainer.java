package dev.attn4j.train;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.seq2seq.Batch;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.nn.Losses;
import dev.attn4j.nn.Reduction;
import dev.attn4j.optim.AdamW;
import dev.attn4j.optim.GradClip;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tasks.DatesTask;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains a sequence-to-sequence model on the dates task with AdamW, warm-up + cosine learning
 * rate, label smoothing and gradient clipping; evaluates held-out exact match every
 * {@code evalEvery} steps (writing a checkpoint each time) and stops at the target rate, the
 * time budget or the step limit. A run resumed from its checkpoint continues exactly as the
 * uninterrupted run would (same data, optimizer state and schedule), provided dropout is 0.
 */
public final class Trainer {
    private final Seq2SeqModel<?> model;
    private final TrainConfig config;
    private final AdamW optimizer;
    private final CharVocab vocab = CharVocab.dates();
    private final Path dir;
    private final Consumer<String> log;
    private TrainerState state;

    private Trainer(Seq2SeqModel<?> model, TrainConfig config, Path dir, TrainerState state, Consumer<String> log) {
        this.model = model;
        this.config = config;
        this.dir = dir;
        this.state = state;
        this.log = log == null ? s -> { } : log;
        this.optimizer = new AdamW(model.parameters(), config.peakLr(), 0.9, 0.98, 1e-9, config.weightDecay());
    }

    /** A fresh run writing its checkpoints to {@code dir}. */
    public static Trainer create(Seq2SeqConfig modelConfig, TrainConfig config, Path dir, Consumer<String> log) {
        if (modelConfig.arch() != config.arch()) {
            throw new IllegalArgumentException("model arch " + modelConfig.arch() + " differs from train arch " + config.arch());
        }
        Seq2SeqModel<?> model = Seq2SeqModel.create(modelConfig, new SplittableRandom(config.seed()));
        return new Trainer(model, config, dir, TrainerState.initial(config.seed()), log);
    }

    /** Continues the run checkpointed in {@code dir} (model, optimizer and trainer state restored). */
    public static Trainer resume(Path dir, Consumer<String> log) {
        Checkpoint.Config cfg = Checkpoint.readConfig(dir);
        if (!DatesData.TASK.equals(cfg.task())) throw new IllegalArgumentException(dir + ": task '" + cfg.task() + "' is not 'dates'");
        Seq2SeqModel<?> model = Checkpoint.loadModel(dir);
        TrainerState st = Checkpoint.readTrainerState(dir);
        Trainer t = new Trainer(model, cfg.train(), dir, st, log);
        Checkpoint.loadOptimizer(dir, t.optimizer);
        if (t.optimizer.steps() != st.step()) {
            throw new IllegalArgumentException(dir + ": optimizer state is at step " + t.optimizer.steps() + " but "
                    + Checkpoint.TRAINER + " says " + st.step());
        }
        return t;
    }

    public Seq2SeqModel<?> model() {
        return model;
    }

    public TrainConfig config() {
        return config;
    }

    public TrainerState state() {
        return state;
    }

    /**
     * Trains until the periodic evaluation reaches the target, {@code budgetSeconds} of wall time
     * pass, or the step limit (never more than {@code stepLimit} further steps when it is
     * positive); then checkpoints and evaluates on the final held-out set.
     */
    public TrainResult run(double budgetSeconds, long stepLimit) {
        long wallStart = System.nanoTime();
        long deadline = wallStart + (long) (budgetSeconds * 1e9);
        long stopAt = stepLimit > 0 ? Math.min(config.maxSteps(), state.step() + stepLimit) : config.maxSteps();
        List<DatesTask.Example> periodic = DatesTask.generate(config.periodicEvalSeed(), config.evalSize());
        model.train();
        String reason = null;
        double smoothed = state.lastLoss();
        double trainSeconds = state.trainSeconds();
        long srcTokens = state.sourceTokens(), tgtTokens = state.targetTokens();
        double lastEm = state.lastExactMatch();
        long step = state.step();
        long windowTokens = 0;
        double windowTrain = 0;
        log.accept(String.format(Locale.ROOT, "training %s (%,d parameters) from step %d: batch %d, lr %.2g, at most %d steps, %.1f min",
                config.arch().cliName, model.parameterCount(), step, config.batchSize(), config.peakLr(), config.maxSteps(),
                budgetSeconds / 60));
        while (true) {
            if (step >= stopAt) {
                reason = "max_steps";
                break;
            }
            if (System.nanoTime() >= deadline) {
                reason = "time";
                break;
            }
            step++;
            long t0 = System.nanoTime();
            Batch batch = DatesData.trainBatch(vocab, config.seed(), step, config.batchSize());
            optimizer.setLr(config.lr(step));
            optimizer.zeroGrad();
            Tensor logits = model.forward(batch);                                       // [B, T, V]
            Tensor loss = Losses.crossEntropy(logits.reshape(-1, logits.dim(-1)), batch.targetOut().reshape(-1),
                    Losses.IGNORE_INDEX, config.labelSmoothing(), Reduction.MEAN);
            double l = loss.item();
            if (!Double.isFinite(l)) throw new IllegalStateException("training diverged at step " + step + ": loss " + l);
            loss.backward();
            if (config.clipNorm() > 0) GradClip.clipGradNorm(optimizer.params(), config.clipNorm());
            optimizer.step();
            double dt = (System.nanoTime() - t0) / 1e9;
            trainSeconds += dt;
            windowTrain += dt;
            srcTokens += batch.sourceTokens();
            tgtTokens += batch.targetTokens();
            windowTokens += batch.sourceTokens() + batch.targetTokens();
            smoothed = smoothed < 0 ? l : 0.95 * smoothed + 0.05 * l;
            if (step % config.logEvery() == 0) {
                double elapsed = (System.nanoTime() - wallStart) / 1e9;
                double perStep = windowTrain / Math.max(1, config.logEvery());
                double eta = Math.min((stopAt - step) * perStep, (deadline - System.nanoTime()) / 1e9);
                log.accept(String.format(Locale.ROOT, "step %5d/%d  loss %.4f  lr %.2e  %,.0f tok/s  %.2f s/step  elapsed %s  ETA %s",
                        step, config.maxSteps(), smoothed, config.lr(step), windowTokens / Math.max(1e-9, windowTrain), perStep,
                        clock(elapsed), clock(Math.max(0, eta))));
                windowTokens = 0;
                windowTrain = 0;
            }
            state = new TrainerState(step, config.seed(), trainSeconds, srcTokens, tgtTokens, smoothed, lastEm, TrainerState.BATCH_RNG);
            if (step % config.evalEvery() == 0) {
                lastEm = Evaluation.exactMatch(model, vocab, periodic);
                state = new TrainerState(step, config.seed(), trainSeconds, srcTokens, tgtTokens, smoothed, lastEm, TrainerState.BATCH_RNG);
                save();
                log.accept(String.format(Locale.ROOT, "step %5d  held-out exact match %.2f%% (%d examples)  checkpoint %s",
                        step, 100 * lastEm, periodic.size(), dir));
                if (lastEm >= config.targetExactMatch()) {
                    reason = "target";
                    break;
                }
            }
        }
        save();
        List<DatesTask.Example> held = DatesTask.generate(config.finalEvalSeed(), config.finalEvalSize());
        double em = Evaluation.exactMatch(model, vocab, held);
        double wall = (System.nanoTime() - wallStart) / 1e9;
        log.accept(String.format(Locale.ROOT, "stopped (%s) at step %d; final held-out exact match %.2f%% on %d examples",
                reason, step, 100 * em, held.size()));
        return new TrainResult(config.arch().cliName, step, em, held.size(), (srcTokens + tgtTokens) / Math.max(1e-9, trainSeconds),
                trainSeconds, wall, reason, smoothed, model.parameterCount(), dir.toString());
    }

    /** Writes the checkpoint now. */
    public void save() {
        try {
            Files.createDirectories(dir);
            Checkpoint.save(dir, DatesData.TASK, model, config, optimizer, state);
        } catch (IOException e) {
            throw new UncheckedIOException("writing checkpoint to " + dir + ": " + e.getMessage(), e);
        }
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
