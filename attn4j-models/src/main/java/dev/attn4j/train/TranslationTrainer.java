package dev.attn4j.train;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.AtomicFiles;
import dev.attn4j.models.seq2seq.Arch;
import dev.attn4j.models.seq2seq.Batch;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.models.seq2seq.TransformerSeq2Seq;
import dev.attn4j.nn.Losses;
import dev.attn4j.nn.Reduction;
import dev.attn4j.nn.Reseedable;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.optim.AdamW;
import dev.attn4j.optim.GradClip;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.train.metrics.Bleu;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains an encoder-decoder Transformer to translate a parallel corpus: batches of at most
 * {@code maxTokens} padded tokens, AdamW with an inverse-square-root (or Noam) schedule,
 * label-smoothed cross-entropy over the real target tokens only, dropout masks seeded per update.
 * Every {@code evalEvery} updates it measures the validation loss and the BLEU of beam-search
 * translations of the validation sources (detokenized, sacreBLEU's default BLEU), keeps the best
 * model by that BLEU in the output directory, and writes a resumable checkpoint.
 *
 * <p>Output directory {@code DIR}:
 * <ul>
 * <li>{@code DIR/}: the model to use ({@code config.json}, {@code model.safetensors},
 *     {@code tokenizer.json}): the best validation BLEU, or the average of the last K
 *     validation checkpoints when that scores higher; {@code summary.json}, {@code valid.hyp};</li>
 * <li>{@code DIR/last/}: the resumable checkpoint (adds {@code optimizer.safetensors} and
 *     {@code trainer.json});</li>
 * <li>{@code DIR/checkpoints/step-N.safetensors}: the last K weight snapshots (every
 *     {@code saveEvery} updates, and the final weights);
 *     {@code DIR/averaged/}: their average.</li>
 * </ul>
 * A resumed run continues exactly as the uninterrupted run would (same batches, dropout masks,
 * optimizer state and schedule position; bit for bit on one kernel set). The time budget covers
 * training and validation: training stops early enough for the final validations to fit.
 */
public final class TranslationTrainer {
    public static final String TASK = "translation";
    static final String LAST = "last";
    static final String AVERAGED = "averaged";
    static final String CHECKPOINTS = "checkpoints";
    static final String SUMMARY = "summary.json";

    private final TransformerSeq2Seq model;
    private final TranslationConfig config;
    private final Tokenizer tokenizer;
    private final String tokenizerJson;
    private final TranslationData train;
    private final TranslationData valid;
    private final AdamW optimizer;
    private final Path dir;
    private final Consumer<String> log;
    private TranslationState state;
    private int batchesPerEpoch = 1;

    private TranslationTrainer(TransformerSeq2Seq model, TranslationConfig config, String tokenizerJson, Path dir, TranslationState state,
                               Consumer<String> log) {
        this.model = model;
        this.config = config;
        this.tokenizerJson = tokenizerJson;
        this.tokenizer = Tokenizer.fromJson(tokenizerJson);
        this.dir = dir;
        this.state = state;
        this.log = log == null ? s -> { } : log;
        TranslationData.checkSpecialTokens(tokenizer, "tokenizer");
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " ids but the model only "
                    + model.config().vocabSize());
        }
        int limit = model.config().maxSourceLen();
        this.train = TranslationData.read(Path.of(config.trainSource()), Path.of(config.trainTarget()), tokenizer, limit);
        this.valid = TranslationData.read(Path.of(config.validSource()), Path.of(config.validTarget()), tokenizer, limit);
        if (train.size() == 0) throw new IllegalArgumentException(config.trainSource() + ": no training pairs");
        if (valid.size() == 0) throw new IllegalArgumentException(config.validSource() + ": no validation pairs");
        this.optimizer = new AdamW(model.parameters(), config.lr(1, model.config().dModel()), config.adamBeta1(), config.adamBeta2(),
                config.adamEps(), config.weightDecay());
    }

    /**
     * A fresh run: a Transformer of {@code modelConfig} (its vocabulary size is the tokenizer's)
     * initialised from the seed, writing to {@code dir}.
     */
    public static TranslationTrainer create(Seq2SeqConfig modelConfig, TranslationConfig config, String tokenizerJson, Path dir,
                                            Consumer<String> log) {
        if (modelConfig.arch() != Arch.TRANSFORMER) {
            throw new IllegalArgumentException("translation training supports --arch transformer only, got " + modelConfig.arch().cliName);
        }
        TransformerSeq2Seq m = new TransformerSeq2Seq(modelConfig, new SplittableRandom(config.seed()));
        return new TranslationTrainer(m, config, tokenizerJson, dir, TranslationState.initial(), log);
    }

    /** Continues the run whose resumable checkpoint is {@code dir/last}. */
    public static TranslationTrainer resume(Path dir, Consumer<String> log) {
        return resume(dir, null, log);
    }

    /**
     * Continues the run of {@code dir/last}, with a new step limit when {@code maxSteps} is not
     * null (the only setting a resumed run may change: the schedule does not depend on it).
     */
    public static TranslationTrainer resume(Path dir, Long maxSteps, Consumer<String> log) {
        Path last = dir.resolve(LAST);
        Checkpoint.Config cfg = Checkpoint.readConfig(last);
        if (!TASK.equals(cfg.task())) throw new IllegalArgumentException(last + ": task '" + cfg.task() + "' is not 'translation'");
        TranslationConfig tc = Checkpoint.readTrain(last, TranslationConfig.class);
        if (maxSteps != null) tc = tc.withMaxSteps(maxSteps);
        TranslationState st = Checkpoint.readState(last, TranslationState.class);
        String tok = readTokenizer(last);
        TransformerSeq2Seq m = (TransformerSeq2Seq) Checkpoint.loadModel(last);
        m.train();
        TranslationTrainer t = new TranslationTrainer(m, tc, tok, dir, st, log);
        Checkpoint.loadOptimizer(last, t.optimizer);
        if (t.optimizer.steps() != st.step()) {
            throw new IllegalArgumentException(last + ": optimizer state is at step " + t.optimizer.steps() + " but trainer.json says " + st.step());
        }
        return t;
    }

    static String readTokenizer(Path dir) {
        Path f = dir.resolve(Checkpoint.TOKENIZER);
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("checkpoint " + dir + " has no readable " + Checkpoint.TOKENIZER + ": " + e.getMessage(), e);
        }
    }

    public TransformerSeq2Seq model() {
        return model;
    }

    public TranslationConfig config() {
        return config;
    }

    public TranslationState state() {
        return state;
    }

    public TranslationData trainData() {
        return train;
    }

    /**
     * Trains until {@code budgetSeconds} of wall time (validation included) would be exceeded, the
     * step or epoch limit, or {@code stepLimit} further updates (when positive); then validates
     * the final weights (and their average with the earlier checkpoints, when asked) and writes
     * the output directory. {@code finalize} false leaves that last part out (for tests of
     * resuming: the checkpoint is written and the run can continue).
     */
    public TranslationResult run(double budgetSeconds, long stepLimit, boolean finish) {
        return run(System.nanoTime(), budgetSeconds, stepLimit, finish);
    }

    /**
     * As {@link #run(double, long, boolean)} with the budget counted from {@code wallStart}
     * ({@link System#nanoTime()} when the command began: reading the data counts too); the
     * summary's wall time is measured from there.
     */
    public TranslationResult run(long wallStart, double budgetSeconds, long stepLimit, boolean finish) {
        long deadline = wallStart + (long) (budgetSeconds * 1e9);
        long stopAt = stepLimit > 0 ? state.step() + stepLimit : Long.MAX_VALUE;
        if (config.maxSteps() > 0) stopAt = Math.min(stopAt, config.maxSteps());
        int d = model.config().dModel();
        model.train();
        List<int[]> batches = train.epochBatches(config.seed(), state.epoch(), config.maxTokens());
        batchesPerEpoch = batches.size();
        log.accept(String.format(Locale.ROOT, "translation: %,d training pairs (%,d skipped), %,d validation pairs, vocabulary %,d, "
                        + "%d batches per epoch of <= %,d tokens; transformer %,d parameters; from update %d (epoch %d); budget %.1f min",
                train.size(), train.skipped(), valid.size(), tokenizer.vocabSize(), batches.size(), config.maxTokens(),
                model.parameterCount(), state.step(), state.epoch(), budgetSeconds / 60));
        String reason;
        double windowTrain = 0;
        long windowTokens = 0;
        double evalEstimate = recentEvalSeconds();
        while (true) {
            if (state.step() >= stopAt) {
                reason = "max_steps";
                break;
            }
            if (state.batchInEpoch() >= batches.size()) {
                if (config.maxEpochs() > 0 && state.epoch() >= config.maxEpochs()) {
                    reason = "max_epochs";
                    break;
                }
                state = with(state, state.step(), state.epoch() + 1, 0);
                batches = train.epochBatches(config.seed(), state.epoch(), config.maxTokens());
                batchesPerEpoch = batches.size();
            }
            double reserve = reserveSeconds(evalEstimate, budgetSeconds);
            if (System.nanoTime() + (long) (reserve * 1e9) >= deadline) {
                reason = "time";
                break;
            }
            long step = state.step() + 1;
            long t0 = System.nanoTime();
            Batch batch = train.batch(batches.get(state.batchInEpoch()));
            double loss = trainStep(batch, step, d);
            double dt = (System.nanoTime() - t0) / 1e9;
            windowTrain += dt;
            windowTokens += batch.sourceTokens() + batch.targetTokens();
            double smoothed = state.loss() < 0 ? loss : 0.98 * state.loss() + 0.02 * loss;
            state = new TranslationState(step, state.epoch(), state.batchInEpoch() + 1, state.trainSeconds() + dt, state.evalSeconds(),
                    state.sourceTokens() + batch.sourceTokens(), state.targetTokens() + batch.targetTokens(), smoothed, state.bestBleu(),
                    state.bestStep(), state.history(), state.averaged());
            if (step % config.logEvery() == 0) {
                double elapsed = (System.nanoTime() - wallStart) / 1e9;
                log.accept(String.format(Locale.ROOT, "step %6d  epoch %d (%3.0f%%)  loss %.4f  lr %.2e  %,.0f tok/s  %.2f s/step  elapsed %s  left %s",
                        step, state.epoch(), 100.0 * state.batchInEpoch() / batches.size(), smoothed, config.lr(step, d),
                        windowTokens / Math.max(1e-9, windowTrain), windowTrain / config.logEvery(), clock(elapsed),
                        clock(Math.max(0, (deadline - System.nanoTime()) / 1e9))));
                windowTrain = 0;
                windowTokens = 0;
            }
            if (step % config.saveEvery() == 0) snapshot();
            if (step % config.evalEvery() == 0) {
                double need = (evalEstimate >= 0 ? evalEstimate : 0) + reserveSeconds(evalEstimate, budgetSeconds);
                if (System.nanoTime() + (long) (need * 1e9) >= deadline) {
                    reason = "time";
                    break;
                }
                validate(batches.size());
                evalEstimate = recentEvalSeconds();
            }
        }
        long lastEval = state.history().isEmpty() ? -1 : state.history().get(state.history().size() - 1).step();
        if (state.step() > 0) snapshot();
        if (lastEval != state.step() && state.step() > 0) validate(batches.size());
        else saveLast();
        if (!finish) {
            return result(reason, wallStart, null, null);
        }
        return finish(reason, wallStart, batches.size());
    }

    /** The longest of the last two validations, in seconds (-1: none yet). */
    private double recentEvalSeconds() {
        List<TranslationState.Validation> h = state.history();
        double s = -1;
        for (int i = Math.max(0, h.size() - 2); i < h.size(); i++) s = Math.max(s, h.get(i).seconds());
        return s;
    }

    /**
     * Seconds to keep for the final validation(s) and saving: a recent validation's time with a
     * margin (twice when the average is validated too), or a tenth of the budget before any
     * validation ran.
     */
    private double reserveSeconds(double evalEstimate, double budgetSeconds) {
        if (evalEstimate < 0) return 0.1 * budgetSeconds;
        return evalEstimate * (config.averageLast() > 1 ? 2 : 1) * 1.3 + 3;
    }

    /** One update on {@code batch}; returns its loss (label-smoothed, mean over the target tokens). */
    private double trainStep(Batch batch, long step, int d) {
        Reseedable.reseedAll(model, config.seed() * 0xD1B54A32D192ED03L + step);
        optimizer.setLr(config.lr(step, d));
        optimizer.zeroGrad();
        Tensor h = model.decoderHidden(batch);                                             // [B, T, d]
        // only the real target positions go through the output projection and the loss
        NDArray target = batch.targetOut();                                                // [B, T]
        int rows = batch.size() * target.dim(1);
        float[] t = target.contiguous().toFloatArray();
        float[] idx = new float[batch.targetTokens()];
        float[] labels = new float[batch.targetTokens()];
        int k = 0;
        for (int i = 0; i < rows; i++) {
            if (t[i] == Losses.IGNORE_INDEX) continue;
            idx[k] = i;
            labels[k++] = t[i];
        }
        Tensor real = F.embedding(h.reshape(rows, h.dim(-1)), NDArray.of(idx, k), null);   // [N, d]
        Tensor logits = model.project(real);                                               // [N, V]
        Tensor loss = Losses.crossEntropy(logits, NDArray.of(labels, k), Losses.IGNORE_INDEX, config.labelSmoothing(), Reduction.MEAN);
        double l = loss.item();
        if (!Double.isFinite(l)) throw new IllegalStateException("training diverged at update " + step + ": loss " + l);
        loss.backward();
        if (config.clipNorm() > 0) GradClip.clipGradNorm(optimizer.params(), config.clipNorm());
        optimizer.step();
        return l;
    }

    private TranslationState with(TranslationState s, long step, long epoch, int batchInEpoch) {
        return new TranslationState(step, epoch, batchInEpoch, s.trainSeconds(), s.evalSeconds(), s.sourceTokens(), s.targetTokens(), s.loss(),
                s.bestBleu(), s.bestStep(), s.history(), s.averaged());
    }

    private int maxLength(int sourceLength) {
        return config.maxOutputLength(sourceLength, model.config().maxTargetLen());
    }

    /** Validation loss and BLEU of the current weights; keeps the best, writes the checkpoints; returns its seconds. */
    private double validate(int batchesPerEpoch) {
        long t0 = System.nanoTime();
        TranslationEval.Loss l = TranslationEval.loss(model, valid, config.maxTokens(), config.labelSmoothing());
        TranslationEval.Translations tr = TranslationEval.bleu(model, tokenizer, valid, config.evalBeam(), config.lengthPenalty(), this::maxLength);
        double bleu = tr.bleu().score();
        double seconds = (System.nanoTime() - t0) / 1e9;
        double epoch = state.epoch() - 1 + (double) state.batchInEpoch() / Math.max(1, batchesPerEpoch);
        List<TranslationState.Validation> history = new ArrayList<>(state.history());
        history.add(new TranslationState.Validation(state.step(), epoch, l.meanLoss(), l.meanNll(), bleu, seconds));
        boolean better = bleu > state.bestBleu();
        try {
            state = new TranslationState(state.step(), state.epoch(), state.batchInEpoch(), state.trainSeconds(), state.evalSeconds() + seconds,
                    state.sourceTokens(), state.targetTokens(), state.loss(), better ? bleu : state.bestBleu(),
                    better ? state.step() : state.bestStep(), history, state.averaged());
            if (better) {
                Checkpoint.saveModel(dir, TASK, model, config);
                AtomicFiles.write(dir.resolve(Checkpoint.TOKENIZER), tokenizerJson.getBytes(StandardCharsets.UTF_8));
                AtomicFiles.write(dir.resolve("valid.hyp"), lines(tr.outputs()));
            }
            saveLast();
        } catch (IOException e) {
            throw new UncheckedIOException("writing checkpoints to " + dir + ": " + e.getMessage(), e);
        }
        log.accept(String.format(Locale.ROOT, "step %6d  epoch %.2f  valid loss %.4f  nll %.4f  ppl %.2f  BLEU %.2f  (best %.2f at %d%s)  %.0f s",
                state.step(), epoch, l.meanLoss(), l.meanNll(), Math.exp(l.meanNll()), bleu, state.bestBleu(), state.bestStep(),
                better ? ", saved" : "", seconds));
        return seconds;
    }

    /** Keeps the current weights as a snapshot for averaging (the last {@code averageLast} stay). */
    private void snapshot() {
        if (config.averageLast() <= 0 || state.averaged().contains(state.step())) return;
        List<Long> averaged = new ArrayList<>(state.averaged());
        try {
            Path ck = dir.resolve(CHECKPOINTS);
            Files.createDirectories(ck);
            StateDicts.save(model.stateDict(), ck.resolve(checkpointName(state.step())), Map.of("format", Checkpoint.FORMAT));
            averaged.add(state.step());
            while (averaged.size() > config.averageLast()) Files.deleteIfExists(ck.resolve(checkpointName(averaged.remove(0))));
        } catch (IOException e) {
            throw new UncheckedIOException("writing a snapshot to " + dir.resolve(CHECKPOINTS) + ": " + e.getMessage(), e);
        }
        state = new TranslationState(state.step(), state.epoch(), state.batchInEpoch(), state.trainSeconds(), state.evalSeconds(),
                state.sourceTokens(), state.targetTokens(), state.loss(), state.bestBleu(), state.bestStep(), state.history(), averaged);
    }

    private static String checkpointName(long step) {
        return String.format(Locale.ROOT, "step-%08d.safetensors", step);
    }

    private static byte[] lines(List<String> lines) {
        StringBuilder sb = new StringBuilder();
        for (String s : lines) sb.append(s).append('\n');
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Writes the resumable checkpoint {@code dir/last}. */
    public void saveLast() {
        Path last = dir.resolve(LAST);
        try {
            Checkpoint.save(last, TASK, model, config, optimizer, state);
            AtomicFiles.write(last.resolve(Checkpoint.TOKENIZER), tokenizerJson.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("writing checkpoint to " + last + ": " + e.getMessage(), e);
        }
    }

    /** Averages the kept checkpoints, validates the average, chooses the output model and writes the summary. */
    private TranslationResult finish(String reason, long wallStart, int batchesPerEpoch) {
        Double averagedBleu = null;
        String chosen = "best";
        if (config.averageLast() > 1 && state.averaged().size() > 1) {
            long t0 = System.nanoTime();
            TransformerSeq2Seq avg = average(state.averaged());
            TranslationEval.Translations tr = TranslationEval.bleu(avg, tokenizer, valid, config.evalBeam(), config.lengthPenalty(),
                    this::maxLength);
            averagedBleu = tr.bleu().score();
            double seconds = (System.nanoTime() - t0) / 1e9;
            try {
                Path out = dir.resolve(AVERAGED);
                Checkpoint.saveModel(out, TASK, avg, config);
                AtomicFiles.write(out.resolve(Checkpoint.TOKENIZER), tokenizerJson.getBytes(StandardCharsets.UTF_8));
                if (averagedBleu > state.bestBleu()) {
                    chosen = AVERAGED;
                    Checkpoint.saveModel(dir, TASK, avg, config);
                    AtomicFiles.write(dir.resolve("valid.hyp"), lines(tr.outputs()));
                }
            } catch (IOException e) {
                throw new UncheckedIOException("writing the averaged model to " + dir + ": " + e.getMessage(), e);
            }
            state = new TranslationState(state.step(), state.epoch(), state.batchInEpoch(), state.trainSeconds(), state.evalSeconds() + seconds,
                    state.sourceTokens(), state.targetTokens(), state.loss(), state.bestBleu(), state.bestStep(), state.history(),
                    state.averaged());
            log.accept(String.format(Locale.ROOT, "average of the last %d snapshots (%s): valid BLEU %.2f (best single %.2f at %d) -> using %s, %.0f s",
                    state.averaged().size(), state.averaged(), averagedBleu, state.bestBleu(), state.bestStep(), chosen, seconds));
            saveLast();
        }
        TranslationResult r = result(reason, wallStart, averagedBleu, chosen);
        try {
            AtomicFiles.write(dir.resolve(SUMMARY), Checkpoint.JSON.writeValueAsBytes(r));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + dir.resolve(SUMMARY) + ": " + e.getMessage(), e);
        }
        return r;
    }

    /**
     * Translates {@code sourceFile} with the output model of {@code dir} (beam search, detokenized),
     * writes the outputs to {@code outputFile} (one per line) and scores them against
     * {@code targetFile}.
     */
    public static TranslationEval.Translations test(Path dir, Path sourceFile, Path targetFile, Path outputFile, int beam,
                                                    double lengthPenalty) {
        Seq2SeqModel<?> m = Checkpoint.loadModel(dir);
        TranslationConfig tc = Checkpoint.readTrain(dir, TranslationConfig.class);
        Tokenizer tok = Tokenizer.fromJson(readTokenizer(dir));
        TranslationData data = TranslationData.read(sourceFile, targetFile, tok, 0);
        if (data.skipped() > 0) {
            throw new IllegalArgumentException(sourceFile + " / " + targetFile + ": " + data.skipped() + " pair(s) with an empty side; "
                    + "BLEU needs every line");
        }
        TranslationEval.Translations tr = TranslationEval.bleu(m, tok, data, beam, lengthPenalty,
                n -> tc.maxOutputLength(n, m.config().maxTargetLen()));
        try {
            AtomicFiles.write(outputFile, lines(tr.outputs()));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + outputFile + ": " + e.getMessage(), e);
        }
        return tr;
    }

    /** The element-wise mean of the weights saved at {@code steps}, as a model. */
    private TransformerSeq2Seq average(List<Long> steps) {
        Map<String, float[]> sum = new LinkedHashMap<>();
        Map<String, NDArray> shapes = new LinkedHashMap<>();
        for (long s : steps) {
            Path f = dir.resolve(CHECKPOINTS).resolve(checkpointName(s));
            Map<String, NDArray> sd;
            try {
                sd = StateDicts.read(f);
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + f + " for averaging: " + e.getMessage(), e);
            }
            for (Map.Entry<String, NDArray> e : sd.entrySet()) {
                float[] v = e.getValue().contiguous().toFloatArray();
                float[] acc = sum.computeIfAbsent(e.getKey(), k -> new float[v.length]);
                if (acc.length != v.length) throw new IllegalArgumentException(f + ": " + e.getKey() + " has another shape than in the other checkpoints");
                for (int i = 0; i < v.length; i++) acc[i] += v[i];
                shapes.putIfAbsent(e.getKey(), e.getValue());
            }
        }
        TransformerSeq2Seq avg = new TransformerSeq2Seq(model.config(), new SplittableRandom(0));
        Map<String, NDArray> mean = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : sum.entrySet()) {
            float[] a = e.getValue();
            for (int i = 0; i < a.length; i++) a[i] /= steps.size();
            mean.put(e.getKey(), NDArray.of(a, shapes.get(e.getKey()).shape().toArray()));
        }
        avg.loadStateDict(mean, true);
        avg.eval();
        return avg;
    }

    private TranslationResult result(String reason, long wallStart, Double averagedBleu, String chosen) {
        double wall = (System.nanoTime() - wallStart) / 1e9;
        double finalBleu = averagedBleu != null && AVERAGED.equals(chosen) ? averagedBleu : state.bestBleu();
        TranslationState.Validation last = state.history().isEmpty() ? null : state.history().get(state.history().size() - 1);
        return new TranslationResult(TASK, Arch.TRANSFORMER.cliName, state.step(), epochs(), finalBleu, state.bestBleu(), state.bestStep(),
                averagedBleu, chosen, last == null ? Double.NaN : last.loss(), last == null ? Double.NaN : last.nll(), last == null ? Double.NaN : last.bleu(),
                (state.sourceTokens() + state.targetTokens()) / Math.max(1e-9, state.trainSeconds()), state.trainSeconds(),
                state.evalSeconds(), wall, reason, state.loss(), model.parameterCount(), tokenizer.vocabSize(), dir.toString(),
                Bleu.signature(1), null, null);
    }

    private double epochs() {
        return state.epoch() - 1 + (double) state.batchInEpoch() / Math.max(1, batchesPerEpoch);
    }

    private static String clock(double seconds) {
        long s = Math.round(seconds);
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
}
