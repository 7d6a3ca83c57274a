package dev.attn4j.models.bart;

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
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * The BART-style encoder-decoder with an LM head: transformers' {@code BartForConditionalGeneration},
 * {@code MBartForConditionalGeneration} and {@code MarianMTModel}, which differ only in the
 * {@link BartConfig} switches (positions, pre- or post-norm layers, embedding and final layer norms).
 * Children and keys as transformers names them: {@code model.shared} (or the two stacks' own
 * {@code embed_tokens}), {@code model.encoder.embed_positions}, {@code .layernorm_embedding},
 * {@code .layers.N} ({@link EncoderLayer}: {@code self_attn}, {@code self_attn_layer_norm},
 * {@code fc1}, {@code fc2}, {@code final_layer_norm}), {@code .layer_norm}; the same for
 * {@code model.decoder} ({@link DecoderLayer} adds {@code encoder_attn}, {@code encoder_attn_layer_norm});
 * {@code lm_head} (absent when tied to the decoder's table) and the buffer {@code final_logits_bias}
 * [1, V] added to the logits.
 */
public final class BartModel extends EncoderDecoderModel {

    /** The feed-forward block fc2(act(fc1 x)) shared by both layer kinds. */
    private static Tensor feedForward(Linear fc1, Activation act, Linear fc2, Tensor x) {
        return fc2.forward(act.forward(fc1.forward(x)));                           // [B, T, C]
    }

    /** One encoder layer ({@code BartEncoderLayer}; pre-norm as {@code MBartEncoderLayer} when normalize_before). */
    public static final class EncoderLayer extends Module {
        public final Seq2SeqAttention selfAttn;
        public final LayerNorm selfAttnLayerNorm;
        public final Linear fc1;
        public final Linear fc2;
        public final LayerNorm finalLayerNorm;
        private final Activation act;
        private final boolean preNorm;

        EncoderLayer(BartConfig c, Params p) {
            int d = c.dModel(), h = c.encoderAttentionHeads();
            selfAttn = child("self_attn", new Seq2SeqAttention(p.at("self_attn"), Seq2SeqAttention.Names.BART, d, h, d / h, true,
                    Math.pow(d / h, -0.5), 0));
            selfAttnLayerNorm = child("self_attn_layer_norm", p.layerNorm("self_attn_layer_norm", d, c.layerNormEps()));
            fc1 = child("fc1", p.linear("fc1", d, c.encoderFfnDim()));
            fc2 = child("fc2", p.linear("fc2", c.encoderFfnDim(), d));
            finalLayerNorm = child("final_layer_norm", p.layerNorm("final_layer_norm", d, c.layerNormEps()));
            act = Activation.byName(c.activationFunction());
            preNorm = c.normalizeBefore();
        }

        /** x [B, S, C] -> [B, S, C]; the attention weights [B, H, S, S] go to {@code attentions} when not null. */
        Tensor forward(Tensor x, AttentionMask keyPadding, List<Tensor> attentions) {
            boolean need = attentions != null;
            if (preNorm) {
                AttentionResult a = selfAttn.forward(selfAttnLayerNorm.forward(x), AttentionMask.none(), keyPadding, need);
                if (need) attentions.add(a.weights());
                x = x.add(a.output());
                return x.add(feedForward(fc1, act, fc2, finalLayerNorm.forward(x)));
            }
            AttentionResult a = selfAttn.forward(x, AttentionMask.none(), keyPadding, need);
            if (need) attentions.add(a.weights());
            x = selfAttnLayerNorm.forward(x.add(a.output()));
            return finalLayerNorm.forward(x.add(feedForward(fc1, act, fc2, x)));
        }
    }

    /** One decoder layer ({@code BartDecoderLayer}; pre-norm as {@code MBartDecoderLayer} when normalize_before). */
    public static final class DecoderLayer extends Module {
        public final Seq2SeqAttention selfAttn;
        public final LayerNorm selfAttnLayerNorm;
        public final Seq2SeqAttention encoderAttn;
        public final LayerNorm encoderAttnLayerNorm;
        public final Linear fc1;
        public final Linear fc2;
        public final LayerNorm finalLayerNorm;
        private final Activation act;
        private final boolean preNorm;
        private final int index;

        DecoderLayer(BartConfig c, Params p, int index) {
            int d = c.dModel(), h = c.decoderAttentionHeads();
            double scale = Math.pow(d / h, -0.5);
            selfAttn = child("self_attn", new Seq2SeqAttention(p.at("self_attn"), Seq2SeqAttention.Names.BART, d, h, d / h, true, scale, 0));
            selfAttnLayerNorm = child("self_attn_layer_norm", p.layerNorm("self_attn_layer_norm", d, c.layerNormEps()));
            encoderAttn = child("encoder_attn", new Seq2SeqAttention(p.at("encoder_attn"), Seq2SeqAttention.Names.BART, d, h, d / h, true,
                    scale, 0));
            encoderAttnLayerNorm = child("encoder_attn_layer_norm", p.layerNorm("encoder_attn_layer_norm", d, c.layerNormEps()));
            fc1 = child("fc1", p.linear("fc1", d, c.decoderFfnDim()));
            fc2 = child("fc2", p.linear("fc2", c.decoderFfnDim(), d));
            finalLayerNorm = child("final_layer_norm", p.layerNorm("final_layer_norm", d, c.layerNormEps()));
            act = Activation.byName(c.activationFunction());
            preNorm = c.normalizeBefore();
            this.index = index;
        }

        /** x [R, T, C] -> [R, T, C] at the cache's next positions. */
        Tensor forward(Tensor x, Seq2SeqCache cache, List<Tensor> selfAtt, List<Tensor> crossAtt) {
            AttentionResult a, c;
            if (preNorm) {
                a = selfAttn.forwardCached(selfAttnLayerNorm.forward(x), cache.selfCache(), index, null, selfAtt != null);
                x = x.add(a.output());
                c = encoderAttn.forwardCross(encoderAttnLayerNorm.forward(x), cache, index, crossAtt != null);
                x = x.add(c.output());
                x = x.add(feedForward(fc1, act, fc2, finalLayerNorm.forward(x)));
            } else {
                a = selfAttn.forwardCached(x, cache.selfCache(), index, null, selfAtt != null);
                x = selfAttnLayerNorm.forward(x.add(a.output()));
                c = encoderAttn.forwardCross(x, cache, index, crossAtt != null);
                x = encoderAttnLayerNorm.forward(x.add(c.output()));
                x = finalLayerNorm.forward(x.add(feedForward(fc1, act, fc2, x)));
            }
            if (selfAtt != null) selfAtt.add(a.weights());
            if (crossAtt != null) crossAtt.add(c.weights());
            return x;
        }
    }

    /**
     * What both stacks have: the token table ({@code embed_tokens}, not a child when shared: it is
     * registered as {@code model.shared}), the positions (learned {@code embed_positions} [max + 2, C]
     * or Marian's sinusoids), {@code layernorm_embedding} and the final {@code layer_norm} when the
     * config has them.
     */
    public abstract static class Stack extends Module {
        public final Embedding embedTokens;
        /** Learned positions [max + 2, C], or null for sinusoidal ones. */
        public final Embedding embedPositions;
        public LayerNorm layernormEmbedding;
        public LayerNorm layerNorm;
        private final NDArray sinusoidal;
        final BartConfig config;

        Stack(BartConfig c, Params p, Embedding tokens, boolean ownTokens, NDArray sinusoidal) {
            this.config = c;
            this.embedTokens = ownTokens ? child("embed_tokens", tokens) : tokens;
            this.embedPositions = sinusoidal == null
                    ? child("embed_positions", p.embedding("embed_positions", c.maxPositionEmbeddings() + 2, c.dModel(), null)) : null;
            this.sinusoidal = sinusoidal;
        }

        /** Registers the norms the config asks for (after the layers, transformers' order). */
        void norms(Params p) {
            if (config.layernormEmbedding()) {
                layernormEmbedding = child("layernorm_embedding", p.layerNorm("layernorm_embedding", config.dModel(), config.layerNormEps()));
            }
            if (config.finalLayerNorm()) layerNorm = child("layer_norm", p.layerNorm("layer_norm", config.dModel(), config.layerNormEps()));
        }

        /** Token embeddings (times sqrt(d_model) with scale_embedding) plus positions {@code past ..}, then layernorm_embedding. */
        Tensor embed(NDArray ids, int past) {
            int t = ids.dim(1);
            Tensor x = embedTokens.forward(ids);                                   // [B, T, C]
            if (config.scaleEmbedding()) x = x.mul((double) (float) config.embedScale());
            Tensor pos = embedPositions != null ? embedPositions.weight.narrow(0, past + 2, t)   // [T, C], offset 2
                    : Tensor.of(sinusoidal.narrow(0, past, t));
            x = x.add(pos);
            return layernormEmbedding == null ? x : layernormEmbedding.forward(x);
        }

        Tensor finalNorm(Tensor x) {
            return layerNorm == null ? x : layerNorm.forward(x);
        }
    }

    /** The encoder ({@code model.encoder}). */
    public static final class Encoder extends Stack {
        public final ModuleList<EncoderLayer> layers;

        Encoder(BartConfig c, Params p, Embedding tokens, boolean ownTokens, NDArray sinusoidal) {
            super(c, p, tokens, ownTokens, sinusoidal);
            List<EncoderLayer> ls = new ArrayList<>();
            for (int i = 0; i < c.encoderLayers(); i++) ls.add(new EncoderLayer(c, p.at("layers").at(Integer.toString(i))));
            this.layers = child("layers", new ModuleList<>(ls));
            norms(p);
        }

        Tensor forward(NDArray ids, NDArray padding, List<Tensor> attentions) {
            Tensor x = embed(ids, 0);                                             // [B, S, C]
            AttentionMask keyPadding = padding == null ? AttentionMask.none() : AttentionMask.blocked(padding);
            for (EncoderLayer layer : layers) x = layer.forward(x, keyPadding, attentions);
            return finalNorm(x);
        }
    }

    /** The decoder ({@code model.decoder}). */
    public static final class Decoder extends Stack {
        public final ModuleList<DecoderLayer> layers;

        Decoder(BartConfig c, Params p, Embedding tokens, boolean ownTokens, NDArray sinusoidal) {
            super(c, p, tokens, ownTokens, sinusoidal);
            List<DecoderLayer> ls = new ArrayList<>();
            for (int i = 0; i < c.decoderLayers(); i++) ls.add(new DecoderLayer(c, p.at("layers").at(Integer.toString(i)), i));
            this.layers = child("layers", new ModuleList<>(ls));
            norms(p);
        }

        Tensor forward(NDArray tokens, Seq2SeqCache cache, List<Tensor> selfAtt, List<Tensor> crossAtt) {
            Tensor x = embed(tokens, cache.length());                             // [R, T, C]
            for (DecoderLayer layer : layers) x = layer.forward(x, cache, selfAtt, crossAtt);
            return finalNorm(x);
        }
    }

    /** The base model ({@code model.}): the shared table, the encoder and the decoder. */
    public static final class Base extends Module {
        /** Null when the stacks have their own tables (Marian's share_encoder_decoder_embeddings false). */
        public final Embedding shared;
        public final Encoder encoder;
        public final Decoder decoder;

        Base(BartConfig c, Params p, Embedding encoderTokens, Embedding decoderTokens, NDArray sinusoidal) {
            boolean one = encoderTokens == decoderTokens;
            this.shared = one ? child("shared", encoderTokens) : null;
            this.encoder = child("encoder", new Encoder(c, p.at("encoder"), encoderTokens, !one, sinusoidal));
            this.decoder = child("decoder", new Decoder(c, p.at("decoder"), decoderTokens, !one, sinusoidal));
        }
    }

    public final BartConfig config;
    public final Base model;
    /** Null when tied to the decoder's token table. */
    public final Linear lmHead;
    /** [1, V]: added to the logits (zeros when the checkpoint has none, as transformers initialises it). */
    public final NDArray finalLogitsBias;

    /**
     * Builds the model from {@code params} (the checkpoint root).
     *
     * @param base          where the base model's keys are ({@code "model"}, or {@code ""} for a bare {@code BartModel} checkpoint)
     * @param encoderTable  dotted key (without {@code .weight}) of the encoder's token table, e.g. {@code model.shared}
     * @param decoderTable  the decoder's; the same key makes one shared table
     * @param sinusoidal    Marian's position table [max, C], or null for learned positions
     */
    public BartModel(BartConfig config, Params params, String base, String encoderTable, String decoderTable, NDArray sinusoidal) {
        this.config = config;
        if ((sinusoidal == null) != (config.positions() == BartConfig.Positions.LEARNED_OFFSET_2)) {
            throw new IllegalArgumentException("BartModel: sinusoidal positions go with a SINUSOIDAL config only");
        }
        Embedding enc = table(params, encoderTable, config.vocabSize(), config);
        Embedding dec = decoderTable.equals(encoderTable) ? enc : table(params, decoderTable, config.vocabSize(), config);
        this.model = child("model", new Base(config, params.atPath(base), enc, dec, sinusoidal));
        int v = config.decoderVocabSize();
        this.lmHead = config.tieWordEmbeddings() ? null : child("lm_head", params.linear("lm_head", config.dModel(), v, false));
        NDArray bias = params.has("final_logits_bias") ? params.get("final_logits_bias", Params.Init.ZEROS, false, 1, v)
                : NDArray.zeros(1, v);
        this.finalLogitsBias = buffer("final_logits_bias", bias);
    }

    /** The token table at dotted key {@code key} (16-bit tables stay 16-bit). */
    static Embedding table(Params params, String key, int rows, BartConfig c) {
        int dot = key.lastIndexOf('.');
        Params parent = dot < 0 ? params : params.atPath(key.substring(0, dot));
        return parent.embedding16(key.substring(dot + 1), rows, c.dModel(), c.padTokenId() < rows ? c.padTokenId() : null);
    }

    @Override
    public String modelType() {
        return config.modelType();
    }

    @Override
    public int vocabSize() {
        return config.decoderVocabSize();
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
        return config.maxPositionEmbeddings();
    }

    @Override
    public int maxTargetPositions() {
        return config.maxPositionEmbeddings();
    }

    @Override
    public int decoderLayers() {
        return config.decoderLayers();
    }

    @Override
    public int decoderHeads() {
        return config.decoderAttentionHeads();
    }

    @Override
    public int decoderHeadDim() {
        return config.decoderHeadDim();
    }

    @Override
    protected Tensor encoderForward(NDArray ids, NDArray padding, List<Tensor> attentions) {
        return model.encoder.forward(ids, padding, attentions);
    }

    @Override
    protected Tensor decoderForward(NDArray tokens, Seq2SeqCache cache, List<Tensor> selfAttentions, List<Tensor> crossAttentions) {
        return model.decoder.forward(tokens, cache, selfAttentions, crossAttentions);
    }

    @Override
    protected Tensor lmHead(Tensor hidden) {
        Tensor bias = Tensor.of(finalLogitsBias.reshape(-1));                       // [V]
        Tensor w = lmHead != null ? lmHead.weight : model.decoder.embedTokens.weight;
        return F.linear(hidden, w, bias);                                          // [..., V]
    }
}
