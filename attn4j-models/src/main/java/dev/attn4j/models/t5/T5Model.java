package dev.attn4j.models.t5;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.AttentionResult;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.models.seq2seq.EncoderDecoderModel;
import dev.attn4j.models.seq2seq.Seq2SeqAttention;
import dev.attn4j.models.seq2seq.Seq2SeqCache;
import dev.attn4j.nn.Activation;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import dev.attn4j.nn.RMSNorm;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * transformers' {@code T5ForConditionalGeneration} (T5 v1.0, v1.1, Flan-T5, mT5): pre-norm blocks
 * with T5's RMS layer norm (no mean, no bias), attention without biases and without scaling of
 * the scores, relative position buckets (a [buckets, H] table in the first block of each stack,
 * bidirectional in the encoder, causal in the decoder, added to every block's scores), ReLU or
 * gated feed-forward ({@code wi_0}, {@code wi_1}), and an LM head that is the shared table applied
 * to hidden states scaled by d_model^-0.5 when tied, or {@code lm_head} when not.
 *
 * <p>Keys as transformers names them: {@code shared}, {@code encoder.block.N.layer.0.SelfAttention.{q,k,v,o}},
 * {@code .relative_attention_bias} (block 0), {@code .layer.0.layer_norm},
 * {@code .layer.1.DenseReluDense.{wi,wo}} or {@code {wi_0,wi_1,wo}}, {@code .layer.1.layer_norm},
 * {@code encoder.final_layer_norm}; the decoder's blocks have {@code layer.1.EncDecAttention} and the
 * feed-forward at {@code layer.2}; {@code lm_head}.
 */
public final class T5Model extends EncoderDecoderModel {

    /** T5LayerNorm: x / sqrt(mean(x^2) + eps) * weight. */
    private static RMSNorm norm(Params p, String name, T5Config c) {
        RMSNorm n = new RMSNorm(new int[] {c.dModel()}, c.layerNormEpsilon(), true);
        n.weight.data().copyFrom(p.at(name).get("weight", Params.Init.ONES, false, c.dModel()));
        return n;
    }

    /** {@code T5DenseActDense} (wo(act(wi x))) or {@code T5DenseGatedActDense} (wo(act(wi_0 x) * wi_1 x)). */
    public static final class DenseReluDense extends Module {
        /** Null when gated. */
        public final Linear wi;
        /** Null unless gated. */
        public final Linear wi0;
        public final Linear wi1;
        public final Linear wo;
        private final Activation act;

        DenseReluDense(T5Config c, Params p) {
            if (c.gatedAct()) {
                wi = null;
                wi0 = child("wi_0", p.linear("wi_0", c.dModel(), c.dFf(), false));
                wi1 = child("wi_1", p.linear("wi_1", c.dModel(), c.dFf(), false));
            } else {
                wi = child("wi", p.linear("wi", c.dModel(), c.dFf(), false));
                wi0 = wi1 = null;
            }
            wo = child("wo", p.linear("wo", c.dFf(), c.dModel(), false));
            act = Activation.byName(c.denseActFn());
        }

        Tensor forward(Tensor x) {
            Tensor h = wi != null ? act.forward(wi.forward(x))                      // [B, T, F]
                    : act.forward(wi0.forward(x)).mul(wi1.forward(x));
            return wo.forward(h);                                                   // [B, T, C]
        }
    }

    /** {@code T5LayerFF}: x + DenseReluDense(layer_norm(x)). */
    public static final class LayerFF extends Module {
        public final DenseReluDense denseReluDense;
        public final RMSNorm layerNorm;

        LayerFF(T5Config c, Params p) {
            denseReluDense = child("DenseReluDense", new DenseReluDense(c, p.at("DenseReluDense")));
            layerNorm = child("layer_norm", norm(p, "layer_norm", c));
        }

        Tensor forward(Tensor x) {
            return x.add(denseReluDense.forward(layerNorm.forward(x)));
        }
    }

    /** {@code T5LayerSelfAttention} and {@code T5LayerCrossAttention}: x + attention(layer_norm(x)). */
    public static final class LayerAttention extends Module {
        public final Seq2SeqAttention attention;
        public final RMSNorm layerNorm;

        LayerAttention(T5Config c, Params p, String name, boolean ownsBiasTable) {
            attention = child(name, new Seq2SeqAttention(p.at(name), Seq2SeqAttention.Names.T5, c.dModel(), c.numHeads(), c.dKv(), false,
                    1.0, ownsBiasTable ? c.relativeAttentionNumBuckets() : 0));
            layerNorm = child("layer_norm", norm(p, "layer_norm", c));
        }
    }

    /** {@code T5Block}: self-attention, (decoder) cross-attention, feed-forward, as {@code layer.0 ..}. */
    public static final class Block extends Module {
        public final LayerAttention selfAttention;
        /** Decoder blocks only. */
        public final LayerAttention crossAttention;
        public final LayerFF ff;
        public final ModuleList<Module> layer;
        private final int index;

        Block(T5Config c, Params p, boolean decoder, int index) {
            Params l = p.at("layer");
            List<Module> parts = new ArrayList<>();
            selfAttention = new LayerAttention(c, l.at("0"), "SelfAttention", index == 0);
            parts.add(selfAttention);
            crossAttention = decoder ? new LayerAttention(c, l.at("1"), "EncDecAttention", false) : null;
            if (decoder) parts.add(crossAttention);
            ff = new LayerFF(c, l.at(Integer.toString(parts.size())));
            parts.add(ff);
            layer = child("layer", new ModuleList<>(parts));
            this.index = index;
        }

        /** Encoder block: x [B, S, C]. */
        Tensor forward(Tensor x, AttentionMask bias, AttentionMask keyPadding, List<Tensor> attentions) {
            AttentionResult a = selfAttention.attention.forward(selfAttention.layerNorm.forward(x), bias, keyPadding, attentions != null);
            if (attentions != null) attentions.add(a.weights());
            return ff.forward(x.add(a.output()));
        }

        /** Decoder block: x [R, T, C] at the cache's next positions. */
        Tensor forward(Tensor x, AttentionMask bias, Seq2SeqCache cache, List<Tensor> selfAtt, List<Tensor> crossAtt) {
            AttentionResult a = selfAttention.attention.forwardCached(selfAttention.layerNorm.forward(x), cache.selfCache(), index, bias,
                    selfAtt != null);
            x = x.add(a.output());
            AttentionResult c = crossAttention.attention.forwardCross(crossAttention.layerNorm.forward(x), cache, index, crossAtt != null);
            x = x.add(c.output());
            if (selfAtt != null) selfAtt.add(a.weights());
            if (crossAtt != null) crossAtt.add(c.weights());
            return ff.forward(x);
        }
    }

    /** {@code T5Stack}: the blocks and the final norm of the encoder or the decoder. */
    public static final class Stack extends Module {
        public final ModuleList<Block> block;
        public final RMSNorm finalLayerNorm;
        private final boolean decoder;
        private final T5Config config;

        Stack(T5Config c, Params p, boolean decoder) {
            this.config = c;
            this.decoder = decoder;
            List<Block> bs = new ArrayList<>();
            int n = decoder ? c.numDecoderLayers() : c.numLayers();
            for (int i = 0; i < n; i++) bs.add(new Block(c, p.at("block").at(Integer.toString(i)), decoder, i));
            block = child("block", new ModuleList<>(bs));
            finalLayerNorm = child("final_layer_norm", norm(p, "final_layer_norm", c));
        }

        /**
         * The position bias [1, H, Q, K] of queries at {@code from .. from + q - 1} over keys
         * 0 .. k - 1 from block 0's table; in the decoder the keys after a query are -inf (causal).
         */
        NDArray positionBias(int from, int q, int k) {
            NDArray table = block.get(0).selfAttention.attention.relativeAttentionBias.weight.data();   // [buckets, H]
            int h = table.dim(1);
            float[] out = new float[h * q * k];
            for (int i = 0; i < q; i++) {
                int ctx = from + i;
                for (int j = 0; j < k; j++) {
                    if (decoder && j > ctx) {
                        for (int hh = 0; hh < h; hh++) out[(hh * q + i) * k + j] = Float.NEGATIVE_INFINITY;
                        continue;
                    }
                    int bucket = relativePositionBucket(j - ctx, !decoder, config.relativeAttentionNumBuckets(),
                            config.relativeAttentionMaxDistance());
                    for (int hh = 0; hh < h; hh++) out[(hh * q + i) * k + j] = table.getFloat(bucket, hh);
                }
            }
            return NDArray.of(out, 1, h, q, k);
        }
    }

    /**
     * {@code T5Attention._relative_position_bucket} for one relative position (key - query): half
     * of the buckets exact, the other half logarithmic up to {@code maxDistance}; bidirectional
     * splits them between the two directions. The logarithm is taken in float32, as transformers.
     */
    public static int relativePositionBucket(int relativePosition, boolean bidirectional, int numBuckets, int maxDistance) {
        int buckets = 0, n = numBuckets, rp = relativePosition;
        if (bidirectional) {
            n /= 2;
            if (rp > 0) buckets += n;
            rp = Math.abs(rp);
        } else {
            rp = -Math.min(rp, 0);
        }
        int maxExact = n / 2;
        if (rp < maxExact) return buckets + rp;
        float v = (float) Math.log((float) rp / maxExact);
        v = v / (float) Math.log((double) maxDistance / maxExact);
        v = v * (n - maxExact);
        return buckets + (int) Math.min((long) v + maxExact, n - 1);
    }

    public final T5Config config;
    public final Embedding shared;
    public final Stack encoder;
    public final Stack decoder;
    /** Null when tied to {@code shared}. */
    public final Linear lmHead;

    /**
     * Builds the model from {@code params} (the checkpoint root).
     *
     * @param sharedTable dotted key (without {@code .weight}) of the token table: {@code shared}, or a stack's
     *                    {@code embed_tokens} when the checkpoint keeps only that copy
     */
    public T5Model(T5Config config, Params params, String sharedTable) {
        this.config = config;
        int dot = sharedTable.lastIndexOf('.');
        Params parent = dot < 0 ? params : params.atPath(sharedTable.substring(0, dot));
        this.shared = child("shared", parent.embedding16(sharedTable.substring(dot + 1), config.vocabSize(), config.dModel(), null));
        this.encoder = child("encoder", new Stack(config, params.at("encoder"), false));
        this.decoder = child("decoder", new Stack(config, params.at("decoder"), true));
        this.lmHead = config.tieWordEmbeddings() ? null
                : child("lm_head", params.linear("lm_head", config.dModel(), config.vocabSize(), false));
    }

    @Override
    public String modelType() {
        return config.modelType();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int sourceVocabSize() {
        return config.vocabSize();
    }

    @Override
    public int padTokenId() {
        return config.padTokenId();
    }

    @Override
    public int maxSourcePositions() {
        return Integer.MAX_VALUE;
    }

    @Override
    public int maxTargetPositions() {
        return Integer.MAX_VALUE;
    }

    @Override
    public int decoderLayers() {
        return config.numDecoderLayers();
    }

    @Override
    public int decoderHeads() {
        return config.numHeads();
    }

    @Override
    public int decoderHeadDim() {
        return config.dKv();
    }

    @Override
    protected Tensor encoderForward(NDArray ids, NDArray padding, List<Tensor> attentions) {
        int s = ids.dim(1);
        Tensor x = shared.forward(ids);                                                    // [B, S, C]
        AttentionMask bias = AttentionMask.additive(encoder.positionBias(0, s, s));        // [1, H, S, S]
        AttentionMask keyPadding = padding == null ? AttentionMask.none() : AttentionMask.blocked(padding);
        for (Block b : encoder.block) x = b.forward(x, bias, keyPadding, attentions);
        return encoder.finalLayerNorm.forward(x);
    }

    @Override
    protected Tensor decoderForward(NDArray tokens, Seq2SeqCache cache, List<Tensor> selfAttentions, List<Tensor> crossAttentions) {
        int t = tokens.dim(1), past = cache.length();
        Tensor x = shared.forward(tokens);                                                 // [R, T, C]
        AttentionMask bias = AttentionMask.additive(decoder.positionBias(past, t, past + t));   // [1, H, T, past + T], causal
        for (Block b : decoder.block) x = b.forward(x, bias, cache, selfAttentions, crossAttentions);
        return decoder.finalLayerNorm.forward(x);
    }

    @Override
    protected Tensor lmHead(Tensor hidden) {
        if (lmHead != null) return lmHead.forward(hidden);                                 // [..., V]
        Tensor scaled = hidden.mul((double) (float) Math.pow(config.dModel(), -0.5));      // Mesh TensorFlow's rescale
        return F.linear(scaled, shared.weight, null);                                      // [..., V]
    }
}
