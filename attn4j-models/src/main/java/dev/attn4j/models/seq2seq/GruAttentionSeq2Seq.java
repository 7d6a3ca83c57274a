package dev.attn4j.models.seq2seq;

import dev.attn4j.attention.AdditiveAttention;
import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.AttentionResult;
import dev.attn4j.attention.LuongAttention;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.GRUCell;
import dev.attn4j.nn.Linear;
import dev.attn4j.tasks.CharVocab;
import dev.attn4j.tensor.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Recurrent encoder-decoder models with attention (E = embedding size {@code dModel}, H =
 * {@code hidden}); padded source positions are skipped by the encoder and masked in attention.
 *
 * <p><b>Bahdanau</b> et al. 2015 ({@link Arch#GRU_BAHDANAU}): a bidirectional GRU encoder gives
 * annotations h_j = [fwd_j; bwd_j] (2H); s_0 = tanh(W_s bwd_1); at step i the additive attention
 * of s_{i-1} over the annotations gives the context c_i, s_i = GRU([E y_{i-1}; c_i], s_{i-1}) and
 * the output layer is a deep output tanh(W_o [s_i; c_i; E y_{i-1}]) then a projection to the
 * vocabulary (tanh in place of the paper's maxout).
 *
 * <p><b>Luong</b> et al. 2015 ({@link Arch#GRU_LUONG}), global attention with input feeding: a
 * GRU encoder (h_s, H), h_0 = the encoder's final state, h_t = GRU([E y_{t-1}; h~_{t-1}], h_{t-1}),
 * "general" score a_t = softmax(h_t^T W h_s), c_t = sum a_t h_s, h~_t = tanh(W_c [c_t; h_t]),
 * logits = W_s h~_t (GRUs instead of the paper's LSTMs).
 *
 * <p>Children: {@code src_embed}, {@code tgt_embed}, {@code encoder_fwd} (+ {@code encoder_bwd},
 * {@code bridge} for Bahdanau), {@code decoder_cell}, {@code attention}, {@code out_hidden}
 * (Bahdanau) or {@code combine} (Luong), {@code out_proj}.
 */
public final class GruAttentionSeq2Seq extends Seq2SeqModel<GruAttentionSeq2Seq.State> {
    public final boolean bahdanau;
    public final Embedding srcEmbed;
    public final Embedding tgtEmbed;
    public final GRUCell encoderFwd;
    /** Bahdanau only. */
    public final GRUCell encoderBwd;
    /** Bahdanau only: s_0 = tanh(bridge(bwd_1)). */
    public final Linear bridge;
    public final GRUCell decoderCell;
    /** Bahdanau only. */
    public final AdditiveAttention additive;
    /** Luong only. */
    public final LuongAttention luong;
    /** Bahdanau: the deep output layer; Luong: W_c. */
    public final Linear outHidden;
    public final Linear outProj;
    private final int hidden;

    /** Decoding state (mutable: {@link #step} advances it). */
    public static final class State {
        /** Annotations [N, S, K]. */
        final Tensor keys;
        /** The annotations through the attention's key projection (Bahdanau W_k h + b, Luong W h_s) [N, S, H], computed once. */
        final Tensor projectedKeys;
        /** [N, S], 1 = padding. */
        final NDArray padding;
        final AttentionMask mask;
        /** Decoder state [N, H]. */
        Tensor h;
        /** Luong's attentional state h~ [N, H]; null for Bahdanau. */
        Tensor hTilde;
        /** Attention weights of the last step [N, S]. */
        Tensor lastWeights;

        State(Tensor keys, Tensor projectedKeys, NDArray padding, Tensor h, Tensor hTilde) {
            this.keys = keys;
            this.projectedKeys = projectedKeys;
            this.padding = padding;
            this.mask = AttentionMask.blocked(padding);
            this.h = h;
            this.hTilde = hTilde;
        }
    }

    public GruAttentionSeq2Seq(Seq2SeqConfig c, SplittableRandom rng) {
        super(c);
        if (c.arch() == Arch.TRANSFORMER) throw new IllegalArgumentException("GruAttentionSeq2Seq needs a GRU arch, got " + c.arch());
        bahdanau = c.arch() == Arch.GRU_BAHDANAU;
        int e = c.dModel(), h = c.hidden(), v = c.vocabSize();
        hidden = h;
        srcEmbed = child("src_embed", new Embedding(v, e, CharVocab.PAD, rng));
        tgtEmbed = child("tgt_embed", new Embedding(v, e, CharVocab.PAD, rng));
        encoderFwd = child("encoder_fwd", new GRUCell(e, h, rng));
        if (bahdanau) {
            encoderBwd = child("encoder_bwd", new GRUCell(e, h, rng));
            bridge = child("bridge", new Linear(h, h, rng));
            decoderCell = child("decoder_cell", new GRUCell(e + 2 * h, h, rng));
            additive = child("attention", new AdditiveAttention(h, 2 * h, h, rng));
            luong = null;
            outHidden = child("out_hidden", new Linear(h + 2 * h + e, h, rng));
        } else {
            encoderBwd = null;
            bridge = null;
            decoderCell = child("decoder_cell", new GRUCell(e + h, h, rng));
            additive = null;
            luong = child("attention", new LuongAttention(LuongAttention.Score.GENERAL, h, h, h, rng));
            outHidden = child("combine", new Linear(2 * h, h, false, rng));
        }
        outProj = child("out_proj", new Linear(h, v, rng));
    }

    /** Encodes padded sources: the annotations and the decoder's initial state. */
    private State encode(NDArray ids, NDArray padding) {
        int b = ids.dim(0), s = ids.dim(1);
        Tensor emb = srcEmbed.forward(ids);                                            // [B, S, E]
        NDArray valid = ArrayOps.scalarBinary(dev.attn4j.kernels.BinaryOp.SUB, 1, padding); // [B, S], 1 = real token
        Tensor[] fwd = run(encoderFwd, emb, valid, b, s, false);
        Tensor keys, h0;
        if (bahdanau) {
            Tensor[] bwd = run(encoderBwd, emb, valid, b, s, true);
            List<Tensor> steps = new ArrayList<>(s);
            for (int t = 0; t < s; t++) steps.add(F.concat(List.of(fwd[t], bwd[t]), 1).unsqueeze(1)); // [B, 1, 2H]
            keys = F.concat(steps, 1);                                                 // [B, S, 2H]
            h0 = bridge.forward(bwd[0]).tanh();                                        // [B, H]
        } else {
            List<Tensor> steps = new ArrayList<>(s);
            for (int t = 0; t < s; t++) steps.add(fwd[t].unsqueeze(1));               // [B, 1, H]
            keys = F.concat(steps, 1);                                                 // [B, S, H]
            h0 = fwd[s - 1];                                                           // state after the last real token
        }
        Tensor hTilde = bahdanau ? null : Tensor.of(NDArray.zeros(b, hidden));         // [B, H]
        Tensor projected = bahdanau ? additive.projectKeys(keys)                      // [B, S, H]
                : F.linear(keys, luong.W.weight, null);                                // W h_s [B, S, H]
        return new State(keys, projected, padding, h0, hTilde);
    }

    /** The states of {@code cell} over the sequence; padded steps keep the previous state (zeros before any token). */
    private Tensor[] run(GRUCell cell, Tensor emb, NDArray valid, int b, int s, boolean reverse) {
        Tensor gi = F.linear(emb, cell.weightIh, cell.biasIh);                          // [B, S, 3H]
        Tensor h = Tensor.of(NDArray.zeros(b, hidden));                                 // [B, H]
        Tensor[] out = new Tensor[s];
        for (int i = 0; i < s; i++) {
            int t = reverse ? s - 1 - i : i;
            Tensor next = cell.stepFromInputGates(gi.select(1, t), h);                 // [B, H]
            h = F.where(valid.narrow(1, t, 1), next, h);                               // [B, H]
            out[t] = h;
        }
        return out;
    }

    /** One decoder step from embedded previous tokens e [N, E]: logits [N, V]; updates the state. */
    private Tensor decodeStep(State st, Tensor e) {
        if (bahdanau) {
            AttentionResult a = additive.forwardProjected(st.h, st.projectedKeys, st.keys, st.mask); // ctx [N, 2H], w [N, S]
            st.h = decoderCell.forward(F.concat(List.of(e, a.output()), 1), st.h);     // [N, H]
            st.lastWeights = a.weights();
            Tensor deep = outHidden.forward(F.concat(List.of(st.h, a.output(), e), 1)).tanh(); // [N, H]
            return outProj.forward(deep);                                              // [N, V]
        }
        st.h = decoderCell.forward(F.concat(List.of(e, st.hTilde), 1), st.h);          // [N, H]
        // "general" score h_t^T W h_s as a dot product with the keys projected once
        AttentionResult a = LuongAttention.attend(LuongAttention.Score.DOT, st.h, st.projectedKeys, st.keys, st.mask, null, null);
        st.lastWeights = a.weights();
        st.hTilde = outHidden.forward(F.concat(List.of(a.output(), st.h), 1)).tanh();  // [N, H]
        return outProj.forward(st.hTilde);                                             // [N, V]
    }

    @Override
    public Tensor forward(Batch batch) {
        State st = encode(batch.source(), batch.sourcePadding());
        Tensor emb = tgtEmbed.forward(batch.targetIn());                               // [B, T, E]
        int t = emb.dim(1);
        List<Tensor> logits = new ArrayList<>(t);
        for (int i = 0; i < t; i++) logits.add(decodeStep(st, emb.select(1, i)).unsqueeze(1)); // [B, 1, V]
        return F.concat(logits, 1);                                                    // [B, T, V]
    }

    @Override
    public State start(List<int[]> sources) {
        try (var g = GradMode.noGrad()) {
            Batch.Sources src = Batch.sources(sources);
            return encode(src.ids(), src.padding());
        }
    }

    @Override
    public float[][] step(State state, int[] tokens) {
        try (var g = GradMode.noGrad()) {
            Tensor e = tgtEmbed.forward(column(tokens)).squeeze(1);                    // [N, E]
            return logProbRows(decodeStep(state, e));                                  // [N][V]
        }
    }

    @Override
    public State select(State st, int[] rows) {
        State out = new State(rows(st.keys, rows), rows(st.projectedKeys, rows),
                rows(st.padding, rows), rows(st.h, rows),
                st.hTilde == null ? null : rows(st.hTilde, rows));
        out.lastWeights = st.lastWeights == null ? null : rows(st.lastWeights, rows);
        return out;
    }

    @Override
    public float[][][][] crossAttention(int[] source, int[] output) {
        State st = start(List.of(source));
        int steps = output.length + 1;
        float[][][][] out = new float[1][1][steps][];
        for (int t = 0; t < steps; t++) {
            step(st, new int[] {t == 0 ? CharVocab.BOS : output[t - 1]});
            out[0][0][t] = st.lastWeights.data().reshape(-1).toFloatArray();          // [S]
        }
        return out;
    }
}
