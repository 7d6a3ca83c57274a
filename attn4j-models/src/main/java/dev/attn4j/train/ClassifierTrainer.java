package dev.attn4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.io.AtomicFiles;
import dev.attn4j.models.bert.ClassifierConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.models.peft.PeftAdapter;
import dev.attn4j.nn.LoraConfig;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.optim.LrSchedules;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tokenizers.Encoding;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.tokenizers.Truncation;
import dev.attn4j.train.metrics.ClassificationMetrics;
import dev.attn4j.train.data.LabeledExample;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

/**
 * Fine-tunes an {@link EncoderClassifier} for single-label sequence classification as transformers'
 * {@code Trainer} does: {@link ParameterGroups} (AdamW, no decay on biases and LayerNorm weights,
 * clipping), linear (or cosine) decay after a linear warm-up, gradient accumulation, seeded
 * shuffling with length-grouped batches padded to their longest example, dropout on in training
 * and off in evaluation; evaluation each epoch or every N steps (loss, accuracy, macro-F1,
 * per-class precision / recall, confusion matrix), the best evaluation kept, early stopping.
 *
 * <p>Work directory: {@code last/} (the model as {@code save_pretrained} writes it, plus
 * {@code optimizer.safetensors}, {@code trainer.json} and {@code fine_tune.json}) written at every
 * evaluation and epoch end, and {@code best/}. {@link #resume} continues {@code last/} with the same
 * data order, optimizer state and schedule position (dropout masks are drawn afresh).
 */
public final class ClassifierTrainer {
    static final ObjectMapper JSON = new ObjectMapper();

    /** One tokenized example: ids and token types (special tokens added, truncated) and its class id. */
    public record Example(int[] ids, int[] typeIds, int label) {
    }

    /** Where training stands (trainer.json). */
    public record State(long step, double trainSeconds, long trainExamples, double bestValue, long bestStep, int badEvals,
                        double lastEvalAccuracy, double lastEvalMacroF1, double lastEvalLoss) {
        static State initial() {
            return new State(0, 0, 0, Double.NaN, -1, 0, Double.NaN, Double.NaN, Double.NaN);
        }
    }

    /** The run's summary (the CLI's last JSON line). */
    public record Result(long steps, double epochs, double trainSeconds, double examplesPerSecond, double trainLoss,
                         String bestMetric, double bestValue, long bestStep, double evalAccuracy, double evalMacroF1,
                         double evalLoss, boolean earlyStopped, String checkpoint) {
    }

    private final EncoderClassifier model;
    private final Path modelSource;
    private final List<Example> train;
    private final List<Example> eval;
    private final FineTuneConfig cfg;
    private final Path workDir;
    private final Consumer<String> progress;
    private final Consumer<String> evalLines;
    private final ParameterGroups optimizer;
    /** The LoRA adapter being trained (Lora.apply'd on the model), or null: the whole model is trained and saved. */
    private final LoraConfig adapter;
    private State state;
    /** Stops the run after this step (tests of resuming); 0: never. */
    long interruptAfter;

    private ClassifierTrainer(EncoderClassifier model, Path modelSource, List<Example> train, List<Example> eval, FineTuneConfig cfg,
                              Path workDir, State state, Consumer<String> progress, Consumer<String> evalLines, LoraConfig adapter) {
        if (train.isEmpty()) throw new IllegalArgumentException("no training examples");
        this.model = model;
        this.modelSource = modelSource;
        this.train = List.copyOf(train);
        this.eval = eval == null ? List.of() : List.copyOf(eval);
        this.cfg = cfg;
        this.workDir = workDir;
        this.state = state;
        this.progress = progress == null ? s -> { } : progress;
        this.evalLines = evalLines == null ? s -> { } : evalLines;
        this.adapter = adapter;
        this.optimizer = new ParameterGroups(model, cfg.lr(), cfg.weightDecay());   // the trainable parameters only
    }

    /**
     * A fresh run. {@code model} must be loaded trainable; {@code modelSource} is where its
     * tokenizer files are copied from; checkpoints go to {@code workDir}; progress lines go to
     * {@code progress}, one JSON line per evaluation to {@code evalLines}.
     */
    public static ClassifierTrainer create(EncoderClassifier model, Path modelSource, List<Example> train, List<Example> eval,
                                           FineTuneConfig cfg, Path workDir, Consumer<String> progress,
                                           Consumer<String> evalLines) {
        return create(model, modelSource, train, eval, cfg, workDir, progress, evalLines, null);
    }

    /**
     * A fresh run training the LoRA adapter {@code adapter} that {@code Lora.apply} injected into
     * {@code model} (base frozen; only the adapters and modules_to_save reach the optimizer). The
     * output, the best and the last checkpoint are then peft adapter directories
     * ({@link PeftAdapter#save}) with the tokenizer files. {@code adapter} null: {@link #create}.
     */
    public static ClassifierTrainer create(EncoderClassifier model, Path modelSource, List<Example> train, List<Example> eval,
                                           FineTuneConfig cfg, Path workDir, Consumer<String> progress,
                                           Consumer<String> evalLines, LoraConfig adapter) {
        return new ClassifierTrainer(model, modelSource, train, eval, cfg, workDir, State.initial(), progress, evalLines, adapter);
    }

    /** Continues the run checkpointed in {@code workDir/last} (same config required). */
    public static ClassifierTrainer resume(Path workDir, Path modelSource, List<Example> train, List<Example> eval,
                                           FineTuneConfig cfg, Consumer<String> progress, Consumer<String> evalLines)
            throws IOException {
        return resume(workDir, modelSource, train, eval, cfg, progress, evalLines, null, null);
    }

    /**
     * Continues the run checkpointed in {@code workDir/last}. With {@code loraModel} (the base model
     * with its head, {@code Lora.apply}'d with {@code adapter} as at the start), the checkpoint is a
     * peft adapter directory whose weights are loaded into it; without, the checkpoint is the whole model.
     */
    public static ClassifierTrainer resume(Path workDir, Path modelSource, List<Example> train, List<Example> eval,
                                           FineTuneConfig cfg, Consumer<String> progress, Consumer<String> evalLines,
                                           EncoderClassifier loraModel, LoraConfig adapter) throws IOException {
        Path last = workDir.resolve("last");
        Path cfgFile = last.resolve("fine_tune.json");
        if (!Files.isRegularFile(cfgFile)) throw new IllegalArgumentException("no checkpoint to resume: " + cfgFile + " is missing");
        FineTuneConfig saved = JSON.readValue(cfgFile.toFile(), FineTuneConfig.class);
        if (!saved.equals(cfg)) {
            throw new IllegalArgumentException(cfgFile + ": the checkpoint was made with other settings: " + saved + "; now " + cfg);
        }
        State st = JSON.readValue(last.resolve("trainer.json").toFile(), State.class);
        boolean lastIsAdapter = PeftAdapter.isAdapterDirectory(last);
        if (lastIsAdapter != (loraModel != null)) {
            throw new IllegalArgumentException(last + ": the checkpoint " + (lastIsAdapter ? "is a LoRA adapter: resume with the same --lora-* options"
                    : "is a whole model, not a LoRA adapter: resume without --lora-r"));
        }
        EncoderClassifier model;
        if (loraModel != null) {
            LoraConfig had = PeftAdapter.readConfig(last);
            if (had.r() != adapter.r() || had.loraAlpha() != adapter.loraAlpha() || had.loraDropout() != adapter.loraDropout()
                    || !java.util.Objects.equals(had.targetModules(), adapter.targetModules())
                    || !had.modulesToSave().equals(adapter.modulesToSave())) {
                throw new IllegalArgumentException(last.resolve(PeftAdapter.CONFIG) + ": the checkpoint's adapter (r " + had.r() + ", lora_alpha "
                        + had.loraAlpha() + ", lora_dropout " + had.loraDropout() + ", target_modules " + had.targetModulesText()
                        + ") differs from the one given (r " + adapter.r() + ", lora_alpha " + adapter.loraAlpha() + ", lora_dropout "
                        + adapter.loraDropout() + ", target_modules " + adapter.targetModulesText() + ")");
            }
            PeftAdapter.load(last, loraModel);
            model = loraModel;
        } else {
            model = EncoderClassifiers.load(last, new EncoderClassifiers.Options(null, null, true, cfg.seed() + st.step(), null));
        }
        ClassifierTrainer t = new ClassifierTrainer(model, modelSource, train, eval, cfg, workDir, st, progress, evalLines, adapter);
        t.optimizer.loadStateDict(StateDicts.read(last.resolve("optimizer.safetensors")));
        if (t.optimizer.steps() != st.step()) {
            throw new IllegalArgumentException(last + ": optimizer state is at step " + t.optimizer.steps() + ", trainer.json at " + st.step());
        }
        return t;
    }

    /** Tokenizes {@code rows} (text and optional pair, special tokens, truncated to {@code maxLength}). */
    public static List<Example> encode(Tokenizer tokenizer, List<LabeledExample> rows, ToIntFunction<LabeledExample> labelId,
                                       int maxLength) {
        Tokenizer tok = tokenizer.withTruncation(Truncation.of(maxLength)).withPadding(null);
        return rows.parallelStream().map(r -> {
            Encoding e = r.textPair() == null ? tok.encode(r.text(), true) : tok.encode(r.text(), r.textPair(), true);
            return new Example(e.ids(), e.typeIds(), labelId.applyAsInt(r));
        }).toList();
    }

    public EncoderClassifier model() {
        return model;
    }

    public State state() {
        return state;
    }

    public ParameterGroups optimizer() {
        return optimizer;
    }

    /** Forward passes per epoch. */
    int batchesPerEpoch() {
        return (train.size() + cfg.batchSize() - 1) / cfg.batchSize();
    }

    /** Optimizer steps per epoch: ceil(batches / accumulation). */
    public long stepsPerEpoch() {
        return Math.max(1, (batchesPerEpoch() + cfg.gradAccum() - 1) / cfg.gradAccum());
    }

    /** Steps of the whole run: max_steps, else ceil(epochs * steps per epoch). */
    public long totalSteps() {
        return cfg.maxSteps() > 0 ? cfg.maxSteps() : (long) Math.ceil(cfg.epochs() * stepsPerEpoch());
    }

    /** Learning rate of the update after {@code done} steps (transformers' LambdaLR at step {@code done}). */
    public double lrAt(long done) {
        long total = totalSteps();
        long warmup = (long) Math.ceil(cfg.warmupRatio() * total);
        LrSchedules.Schedule s = cfg.schedule().equals("cosine") ? LrSchedules.linearWarmupCosineDecay(cfg.lr(), warmup, total, 0)
                : LrSchedules.linearWarmupLinearDecay(cfg.lr(), warmup, total);
        return s.lr(done);
    }

    /**
     * The batches of epoch {@code epoch} (indices into the training set): the file's order without
     * shuffling; else a seeded permutation, grouped by length as transformers' LengthGroupedSampler
     * (mega-batches of min(n / (4 batch), 50) batches sorted longest first, the longest batch first).
     */
    List<int[]> batches(long epoch) {
        int n = train.size(), b = cfg.batchSize();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (cfg.shuffle()) {
            SplittableRandom rng = new SplittableRandom(cfg.seed() * 0x9E3779B97F4A7C15L + epoch);
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            if (cfg.groupByLength()) {
                int mult = Math.max(1, Math.min(n / (b * 4), 50));
                int mega = mult * b;
                Integer[] boxed = Arrays.stream(order).boxed().toArray(Integer[]::new);
                int longestMega = 0, longest = -1;
                for (int from = 0; from < n; from += mega) {
                    int to = Math.min(n, from + mega);
                    Arrays.sort(boxed, from, to, Comparator.comparingInt((Integer i) -> train.get(i).ids().length).reversed());
                    if (train.get(boxed[from]).ids().length > longest) {
                        longest = train.get(boxed[from]).ids().length;
                        longestMega = from;
                    }
                }
                Integer t = boxed[0];
                boxed[0] = boxed[longestMega];
                boxed[longestMega] = t;
                for (int i = 0; i < n; i++) order[i] = boxed[i];
            }
        }
        List<int[]> out = new ArrayList<>();
        for (int from = 0; from < n; from += b) out.add(Arrays.copyOfRange(order, from, Math.min(n, from + b)));
        return out;
    }

    private EncoderInput input(List<Example> set, int[] idx) {
        List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
        for (int i : idx) {
            ids.add(set.get(i).ids());
            types.add(set.get(i).typeIds());
        }
        boolean withTypes = model.config().typeVocabSize() > 0;
        return EncoderInput.padded(ids, withTypes ? types : null, model.config().padTokenId());
    }

    private NDArray labels(List<Example> set, int[] idx) {
        float[] l = new float[idx.length];
        for (int i = 0; i < idx.length; i++) l[i] = set.get(idx[i]).label();
        return NDArray.of(l, idx.length);
    }

    /** Trains to the end (or early stop) and writes the best (or last) model to {@code out}; returns the summary. */
    public Result run(Path out) throws IOException {
        long total = totalSteps(), perEpoch = stepsPerEpoch();
        long epochs = (total + perEpoch - 1) / perEpoch;
        int accum = cfg.gradAccum();
        boolean earlyStopped = false;
        double windowLoss = 0;
        int windowSteps = 0;
        long windowExamples = 0;
        double windowSeconds = 0;
        double lastLoss = Double.NaN;
        progress.accept(String.format(Locale.ROOT, "fine-tuning %s (%,d parameters) on %,d examples (%d per batch, %d per step), "
                        + "%d steps (%d per epoch), %d warm-up; evaluating on %,d examples%s",
                model.architecture(), model.parameterCount(), train.size(), cfg.batchSize(), cfg.batchSize() * accum, total, perEpoch,
                (long) Math.ceil(cfg.warmupRatio() * total), eval.size(), state.step() > 0 ? "; resuming at step " + state.step() : ""));
        model.train(!cfg.dropoutOff());
        outer:
        for (long epoch = state.step() / perEpoch; epoch < epochs && state.step() < total; epoch++) {
            List<int[]> batches = batches(epoch);
            int start = (int) ((state.step() - epoch * perEpoch) * accum);
            for (int bi = start; bi < batches.size() && state.step() < total; bi += accum) {
                long t0 = System.nanoTime();
                int group = Math.min(accum, batches.size() - bi);
                double stepLoss = 0;
                int examples = 0;
                for (int k = 0; k < group; k++) {
                    int[] idx = batches.get(bi + k);
                    Tensor logits = model.forward(input(train, idx));                 // [B, L]
                    Tensor loss = model.loss(logits, labels(train, idx));
                    double l = loss.item();
                    if (!Double.isFinite(l)) throw new IllegalStateException("training diverged at step " + (state.step() + 1) + ": loss " + l);
                    (group > 1 ? loss.div(group) : loss).backward();
                    stepLoss += l / group;
                    examples += idx.length;
                }
                optimizer.step(lrAt(state.step()), cfg.maxGradNorm());
                optimizer.zeroGrad();
                double dt = (System.nanoTime() - t0) / 1e9;
                long step = state.step() + 1;
                state = new State(step, state.trainSeconds() + dt, state.trainExamples() + examples, state.bestValue(), state.bestStep(),
                        state.badEvals(), state.lastEvalAccuracy(), state.lastEvalMacroF1(), state.lastEvalLoss());
                windowLoss += stepLoss;
                windowSteps++;
                windowExamples += examples;
                windowSeconds += dt;
                lastLoss = stepLoss;
                if (step % cfg.logEvery() == 0 || step == total) {
                    double eps = windowExamples / Math.max(1e-9, windowSeconds);
                    double eta = (total - step) * (windowSeconds / windowSteps);
                    progress.accept(String.format(Locale.ROOT, "epoch %.2f/%d  step %d/%d  loss %.4f  lr %.3e  %.1f examples/s  ETA %s",
                            (double) step / perEpoch, epochs, step, total, windowLoss / windowSteps, lrAt(step - 1), eps, clock(eta)));
                    windowLoss = 0;
                    windowSteps = 0;
                    windowExamples = 0;
                    windowSeconds = 0;
                }
                boolean epochEnd = step % perEpoch == 0 || step == total;
                boolean evalNow = !eval.isEmpty() && (cfg.evalSteps() > 0 ? step % cfg.evalSteps() == 0 || step == total : epochEnd);
                if (evalNow) {
                    if (evaluateAndKeep((double) step / perEpoch)) {
                        earlyStopped = true;
                        saveLast();
                        break outer;
                    }
                }
                if (evalNow || epochEnd) saveLast();
                if (interruptAfter > 0 && step >= interruptAfter) {
                    saveLast();
                    return null;
                }
            }
        }
        model.eval();
        if (!eval.isEmpty() && Files.isDirectory(workDir.resolve("best"))) {
            copyDirectory(workDir.resolve("best"), out);
        } else {
            save(out);
        }
        double eps = state.trainExamples() / Math.max(1e-9, state.trainSeconds());
        return new Result(state.step(), (double) state.step() / perEpoch, state.trainSeconds(), eps, lastLoss, cfg.bestMetric(),
                state.bestValue(), state.bestStep(), state.lastEvalAccuracy(), state.lastEvalMacroF1(), state.lastEvalLoss(), earlyStopped,
                out.toString());
    }

    /** Evaluates, prints the JSON line, saves a new best; returns whether early stopping triggers. */
    private boolean evaluateAndKeep(double epoch) throws IOException {
        Evaluation ev = evaluate(model, eval, Math.max(32, cfg.batchSize() * 2));
        model.train(!cfg.dropoutOff());
        ClassificationMetrics m = ev.metrics();
        double value = switch (cfg.bestMetric()) {
            case "loss" -> ev.loss();
            case "macro_f1" -> m.macroF1();
            default -> m.accuracy();
        };
        boolean lowerIsBetter = cfg.bestMetric().equals("loss");
        boolean better = Double.isNaN(state.bestValue()) || (lowerIsBetter ? value < state.bestValue() : value > state.bestValue());
        state = new State(state.step(), state.trainSeconds(), state.trainExamples(), better ? value : state.bestValue(),
                better ? state.step() : state.bestStep(), better ? 0 : state.badEvals() + 1, m.accuracy(), m.macroF1(), ev.loss());
        ObjectNode line = JSON.createObjectNode();
        line.put("epoch", Math.round(epoch * 1000) / 1000.0);
        line.put("step", state.step());
        line.put("evalLoss", ev.loss());
        line.put("evalAccuracy", m.accuracy());
        line.put("evalMacroF1", m.macroF1());
        ObjectNode per = line.putObject("perClass");
        m.perClass().forEach((name, c) -> {
            ObjectNode o = per.putObject(name);
            o.put("precision", c.precision());
            o.put("recall", c.recall());
            o.put("f1", c.f1());
            o.put("support", c.support());
        });
        line.set("confusion", JSON.valueToTree(m.confusionMatrix()));
        line.put("best", better);
        evalLines.accept(JSON.writeValueAsString(line));
        if (better) save(workDir.resolve("best"));
        return cfg.earlyStoppingPatience() > 0 && state.badEvals() >= cfg.earlyStoppingPatience();
    }

    /** Loss (mean over examples) and metrics of {@code model} on {@code set}, in eval mode without gradients. */
    public record Evaluation(double loss, ClassificationMetrics metrics, int[] predictions) {
    }

    public static Evaluation evaluate(EncoderClassifier model, List<Example> set, int batchSize) {
        model.eval();
        Integer[] order = new Integer[set.size()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingInt(i -> set.get(i).ids().length));
        int[] pred = new int[set.size()], gold = new int[set.size()];
        double lossSum = 0;
        try (var g = GradMode.noGrad()) {
            for (int from = 0; from < order.length; from += batchSize) {
                int to = Math.min(order.length, from + batchSize);
                int[] idx = new int[to - from];
                for (int i = from; i < to; i++) idx[i - from] = order[i];
                List<int[]> ids = new ArrayList<>(), types = new ArrayList<>();
                float[] lab = new float[idx.length];
                for (int i = 0; i < idx.length; i++) {
                    ids.add(set.get(idx[i]).ids());
                    types.add(set.get(idx[i]).typeIds());
                    lab[i] = set.get(idx[i]).label();
                }
                EncoderInput in = EncoderInput.padded(ids, model.config().typeVocabSize() > 0 ? types : null, model.config().padTokenId());
                Tensor logits = model.forward(in);                                      // [B, L]
                lossSum += model.loss(logits, NDArray.of(lab, lab.length)).item() * idx.length;
                NDArray am = logits.argmax(1, false);
                for (int i = 0; i < idx.length; i++) {
                    pred[idx[i]] = (int) am.getDouble(i);
                    gold[idx[i]] = set.get(idx[i]).label();
                }
            }
        }
        return new Evaluation(set.isEmpty() ? Double.NaN : lossSum / set.size(), set.isEmpty() ? null : ClassificationMetrics.compute(gold, pred, model.head().id2label()), pred);
    }

    /** Writes {@code last/}: the model, optimizer state, trainer state and settings. */
    void saveLast() throws IOException {
        Path last = workDir.resolve("last");
        save(last);
        StateDicts.save(optimizer.stateDict(), last.resolve("optimizer.safetensors"), Map.of("format", "attn4j-finetune"));
        AtomicFiles.write(last.resolve("trainer.json"), JSON.writeValueAsBytes(state));
        AtomicFiles.write(last.resolve("fine_tune.json"), JSON.writeValueAsBytes(cfg));
    }

    /**
     * Writes the model to {@code dir} (replacing it atomically): its save_pretrained directory, or
     * with LoRA the peft adapter directory (adapter_config.json, adapter_model.safetensors) and the
     * tokenizer files of the model source.
     */
    private void save(Path dir) throws IOException {
        if (adapter == null) {
            model.savePretrained(dir, modelSource);
            return;
        }
        Path t = dir.toAbsolutePath().normalize();
        Files.createDirectories(t.getParent());
        Path tmp = Files.createTempDirectory(t.getParent(), "." + t.getFileName() + ".tmp-");
        try {
            PeftAdapter.save(tmp, model, adapter);
            // the head's labels (id2label, num_labels) beside the adapter: transformers and peft read the base's config.json
            // and ignore this one; attn4j's classify and merge take the head from it
            Files.write(tmp.resolve("config.json"), JSON.writeValueAsBytes(model.configJson()));
            if (modelSource != null) {
                for (String f : EncoderClassifier.TOKENIZER_FILES) {
                    Path src = modelSource.resolve(f);
                    if (Files.isRegularFile(src)) Files.copy(src, tmp.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            copyDirectory(tmp, t);
        } finally {
            deleteTree(tmp);
        }
    }

    /** Copies {@code src} to a temporary sibling of {@code target} and renames it into place. */
    public static void copyDirectory(Path src, Path target) throws IOException {
        Path t = target.toAbsolutePath().normalize();
        Files.createDirectories(t.getParent());
        Path tmp = Files.createTempDirectory(t.getParent(), "." + t.getFileName() + ".tmp-");
        try (Stream<Path> files = Files.list(src)) {
            for (Path f : files.toList()) if (Files.isRegularFile(f)) Files.copy(f, tmp.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            Path old = null;
            if (Files.exists(t)) {
                old = t.resolveSibling("." + t.getFileName() + ".old-" + System.nanoTime());
                Files.move(t, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(tmp, t, StandardCopyOption.ATOMIC_MOVE);
            if (old != null) deleteTree(old);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    public static void deleteTree(Path p) {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String clock(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    /** The head config for class names {@code labels} (sorted as given). */
    public static ClassifierConfig head(List<String> labels) {
        return new ClassifierConfig(labels, ClassifierConfig.SINGLE_LABEL, null);
    }
}
