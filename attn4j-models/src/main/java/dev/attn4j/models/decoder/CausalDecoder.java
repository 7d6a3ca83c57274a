package dev.attn4j.models.decoder;

import dev.attn4j.attention.AttentionResult;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.generate.CausalLM;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * A decoder-only causal language model (transformers' {@code *ForCausalLM}): embeddings, a stack
 * of {@link Block}s, a final norm and the LM head. The forward is the autograd one (trainable);
 * under {@link GradMode#noGrad()} with a {@link DecoderCache} it is the incremental inference
 * path: the prompt runs through the fused causal attention in one call (prefill), each later call
 * feeds new tokens whose queries attend to the cached keys.
 *
 * <p>Families ({@link DecoderModel} for Llama, Mistral, Qwen2/3, Phi-3, Gemma, OLMo;
 * {@code models.gpt2.Gpt2Model}) supply the embeddings, the layers, the final norm and the head.
 */
public abstract class CausalDecoder extends Module implements CausalLM {
    /** One decoder layer as the shared forward loop sees it. */
    public interface Block {
        /** x [B, T, C] -> [B, T, C] and, when asked for, the attention weights [B, H, T, S]. */
        AttentionResult forward(Tensor x, DecoderStep step, boolean needWeights);
    }

    protected final DecoderConfig config;
    private final List<AutoCloseable> resources = new ArrayList<>();

    protected CausalDecoder(DecoderConfig config) {
        this.config = config;
    }

    public DecoderConfig config() {
        return config;
    }

    /** Input embeddings [B, T, C] for {@code ids} [B, T] at {@code positionIds} [B, T]. */
    protected abstract Tensor embed(NDArray ids, int[][] positionIds);

    protected abstract List<? extends Block> blocks();

    protected abstract Tensor finalNorm(Tensor x);

    /** Logits [..., V] of hidden states [..., C]. */
    protected abstract Tensor lmHead(Tensor x);

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /**
     * The positions a sequence can address: the learned position table's size (GPT-2); unbounded
     * for rotary models, which transformers runs past {@code max_position_embeddings} (dynamic and
     * long-context rope scalings are made for it). The trained context is
     * {@code config().maxPositionEmbeddings()}.
     */
    @Override
    public int maxPositions() {
        return config.rope() == null ? config.maxPositionEmbeddings() : Integer.MAX_VALUE;
    }

    @Override
    public DecoderCache newCache(int batch, int capacity) {
        return new DecoderCache(config.slidingWindows(), batch, config.numKeyValueHeads(), capacity, config.headDim());
    }

    /** Forward without cache over {@code tokens} [B][T] with {@code attentionMask} [B][T] (null: no padding). */
    public DecoderOutput forward(int[][] tokens, int[][] attentionMask, boolean outputHiddenStates, boolean outputAttentions) {
        return forward(null, tokens, attentionMask, true, outputHiddenStates, outputAttentions);
    }

    /**
     * The full forward. {@code cache} may be null (nothing cached, nothing kept); otherwise the new
     * tokens' keys and values are appended to it. {@code attentionMask} [B][past + T] (1 real, 0
     * padding) or null. Position ids are cumsum(mask) - 1 (1 where the mask is 0), as transformers'
     * generate computes them. With {@code allPositions} false the logits cover the last position only.
     */
    public DecoderOutput forward(DecoderCache cache, int[][] tokens, int[][] attentionMask, boolean allPositions,
                                 boolean outputHiddenStates, boolean outputAttentions) {
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("forward: empty batch");
        int b = tokens.length, t = tokens[0].length, past = cache == null ? 0 : cache.length(), s = past + t;
        if (t == 0) throw new IllegalArgumentException("forward: no tokens to feed");
        float[] ids = new float[b * t];
        for (int i = 0; i < b; i++) {
            if (tokens[i].length != t) {
                throw new IllegalArgumentException("forward: row " + i + " has " + tokens[i].length + " tokens, row 0 has " + t
                        + " (pad rows to one length)");
            }
            for (int j = 0; j < t; j++) {
                int id = tokens[i][j];
                if (id < 0 || id >= config.vocabSize()) {
                    throw new IllegalArgumentException("forward: token id " + id + " at [" + i + "][" + j + "] is outside the vocabulary [0, "
                            + config.vocabSize() + ")");
                }
                ids[i * t + j] = id;
            }
        }
        if (cache != null) {
            if (cache.batchSize() != b) throw new IllegalArgumentException("forward: cache holds " + cache.batchSize() + " rows, batch has " + b);
            if (s > cache.capacity()) {
                throw new IllegalArgumentException("forward: " + s + " positions exceed the cache's capacity " + cache.capacity());
            }
        }
        if (attentionMask != null) {
            if (attentionMask.length != b) throw new IllegalArgumentException("forward: attention mask has " + attentionMask.length + " rows, batch " + b);
            for (int i = 0; i < b; i++) {
                if (attentionMask[i].length != s) {
                    throw new IllegalArgumentException("forward: attention mask row " + i + " has " + attentionMask[i].length
                            + " entries; it must cover past + new positions (" + past + " + " + t + ")");
                }
            }
        }
        RopeConfig rope = config.rope();
        if (cache != null && past > 0 && rope != null && rope.type().equals("longrope") && past <= rope.originalMaxPositionEmbeddings()
                && s > rope.originalMaxPositionEmbeddings()) {
            return recompute(cache, tokens, attentionMask, allPositions, outputHiddenStates, outputAttentions);
        }
        if (cache != null) for (int i = 0; i < b; i++) System.arraycopy(tokens[i], 0, cache.tokens[i], past, t);
        int[][] positions = positionIds(attentionMask, b, past, t);
        if (config.rope() == null) {
            for (int[] row : positions) {
                for (int p : row) {
                    if (p >= config.maxPositionEmbeddings()) {
                        throw new IllegalArgumentException("forward: position " + p + " exceeds the model's " + config.maxPositionEmbeddings()
                                + " learned positions");
                    }
                }
            }
        }
        DecoderStep step = new DecoderStep(config, b, t, past, attentionMask, positions, cache);
        Tensor x = embed(NDArray.of(ids, b, t), positions);                         // [B, T, C]
        List<Tensor> hidden = outputHiddenStates ? new ArrayList<>() : null;
        List<Tensor> attentions = outputAttentions ? new ArrayList<>() : null;
        List<? extends Block> blocks = blocks();
        for (Block block : blocks) {
            if (hidden != null) hidden.add(x);
            AttentionResult r = block.forward(x, step, outputAttentions);
            x = r.output();                                                         // [B, T, C]
            if (attentions != null) attentions.add(r.weights());                    // [B, H, T, S]
        }
        x = finalNorm(x);
        if (hidden != null) hidden.add(x);
        if (cache != null) cache.advance(t);
        Tensor last = allPositions ? x : x.narrow(1, t - 1, 1);                     // [B, T or 1, C]
        return new DecoderOutput(lmHead(last), x, hidden, attentions);
    }

    /**
     * A longrope model whose sequence grows past original_max_position_embeddings switches from
     * the short to the long factors; the cached keys were rotated with the short ones, so the whole
     * sequence is run again with the long ones and the cache rebuilt, as transformers' Phi-3
     * {@code prepare_inputs_for_generation} does. Outputs cover the new positions only.
     */
    private DecoderOutput recompute(DecoderCache cache, int[][] tokens, int[][] attentionMask, boolean allPositions,
                                    boolean outputHiddenStates, boolean outputAttentions) {
        int b = tokens.length, t = tokens[0].length, past = cache.length(), s = past + t;
        int[][] all = new int[b][s];
        for (int i = 0; i < b; i++) {
            System.arraycopy(cache.tokens[i], 0, all[i], 0, past);
            System.arraycopy(tokens[i], 0, all[i], past, t);
        }
        cache.reset();
        DecoderOutput full = forward(cache, all, attentionMask, allPositions, outputHiddenStates, outputAttentions);
        Tensor logits = allPositions ? full.logits().narrow(1, past, t) : full.logits();
        List<Tensor> hidden = full.hiddenStates() == null ? null : full.hiddenStates().stream().map(h -> h.narrow(1, past, t)).toList();
        List<Tensor> att = full.attentions() == null ? null : full.attentions().stream().map(a -> a.narrow(2, past, t)).toList();
        return new DecoderOutput(logits, full.lastHiddenState().narrow(1, past, t), hidden, att);
    }

    /** cumsum(mask) - 1 over each row, 1 at padding; the last {@code t} positions. */
    static int[][] positionIds(int[][] mask, int b, int past, int t) {
        int[][] out = new int[b][t];
        for (int i = 0; i < b; i++) {
            int count = 0;
            for (int j = 0; j < past + t; j++) {
                int m = mask == null ? 1 : mask[i][j];
                count += m != 0 ? 1 : 0;
                if (j >= past) out[i][j - past] = m != 0 ? count - 1 : 1;
            }
        }
        return out;
    }

    @Override
    public float[][][] forward(KvCache cache, int[][] tokens, int[][] attentionMask, boolean allPositions) {
        if (!(cache instanceof DecoderCache dc)) {
            throw new IllegalArgumentException("forward: cache must come from this model's newCache, got "
                    + (cache == null ? "null" : cache.getClass().getName()));
        }
        Tensor logits;
        try (var g = GradMode.noGrad()) {
            logits = forward(dc, tokens, attentionMask, allPositions, false, false).logits();   // [B, T', V]
        }
        return rows(logits);
    }

    /** Logits [B, T, V] as float rows [B][T][V], what {@link CausalLM#forward} returns. */
    public static float[][][] rows(Tensor logits) {
        int b = logits.dim(0), t = logits.dim(1), v = logits.dim(2);
        float[] flat = logits.data().contiguous().toFloatArray();
        float[][][] out = new float[b][t][v];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) System.arraycopy(flat, (i * t + j) * v, out[i][j], 0, v);
        return out;
    }

    /** Keeps the checkpoint open as long as the model (its mapped weights); closed by {@link #close}. */
    public void attachCheckpoint(SafetensorsCheckpoint ckpt) {
        attachResource(ckpt);
    }

    /** Keeps {@code r} (a mapped weight file) open as long as the model; closed by {@link #close}. */
    public void attachResource(AutoCloseable r) {
        resources.add(r);
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + r + ": " + e.getMessage(), e);
            }
        }
        resources.clear();
    }
}
