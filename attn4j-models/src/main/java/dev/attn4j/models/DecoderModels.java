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
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.DType;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import dev.attn4j.tensor.Storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * Loads decoder-only causal LMs from model directories in Hugging Face layout ({@code config.json}
 * plus {@code model.safetensors} or a sharded index), as {@code AutoModelForCausalLM.from_pretrained}
 * does for the types in {@link DecoderConfig#SUPPORTED_TYPES}, dispatching on {@code model_type}.
 * Weights are memory-mapped. BF16 / F16 linear weights and embedding tables stay in 16 bits by
 * default ({@link CheckpointParams.Keep16#HEAP}: a {@code short[]} copy, widened inside the GEMM's
 * packing or a lookup; {@link #load(Path, CheckpointParams.Keep16)} picks {@code MAPPED}, zero-copy
 * views of the file, or {@code NO}, widened to F32 on load); norms and biases are F32. F32
 * checkpoints load as F32 ({@link #to16} rounds a model). Buffers transformers
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

    /** Loads the model in {@code dir} in eval mode, 16-bit weights kept in 16 bits on the heap. */
    public static CausalDecoder load(Path dir) throws IOException {
        return load(ModelDirectory.of(dir));
    }

    /**
     * Loads the model in {@code dir} in eval mode; {@code keep16} says what happens to BF16 / F16
     * linear weights and embedding tables (GPT-2's Conv1D weights are widened in any case).
     */
    public static CausalDecoder load(Path dir, CheckpointParams.Keep16 keep16) throws IOException {
        return load(ModelDirectory.of(dir), keep16);
    }

    /** Loads the model in {@code dir} in eval mode, 16-bit weights kept in 16 bits on the heap. */
    public static CausalDecoder load(ModelDirectory dir) throws IOException {
        return load(dir, CheckpointParams.Keep16.HEAP);
    }

    /** As {@link #load(Path, CheckpointParams.Keep16)}. */
    public static CausalDecoder load(ModelDirectory dir, CheckpointParams.Keep16 keep16) throws IOException {
        if (keep16 == null) throw new IllegalArgumentException("load: keep16 is null (Keep16.NO widens to F32)");
        Path configFile = dir.requireFile(ModelDirectory.CONFIG);
        DecoderConfig config = config(dir.config(), configFile);
        Path weights = weightsFile(dir);
        SafetensorsCheckpoint ckpt = openWeights(weights);
        try {
            CausalDecoder model = build(config, ckpt, weights, keep16);
            model.eval();
            return model;
        } catch (IOException | RuntimeException | Error e) {
            ckpt.close();
            throw e;
        }
    }

    /** The directory's weights: its one safetensors file, else {@code model.safetensors}, else the shard index. */
    static Path weightsFile(ModelDirectory dir) throws ModelDirectoryException {
        List<Path> files = dir.weightFiles();
        return files.size() == 1 && !dir.has(ModelDirectory.WEIGHTS_INDEX) ? files.get(0)
                : dir.file(ModelDirectory.WEIGHTS).orElse(dir.requireFile(ModelDirectory.WEIGHTS_INDEX));
    }

    /** Opens (memory-maps) {@code weights}; an unreadable or corrupt file is an error naming it. */
    static SafetensorsCheckpoint openWeights(Path weights) throws ModelDirectoryException {
        try {
            return SafetensorsCheckpoint.open(weights);
        } catch (IOException e) {
            throw new ModelDirectoryException(weights, "cannot read the weights: " + e.getMessage(), e);
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

    static CausalDecoder build(DecoderConfig config, SafetensorsCheckpoint ckpt, Path where, CheckpointParams.Keep16 keep16)
            throws ModelDirectoryException {
        List<String> ignored = new ArrayList<>();
        for (String name : ckpt.names()) {
            if (IGNORED.matcher(name).matches() || (config.tieWordEmbeddings() && name.equals("lm_head.weight"))) ignored.add(name);
        }
        CheckpointParams params = new CheckpointParams(ckpt, "").keep16(keep16);
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

    /**
     * Rounds {@code model}'s linear weights and embedding tables that are not 16-bit already to
     * {@code dtype} (BF16 or F16, round to nearest even as torch's {@code .to}) in place and freezes
     * them, as a model loaded from a checkpoint of that dtype keeps them; norms and biases stay F32
     * (GPT-2's Conv1D weights too). Returns the number of tensors converted.
     */
    public static int to16(CausalDecoder model, DType dtype) {
        int n = Params.linearsTo16(model, dtype);
        for (Module m : model.namedModules().values()) {
            if (!(m instanceof Embedding e) || e.weight.dtype().is16Bit()) continue;
            NDArray w16 = e.weight.data().contiguous().to(dtype);                        // [V, C]
            e.weight.requiresGrad(false);
            e.weight.setData(w16);
            n++;
        }
        return n;
    }

    /**
     * Quantizes {@code model}'s linear weights (not already quantized, rows a multiple of the
     * block size) to {@code type} in place and freezes them, as {@code --quantize} does on load:
     * each becomes a QUANTIZED array that the matrix products read in its blocks
     * ({@code Kernels.gemmQ}). Embedding tables, norms and biases stay as they are (a tied output
     * projection reads the embedding table, so it stays float too). Returns the number of weights
     * quantized.
     */
    public static int quantize(CausalDecoder model, dev.attn4j.tensor.QuantType type) {
        if (type == null) throw new IllegalArgumentException("quantize: type is null");
        int n = 0;
        for (Module m : model.namedModules().values()) {
            if (!(m instanceof dev.attn4j.nn.Linear lin) || lin.weight.dtype() == DType.QUANTIZED) continue;
            if (lin.inFeatures % type.blockSize() != 0) continue;
            float[] w = lin.weight.data().to(DType.F32).toFloatArray();                   // [out, in] row-major
            NDArray q = NDArray.of(dev.attn4j.kernels.Quants.quantize(type, w, 0, lin.outFeatures, lin.inFeatures));
            lin.weight.requiresGrad(false);
            lin.weight.setData(q);
            n++;
        }
        return n;
    }

    /**
     * Loads a model directory, Hub id or GGUF file ({@code .gguf}, see
     * {@code models.gguf.GgufDecoders}); with {@code quantize} non-null, the linear weights are
     * quantized on load ({@link #quantize}).
     */
    public static CausalDecoder load(String dirHubIdOrGguf, dev.attn4j.tensor.QuantType quantize) throws IOException {
        Path p = Path.of(dirHubIdOrGguf);
        CausalDecoder m = dev.attn4j.models.gguf.GgufDecoders.isGguf(p) ? dev.attn4j.models.gguf.GgufDecoders.load(p) : load(dirHubIdOrGguf);
        if (quantize != null) quantize(m, quantize);
        return m;
    }

    /**
     * A model of {@code config} with random weights (what {@code bench generate --random-config}
     * runs): linear weights and embedding tables uniform in [-a, a] with a = 0.02 sqrt(3) (standard
     * deviation 0.02, transformers' {@code initializer_range}), norms one, biases zero, in eval
     * mode. With {@code dtype} BF16 or F16 the weights are drawn straight into 16-bit heap arrays
     * (a Llama-3.2-1B shape takes about 2.5 GB, never its 5 GB of F32); with F32 they are F32.
     * Deterministic for a seed.
     */
    public static CausalDecoder random(DecoderConfig config, DType dtype, long seed) {
        if (config == null) throw new IllegalArgumentException("random: config is null");
        if (dtype == null || !(dtype == DType.F32 || dtype.is16Bit())) {
            throw new IllegalArgumentException("random: dtype must be F32, BF16 or F16, got " + dtype);
        }
        CausalDecoder model = create(config, new RandomParams("", new SplittableRandom(seed), dtype));
        model.eval();
        return model;
    }

    /** Uniform weights of standard deviation 0.02, drawn in 16 bits when the dtype is. */
    private static final class RandomParams extends Params {
        private static final double STD = 0.02;
        private final SplittableRandom rng;
        private final DType dtype;

        RandomParams(String prefix, SplittableRandom rng, DType dtype) {
            super(prefix);
            this.rng = rng;
            this.dtype = dtype;
        }

        @Override
        public Params at(String name) {
            return new RandomParams(key(name) + ".", rng, dtype);
        }

        @Override
        public boolean has(String name) {
            return true;
        }

        @Override
        public NDArray get(String name, Init init, boolean mapped, int... shape) {
            Shape s = Shape.of(shape);
            return switch (init) {
                case NORMAL -> {
                    float[] v = new float[Math.toIntExact(s.numel())];
                    double a = STD * Math.sqrt(3);
                    for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * rng.nextDouble() - 1) * a);
                    yield NDArray.of(v, shape);
                }
                case ZEROS -> NDArray.zeros(s);
                case ONES -> NDArray.full(s, 1);
            };
        }

        @Override
        protected NDArray get16(String name, int... shape) {
            if (!dtype.is16Bit()) return null;
            int n = Math.toIntExact(Shape.of(shape).numel());
            short[] bits = new short[n];
            double a = STD * Math.sqrt(3);
            for (int i = 0; i < n; i++) bits[i] = dtype.roundBits((float) ((2 * rng.nextDouble() - 1) * a));
            int[] strides = new int[shape.length];
            for (int i = shape.length - 1, st = 1; i >= 0; st *= shape[i], i--) strides[i] = st;
            return NDArray.of(Storage.Halfs.of(dtype, bits), 0, Shape.of(shape), strides);
        }
    }
}
