package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Linear;

import java.util.SplittableRandom;

/**
 * transformers' {@code BertForSequenceClassification}: {@code bert} (with its pooler), dropout
 * ({@code classifier_dropout}, else {@code hidden_dropout_prob}) and {@code classifier}
 * [num_labels, C] on the pooled output. Logits [B, num_labels].
 */
public final class BertForSequenceClassification extends EncoderClassifier {
    public final BertModel bert;
    public final Dropout dropout;
    public final Linear classifier;

    /** Builds the model: encoder weights from {@code encoderParams}, head weights from {@code headParams}. */
    public BertForSequenceClassification(BertConfig config, ClassifierConfig head, ObjectNode sourceConfig, Params encoderParams,
                                         Params headParams, SplittableRandom rng) {
        super(config, head, sourceConfig);
        this.bert = child("bert", new BertModel(config, encoderParams, true, rng));
        this.dropout = child("dropout", new Dropout(classifierDropout(), rng));
        this.classifier = child("classifier", headParams.linear("classifier", config.hiddenSize(), head.numLabels()));
    }

    @Override
    public String architecture() {
        return "BertForSequenceClassification";
    }

    @Override
    public boolean tokenLevel() {
        return false;
    }

    @Override
    public EncoderModel encoder() {
        return bert;
    }

    @Override
    public Tensor forward(EncoderInput in) {
        Tensor pooled = bert.forward(in).poolerOutput();                           // [B, C]
        return classifier.forward(dropout.forward(pooled));                         // [B, L]
    }
}
