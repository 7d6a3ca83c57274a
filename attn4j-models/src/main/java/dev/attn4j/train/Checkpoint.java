package dev.attn4j.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.models.seq2seq.Seq2SeqConfig;
import dev.attn4j.models.seq2seq.Seq2SeqModel;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.optim.Optimizer;
import dev.attn4j.tensor.NDArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A training checkpoint directory:
 * <ul>
 * <li>{@code config.json}: {@code {"format": "attn4j-seq2seq", "version": 1, "task": "dates",
 *     "model": {Seq2SeqConfig}, "train": {TrainConfig}}} (task "translation": "train" is a
 *     {@link TranslationConfig}, and the directory also holds the {@code tokenizer.json})</li>
 * <li>{@code model.safetensors}: the model's state dict (F32, PyTorch-style dotted names)</li>
 * <li>{@code optimizer.safetensors}: the optimizer state ({@link Optimizer#stateDict()})</li>
 * <li>{@code trainer.json}: {@link TrainerState}</li>
 * </ul>
 * Every file is written to a temporary file and renamed into place, so a crash leaves either
 * the old or the new file. Loading checks every file and names the one that is wrong.
 */
public final class Checkpoint {
    public static final String FORMAT = "attn4j-seq2seq";
    public static final String CONFIG = "config.json";
    public static final String MODEL = "model.safetensors";
    public static final String OPTIMIZER = "optimizer.safetensors";
    public static final String TRAINER = "trainer.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private Checkpoint() {
    }

    /** The file of a translation checkpoint's tokenizer. */
    public static final String TOKENIZER = "tokenizer.json";

    /**
     * The configuration part of a checkpoint; {@code train} is the dates task's settings (null for
     * other tasks: read them with {@link #readTrain}).
     */
    public record Config(String task, Seq2SeqConfig model, TrainConfig train) {
    }

    /** Writes all four files into {@code dir} (created if needed). */
    public static void save(Path dir, String task, Seq2SeqModel<?> model, TrainConfig train, Optimizer optimizer,
                            TrainerState state) throws IOException {
        save(dir, task, model, (Object) train, optimizer, state);
    }

    /** Writes config.json (with {@code train} as its "train"), the weights, the optimizer state and {@code state} as trainer.json. */
    public static void save(Path dir, String task, Seq2SeqModel<?> model, Object train, Optimizer optimizer, Object state)
            throws IOException {
        saveModel(dir, task, model, train);
        StateDicts.save(optimizer.stateDict(), dir.resolve(OPTIMIZER), Map.of("format", FORMAT));
        dev.attn4j.io.AtomicFiles.write(dir.resolve(TRAINER), JSON.writeValueAsBytes(state));
    }

    /** Writes config.json and model.safetensors only: a directory that {@link #loadModel} reads (not resumable). */
    public static void saveModel(Path dir, String task, Seq2SeqModel<?> model, Object train) throws IOException {
        Files.createDirectories(dir);
        ObjectNode cfg = JSON.createObjectNode();
        cfg.put("format", FORMAT);
        cfg.put("version", 1);
        cfg.put("task", task);
        cfg.set("model", JSON.valueToTree(model.config()));
        cfg.set("train", JSON.valueToTree(train));
        dev.attn4j.io.AtomicFiles.write(dir.resolve(CONFIG), JSON.writeValueAsBytes(cfg));
        StateDicts.save(model.stateDict(), dir.resolve(MODEL), Map.of("format", FORMAT));
    }

    /** The "train" object of config.json as {@code type} (e.g. {@link TranslationConfig}). */
    public static <T> T readTrain(Path dir, Class<T> type) {
        Path f = requireFile(dir, CONFIG);
        try {
            JsonNode train = JSON.readTree(f.toFile()).get("train");
            if (train == null || train.isNull()) throw new IllegalArgumentException(f + ": missing key \"train\"");
            return JSON.treeToValue(train, type);
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": cannot read the training settings: " + e.getMessage(), e);
        }
    }

    /** {@code trainer.json} as {@code type} (e.g. {@link TranslationState}). */
    public static <T> T readState(Path dir, Class<T> type) {
        Path f = requireFile(dir, TRAINER);
        try {
            return JSON.readValue(f.toFile(), type);
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": cannot read trainer state: " + e.getMessage(), e);
        }
    }

    /** Reads and checks {@code config.json}. */
    public static Config readConfig(Path dir) {
        Path f = requireFile(dir, CONFIG);
        try {
            JsonNode root = JSON.readTree(f.toFile());
            if (root == null || !root.isObject()) throw new IllegalArgumentException(f + ": not a JSON object");
            if (!FORMAT.equals(root.path("format").asText())) {
                throw new IllegalArgumentException(f + ": \"format\" is " + root.get("format") + ", expected \"" + FORMAT + "\"");
            }
            for (String key : new String[] {"task", "model", "train"}) {
                if (!root.hasNonNull(key)) throw new IllegalArgumentException(f + ": missing key \"" + key + "\"");
            }
            String task = root.get("task").asText();
            return new Config(task, JSON.treeToValue(root.get("model"), Seq2SeqConfig.class),
                    DatesData.TASK.equals(task) ? JSON.treeToValue(root.get("train"), TrainConfig.class) : null);
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": cannot read checkpoint config: " + e.getMessage(), e);
        }
    }

    /** Reads and checks {@code trainer.json}. */
    public static TrainerState readTrainerState(Path dir) {
        Path f = requireFile(dir, TRAINER);
        try {
            TrainerState s = JSON.readValue(f.toFile(), TrainerState.class);
            if (s.step() < 0) throw new IllegalArgumentException(f + ": negative step " + s.step());
            return s;
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": cannot read trainer state: " + e.getMessage(), e);
        }
    }

    /** The model of a checkpoint with its saved weights (strict: every key must match). */
    public static Seq2SeqModel<?> loadModel(Path dir) {
        Config cfg = readConfig(dir);
        Seq2SeqModel<?> model = Seq2SeqModel.create(cfg.model(), new SplittableRandom(0));
        Path f = requireFile(dir, MODEL);
        try {
            StateDicts.load(model, f, true);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(f + ": cannot load model weights: " + e.getMessage(), e);
        }
        model.eval();
        return model;
    }

    /** Restores the optimizer state of a checkpoint into {@code optimizer}. */
    public static void loadOptimizer(Path dir, Optimizer optimizer) {
        Path f = requireFile(dir, OPTIMIZER);
        try {
            Map<String, NDArray> sd = StateDicts.read(f);
            optimizer.loadStateDict(sd);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(f + ": cannot load optimizer state: " + e.getMessage(), e);
        }
    }

    static Path requireFile(Path dir, String name) {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("checkpoint directory " + dir + " does not exist");
        Path f = dir.resolve(name);
        if (!Files.isRegularFile(f)) {
            throw new IllegalArgumentException("checkpoint " + dir + " has no " + name + " (expected " + CONFIG + ", " + MODEL + ", "
                    + OPTIMIZER + ", " + TRAINER + ")");
        }
        return f;
    }

}
