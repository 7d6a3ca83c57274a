package dev.attn4j.models.bert;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Dropout;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;

import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Token + position (+ token type) embeddings, then LayerNorm and dropout, as transformers'
 * {@code BertEmbeddings} / {@code RobertaEmbeddings} / DistilBERT's {@code Embeddings}. Keys:
 * {@code word_embeddings}, {@code position_embeddings}, {@code token_type_embeddings} (absent
 * when {@code type_vocab_size} is 0), {@code LayerNorm}.
 */
public final class BertEmbeddings extends Module {
    public final BertConfig config;
    public final Embedding wordEmbeddings;
    public final Embedding positionEmbeddings;
    /** Null for DistilBERT (no token types). */
    public final Embedding tokenTypeEmbeddings;
    public final LayerNorm layerNorm;
    public final Dropout dropout;
    /** The calling thread's hook on the word embeddings' output, if any (see {@link #withWordEmbeddingsHook}). */
    private final ThreadLocal<UnaryOperator<Tensor>> wordEmbeddingsHook = new ThreadLocal<>();

    public BertEmbeddings(BertConfig config, Params p, SplittableRandom rng) {
        this.config = config;
        int c = config.hiddenSize();
        boolean roberta = config.family() == BertConfig.Family.ROBERTA;
        Integer pad = config.padTokenId() >= 0 && config.padTokenId() < config.vocabSize() ? config.padTokenId() : null;
        this.wordEmbeddings = child("word_embeddings", p.embedding("word_embeddings", config.vocabSize(), c, pad));
        this.positionEmbeddings = child("position_embeddings",
                p.embedding("position_embeddings", config.maxPositionEmbeddings(), c, roberta ? pad : null));
        this.tokenTypeEmbeddings = config.typeVocabSize() > 0
                ? child("token_type_embeddings", p.embedding("token_type_embeddings", config.typeVocabSize(), c, null)) : null;
        this.layerNorm = child("LayerNorm", p.layerNorm("LayerNorm", c, config.layerNormEps()));
        this.dropout = child("dropout", new Dropout(config.hiddenDropoutProb(), rng));
    }

    /** Embeddings of a batch: [B, T, C]. */
    public Tensor forward(EncoderInput in) {
        NDArray ids = EncoderInput.ids("input_ids", in.inputIds(), config.vocabSize());   // [B, T]
        Tensor x = wordEmbeddings.forward(ids);                                          // [B, T, C]
        UnaryOperator<Tensor> hook = wordEmbeddingsHook.get();
        if (hook != null) x = hook.apply(x);                                             // [B, T, C]
        x = x.add(positionEmbeddings.forward(positionIds(in)));                         // [B, T, C] + [B or 1, T, C]
        if (tokenTypeEmbeddings != null) {
            NDArray types = in.tokenTypeIds() == null ? NDArray.zeros(1, in.length())   // [1, T]
                    : EncoderInput.ids("token_type_ids", in.tokenTypeIds(), config.typeVocabSize()); // [B, T]
            x = x.add(tokenTypeEmbeddings.forward(types));                             // [B, T, C]
        }
        return dropout.forward(layerNorm.forward(x));                                    // [B, T, C]
    }

    /**
     * Runs {@code body} with {@code hook} applied to the output of {@code word_embeddings} (the
     * [B, T, C] token embeddings, before positions and token types are added) in every forward
     * pass this thread makes meanwhile; what the hook returns replaces the output, as a PyTorch
     * forward hook that returns a value. The attribution methods use it to make the token
     * embeddings a leaf that receives a gradient (transformers' {@code inputs_embeds}).
     */
    public <R> R withWordEmbeddingsHook(UnaryOperator<Tensor> hook, Supplier<R> body) {
        UnaryOperator<Tensor> previous = wordEmbeddingsHook.get();
        wordEmbeddingsHook.set(hook);
        try {
            return body.get();
        } finally {
            if (previous == null) wordEmbeddingsHook.remove();
            else wordEmbeddingsHook.set(previous);
        }
    }

    /**
     * Position ids: 0..T-1 as [1, T] for BERT and DistilBERT; for RoBERTa [B, T] with real tokens
     * (id != pad_token_id) counted from pad_token_id + 1 and pads at pad_token_id.
     */
    public NDArray positionIds(EncoderInput in) {
        int n = in.batchSize(), t = in.length(), max = config.maxPositionEmbeddings();
        if (config.family() != BertConfig.Family.ROBERTA) {
            if (t > max) {
                throw new IllegalArgumentException("sequence length " + t + " exceeds max_position_embeddings " + max);
            }
            return NDArray.arange(t).reshape(1, t);                                      // [1, T]
        }
        int pad = config.padTokenId();
        float[] pos = new float[n * t];
        for (int b = 0; b < n; b++) {
            int count = 0;
            for (int i = 0; i < t; i++) {
                boolean real = in.inputIds()[b][i] != pad;
                if (real) count++;
                int v = real ? pad + count : pad;
                if (v >= max) {
                    throw new IllegalArgumentException("sequence " + b + " is too long: position id " + v + " exceeds "
                            + "max_position_embeddings " + max + " (at most " + (max - pad - 1) + " tokens)");
                }
                pos[b * t + i] = v;
            }
        }
        return NDArray.of(pos, n, t);                                                    // [B, T]
    }
}
