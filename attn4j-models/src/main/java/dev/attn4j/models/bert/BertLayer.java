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

import java.util.SplittableRandom;

/**
 * One post-LN encoder layer of BERT / RoBERTa with transformers' key names:
 * {@code attention.self.{query,key,value}}, {@code attention.output.{dense,LayerNorm}},
 * {@code intermediate.dense}, {@code output.{dense,LayerNorm}}.
 * <pre>
 *   h = LayerNorm(x + Dropout(Wo Attention(x)))
 *   y = LayerNorm(h + Dropout(W2 act(W1 h)))
 * </pre>
 */
public final class BertLayer extends Module {
    /** {@code attention}: self-attention and its output projection. */
    public static final class BertAttention extends Module {
        public final BertSelfAttention self;
        public final SubLayerOutput output;

        BertAttention(BertConfig config, Params p, SplittableRandom rng) {
            this.self = child("self", new BertSelfAttention(config, p.at("self"), rng));
            this.output = child("output", new SubLayerOutput(config, config.hiddenSize(), p.at("output"), rng));
        }
    }

    /** {@code dense} projection, dropout, residual add and {@code LayerNorm} (BertSelfOutput / BertOutput). */
    public static final class SubLayerOutput extends Module {
        public final Linear dense;
        public final LayerNorm layerNorm;
        public final Dropout dropout;

        SubLayerOutput(BertConfig config, int in, Params p, SplittableRandom rng) {
            this.dense = child("dense", p.linear("dense", in, config.hiddenSize()));
            this.layerNorm = child("LayerNorm", p.layerNorm("LayerNorm", config.hiddenSize(), config.layerNormEps()));
            this.dropout = child("dropout", new Dropout(config.hiddenDropoutProb(), rng));
        }

        /** LayerNorm(residual + Dropout(dense(x))): x [B, T, in], residual [B, T, C] -> [B, T, C]. */
        public Tensor forward(Tensor x, Tensor residual) {
            return layerNorm.forward(dropout.forward(dense.forward(x)).add(residual)); // [B, T, C]
        }
    }

    /** {@code intermediate}: dense to intermediate_size and the activation. */
    public static final class Intermediate extends Module {
        public final Linear dense;
        public final Activation act;

        Intermediate(BertConfig config, Params p) {
            this.dense = child("dense", p.linear("dense", config.hiddenSize(), config.intermediateSize()));
            this.act = Activation.byName(config.hiddenAct());
        }

        /** [B, T, C] -> [B, T, I]. */
        public Tensor forward(Tensor x) {
            return act.forward(dense.forward(x));                                   // [B, T, I]
        }
    }

    public final BertAttention attention;
    public final Intermediate intermediate;
    public final SubLayerOutput output;

    public BertLayer(BertConfig config, Params p, SplittableRandom rng) {
        this.attention = child("attention", new BertAttention(config, p.at("attention"), rng));
        this.intermediate = child("intermediate", new Intermediate(config, p.at("intermediate")));
        this.output = child("output", new SubLayerOutput(config, config.intermediateSize(), p.at("output"), rng));
    }

    /** x [B, T, C] -> [B, T, C], with the attention weights [B, H, T, T] when {@code needWeights}. */
    public AttentionResult forward(Tensor x, AttentionMask keyPadding, boolean needWeights) {
        AttentionResult a = attention.self.forward(x, keyPadding, needWeights);   // [B, T, C]
        Tensor h = attention.output.forward(a.output(), x);                        // [B, T, C]
        Tensor y = output.forward(intermediate.forward(h), h);                     // [B, T, C]
        return new AttentionResult(y, a.weights());
    }
}
