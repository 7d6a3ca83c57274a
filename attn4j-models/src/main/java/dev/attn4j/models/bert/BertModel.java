package dev.attn4j.models.bert;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.AttentionResult;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * BERT, RoBERTa, XLM-RoBERTa and CamemBERT encoders with transformers' key names
 * ({@code embeddings.*}, {@code encoder.layer.N.*}, {@code pooler.dense}): what
 * {@code BertModel.from_pretrained} / {@code RobertaModel.from_pretrained} build. RoBERTa-style
 * types differ only in their position ids (see {@link BertEmbeddings#positionIds}).
 */
public final class BertModel extends EncoderModel {
    /** {@code encoder}: the list of layers under {@code layer}. */
    public static final class Encoder extends Module {
        public final ModuleList<BertLayer> layer;

        Encoder(BertConfig config, Params p, SplittableRandom rng) {
            List<BertLayer> layers = new ArrayList<>();
            for (int i = 0; i < config.numHiddenLayers(); i++) {
                layers.add(new BertLayer(config, p.at("layer").at(Integer.toString(i)), rng));
            }
            this.layer = child("layer", new ModuleList<>(layers));
        }
    }

    /** {@code pooler}: tanh(dense(hidden state of the first token)). */
    public static final class Pooler extends Module {
        public final Linear dense;

        Pooler(BertConfig config, Params p) {
            this.dense = child("dense", p.linear("dense", config.hiddenSize(), config.hiddenSize()));
        }

        /** [B, T, C] -> [B, C]. */
        public Tensor forward(Tensor hidden) {
            return dense.forward(hidden.select(1, 0)).tanh();                      // [B, C]
        }
    }

    public final BertEmbeddings embeddings;
    public final Encoder encoder;
    /** Null when the model has no pooler. */
    public final Pooler pooler;

    /**
     * Builds the model from {@code params} (a checkpoint or {@link Params#random}); {@code rng}
     * drives dropout in training mode.
     */
    public BertModel(BertConfig config, Params params, boolean withPooler, SplittableRandom rng) {
        super(config);
        if (config.family() == BertConfig.Family.DISTILBERT) {
            throw new IllegalArgumentException("BertModel cannot hold model_type '" + config.modelType() + "'; use DistilBertModel");
        }
        this.embeddings = child("embeddings", new BertEmbeddings(config, params.at("embeddings"), rng));
        this.encoder = child("encoder", new Encoder(config, params.at("encoder"), rng));
        this.pooler = withPooler ? child("pooler", new Pooler(config, params.at("pooler"))) : null;
    }

    /** A randomly initialised model (weights N(0, initializer_range)) with a pooler. */
    public static BertModel random(BertConfig config, SplittableRandom rng) {
        return new BertModel(config, Params.random(rng, config.initializerRange()), true, rng);
    }

    /** Loads a model directory (see {@link BertModels#load}); it must hold a BERT / RoBERTa-type model. */
    public static BertModel fromPretrained(Path dir) throws IOException {
        EncoderModel m = BertModels.load(dir);
        if (m instanceof BertModel b) return b;
        m.close();
        throw new IllegalArgumentException(dir + ": model_type '" + m.config().modelType() + "' is not a BertModel; use BertModels.load");
    }

    @Override
    public boolean hasPooler() {
        return pooler != null;
    }

    /** Workspaces left by finished inference calls (see {@link BertInference}), a few kept for concurrent callers. */
    private final java.util.concurrent.ConcurrentLinkedDeque<BertInference.Workspace> idleWorkspaces =
            new java.util.concurrent.ConcurrentLinkedDeque<>();
    private static final int IDLE_WORKSPACES = 4;

    @Override
    public EncoderOutput forward(EncoderInput in, boolean outputHiddenStates, boolean outputAttentions) {
        AttentionMask keyPadding = keyPaddingMask(in);                             // [B, S] additive
        Tensor x = embeddings.forward(in);                                         // [B, T, C]
        if (!outputAttentions && BertInference.applies(this)) return forwardInference(x, keyPadding, outputHiddenStates);
        List<Tensor> hidden = outputHiddenStates ? new ArrayList<>() : null;
        List<Tensor> weights = outputAttentions ? new ArrayList<>() : null;
        for (BertLayer layer : encoder.layer) {
            if (hidden != null) hidden.add(x);
            AttentionResult r = layer.forward(x, keyPadding, outputAttentions);    // [B, T, C], [B, H, T, T]
            x = r.output();
            if (weights != null) weights.add(r.weights());
        }
        if (hidden != null) hidden.add(x);
        Tensor pooled = pooler == null ? null : pooler.forward(x);                 // [B, C]
        return new EncoderOutput(x, pooled, hidden, weights);
    }

    /** The encoder on reused buffers (no autograd, eval mode): {@link BertInference}. */
    private EncoderOutput forwardInference(Tensor embedded, AttentionMask keyPadding, boolean outputHiddenStates) {
        int b = embedded.dim(0), t = embedded.dim(1), c = embedded.dim(2);
        return withWorkspace(ws -> {
            ws.ensure(b * t, c, config().intermediateSize());
            NDArray e = embedded.data().contiguous();                              // [B, T, C]
            System.arraycopy(e.floatArray(), e.offset(), ws.x, 0, b * t * c);
            List<Tensor> hidden = outputHiddenStates ? new ArrayList<>() : null;
            if (hidden != null) hidden.add(embedded);
            BertInference.encode(config(), encoder.layer, b, t, keyPadding, ws, hidden);
            Tensor x = Tensor.of(NDArray.of(Arrays.copyOf(ws.x, b * t * c), b, t, c));  // [B, T, C]
            Tensor pooled = pooler == null ? null : pooler.forward(x);             // [B, C]
            return new EncoderOutput(x, pooled, hidden, null);
        });
    }

    /**
     * {@inheritDoc} In eval mode with no gradients recorded, the real tokens' embeddings go
     * through the layers packed ({@link BertInference#encodePacked}): the padding rows are never
     * computed, and each input attends to its own tokens (which is what the mask does).
     */
    @Override
    public PackedHiddenStates forwardPacked(EncoderInput in) {
        if (!BertInference.applies(this)) return super.forwardPacked(in);
        NDArray e = embeddings.forward(in).data().contiguous();                    // [B, T, C]
        int b = in.batchSize(), c = hiddenSize();
        int[] offsets = realRowOffsets(in);
        int n = offsets[b];
        if (n == 0) return new PackedHiddenStates(new float[0], offsets, c);
        return withWorkspace(ws -> {
            ws.ensure(n, c, config().intermediateSize());
            copyRealRows(in, e.floatArray(), e.offset(), c, ws.x);                 // the real rows, [N, C]
            BertInference.encodePacked(config(), encoder.layer, offsets, ws);
            return new PackedHiddenStates(Arrays.copyOf(ws.x, n * c), offsets, c);
        });
    }

    /** The frozen state's packed weights ({@link #freeze}), filled at first use; null when not frozen. */
    private volatile java.util.Map<BertInference.WeightKey, dev.attn4j.kernels.PackedB> packedWeights;

    /**
     * {@inheritDoc} Here: the inference path ({@link BertInference}) packs each F32 linear weight
     * for the GEMM the first time it uses it and reuses that copy (bit for bit the same products;
     * the packed copies take about as much memory as the weights).
     */
    @Override
    public BertModel freeze() {
        if (packedWeights == null) packedWeights = new java.util.concurrent.ConcurrentHashMap<>();
        return this;
    }

    @Override
    public void unfreeze() {
        packedWeights = null;
    }

    /** Whether {@link #freeze} is in effect. */
    public boolean isFrozen() {
        return packedWeights != null;
    }

    /** Training mode unfreezes: the weights are about to change. */
    @Override
    public dev.attn4j.nn.Module train(boolean mode) {
        if (mode) unfreeze();
        return super.train(mode);
    }

    /** Runs body on an idle workspace (a fresh one when other calls hold them all), then leaves it idle. */
    private <R> R withWorkspace(java.util.function.Function<BertInference.Workspace, R> body) {
        BertInference.Workspace ws = idleWorkspaces.pollFirst();                   // concurrent callers each get their own
        if (ws == null) ws = new BertInference.Workspace();
        ws.packs = packedWeights;
        try {
            return body.apply(ws);
        } finally {
            if (idleWorkspaces.size() < IDLE_WORKSPACES) idleWorkspaces.addFirst(ws);
        }
    }
}
