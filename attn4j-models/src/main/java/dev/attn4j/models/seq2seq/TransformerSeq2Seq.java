package dev.attn4j.models.seq2seq;

import dev.attn4j.attention.AttentionMask;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Linear;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import dev.attn4j.transformer.DecoderCache;
import dev.attn4j.transformer.SinusoidalPositionalEncoding;
import dev.attn4j.transformer.Transformer;
import dev.attn4j.transformer.TransformerMasks;
import dev.attn4j.transformer.TransformerOptions;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The encoder-decoder Transformer of "Attention Is All You Need" for token sequences: source and
 * target embeddings (initialised N(0, 1/d_model), multiplied by sqrt(d_model)), sinusoidal
 * positions, a batch-first {@link Transformer} (post-norm, ReLU) and an output projection that is
 * either {@code out_proj} (Linear) or, with tied embeddings, the target embedding matrix plus a
 * bias {@code out_bias}. Children: {@code src_embed}, {@code tgt_embed}, {@code pos},
 * {@code transformer}, {@code out_proj} / parameter {@code out_bias}.
 *
 * <p>Decoding uses the decoder's key/value cache ({@link DecoderCache}).
 */
public final class TransformerSeq2Seq extends Seq2SeqModel<TransformerSeq2Seq.State> {
    public final Embedding srcEmbed;
    public final Embedding tgtEmbed;
    public final SinusoidalPositionalEncoding pos;
    public final Transformer transformer;
    /** Null with tied embeddings. */
    public final Linear outProj;
    /** Null without tied embeddings. */
    public final Tensor outBias;
    private final double scale;

    /** Decoding state: the key/value cache (which holds the projected memory). */
    public record State(DecoderCache cache) {
    }

    public TransformerSeq2Seq(Seq2SeqConfig c, SplittableRandom rng) {
        super(c);
        if (c.arch() != Arch.TRANSFORMER) throw new IllegalArgumentException("TransformerSeq2Seq needs arch transformer, got " + c.arch());
        int d = c.dModel(), v = c.vocabSize();
        srcEmbed = child("src_embed", new Embedding(v, d, CharVocab.PAD, rng));
        tgtEmbed = child("tgt_embed", new Embedding(v, d, CharVocab.PAD, rng));
        for (Embedding e : List.of(srcEmbed, tgtEmbed)) {
            NDArray w = NDArray.normal(rng, Shape.of(v, d), 0, 1 / Math.sqrt(d));
            w.select(0, CharVocab.PAD).fill(0);
            e.weight.data().copyFrom(w);
        }
        pos = child("pos", new SinusoidalPositionalEncoding(d, Math.max(c.maxSourceLen(), c.maxTargetLen() + 2), c.dropout(), true, rng));
        transformer = child("transformer", new Transformer(TransformerOptions.of(d, c.heads()).numEncoderLayers(c.encoderLayers())
                .numDecoderLayers(c.decoderLayers()).dimFeedforward(c.dimFeedforward()).dropout(c.dropout()).batchFirst(true), rng));
        if (c.tieEmbeddings()) {
            outProj = null;
            outBias = parameter("out_bias", NDArray.zeros(v));
        } else {
            outProj = child("out_proj", new Linear(d, v, rng));
            outBias = null;
        }
        scale = Math.sqrt(d);
    }

    /** Encoder output [B, S, d] for padded source ids [B, S]. */
    public Tensor encode(NDArray source, NDArray sourcePadding) {
        checkSourceLength(source.dim(1));
        Tensor x = pos.forward(srcEmbed.forward(source).mul(scale));                       // [B, S, d]
        return transformer.encode(x, TransformerMasks.none().srcKeyPaddingMask(AttentionMask.blocked(sourcePadding)));
    }

    @Override
    public Tensor forward(Batch batch) {
        return project(decoderHidden(batch));                                               // [B, T, V]
    }

    /** The teacher-forced decoder output [B, T, d] (before the output projection). */
    public Tensor decoderHidden(Batch batch) {
        Tensor memory = encode(batch.source(), batch.sourcePadding());                     // [B, S, d]
        Tensor y = pos.forward(tgtEmbed.forward(batch.targetIn()).mul(scale));             // [B, T, d]
        TransformerMasks masks = TransformerMasks.none().tgtIsCausal(true)
                .memoryKeyPaddingMask(AttentionMask.blocked(batch.sourcePadding()));
        return transformer.decode(y, memory, masks);                                       // [B, T, d]
    }

    /** Next-token logits [..., V] of decoder outputs [..., d]: the output projection (tied or not). */
    public Tensor project(Tensor h) {
        return outProj != null ? outProj.forward(h) : F.linear(h, tgtEmbed.weight, outBias); // [..., V]
    }

    private void checkSourceLength(int s) {
        if (s > pos.maxLen) {
            throw new IllegalArgumentException("source of " + s + " tokens is longer than this model's maximum (" + pos.maxLen + ")");
        }
    }

    @Override
    public State start(List<int[]> sources) {
        try (var g = GradMode.noGrad()) {
            Batch.Sources src = Batch.sources(sources);
            Tensor memory = encode(src.ids(), src.padding());                              // [N, S, d]
            return new State(transformer.decoder.startCache(memory, src.padding()));
        }
    }

    @Override
    public float[][] step(State state, int[] tokens) {
        try (var g = GradMode.noGrad()) {
            int t = state.cache().length();
            if (t + 1 > pos.maxLen) throw new IllegalArgumentException("decoding past position " + pos.maxLen + " of the positional table");
            Tensor x = pos.forward(tgtEmbed.forward(column(tokens)).mul(scale), t);        // [N, 1, d]
            Tensor h = transformer.decoder.forwardStep(x, state.cache());                  // [N, 1, d]
            return logProbRows(project(h));                                                // [N][V]
        }
    }

    @Override
    public State select(State state, int[] rows) {
        return new State(state.cache().select(rows));
    }

    @Override
    public float[][][][] crossAttention(int[] source, int[] output) {
        try (var g = GradMode.noGrad()) {
            State st = start(List.of(source));
            st.cache().recordCrossWeights(true);
            int layers = st.cache().layers(), heads = config.heads(), steps = output.length + 1, s = source.length;
            float[][][][] out = new float[layers][heads][steps][];
            for (int t = 0; t < steps; t++) {
                step(st, new int[] {t == 0 ? CharVocab.BOS : output[t - 1]});
                for (int l = 0; l < layers; l++) {
                    NDArray w = st.cache().crossWeights(l).data();                          // [1, H, 1, S]
                    for (int h = 0; h < heads; h++) {
                        float[] row = new float[s];
                        for (int j = 0; j < s; j++) row[j] = w.getFloat(0, h, 0, j);
                        out[l][h][t] = row;
                    }
                }
            }
            return out;
        }
    }
}
