package dev.attn4j.models.bert;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.AttentionResult;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Activation;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * DistilBERT with transformers' key names: {@code embeddings.{word_embeddings,
 * position_embeddings,LayerNorm}} (no token types) and {@code transformer.layer.N.attention.
 * {q_lin,k_lin,v_lin,out_lin}}, {@code sa_layer_norm}, {@code ffn.{lin1,lin2}},
 * {@code output_layer_norm}. Same post-LN computation as BERT; no pooler.
 */
public final class DistilBertModel extends EncoderModel {
    /** {@code attention}: q_lin, k_lin, v_lin and out_lin. */
    public static final class MultiHeadSelfAttention extends Module {
        public final int numHeads;
        public final Linear qLin, kLin, vLin, outLin;
        public final double dropoutP;
        private final SplittableRandom rng;

        MultiHeadSelfAttention(BertConfig config, Params p, SplittableRandom rng) {
            int c = config.hiddenSize();
            this.numHeads = config.numAttentionHeads();
            this.qLin = child("q_lin", p.linear("q_lin", c, c));
            this.kLin = child("k_lin", p.linear("k_lin", c, c));
            this.vLin = child("v_lin", p.linear("v_lin", c, c));
            this.outLin = child("out_lin", p.linear("out_lin", c, c));
            this.dropoutP = config.attentionProbsDropoutProb();
            this.rng = rng.split();
        }

        /** x [B, T, C] -> [B, T, C] (after out_lin), weights [B, H, T, T] when asked for. */
        public AttentionResult forward(Tensor x, AttentionMask keyPadding, boolean needWeights) {
            AttentionResult r = BertSelfAttention.attend(qLin.forward(x), kLin.forward(x), vLin.forward(x), numHeads, keyPadding,
                    dropoutP, isTraining(), rng, needWeights);                    // [B, T, C]
            return new AttentionResult(outLin.forward(r.output()), r.weights());   // [B, T, C]
        }
    }

    /** {@code ffn}: lin2(dropout?(act(lin1 x))) with dropout after lin2. */
    public static final class FFN extends Module {
        public final Linear lin1, lin2;
        public final Activation act;
        public final Dropout dropout;

        FFN(BertConfig config, Params p, SplittableRandom rng) {
            this.lin1 = child("lin1", p.linear("lin1", config.hiddenSize(), config.intermediateSize()));
            this.lin2 = child("lin2", p.linear("lin2", config.intermediateSize(), config.hiddenSize()));
            this.act = Activation.byName(config.hiddenAct());
            this.dropout = child("dropout", new Dropout(config.hiddenDropoutProb(), rng));
        }

        /** [B, T, C] -> [B, T, C]. */
        public Tensor forward(Tensor x) {
            return dropout.forward(lin2.forward(act.forward(lin1.forward(x))));     // [B, T, I] -> [B, T, C]
        }
    }

    /** One {@code TransformerBlock}. */
    public static final class Block extends Module {
        public final MultiHeadSelfAttention attention;
        public final LayerNorm saLayerNorm;
        public final FFN ffn;
        public final LayerNorm outputLayerNorm;

        Block(BertConfig config, Params p, SplittableRandom rng) {
            int c = config.hiddenSize();
            this.attention = child("attention", new MultiHeadSelfAttention(config, p.at("attention"), rng));
            this.saLayerNorm = child("sa_layer_norm", p.layerNorm("sa_layer_norm", c, config.layerNormEps()));
            this.ffn = child("ffn", new FFN(config, p.at("ffn"), rng));
            this.outputLayerNorm = child("output_layer_norm", p.layerNorm("output_layer_norm", c, config.layerNormEps()));
        }

        /** x [B, T, C] -> [B, T, C]. */
        public AttentionResult forward(Tensor x, AttentionMask keyPadding, boolean needWeights) {
            AttentionResult a = attention.forward(x, keyPadding, needWeights);      // [B, T, C]
            Tensor h = saLayerNorm.forward(a.output().add(x));                      // [B, T, C]
            Tensor y = outputLayerNorm.forward(ffn.forward(h).add(h));              // [B, T, C]
            return new AttentionResult(y, a.weights());
        }
    }

    /** {@code transformer}: the list of blocks under {@code layer}. */
    public static final class Transformer extends Module {
        public final ModuleList<Block> layer;

        Transformer(BertConfig config, Params p, SplittableRandom rng) {
            List<Block> blocks = new ArrayList<>();
            for (int i = 0; i < config.numHiddenLayers(); i++) blocks.add(new Block(config, p.at("layer").at(Integer.toString(i)), rng));
            this.layer = child("layer", new ModuleList<>(blocks));
        }
    }

    public final BertEmbeddings embeddings;
    public final Transformer transformer;

    /** Builds the model from {@code params}; {@code rng} drives dropout in training mode. */
    public DistilBertModel(BertConfig config, Params params, SplittableRandom rng) {
        super(config);
        if (config.family() != BertConfig.Family.DISTILBERT || config.typeVocabSize() != 0) {
            throw new IllegalArgumentException("DistilBertModel needs model_type 'distilbert' with no token types, got '"
                    + config.modelType() + "' with type_vocab_size " + config.typeVocabSize());
        }
        this.embeddings = child("embeddings", new BertEmbeddings(config, params.at("embeddings"), rng));
        this.transformer = child("transformer", new Transformer(config, params.at("transformer"), rng));
    }

    /** A randomly initialised model (weights N(0, initializer_range)). */
    public static DistilBertModel random(BertConfig config, SplittableRandom rng) {
        return new DistilBertModel(config, Params.random(rng, config.initializerRange()), rng);
    }

    @Override
    public boolean hasPooler() {
        return false;
    }

    @Override
    public EncoderOutput forward(EncoderInput in, boolean outputHiddenStates, boolean outputAttentions) {
        AttentionMask keyPadding = keyPaddingMask(in);                             // [B, S] additive
        Tensor x = embeddings.forward(in);                                         // [B, T, C]
        List<Tensor> hidden = outputHiddenStates ? new ArrayList<>() : null;
        List<Tensor> weights = outputAttentions ? new ArrayList<>() : null;
        for (Block block : transformer.layer) {
            if (hidden != null) hidden.add(x);
            AttentionResult r = block.forward(x, keyPadding, outputAttentions);    // [B, T, C]
            x = r.output();
            if (weights != null) weights.add(r.weights());
        }
        if (hidden != null) hidden.add(x);
        return new EncoderOutput(x, null, hidden, weights);
    }
}
