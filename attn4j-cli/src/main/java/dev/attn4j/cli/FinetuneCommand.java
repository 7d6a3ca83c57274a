package dev.attn4j.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.hub.HubSettings;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.models.bert.ClassifierConfig;
import dev.attn4j.models.bert.EncoderClassifier;
import dev.attn4j.models.bert.EncoderClassifiers;
import dev.attn4j.models.Params;
import dev.attn4j.models.peft.PeftAdapter;
import dev.attn4j.nn.Lora;
import dev.attn4j.nn.LoraConfig;
import dev.attn4j.tensor.DType;
import dev.attn4j.tokenizers.Tokenizer;
import dev.attn4j.train.ClassifierTrainer;
import dev.attn4j.train.FineTuneConfig;
import dev.attn4j.train.data.DataFiles;
import dev.attn4j.train.data.EvalSplit;
import dev.attn4j.train.data.LabelMapping;
import dev.attn4j.train.data.LabeledData;
import dev.attn4j.train.data.LabeledExample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code attn4j finetune}: fine-tunes a BERT-family model for sequence classification. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tunes a BERT-family model (a base model or a *ForSequenceClassification checkpoint) on a labelled "
                + "file, as transformers' Trainer would, and writes a save_pretrained directory that transformers loads. "
                + "Progress on stderr; one JSON line per evaluation and a JSON summary last on stdout.")
public final class FinetuneCommand implements Callable<Integer> {
    static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @Option(names = "--model", paramLabel = "M", required = true, description = "Model directory or Hugging Face id.")
    String model;

    @Option(names = "--train", paramLabel = "F", required = true, description = "Training file.")
    Path trainFile;

    @Option(names = "--eval", paramLabel = "G", description = "Evaluation file.")
    Path evalFile;

    @Option(names = "--eval-fraction", paramLabel = "P", description = "Hold out this share of --train (seeded) for evaluation.")
    Double evalFraction;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output directory (written whole at the end).")
    Path out;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Checkpoints for --resume (default: DIR.checkpoints beside --out).")
    Path checkpointDir;

    @Option(names = "--resume", description = "Continue the run checkpointed in --checkpoint-dir.")
    boolean resume;

    @Mixin
    DataFileOptions files = new DataFileOptions();

    @Option(names = "--epochs", defaultValue = "3", description = "Epochs (default ${DEFAULT-VALUE}).")
    double epochs;

    @Option(names = "--max-steps", defaultValue = "-1", description = "Optimizer steps, overriding --epochs (the schedule runs over them).")
    long maxSteps;

    @Option(names = "--lr", defaultValue = "5e-5", description = "Peak learning rate (default ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--batch-size", defaultValue = "8", description = "Examples per batch (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--grad-accum", defaultValue = "1", description = "Batches per optimizer step (default ${DEFAULT-VALUE}).")
    int gradAccum;

    @Option(names = "--max-length", defaultValue = "128", description = "Tokens per example (default ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(names = "--warmup-ratio", defaultValue = "0", description = "Share of steps warming up (default ${DEFAULT-VALUE}).")
    double warmupRatio;

    @Option(names = "--weight-decay", defaultValue = "0", description = "AdamW weight decay (default ${DEFAULT-VALUE}).")
    double weightDecay;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "Gradient clipping norm, 0 for none (default ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--schedule", defaultValue = "linear", description = "linear or cosine decay (default ${DEFAULT-VALUE}).")
    String schedule;

    @Option(names = "--seed", defaultValue = "42", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--eval-steps", defaultValue = "0", description = "Evaluate every N steps; 0: each epoch (default).")
    long evalSteps;

    @Option(names = "--metric", defaultValue = "accuracy", description = "accuracy, macro_f1 or loss: which evaluation is kept (default ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--early-stopping", defaultValue = "0", description = "Stop after N evaluations without improvement (0: never).")
    int patience;

    @Option(names = "--dropout-off", description = "Train without dropout.")
    boolean dropoutOff;

    @Option(names = "--no-shuffle", description = "Keep the file's row order for batches (no shuffling, no length grouping).")
    boolean noShuffle;

    @Option(names = "--log-every", defaultValue = "20", description = "A progress line every N steps (default ${DEFAULT-VALUE}).")
    int logEvery;

    @Option(names = "--lora-r", paramLabel = "R", description = "Train a LoRA adapter of rank R (peft's r) instead of the whole model: "
            + "the base is frozen, the adapters and the classification head (modules_to_save classifier, score) are trained, and "
            + "--out is a peft adapter directory (adapter_config.json, adapter_model.safetensors, tokenizer files).")
    Integer loraR;

    @Option(names = "--lora-alpha", paramLabel = "A", description = "LoRA lora_alpha; the update is scaled by A / R (default: peft's 8).")
    Double loraAlpha;

    @Option(names = "--lora-dropout", paramLabel = "P", description = "LoRA lora_dropout on the adapters' input (default: peft's 0.0).")
    Double loraDropout;

    @Option(names = "--lora-targets", paramLabel = "NAMES", split = ",", description = "LoRA target_modules: Linear module names, "
            + "comma-separated (default: peft's for the model type: query,value for BERT, RoBERTa, XLM-R, ELECTRA; q_lin,v_lin for DistilBERT).")
    List<String> loraTargets;

    @Option(names = "--base-dtype", paramLabel = "T", description = "With --lora-r: bf16 rounds the frozen base's Linear weights to "
            + "BF16 (half their memory); default f32.")
    String baseDtype;

    @Override
    public Integer call() throws Exception {
        long wallStart = System.nanoTime();
        boolean lora = loraR != null;
        if (!lora && (loraAlpha != null || loraDropout != null || loraTargets != null)) {
            throw new IllegalArgumentException("--lora-alpha, --lora-dropout and --lora-targets need --lora-r");
        }
        boolean bf16 = false;
        if (baseDtype != null) {
            if (!lora) throw new IllegalArgumentException("--base-dtype needs --lora-r (only a frozen base can be kept in 16 bits)");
            switch (baseDtype.toLowerCase(Locale.ROOT)) {
                case "bf16", "bfloat16" -> bf16 = true;
                case "f32", "float32" -> bf16 = false;
                default -> throw new IllegalArgumentException("--base-dtype must be bf16 or f32, got '" + baseDtype + "'");
            }
        }
        if (lora && loraR <= 0) throw new IllegalArgumentException("--lora-r must be a positive integer, got " + loraR);
        if (evalFile != null && evalFraction != null) throw new IllegalArgumentException("give --eval or --eval-fraction, not both");
        if (evalFraction != null && !(evalFraction > 0 && evalFraction < 1)) {
            throw new IllegalArgumentException("--eval-fraction must be in (0, 1), got " + evalFraction);
        }
        FineTuneConfig cfg = new FineTuneConfig(lr, epochs, maxSteps, batchSize, maxLength, warmupRatio, weightDecay, seed, gradAccum,
                maxGradNorm, schedule, evalSteps, metric, patience, dropoutOff, !noShuffle, !noShuffle, logEvery);
        ModelDirectory dir = ModelSource.of(HubSettings.fromEnvironment(), System.err).resolve(model);
        Path tokFile = dir.path().resolve("tokenizer.json");
        if (!Files.isRegularFile(tokFile)) throw new IllegalArgumentException("--model " + model + ": no tokenizer.json in " + dir.path());
        Tokenizer tokenizer = Tokenizer.fromFile(tokFile);
        LabeledData trainData = DataFiles.load(trainFile, files.forFile(trainFile));
        List<LabeledExample> trainRows = trainData.examples();
        LabeledData evalData = evalFile == null ? null : DataFiles.load(evalFile, files.forFile(evalFile));
        List<LabeledExample> evalRows = evalData == null ? List.of() : evalData.examples();
        if (evalFraction != null) {
            EvalSplit.Split split = EvalSplit.split(trainRows, evalFraction, seed);
            trainRows = split.train();
            evalRows = split.eval();
        }
        LabelMapping mapping = LabelMapping.forTraining(dir.config(), trainRows, trainFile);
        Path evalName = evalFile != null ? evalFile : trainFile;
        mapping.ids(evalRows, evalName);                                  // an unknown label in the eval file: named here
        List<String> labels = mapping.names();
        Path work = checkpointDir != null ? checkpointDir : out.toAbsolutePath().resolveSibling(out.getFileName() + ".checkpoints");
        ClassifierConfig head = ClassifierTrainer.head(labels);
        List<ClassifierTrainer.Example> train = ClassifierTrainer.encode(tokenizer, trainRows, r -> mapping.idOrMinusOne(r.label()), maxLength);
        List<ClassifierTrainer.Example> eval = ClassifierTrainer.encode(tokenizer, evalRows, r -> mapping.idOrMinusOne(r.label()), maxLength);
        PrintStream stdout = System.out;
        ClassifierTrainer trainer;
        if (lora) {
            List<String> loadLog = new java.util.ArrayList<>();               // printed once the adapter is in place
            EncoderClassifier m = EncoderClassifiers.load(dir.path(), new EncoderClassifiers.Options(EncoderClassifiers.Task.SEQUENCE_CLASSIFICATION,
                    head, true, seed, loadLog::add));
            try {
                String modelType = m.config().modelType();
                List<String> targets = loraTargets != null ? loraTargets.stream().map(String::trim).toList()
                        : PeftAdapter.defaultTargetModules(modelType);
                LoraConfig lc = new LoraConfig(loraR, loraAlpha != null ? loraAlpha : 8, loraDropout != null ? loraDropout : 0.0, targets, null,
                        List.of("classifier", "score"), false, "none", "SEQ_CLS", model, false);
                if (bf16) loadLog.add("base Linear weights rounded to BF16: " + Params.linearsTo16(m.encoder(), DType.BF16)); // before the adapters: they stay F32
                Lora.apply(m, lc, new SplittableRandom(seed));
                loadLog.forEach(System.err::println);
                long trainable = 0;
                for (var p : Lora.trainableParameters(m).values()) trainable += p.numel();
                System.err.println(String.format(Locale.ROOT, "LoRA r %d, lora_alpha %s, lora_dropout %s on %s: %,d trainable parameters of %,d",
                        lc.r(), lc.loraAlpha(), lc.loraDropout(), lc.targetModulesText(), trainable, m.parameterCount()));
                trainer = resume ? ClassifierTrainer.resume(work, dir.path(), train, eval, cfg, System.err::println, stdout::println, m, lc)
                        : ClassifierTrainer.create(m, dir.path(), train, eval, cfg, work, System.err::println, stdout::println, lc);
            } catch (RuntimeException | IOException e) {
                m.close();
                throw e;
            }
        } else if (resume) {
            trainer = ClassifierTrainer.resume(work, dir.path(), train, eval, cfg, System.err::println, stdout::println);
        } else {
            EncoderClassifier m = EncoderClassifiers.load(dir.path(), new EncoderClassifiers.Options(EncoderClassifiers.Task.SEQUENCE_CLASSIFICATION,
                    head, true, seed, System.err::println));
            trainer = ClassifierTrainer.create(m, dir.path(), train, eval, cfg, work, System.err::println, stdout::println);
        }
        ClassifierTrainer.Result r;
        try {
            r = trainer.run(out);
        } finally {
            trainer.model().close();
        }
        for (LabeledData d : new LabeledData[] {trainData, evalData}) {
            if (d != null && d.skippedSummary() != null) System.err.println(d.skippedSummary());
        }
        ObjectNode s = JSON.createObjectNode();
        ObjectNode best = s.putObject("best");
        best.put("metric", r.bestMetric());
        if (Double.isNaN(r.bestValue())) best.putNull("value");
        else best.put("value", r.bestValue());
        best.put("step", r.bestStep());
        putNumber(s, "evalAccuracy", r.evalAccuracy());
        putNumber(s, "evalMacroF1", r.evalMacroF1());
        putNumber(s, "evalLoss", r.evalLoss());
        s.put("trainLoss", r.trainLoss());
        s.put("steps", r.steps());
        s.put("epochs", r.epochs());
        s.put("trainExamples", train.size());
        s.put("evalExamples", eval.size());
        s.put("trainSeconds", Math.round(r.trainSeconds() * 10) / 10.0);
        s.put("examplesPerSecond", Math.round(r.examplesPerSecond() * 10) / 10.0);
        s.put("wallSeconds", Math.round((System.nanoTime() - wallStart) / 1e8) / 10.0);
        s.put("earlyStopped", r.earlyStopped());
        s.put("checkpoint", out.toAbsolutePath().normalize().toString());
        stdout.println(JSON.writeValueAsString(s));
        System.err.println(String.format(Locale.ROOT, "done: %d steps in %.1f min (%.1f examples/s)", r.steps(), r.trainSeconds() / 60,
                r.examplesPerSecond()));
        return 0;
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isNaN(v)) o.putNull(key);
        else o.put(key, v);
    }

}
