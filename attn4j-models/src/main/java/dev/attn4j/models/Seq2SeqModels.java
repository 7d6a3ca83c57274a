package dev.attn4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.bart.BartConfig;
import dev.attn4j.models.bart.BartModel;
import dev.attn4j.models.marian.Marian;
import dev.attn4j.models.seq2seq.EncoderDecoderModel;
import dev.attn4j.models.t5.T5Config;
import dev.attn4j.models.t5.T5Model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Loads pretrained encoder-decoders from model directories in Hugging Face layout
 * ({@code config.json} plus {@code model.safetensors} or a sharded index), as
 * {@code AutoModelForSeq2SeqLM.from_pretrained} does for the types in {@link #SUPPORTED_TYPES},
 * dispatching on {@code model_type}: {@code marian} ({@code MarianMTModel}), {@code t5} and
 * {@code mt5} ({@code T5ForConditionalGeneration}), {@code bart} and {@code mbart}
 * ({@code *ForConditionalGeneration}). Weights are memory-mapped; BF16 / F16 linear weights and
 * token tables stay 16-bit ({@link CheckpointParams.Keep16#HEAP}), the rest is F32.
 *
 * <p>Tied tables: a checkpoint may hold the shared token table under any of its tied names
 * ({@code model.shared}, the stacks' {@code embed_tokens}, a tied {@code lm_head}); the first
 * present is read and the other copies ignored. Also ignored, as transformers ignores them: Marian's
 * stored sinusoids ({@code embed_positions.weight}) and T5's unused decoder cross-attention bias
 * table. A missing {@code final_logits_bias} is zeros. Any other missing, unexpected or misshapen
 * key is one error naming them all, and so is an unsupported {@code model_type}.
 */
public final class Seq2SeqModels {
    private Seq2SeqModels() {
    }

    /** The model_type values {@link #load} reads. */
    public static final List<String> SUPPORTED_TYPES = List.of("marian", "t5", "mt5", "bart", "mbart");

    /** Loads a model directory or Hub id (the Hugging Face cache, else a download) in eval mode. */
    public static EncoderDecoderModel load(String dirOrHubId) throws IOException {
        return load(ModelSource.fromEnvironment().resolve(dirOrHubId));
    }

    /** Loads the model in {@code dir} in eval mode. */
    public static EncoderDecoderModel load(Path dir) throws IOException {
        return load(ModelDirectory.of(dir));
    }

    /** Whether {@code dir}'s config.json names an encoder-decoder type this class loads. */
    public static boolean isSeq2Seq(ModelDirectory dir) throws ModelDirectoryException {
        return dir.has(ModelDirectory.CONFIG) && SUPPORTED_TYPES.contains(dir.config().path("model_type").asText(""));
    }

    /** Loads the model in {@code dir} in eval mode, 16-bit weights kept in 16 bits on the heap. */
    public static EncoderDecoderModel load(ModelDirectory dir) throws IOException {
        Path configFile = dir.requireFile(ModelDirectory.CONFIG);
        JsonNode json = dir.config();
        String type = json.path("model_type").asText("");
        if (!SUPPORTED_TYPES.contains(type)) {
            throw new ModelDirectoryException(configFile, "unsupported model_type '" + type + "'; supported encoder-decoder types: "
                    + SUPPORTED_TYPES);
        }
        Object config;
        try {
            config = switch (type) {
                case "marian" -> Marian.config(json);
                case "t5", "mt5" -> T5Config.fromJson(json);
                default -> BartConfig.fromJson(json);
            };
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(configFile, e.getMessage(), e);
        }
        Path weights = DecoderModels.weightsFile(dir);
        SafetensorsCheckpoint ckpt = DecoderModels.openWeights(weights);
        try {
            EncoderDecoderModel model = build(config, ckpt, weights);
            model.eval();
            return model;
        } catch (IOException | RuntimeException | Error e) {
            ckpt.close();
            throw e;
        }
    }

    /** The first of {@code candidates} (dotted keys without {@code .weight}) the checkpoint holds, else the first. */
    private static String pick(Set<String> names, List<String> candidates) {
        for (String c : candidates) if (names.contains(c + ".weight")) return c;
        return candidates.get(0);
    }

    /** Builds the model of {@code config} (a {@link BartConfig} or {@link T5Config}) from {@code ckpt}; errors name {@code where}. */
    static EncoderDecoderModel build(Object config, SafetensorsCheckpoint ckpt, Path where) throws ModelDirectoryException {
        Set<String> names = new HashSet<>(ckpt.names());
        CheckpointParams params = new CheckpointParams(ckpt, "").keep16(CheckpointParams.Keep16.HEAP);
        List<String> ignorable = new ArrayList<>();
        EncoderDecoderModel model;
        String modelType;
        try {
            if (config instanceof T5Config c) {
                modelType = c.modelType();
                List<String> tables = new ArrayList<>(List.of("shared", "encoder.embed_tokens", "decoder.embed_tokens"));
                if (c.tieWordEmbeddings()) tables.add("lm_head");
                String table = pick(names, tables);
                ignorable.addAll(tables);
                ignorable.add("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias");
                model = new T5Model(c, params, table);
            } else {
                BartConfig c = (BartConfig) config;
                modelType = c.modelType();
                // a bare BartModel / MarianModel checkpoint has no "model." prefix
                boolean bare = names.stream().noneMatch(n -> n.startsWith("model.")) && names.stream().anyMatch(n -> n.startsWith("encoder."));
                String base = bare ? "" : "model";
                String pre = bare ? "" : "model.";
                List<String> encTables, decTables;
                if (c.shareEncoderDecoderEmbeddings()) {
                    encTables = new ArrayList<>(List.of(pre + "shared", pre + "encoder.embed_tokens", pre + "decoder.embed_tokens"));
                    if (c.tieWordEmbeddings()) encTables.add("lm_head");
                    decTables = encTables;
                } else {
                    encTables = List.of(pre + "encoder.embed_tokens");
                    decTables = new ArrayList<>(List.of(pre + "decoder.embed_tokens"));
                    if (c.tieWordEmbeddings()) decTables.add("lm_head");
                }
                String enc = pick(names, encTables), dec = c.shareEncoderDecoderEmbeddings() ? enc : pick(names, decTables);
                ignorable.addAll(encTables);
                ignorable.addAll(decTables);
                if (c.positions() == BartConfig.Positions.SINUSOIDAL) {
                    ignorable.add(pre + "encoder.embed_positions");
                    ignorable.add(pre + "decoder.embed_positions");
                }
                model = new BartModel(c, params, base, enc, dec,
                        c.positions() == BartConfig.Positions.SINUSOIDAL ? Marian.sinusoids(c.maxPositionEmbeddings(), c.dModel()) : null);
            }
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(where, e.getMessage(), e);
        }
        Set<String> ignored = new HashSet<>();
        for (String k : ignorable) if (names.contains(k + ".weight") && !params.usedKeys().contains(k + ".weight")) ignored.add(k + ".weight");
        String problems = params.problems(ignored);
        if (problems != null) throw new ModelDirectoryException(where, "weights do not fit the " + modelType + " config: " + problems);
        model.attachCheckpoint(ckpt);
        return model;
    }
}
