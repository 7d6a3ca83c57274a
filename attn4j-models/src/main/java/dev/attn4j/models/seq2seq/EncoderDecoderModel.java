package dev.attn4j.models.seq2seq;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.generate.CausalLM;
import dev.attn4j.generate.Seq2SeqLM;
import dev.attn4j.io.safetensors.SafetensorsCheckpoint;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderCache;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * A pretrained encoder-decoder (transformers' {@code *ForConditionalGeneration}: Marian, T5, BART,
 * mBART): an encoder over the source ids and a decoder that reads its output through
 * cross-attention. The families ({@code models.marian}, {@code models.t5}, {@code models.bart})
 * supply the two stacks and the head; this class holds what they share: the teacher-forced
 * {@link #forward} (logits, hidden states, attentions, as transformers' forward with
 * {@code decoder_input_ids}), the {@link Seq2SeqCache} (decoder self-attention keys and values
 * preallocated per row, cross-attention keys and values projected once per source), and the
 * decoder bound to encoded sources that generation drives ({@link #decoder}).
 */
public abstract class EncoderDecoderModel extends Module implements Seq2SeqLM {
    private SafetensorsCheckpoint checkpoint;

    /** transformers' {@code config.model_type}. */
    public abstract String modelType();

    /** Ids the encoder embeds (its table's rows). */
    public abstract int sourceVocabSize();

    /** The id a source batch is padded with ({@code pad_token_id}). */
    public abstract int padTokenId();

    /** Longest decoder sequence the position table covers ({@code Integer.MAX_VALUE}: no table). */
    public abstract int maxTargetPositions();

    /** Number of decoder layers. */
    public abstract int decoderLayers();

    /** Decoder attention heads. */
    public abstract int decoderHeads();

    /** Decoder attention head size. */
    public abstract int decoderHeadDim();

    /**
     * The encoder output [B, S, C] for ids [B, S]; {@code padding} [B, S] is 1 at padded positions
     * (null: none). Each layer's self-attention weights [B, H, S, S] go to {@code attentions} when
     * it is not null.
     */
    protected abstract Tensor encoderForward(NDArray ids, NDArray padding, List<Tensor> attentions);

    /**
     * The decoder's last hidden states [R, T, C] (after its final norm) for tokens [R, T] at
     * positions {@code cache.length() ..}; every layer appends its keys and values to the cache
     * (the caller advances it). Weights go to the lists when they are not null: self-attention
     * [R, H, T, past + T], cross-attention [R, H, T, S].
     */
    protected abstract Tensor decoderForward(NDArray tokens, Seq2SeqCache cache, List<Tensor> selfAttentions,
                                             List<Tensor> crossAttentions);

    /** The logits [..., V] of decoder hidden states [..., C]. */
    protected abstract Tensor lmHead(Tensor hidden);

    /** Ids [B][T] (rows of equal length) as a float [B, T] array, checked against {@code vocab}. */
    static NDArray idArray(int[][] ids, int vocab, String what) {
        if (ids == null || ids.length == 0) throw new IllegalArgumentException(what + ": empty batch");
        int b = ids.length, t = ids[0].length;
        if (t == 0) throw new IllegalArgumentException(what + ": no tokens");
        float[] out = new float[b * t];
        for (int i = 0; i < b; i++) {
            if (ids[i].length != t) {
                throw new IllegalArgumentException(what + ": row " + i + " has " + ids[i].length + " tokens, row 0 has " + t
                        + " (pad rows to one length)");
            }
            for (int j = 0; j < t; j++) {
                int id = ids[i][j];
                if (id < 0 || id >= vocab) {
                    throw new IllegalArgumentException(what + ": token id " + id + " at [" + i + "][" + j
                            + "] is outside the vocabulary [0, " + vocab + ")");
                }
                out[i * t + j] = id;
            }
        }
        return NDArray.of(out, b, t);
    }

    /** The padding flags [B, S] (1 = padding) of an attention mask [B][S] (1 = real token); null when nothing is padded. */
    static NDArray padding(int[][] attentionMask, int b, int s) {
        if (attentionMask == null) return null;
        if (attentionMask.length != b) throw new IllegalArgumentException("attention mask has " + attentionMask.length + " rows, batch " + b);
        float[] pad = new float[b * s];
        boolean any = false;
        for (int i = 0; i < b; i++) {
            if (attentionMask[i].length != s) {
                throw new IllegalArgumentException("attention mask row " + i + " has " + attentionMask[i].length + " entries, input " + s);
            }
            boolean real = false;
            for (int j = 0; j < s; j++) {
                if (attentionMask[i][j] == 0) {
                    pad[i * s + j] = 1;
                    any = true;
                } else {
                    real = true;
                }
            }
            if (!real) throw new IllegalArgumentException("attention mask row " + i + " masks every token");
        }
        return any ? NDArray.of(pad, b, s) : null;
    }

    private void checkSourceLength(int s) {
        if (s > maxSourcePositions()) {
            throw new IllegalArgumentException("source of " + s + " tokens is longer than the model's " + maxSourcePositions()
                    + " positions");
        }
    }

    /** The encoder output [B, S, C] for ids [B][S] with {@code attentionMask} [B][S] (1 = real token; null: all real). */
    public Tensor encode(int[][] inputIds, int[][] attentionMask) {
        NDArray ids = idArray(inputIds, sourceVocabSize(), "encoder input");
        checkSourceLength(ids.dim(1));
        return encoderForward(ids, padding(attentionMask, ids.dim(0), ids.dim(1)), null);
    }

    /**
     * transformers' forward with {@code decoder_input_ids} (teacher forcing): the logits [B, T, V]
     * of every decoder position, the last hidden states of both stacks, and, with
     * {@code outputAttentions}, every layer's encoder, decoder and cross-attention weights.
     * Differentiable when called with gradients on.
     */
    public Seq2SeqOutput forward(int[][] inputIds, int[][] attentionMask, int[][] decoderInputIds, boolean outputAttentions) {
        NDArray ids = idArray(inputIds, sourceVocabSize(), "encoder input");
        checkSourceLength(ids.dim(1));
        NDArray padding = padding(attentionMask, ids.dim(0), ids.dim(1));
        NDArray dec = idArray(decoderInputIds, vocabSize(), "decoder input");
        if (dec.dim(0) != ids.dim(0)) {
            throw new IllegalArgumentException("decoder input has " + dec.dim(0) + " rows, encoder input " + ids.dim(0));
        }
        if (dec.dim(1) > maxTargetPositions()) {
            throw new IllegalArgumentException("decoder input of " + dec.dim(1) + " tokens exceeds the model's " + maxTargetPositions()
                    + " positions");
        }
        List<Tensor> encAtt = outputAttentions ? new ArrayList<>() : null;
        List<Tensor> selfAtt = outputAttentions ? new ArrayList<>() : null;
        List<Tensor> crossAtt = outputAttentions ? new ArrayList<>() : null;
        Tensor memory = encoderForward(ids, padding, encAtt);                          // [B, S, C]
        int b = ids.dim(0);
        Seq2SeqCache cache = newCache(new Seq2SeqCache.Memory(memory, padding, decoderLayers()), b, dec.dim(1));
        Tensor h = decoderForward(dec, cache, selfAtt, crossAtt);                     // [B, T, C]
        cache.self.advance(dec.dim(1));
        return new Seq2SeqOutput(lmHead(h), memory, h, encAtt, selfAtt, crossAtt);
    }

    private Seq2SeqCache newCache(Seq2SeqCache.Memory memory, int rows, int capacity) {
        int n = memory.sources();
        if (rows <= 0 || rows % n != 0) {
            throw new IllegalArgumentException("cache: " + rows + " rows is not a multiple of the " + n + " sources");
        }
        int[] src = new int[rows];
        for (int r = 0; r < rows; r++) src[r] = r / (rows / n);
        return new Seq2SeqCache(DecoderCache.of(decoderLayers(), rows, decoderHeads(), capacity, decoderHeadDim()), memory, src);
    }

    @Override
    public CausalLM decoder(List<int[]> sources) {
        if (sources == null || sources.isEmpty()) throw new IllegalArgumentException("decoder: no source given");
        int n = sources.size(), s = 0;
        for (int[] x : sources) {
            if (x == null || x.length == 0) throw new IllegalArgumentException("decoder: a source is empty");
            s = Math.max(s, x.length);
        }
        int[][] ids = new int[n][s];
        int[][] mask = new int[n][s];
        for (int i = 0; i < n; i++) {
            int[] x = sources.get(i);
            java.util.Arrays.fill(ids[i], padTokenId());
            System.arraycopy(x, 0, ids[i], 0, x.length);
            java.util.Arrays.fill(mask[i], 0, x.length, 1);
        }
        Seq2SeqCache.Memory memory;
        try (var g = GradMode.noGrad()) {
            NDArray idArr = idArray(ids, sourceVocabSize(), "source");
            checkSourceLength(s);
            NDArray padding = padding(mask, n, s);
            memory = new Seq2SeqCache.Memory(encoderForward(idArr, padding, null), padding, decoderLayers());
        }
        return new BoundDecoder(memory);
    }

    /** The decoder over one batch of encoded sources, as generation sees it. */
    private final class BoundDecoder implements CausalLM {
        private final Seq2SeqCache.Memory memory;

        BoundDecoder(Seq2SeqCache.Memory memory) {
            this.memory = memory;
        }

        @Override
        public int vocabSize() {
            return EncoderDecoderModel.this.vocabSize();
        }

        @Override
        public int maxPositions() {
            return maxTargetPositions();
        }

        @Override
        public Seq2SeqCache newCache(int batch, int capacity) {
            return EncoderDecoderModel.this.newCache(memory, batch, capacity);
        }

        @Override
        public float[][][] forward(KvCache kv, int[][] tokens, int[][] attentionMask, boolean allPositions) {
            if (!(kv instanceof Seq2SeqCache cache)) {
                throw new IllegalArgumentException("forward: the cache must come from this decoder's newCache");
            }
            if (attentionMask != null) {
                for (int[] row : attentionMask) {
                    for (int m : row) {
                        if (m == 0) throw new IllegalArgumentException("forward: decoder inputs of an encoder-decoder are not padded");
                    }
                }
            }
            NDArray ids = idArray(tokens, vocabSize(), "decoder input");
            if (ids.dim(0) != cache.batchSize()) {
                throw new IllegalArgumentException("forward: cache holds " + cache.batchSize() + " rows, batch has " + ids.dim(0));
            }
            int t = ids.dim(1);
            if (cache.length() + t > maxTargetPositions()) {
                throw new IllegalArgumentException("forward: position " + (cache.length() + t) + " exceeds the model's "
                        + maxTargetPositions() + " decoder positions");
            }
            Tensor logits;
            try (var g = GradMode.noGrad()) {
                List<Tensor> cross = cache.recordCrossWeights ? new ArrayList<>() : null;
                Tensor h = decoderForward(ids, cache, null, cross);                   // [R, T, C]
                cache.self.advance(t);
                if (cross != null) for (int l = 0; l < cross.size(); l++) cache.crossWeights[l] = cross.get(l);
                logits = lmHead(allPositions ? h : h.narrow(1, t - 1, 1));            // [R, T', V]
            }
            return CausalDecoder.rows(logits);
        }
    }

    /**
     * Cross-attention weights while the decoder reads {@code output} for {@code source} after
     * {@code startId}: [layers][heads][T][S] where row t holds the weights used to predict output
     * token t (T = output.length + 1 when the output does not end with the model's last token;
     * rows for every position fed: start + output).
     */
    public float[][][][] crossAttention(int[] source, int startId, int[] output) {
        int[] dec = new int[output.length + 1];
        dec[0] = startId;
        System.arraycopy(output, 0, dec, 1, output.length);
        Seq2SeqOutput o;
        try (var g = GradMode.noGrad()) {
            o = forward(new int[][] {source}, null, new int[][] {dec}, true);
        }
        int layers = o.crossAttentions().size();
        float[][][][] out = new float[layers][][][];
        for (int l = 0; l < layers; l++) {
            NDArray w = o.crossAttentions().get(l).data();                             // [1, H, T, S]
            int h = w.dim(1), t = w.dim(2), s = w.dim(3);
            out[l] = new float[h][t][s];
            for (int i = 0; i < h; i++) for (int j = 0; j < t; j++) for (int k = 0; k < s; k++) out[l][i][j][k] = w.getFloat(0, i, j, k);
        }
        return out;
    }

    /** Keeps the checkpoint open as long as the model (its mapped weights); closed by {@link #close}. */
    public void attachCheckpoint(SafetensorsCheckpoint ckpt) {
        this.checkpoint = ckpt;
    }

    @Override
    public void close() {
        if (checkpoint != null) checkpoint.close();
        checkpoint = null;
    }
}
