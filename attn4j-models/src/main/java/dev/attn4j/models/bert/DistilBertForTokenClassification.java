package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Linear;

import java.util.SplittableRandom;

/**
 * transformers' {@code DistilBertForTokenClassification}: {@code distilbert}, dropout (the
 * config's {@code dropout}) and {@code classifier} on every token. Logits [B, T, num_labels].
 */
public final class DistilBertForTokenClassification extends EncoderClassifier {
    public final DistilBertModel distilbert;
    public final Dropout dropout;
    public final Linear classifier;

    public DistilBertForTokenClassification(BertConfig config, ClassifierConfig head, ObjectNode sourceConfig, Params encoderParams,
                                            Params headParams, SplittableRandom rng) {
        super(config, head, sourceConfig);
        this.distilbert = child("distilbert", new DistilBertModel(config, encoderParams, rng));
        this.dropout = child("dropout", new Dropout(config.hiddenDropoutProb(), rng));
        this.classifier = child("classifier", headParams.linear("classifier", config.hiddenSize(), head.numLabels()));
    }

    @Override
    protected String dropoutKey() {
        return null;
    }

    @Override
    public String architecture() {
        return "DistilBertForTokenClassification";
    }

    @Override
    public boolean tokenLevel() {
        return true;
    }

    @Override
    public EncoderModel encoder() {
        return distilbert;
    }

    @Override
    public Tensor forward(EncoderInput in) {
        Tensor h = distilbert.forward(in).lastHiddenState();                        // [B, T, C]
        return classifier.forward(dropout.forward(h));                              // [B, T, L]
    }
}
