package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Linear;

import java.util.SplittableRandom;

/**
 * transformers' {@code RobertaForTokenClassification} (XLM-R, CamemBERT alike): {@code roberta}
 * without pooler, dropout ({@code classifier_dropout}, else {@code hidden_dropout_prob}) and
 * {@code classifier} on every token. Logits [B, T, num_labels].
 */
public final class RobertaForTokenClassification extends EncoderClassifier {
    public final BertModel roberta;
    public final Dropout dropout;
    public final Linear classifier;

    public RobertaForTokenClassification(BertConfig config, ClassifierConfig head, ObjectNode sourceConfig, Params encoderParams,
                                         Params headParams, SplittableRandom rng) {
        super(config, head, sourceConfig);
        if (config.family() != BertConfig.Family.ROBERTA) {
            throw new IllegalArgumentException(architecture() + " needs a RoBERTa-family model_type, got '" + config.modelType() + "'");
        }
        this.roberta = child("roberta", new BertModel(config, encoderParams, false, rng));
        this.dropout = child("dropout", new Dropout(classifierDropout(), rng));
        this.classifier = child("classifier", headParams.linear("classifier", config.hiddenSize(), head.numLabels()));
    }

    @Override
    public String architecture() {
        return RobertaForSequenceClassification.robertaClass(config, "ForTokenClassification");
    }

    @Override
    public boolean tokenLevel() {
        return true;
    }

    @Override
    public EncoderModel encoder() {
        return roberta;
    }

    @Override
    public Tensor forward(EncoderInput in) {
        Tensor h = roberta.forward(in).lastHiddenState();                           // [B, T, C]
        return classifier.forward(dropout.forward(h));                              // [B, T, L]
    }
}
