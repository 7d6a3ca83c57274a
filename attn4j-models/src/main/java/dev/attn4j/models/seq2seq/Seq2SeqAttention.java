package dev.attn4j.models.seq2seq;

import dev.attn4j.attention.Attention;
import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.AttentionResult;
import dev.attn4j.attention.SdpaOptions;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.models.decoder.DecoderCache;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.tensor.NDArray;

import java.util.List;

/**
 * The attention of the encoder-decoder families, one module for self-attention (encoder and
 * decoder) and cross-attention: query, key, value and output projections under the family's names
 * ({@link Names#BART}: {@code q_proj}, {@code k_proj}, {@code v_proj}, {@code out_proj} with biases,
 * transformers' {@code BartAttention} / {@code MarianAttention} / {@code MBartAttention};
 * {@link Names#T5}: {@code q}, {@code k}, {@code v}, {@code o} without, {@code T5Attention}), H heads
 * of D (T5's {@code d_kv}; H D may differ from the model width), scores scaled by {@code scale}
 * (D^-0.5 for BART, 1 for T5), and T5's {@code relative_attention_bias} table when the layer owns one.
 *
 * <p>In no-grad inference the projections that read the same input run as one GEMM (their weights
 * side by side, {@link Params#fusedLinears}): q, k, v of self-attention; k, v of cross-attention
 * over the encoder output, projected once per source and kept in the {@link Seq2SeqCache}.
 */
public final class Seq2SeqAttention extends Module {
    /** The projections' state-dict names. */
    public record Names(String q, String k, String v, String o) {
        public static final Names BART = new Names("q_proj", "k_proj", "v_proj", "out_proj");
        public static final Names T5 = new Names("q", "k", "v", "o");
    }

    public final Linear qProj;
    public final Linear kProj;
    public final Linear vProj;
    public final Linear outProj;
    /** T5's [num_buckets, H] table (the first layer of each stack), else null. */
    public final Embedding relativeAttentionBias;
    public final int heads;
    public final int headDim;
    public final double scale;
    private final List<Linear> qkv;

    /**
     * @param dModel the model width C (input and output)
     * @param bias   whether the projections have biases
     * @param relativeBuckets T5: the number of relative position buckets when this layer owns the table, else 0
     */
    public Seq2SeqAttention(Params p, Names names, int dModel, int heads, int headDim, boolean bias, double scale,
                            int relativeBuckets) {
        this.heads = heads;
        this.headDim = headDim;
        this.scale = scale;
        int inner = heads * headDim;
        // registration order = transformers' state_dict order
        this.qkv = p.fusedLinears(dModel, inner, bias, names.q(), names.k(), names.v());
        if (names.equals(Names.BART)) {                                               // BartAttention: k, v, q, out
            this.kProj = child(names.k(), qkv.get(1));
            this.vProj = child(names.v(), qkv.get(2));
            this.qProj = child(names.q(), qkv.get(0));
        } else {
            this.qProj = child(names.q(), qkv.get(0));
            this.kProj = child(names.k(), qkv.get(1));
            this.vProj = child(names.v(), qkv.get(2));
        }
        this.outProj = child(names.o(), p.linear(names.o(), inner, dModel, bias));
        this.relativeAttentionBias = relativeBuckets > 0
                ? child("relative_attention_bias", p.embedding("relative_attention_bias", relativeBuckets, heads, null)) : null;
    }

    /**
     * The projections {@code from .. to - 1} of (q, k, v) of x [B, T, C], each [B, T, H D]: in no-grad
     * inference with the weights side by side one GEMM and views of its output, else one linear each.
     */
    private Tensor[] project(Tensor x, int from, int to) {
        Tensor[] out = new Tensor[to - from];
        NDArray[] joined = GradMode.isEnabled() || isTraining() || hasLora() ? null : Params.joined(qkv, from, to);
        if (joined == null) {
            for (int i = from; i < to; i++) out[i - from] = qkv.get(i).forward(x);
            return out;
        }
        int inner = heads * headDim;
        Tensor all = F.linear(x, Tensor.of(joined[0]), joined[1] == null ? null : Tensor.of(joined[1]));   // [B, T, n H D]
        for (int i = 0; i < out.length; i++) out[i] = all.narrow(-1, i * inner, inner);                   // [B, T, H D]
        return out;
    }

    private boolean hasLora() {
        for (Linear l : qkv) if (l.lora() != null) return true;
        return false;
    }

    /** [B, L, H D] -> [B, H, L, D]. */
    private Tensor split(Tensor t) {
        return t.reshape(t.dim(0), t.dim(1), heads, headDim).transpose(1, 2);
    }

    /** [B, H, L, D] -> [B, L, C] through the output projection. */
    private Tensor merge(Tensor t) {
        int b = t.dim(0), l = t.dim(2);
        return outProj.forward(t.transpose(1, 2).reshape(b, l, heads * headDim));
    }

    private AttentionResult attend(Tensor q, Tensor k, Tensor v, AttentionMask mask, AttentionMask keyPadding, boolean needWeights) {
        SdpaOptions o = SdpaOptions.defaults().scale(scale).mask(mask).keyPaddingMask(keyPadding).needWeights(needWeights);
        return Attention.scaledDotProduct(q, k, v, o);                              // out [B, H, L, D], w [B, H, L, S]
    }

    /**
     * Encoder self-attention: x [B, T, C] -> [B, T, C] and, when asked for, the weights [B, H, T, T].
     *
     * @param mask       on the scores (T5's position bias), or none
     * @param keyPadding [B, T] padding of the keys, or none
     */
    public AttentionResult forward(Tensor x, AttentionMask mask, AttentionMask keyPadding, boolean needWeights) {
        Tensor[] p = project(x, 0, 3);
        AttentionResult r = attend(split(p[0]), split(p[1]), split(p[2]), mask, keyPadding, needWeights);
        return new AttentionResult(merge(r.output()), r.weights());
    }

    /**
     * Decoder self-attention of x [R, T, C] at positions {@code cache.length() ..}: the new keys and
     * values join layer {@code layer} of {@code cache}; each query sees the positions up to its own.
     *
     * @param mask on the scores over all past + T keys, causal part included (T5's position bias);
     *             null: the causal mask alone
     */
    public AttentionResult forwardCached(Tensor x, DecoderCache cache, int layer, AttentionMask mask, boolean needWeights) {
        int t = x.dim(1), past = cache.length();
        Tensor[] p = project(x, 0, 3);
        Tensor q = split(p[0]), k = split(p[1]), v = split(p[2]);                   // [R, H, T, D]
        NDArray[] kv = cache.append(layer, k.data(), v.data());                     // [R, H, past + T, D]
        if (past > 0) {                                                             // (past 0: k and v themselves keep the graph)
            k = Tensor.of(kv[0]);
            v = Tensor.of(kv[1]);
        }
        if (mask == null) mask = t == 1 ? AttentionMask.none() : AttentionMask.causalBottomRight();
        AttentionResult r = attend(q, k, v, mask, AttentionMask.none(), needWeights);
        return new AttentionResult(merge(r.output()), r.weights());
    }

    /**
     * Cross-attention of x [R, T, C] over the encoder output of each row's source ({@code cache}'s
     * memory); keys and values are projected on first use and kept. Rows grouped m per source run as
     * one attention per source with m T queries. Weights [R, H, T, S] when asked for.
     */
    public AttentionResult forwardCross(Tensor x, Seq2SeqCache cache, int layer, boolean needWeights) {
        Seq2SeqCache.Memory mem = cache.memory;
        if (mem.keys[layer] == null) {
            Tensor[] kv = project(mem.hidden, 1, 3);                                // [N, S, H D] each
            mem.keys[layer] = split(kv[0]).contiguous();                            // [N, H, S, D]
            mem.values[layer] = split(kv[1]).contiguous();                          // [N, H, S, D]
        }
        int r = x.dim(0), t = x.dim(1), n = mem.sources(), m = cache.group, s = mem.length();
        Tensor q = split(project(x, 0, 1)[0]);                                      // [R, H, T, D]
        if (m > 1) {                                                                // [N, H, m T, D]
            q = q.reshape(n, m, heads, t, headDim).permute(0, 2, 1, 3, 4).reshape(n, heads, m * t, headDim);
        }
        AttentionMask padding = mem.padding == null ? AttentionMask.none() : AttentionMask.blocked(mem.padding);   // [N, S]
        AttentionResult a = attend(q, mem.keys[layer], mem.values[layer], AttentionMask.none(), padding, needWeights);
        Tensor out = a.output(), w = a.weights();                                   // [N, H, m T, D], [N, H, m T, S]
        if (m > 1) {
            out = out.reshape(n, heads, m, t, headDim).permute(0, 2, 1, 3, 4).reshape(r, heads, t, headDim);   // [R, H, T, D]
            if (w != null) w = w.reshape(n, heads, m, t, s).permute(0, 2, 1, 3, 4).reshape(r, heads, t, s); // [R, H, T, S]
        }
        return new AttentionResult(merge(out), w);
    }
}
