package dev.attn4j.models;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import dev.attn4j.hub.ModelSource;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.decoder.DecoderModel;
import dev.attn4j.models.gpt2.Gpt2Model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Loads decoder-only causal LMs from model directories in Hugging Face layout ({@code config.json}
 * plus {@code model.safetensors} or a sharded index), as {@code AutoModelForCausalLM.from_pretrained}
 * does for the types in {@link DecoderConfig#SUPPORTED_TYPES}, dispatching on {@code model_type}.
 * Weights are memory-mapped; F16 and BF16 are converted to F32 on load. Buffers transformers
 * recomputes ({@code rotary_emb.inv_freq}, GPT-2's {@code attn.bias} / {@code attn.masked_bias})
 * and a stored {@code lm_head.weight} of a tied model are skipped; any other missing, unexpected
 * or misshapen key is one error naming them all.
 */
public final class DecoderModels {
    private DecoderModels() {
    }

    private static final Pattern IGNORED = Pattern.compile(
            ".*\\.rotary_emb\\.inv_freq|.*\\.attn\\.bias|.*\\.attn\\.masked_bias");

    /**
     * Loads a model directory or Hub id ({@code Qwen/Qwen2.5-0.5B}; the Hugging Face cache, else a
     * download, as {@link ModelSource#fromEnvironment()} resolves it) in eval mode.
     */
    public static CausalDecoder load(String dirOrHubId) throws IOException {
        return load(ModelSource.fromEnvironment().resolve(dirOrHubId));
    }

    /** Loads the model in {@code dir} in eval mode. */
    public static CausalDecoder load(Path dir) throws IOException {
        return load(ModelDirectory.of(dir));
    }

    /** Loads the model in {@code dir} in eval mode. */
    public static CausalDecoder load(ModelDirectory dir) throws IOException {
        Path configFile = dir.requireFile(ModelDirectory.CONFIG);
        DecoderConfig config = config(dir.config(), configFile);
        List<Path> files = dir.weightFiles();
        Path weights = files.size() == 1 && !dir.has(ModelDirectory.WEIGHTS_INDEX) ? files.get(0)
                : dir.file(ModelDirectory.WEIGHTS).orElse(dir.requireFile(ModelDirectory.WEIGHTS_INDEX));
        SafetensorsCheckpoint ckpt;
        try {
            ckpt = SafetensorsCheckpoint.open(weights);
        } catch (IOException e) {
            throw new ModelDirectoryException(weights, "cannot read the weights: " + e.getMessage(), e);
        }
        try {
            CausalDecoder model = build(config, ckpt, weights);
            model.eval();
            return model;
        } catch (IOException | RuntimeException | Error e) {
            ckpt.close();
            throw e;
        }
    }

    /** The config of a config.json node; an unsupported or inconsistent config is an error naming the file. */
    public static DecoderConfig config(JsonNode json, Path where) throws ModelDirectoryException {
        try {
            return DecoderConfig.fromJson(json);
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(where, e.getMessage(), e);
        }
    }

    /** Builds the model of {@code config} from {@code params}: GPT-2 or the Llama-style layout. */
    public static CausalDecoder create(DecoderConfig config, Params params) {
        return create(config, params, true);
    }

    /**
     * As {@link #create(DecoderConfig, Params)}; with {@code prefixed} false the base model's keys
     * carry no {@code model.} / {@code transformer.} prefix (a checkpoint of {@code LlamaModel} or
     * {@code GPT2Model}, such as the original {@code gpt2} weights).
     */
    public static CausalDecoder create(DecoderConfig config, Params params, boolean prefixed) {
        boolean gpt2 = config.mlp() == DecoderConfig.Mlp.GPT2;
        if (prefixed) return gpt2 ? new Gpt2Model(config, params) : new DecoderModel(config, params);
        return gpt2 ? Gpt2Model.ofBase(config, params) : new DecoderModel(config, params, params);
    }

    static CausalDecoder build(DecoderConfig config, SafetensorsCheckpoint ckpt, Path where) throws ModelDirectoryException {
        List<String> ignored = new ArrayList<>();
        for (String name : ckpt.names()) {
            if (IGNORED.matcher(name).matches() || (config.tieWordEmbeddings() && name.equals("lm_head.weight"))) ignored.add(name);
        }
        CheckpointParams params = new CheckpointParams(ckpt, "");
        boolean gpt2 = config.mlp() == DecoderConfig.Mlp.GPT2;
        String prefixedEmbedding = gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
        String bareEmbedding = gpt2 ? "wte.weight" : "embed_tokens.weight";
        boolean prefixed = ckpt.contains(prefixedEmbedding) || !ckpt.contains(bareEmbedding);
        CausalDecoder model;
        try {
            model = create(config, params, prefixed);
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(where, e.getMessage(), e);
        }
        String problems = params.problems(Set.copyOf(ignored));
        if (problems != null) {
            throw new ModelDirectoryException(where, "weights do not fit the " + config.modelType() + " config: " + problems);
        }
        model.attachCheckpoint(ckpt);
        return model;
    }
}
