package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Linear;

import java.util.SplittableRandom;

/**
 * transformers' {@code BertForTokenClassification}: {@code bert} without pooler, dropout
 * ({@code classifier_dropout}, else {@code hidden_dropout_prob}) and {@code classifier} on every
 * token. Logits [B, T, num_labels]; labels -100 are ignored by the loss.
 */
public final class BertForTokenClassification extends EncoderClassifier {
    public final BertModel bert;
    public final Dropout dropout;
    public final Linear classifier;

    public BertForTokenClassification(BertConfig config, ClassifierConfig head, ObjectNode sourceConfig, Params encoderParams,
                                      Params headParams, SplittableRandom rng) {
        super(config, head, sourceConfig);
        this.bert = child("bert", new BertModel(config, encoderParams, false, rng));
        this.dropout = child("dropout", new Dropout(classifierDropout(), rng));
        this.classifier = child("classifier", headParams.linear("classifier", config.hiddenSize(), head.numLabels()));
    }

    @Override
    public String architecture() {
        return "BertForTokenClassification";
    }

    @Override
    public boolean tokenLevel() {
        return true;
    }

    @Override
    public EncoderModel encoder() {
        return bert;
    }

    @Override
    public Tensor forward(EncoderInput in) {
        Tensor h = bert.forward(in).lastHiddenState();                              // [B, T, C]
        return classifier.forward(dropout.forward(h));                              // [B, T, L]
    }
}
