package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;

import java.util.SplittableRandom;

/**
 * transformers' {@code RobertaForSequenceClassification} (and the XLM-R and CamemBERT classes of
 * the same layout): {@code roberta} without pooler and the {@code classifier} head
 * ({@code RobertaClassificationHead}: dropout, {@code dense}, tanh, dropout, {@code out_proj} on
 * the first token). Logits [B, num_labels].
 */
public final class RobertaForSequenceClassification extends EncoderClassifier {
    /** {@code RobertaClassificationHead}: dense [C, C] and out_proj [num_labels, C]. */
    public static final class ClassificationHead extends Module {
        public final Linear dense;
        public final Dropout dropout;
        public final Linear outProj;

        ClassificationHead(int hidden, int labels, double p, Params params, SplittableRandom rng) {
            this.dense = child("dense", params.linear("dense", hidden, hidden));
            this.dropout = child("dropout", new Dropout(p, rng));
            this.outProj = child("out_proj", params.linear("out_proj", hidden, labels));
        }

        /** [B, T, C] -> [B, L]. */
        public Tensor forward(Tensor features) {
            Tensor x = dropout.forward(features.select(1, 0));                      // [B, C]
            x = dropout.forward(dense.forward(x).tanh());                           // [B, C]
            return outProj.forward(x);                                              // [B, L]
        }
    }

    public final BertModel roberta;
    public final ClassificationHead classifier;

    public RobertaForSequenceClassification(BertConfig config, ClassifierConfig head, ObjectNode sourceConfig, Params encoderParams,
                                            Params headParams, SplittableRandom rng) {
        super(config, head, sourceConfig);
        if (config.family() != BertConfig.Family.ROBERTA) {
            throw new IllegalArgumentException(architecture() + " needs a RoBERTa-family model_type, got '" + config.modelType() + "'");
        }
        this.roberta = child("roberta", new BertModel(config, encoderParams, false, rng));
        this.classifier = child("classifier", new ClassificationHead(config.hiddenSize(), head.numLabels(), classifierDropout(),
                headParams.at("classifier"), rng));
    }

    /** Roberta / XLMRoberta / Camembert + {@code suffix}, by model type. */
    static String robertaClass(BertConfig config, String suffix) {
        return switch (config.modelType().toLowerCase(java.util.Locale.ROOT).replace('_', '-')) {
            case "xlm-roberta" -> "XLMRoberta" + suffix;
            case "camembert" -> "Camembert" + suffix;
            default -> "Roberta" + suffix;
        };
    }

    @Override
    public String architecture() {
        return robertaClass(config, "ForSequenceClassification");
    }

    @Override
    public boolean tokenLevel() {
        return false;
    }

    @Override
    public EncoderModel encoder() {
        return roberta;
    }

    @Override
    public Tensor forward(EncoderInput in) {
        return classifier.forward(roberta.forward(in).lastHiddenState());           // [B, T, C] -> [B, L]
    }
}
