package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Linear;

import java.util.SplittableRandom;

/**
 * transformers' {@code DistilBertForSequenceClassification}: {@code distilbert}, then on the first
 * token {@code pre_classifier} [C, C], ReLU, dropout ({@code seq_classif_dropout}, default 0.2)
 * and {@code classifier} [num_labels, C]. Logits [B, num_labels].
 */
public final class DistilBertForSequenceClassification extends EncoderClassifier {
    /** DistilBertConfig's default {@code seq_classif_dropout}. */
    public static final double DEFAULT_SEQ_CLASSIF_DROPOUT = 0.2;

    public final DistilBertModel distilbert;
    public final Linear preClassifier;
    public final Linear classifier;
    public final Dropout dropout;

    public DistilBertForSequenceClassification(BertConfig config, ClassifierConfig head, ObjectNode sourceConfig,
                                               Params encoderParams, Params headParams, SplittableRandom rng) {
        super(config, head.classifierDropout() == null ? head.withClassifierDropout(DEFAULT_SEQ_CLASSIF_DROPOUT) : head, sourceConfig);
        int c = config.hiddenSize();
        this.distilbert = child("distilbert", new DistilBertModel(config, encoderParams, rng));
        this.preClassifier = child("pre_classifier", headParams.linear("pre_classifier", c, c));
        this.classifier = child("classifier", headParams.linear("classifier", c, head.numLabels()));
        this.dropout = child("dropout", new Dropout(classifierDropout(), rng));
    }

    @Override
    protected String dropoutKey() {
        return "seq_classif_dropout";
    }

    @Override
    public String architecture() {
        return "DistilBertForSequenceClassification";
    }

    @Override
    public boolean tokenLevel() {
        return false;
    }

    @Override
    public EncoderModel encoder() {
        return distilbert;
    }

    @Override
    public Tensor forward(EncoderInput in) {
        Tensor h = distilbert.forward(in).lastHiddenState();                        // [B, T, C]
        Tensor x = preClassifier.forward(h.select(1, 0)).relu();                   // [B, C]
        return classifier.forward(dropout.forward(x));                              // [B, L]
    }
}
