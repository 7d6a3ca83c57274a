package dev.attn4j.attention;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Init;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ReadsLinearWeights;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Multi-head attention as {@code torch.nn.MultiheadAttention}, with the same constructor options,
 * forward arguments, initialisation and state-dict names, so PyTorch checkpoints load by name:
 * {@code in_proj_weight [3E, E]} (or {@code q_proj_weight [E, E]}, {@code k_proj_weight [E, kdim]},
 * {@code v_proj_weight [E, vdim]} when kdim or vdim differ from E), {@code in_proj_bias [3E]},
 * {@code bias_k}, {@code bias_v [1, 1, E]}, {@code out_proj.weight [E, E]}, {@code out_proj.bias [E]}.
 *
 * <p>Layout: query (L, N, E), key (S, N, kdim), value (S, N, vdim), or (N, L, E) etc. with
 * batch_first; unbatched (L, E) inputs too. Masks are {@link AttentionMask}s, so their polarity
 * is explicit: to port PyTorch code that passes boolean masks to this module, wrap them with
 * {@link AttentionMask#blocked} (true = masked out). attn_mask is (L, S) or (N * num_heads, L, S);
 * key_padding_mask is (N, S) or (S) unbatched.
 *
 * <p>Differences from PyTorch: {@code isCausal(true)} applies a causal mask by itself (in PyTorch
 * it is only a hint that attn_mask is causal; the result is the same when it is); a query whose
 * keys are all masked gets output from zero attention (out_proj's bias) instead of NaN.
 */
public final class MultiHeadAttention extends Module implements ReadsLinearWeights, dev.attn4j.nn.Reseedable {

    /**
     * Constructor options of nn.MultiheadAttention; {@code kdim}/{@code vdim} 0 mean embed_dim.
     */
    public record Options(int embedDim, int numHeads, double dropout, boolean bias, boolean addBiasKv, boolean addZeroAttn,
                          int kdim, int vdim, boolean batchFirst) {
        public Options {
            if (embedDim <= 0 || numHeads <= 0) {
                throw new IllegalArgumentException("MultiHeadAttention: embed_dim (" + embedDim + ") and num_heads (" + numHeads
                        + ") must be positive");
            }
            if (embedDim % numHeads != 0) {
                throw new IllegalArgumentException("MultiHeadAttention: embed_dim " + embedDim + " must be divisible by num_heads "
                        + numHeads);
            }
            if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException("dropout must be in [0, 1], got " + dropout);
            if (kdim < 0 || vdim < 0) throw new IllegalArgumentException("kdim/vdim must be positive, got " + kdim + ", " + vdim);
            if (kdim == 0) kdim = embedDim;
            if (vdim == 0) vdim = embedDim;
        }

        /** PyTorch's defaults: dropout 0, bias true, no bias_kv, no zero attn, kdim = vdim = E, (L, N, E) layout. */
        public static Options of(int embedDim, int numHeads) {
            return new Options(embedDim, numHeads, 0, true, false, false, 0, 0, false);
        }

        public Options dropout(double p) {
            return new Options(embedDim, numHeads, p, bias, addBiasKv, addZeroAttn, kdim, vdim, batchFirst);
        }

        public Options bias(boolean b) {
            return new Options(embedDim, numHeads, dropout, b, addBiasKv, addZeroAttn, kdim, vdim, batchFirst);
        }

        public Options addBiasKv(boolean b) {
            return new Options(embedDim, numHeads, dropout, bias, b, addZeroAttn, kdim, vdim, batchFirst);
        }

        public Options addZeroAttn(boolean b) {
            return new Options(embedDim, numHeads, dropout, bias, addBiasKv, b, kdim, vdim, batchFirst);
        }

        public Options kdim(int d) {
            return new Options(embedDim, numHeads, dropout, bias, addBiasKv, addZeroAttn, d, vdim, batchFirst);
        }

        public Options vdim(int d) {
            return new Options(embedDim, numHeads, dropout, bias, addBiasKv, addZeroAttn, kdim, d, batchFirst);
        }

        public Options batchFirst(boolean b) {
            return new Options(embedDim, numHeads, dropout, bias, addBiasKv, addZeroAttn, kdim, vdim, b);
        }

        /** Whether one packed in_proj_weight is used (kdim == vdim == embed_dim). */
        public boolean qkvSameEmbedDim() {
            return kdim == embedDim && vdim == embedDim;
        }

        public int headDim() {
            return embedDim / numHeads;
        }
    }

    /**
     * Optional forward arguments, PyTorch's defaults: no masks, need_weights true,
     * average_attn_weights true, is_causal false, automatic SDPA path.
     */
    public record Call(AttentionMask keyPaddingMask, boolean needWeights, AttentionMask attnMask, boolean averageAttnWeights,
                       boolean isCausal, SdpaOptions.Path path) {
        public Call {
            if (keyPaddingMask == null) keyPaddingMask = AttentionMask.none();
            if (attnMask == null) attnMask = AttentionMask.none();
            if (path == null) path = SdpaOptions.Path.AUTO;
        }

        public static Call defaults() {
            return new Call(null, true, null, true, false, SdpaOptions.Path.AUTO);
        }

        public Call keyPaddingMask(AttentionMask m) {
            return new Call(m, needWeights, attnMask, averageAttnWeights, isCausal, path);
        }

        public Call needWeights(boolean w) {
            return new Call(keyPaddingMask, w, attnMask, averageAttnWeights, isCausal, path);
        }

        public Call attnMask(AttentionMask m) {
            return new Call(keyPaddingMask, needWeights, m, averageAttnWeights, isCausal, path);
        }

        public Call averageAttnWeights(boolean a) {
            return new Call(keyPaddingMask, needWeights, attnMask, a, isCausal, path);
        }

        public Call isCausal(boolean c) {
            return new Call(keyPaddingMask, needWeights, attnMask, averageAttnWeights, c, path);
        }

        public Call path(SdpaOptions.Path p) {
            return new Call(keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal, p);
        }
    }

    /**
     * The weights the functional form reads (any dtype, all the same). Exactly one of
     * {@code inProjWeight} and the three separate projection weights is set; biases may be null.
     */
    public record Weights(Tensor inProjWeight, Tensor qProjWeight, Tensor kProjWeight, Tensor vProjWeight, Tensor inProjBias,
                          Tensor biasK, Tensor biasV, Tensor outProjWeight, Tensor outProjBias) {
    }

    public final Options options;
    /** [3E, E]; null when kdim or vdim differ from embed_dim. */
    public final Tensor inProjWeight;
    /** [E, E], [E, kdim], [E, vdim]; null when in_proj_weight is used. */
    public final Tensor qProjWeight, kProjWeight, vProjWeight;
    /** [3E]; null without bias. */
    public final Tensor inProjBias;
    /** [1, 1, E]; null without add_bias_kv. */
    public final Tensor biasK, biasV;
    public final Linear outProj;
    private SplittableRandom dropoutRng;

    public MultiHeadAttention(int embedDim, int numHeads, SplittableRandom rng) {
        this(Options.of(embedDim, numHeads), rng);
    }

    /** Creates the parameters and initialises them as PyTorch's _reset_parameters. */
    public MultiHeadAttention(Options options, SplittableRandom rng) {
        this.options = options;
        int e = options.embedDim();
        if (options.qkvSameEmbedDim()) {
            inProjWeight = parameter("in_proj_weight", Init.xavierUniform(rng, Shape.of(3 * e, e), 1));
            qProjWeight = kProjWeight = vProjWeight = null;
        } else {
            inProjWeight = null;
            qProjWeight = parameter("q_proj_weight", Init.xavierUniform(rng, Shape.of(e, e), 1));
            kProjWeight = parameter("k_proj_weight", Init.xavierUniform(rng, Shape.of(e, options.kdim()), 1));
            vProjWeight = parameter("v_proj_weight", Init.xavierUniform(rng, Shape.of(e, options.vdim()), 1));
        }
        inProjBias = options.bias() ? parameter("in_proj_bias", NDArray.zeros(3 * e)) : null;
        if (options.addBiasKv()) {
            biasK = parameter("bias_k", Init.xavierNormal(rng, Shape.of(1, 1, e), 1));
            biasV = parameter("bias_v", Init.xavierNormal(rng, Shape.of(1, 1, e), 1));
        } else {
            biasK = biasV = null;
        }
        outProj = child("out_proj", new Linear(e, e, options.bias(), rng));
        if (outProj.bias != null) outProj.bias.data().fill(0);
        dropoutRng = rng.split();
    }

    /** Replaces the generator of the attention-weight dropout (see {@link dev.attn4j.nn.Reseedable}). */
    @Override
    public void reseed(long seed) {
        dropoutRng = new SplittableRandom(seed);
    }

    /** This module's parameters as a {@link Weights} record. */
    public Weights weights() {
        return new Weights(inProjWeight, qProjWeight, kProjWeight, vProjWeight, inProjBias, biasK, biasV, outProj.weight,
                outProj.bias);
    }

    /** Forward with PyTorch's default arguments (need_weights true, averaged over heads). */
    public AttentionResult forward(Tensor query, Tensor key, Tensor value) {
        return forward(query, key, value, Call.defaults());
    }

    /** Attention output (same layout as query, last dim E) and weights ([N, L, S] averaged, [N, H, L, S] per head, or null). */
    public AttentionResult forward(Tensor query, Tensor key, Tensor value, Call call) {
        return forward(options, weights(), query, key, value, call, isTraining(), dropoutRng);
    }

    /**
     * The functional form ({@code F.multi_head_attention_forward}) with explicit weights, e.g. F64
     * tensors for gradient checks. Dropout applies to the attention weights when {@code training}.
     */
    public static AttentionResult forward(Options o, Weights w, Tensor query, Tensor key, Tensor value, Call call,
                                          boolean training, SplittableRandom rng) {
        int E = o.embedDim(), H = o.numHeads(), hd = o.headDim();
        int rank = query.rank();
        if ((rank != 2 && rank != 3) || key.rank() != rank || value.rank() != rank) {
            throw new IllegalArgumentException("MultiHeadAttention: query " + query.shape() + ", key " + key.shape() + ", value "
                    + value.shape() + " must all be 3-D (batched) or all 2-D (unbatched)");
        }
        boolean batched = rank == 3;
        // everything in (N, L, E) inside
        Tensor q = toBatchFirst(query, batched, o.batchFirst());                      // [N, L, E]
        Tensor k = toBatchFirst(key, batched, o.batchFirst());                        // [N, S, kdim]
        Tensor v = toBatchFirst(value, batched, o.batchFirst());                      // [N, S, vdim]
        int N = q.dim(0), L = q.dim(1), S = k.dim(1);
        String layout = !batched ? "(L, E)" : o.batchFirst() ? "(N, L, E)" : "(L, N, E)";
        if (q.dim(2) != E) throw new IllegalArgumentException("MultiHeadAttention: query " + query.shape() + " in layout " + layout
                + " must have embed_dim " + E + " last");
        if (k.dim(2) != o.kdim() || v.dim(2) != o.vdim()) {
            throw new IllegalArgumentException("MultiHeadAttention: key " + key.shape() + " and value " + value.shape()
                    + " must end in kdim " + o.kdim() + " and vdim " + o.vdim());
        }
        if (k.dim(0) != N || v.dim(0) != N || v.dim(1) != S) {
            throw new IllegalArgumentException("MultiHeadAttention: query " + query.shape() + ", key " + key.shape() + ", value "
                    + value.shape() + " disagree in batch size or number of keys (layout " + layout + ")");
        }
        // ---- input projections
        Tensor wq, wk, wv;
        if (w.inProjWeight() != null) {
            wq = w.inProjWeight().narrow(0, 0, E);
            wk = w.inProjWeight().narrow(0, E, E);
            wv = w.inProjWeight().narrow(0, 2 * E, E);
        } else {
            wq = w.qProjWeight();
            wk = w.kProjWeight();
            wv = w.vProjWeight();
        }
        Tensor b = w.inProjBias();
        q = F.linear(q, wq, b == null ? null : b.narrow(0, 0, E));                     // [N, L, E]
        k = F.linear(k, wk, b == null ? null : b.narrow(0, E, E));                     // [N, S, E]
        v = F.linear(v, wv, b == null ? null : b.narrow(0, 2 * E, E));                 // [N, S, E]
        int extra = 0;
        if (w.biasK() != null) {
            k = F.concat(List.of(k, w.biasK().expand(N, 1, E)), 1);                   // [N, S+1, E]
            v = F.concat(List.of(v, w.biasV().expand(N, 1, E)), 1);                   // [N, S+1, E]
            extra++;
        }
        // ---- split heads
        int sk = k.dim(1);
        q = q.reshape(N, L, H, hd).transpose(1, 2);                                   // [N, H, L, hd]
        k = k.reshape(N, sk, H, hd).transpose(1, 2);                                  // [N, H, S', hd]
        v = v.reshape(N, sk, H, hd).transpose(1, 2);                                  // [N, H, S', hd]
        if (o.addZeroAttn()) {
            Tensor zeros = Tensor.of(NDArray.zeros(q.dtype(), Shape.of(N, H, 1, hd)));
            k = F.concat(List.of(k, zeros), 2);                                        // [N, H, S'+1, hd]
            v = F.concat(List.of(v, zeros), 2);                                        // [N, H, S'+1, hd]
            extra++;
        }
        // ---- masks
        AttentionMask attn = call.attnMask().splitBatchHeads(N, H, L, S);             // [L, S] or [N, H, L, S]
        if (call.isCausal()) attn = attn.and(AttentionMask.causal());
        AttentionMask kpm = call.keyPaddingMask();
        if (!kpm.isEmpty() && !batched) kpm = kpm.unsqueezeUnbatched(S);               // [S] -> [1, S]
        if (!kpm.isEmpty()) kpm.asKeyPadding(4).checkFits("key_padding_mask (N, S) as [N, 1, 1, S]", Shape.of(N, H, L, S));
        if (extra > 0) {
            attn = attn.appendAllowedKeys(extra, L, S);                                // [..., S + extra]
            kpm = kpm.appendAllowedKeys(extra, L, S);                                  // [N, S + extra]
        }
        SdpaOptions so = SdpaOptions.defaults().mask(attn).keyPaddingMask(kpm).needWeights(call.needWeights())
                .path(call.path()).training(training).dropout(o.dropout(), rng);
        AttentionResult r = Attention.scaledDotProduct(q, k, v, so);                   // out [N, H, L, hd], w [N, H, L, S'']
        Tensor out = r.output().transpose(1, 2).reshape(N, L, E);                      // [N, L, E]
        out = F.linear(out, w.outProjWeight(), w.outProjBias());                       // [N, L, E]
        Tensor weights = r.weights();
        if (weights != null && call.averageAttnWeights()) weights = weights.mean(1, false); // [N, L, S'']
        if (!batched) {
            out = out.squeeze(0);                                                      // [L, E]
            if (weights != null) weights = weights.squeeze(0);                         // [L, S''] or [H, L, S'']
        } else if (!o.batchFirst()) {
            out = out.transpose(0, 1);                                                 // [L, N, E]
        }
        return new AttentionResult(out, weights);
    }

    /**
     * Keys and values already projected by k/v in_proj and split into heads, [N, H, S, head_dim]
     * each: what incremental decoding caches (see {@link #projectKeyValue} and {@link #attendProjected}).
     */
    public record ProjectedKeyValue(Tensor keys, Tensor values) {
        public ProjectedKeyValue {
            if (keys == null || values == null || keys.rank() != 4 || !keys.shape().equals(values.shape())) {
                throw new IllegalArgumentException("ProjectedKeyValue: keys and values must both be [N, H, S, head_dim], got "
                        + (keys == null ? null : keys.shape()) + " and " + (values == null ? null : values.shape()));
            }
        }

        /** Number of cached key positions S. */
        public int length() {
            return keys.dim(2);
        }

        /** This cache followed by {@code more} along the key positions: [N, H, S + S', hd]. */
        public ProjectedKeyValue append(ProjectedKeyValue more) {
            return new ProjectedKeyValue(F.concat(List.of(keys, more.keys), 2), F.concat(List.of(values, more.values), 2));
        }
    }

    /**
     * Projects {@code key} and {@code value} (batched, in this module's layout: [N, S, kdim] with
     * batch_first, else [S, N, kdim]) with the key/value input projections and splits heads:
     * [N, H, S, head_dim] each. Not available with add_bias_kv or add_zero_attn.
     */
    public ProjectedKeyValue projectKeyValue(Tensor key, Tensor value) {
        checkIncremental("projectKeyValue");
        if (key.rank() != 3 || value.rank() != 3) {
            throw new IllegalArgumentException("projectKeyValue: key " + key.shape() + " and value " + value.shape()
                    + " must be batched (3-D)");
        }
        int e = options.embedDim(), h = options.numHeads(), hd = options.headDim();
        Tensor k = toBatchFirst(key, true, options.batchFirst());                      // [N, S, kdim]
        Tensor v = toBatchFirst(value, true, options.batchFirst());                    // [N, S, vdim]
        if (k.dim(2) != options.kdim() || v.dim(2) != options.vdim() || k.dim(0) != v.dim(0) || k.dim(1) != v.dim(1)) {
            throw new IllegalArgumentException("projectKeyValue: key " + key.shape() + " and value " + value.shape()
                    + " must agree in batch and length and end in kdim " + options.kdim() + " / vdim " + options.vdim());
        }
        int n = k.dim(0), s = k.dim(1);
        Tensor wk = inProjWeight != null ? inProjWeight.narrow(0, e, e) : kProjWeight;
        Tensor wv = inProjWeight != null ? inProjWeight.narrow(0, 2 * e, e) : vProjWeight;
        k = F.linear(k, wk, inProjBias == null ? null : inProjBias.narrow(0, e, e));     // [N, S, E]
        v = F.linear(v, wv, inProjBias == null ? null : inProjBias.narrow(0, 2 * e, e)); // [N, S, E]
        return new ProjectedKeyValue(k.reshape(n, s, h, hd).transpose(1, 2),            // [N, H, S, hd]
                v.reshape(n, s, h, hd).transpose(1, 2));                                 // [N, H, S, hd]
    }

    /**
     * Attention of {@code query} (batched, this module's layout, [N, L, E] with batch_first) over
     * keys and values projected earlier by {@link #projectKeyValue}: the same result as
     * {@link #forward} on the original key and value with the same masks. {@code attnMask} is
     * [L, S] (or [N * H, L, S]); {@code keyPaddingMask} [N, S]. With {@code needWeights} the
     * result carries the weights per head, [N, H, L, S]. Dropout applies when training.
     */
    public AttentionResult attendProjected(Tensor query, ProjectedKeyValue kv, AttentionMask attnMask, AttentionMask keyPaddingMask,
                                           boolean needWeights) {
        checkIncremental("attendProjected");
        if (query.rank() != 3) throw new IllegalArgumentException("attendProjected: query must be batched (3-D), got " + query.shape());
        int e = options.embedDim(), h = options.numHeads(), hd = options.headDim();
        Tensor q = toBatchFirst(query, true, options.batchFirst());                    // [N, L, E]
        int n = q.dim(0), l = q.dim(1), s = kv.length();
        if (q.dim(2) != e || kv.keys().dim(0) != n || kv.keys().dim(1) != h || kv.keys().dim(3) != hd) {
            throw new IllegalArgumentException("attendProjected: query " + query.shape() + " does not fit projected keys "
                    + kv.keys().shape() + " (expected query [.., " + e + "] and keys [" + n + ", " + h + ", S, " + hd + "])");
        }
        Tensor wq = inProjWeight != null ? inProjWeight.narrow(0, 0, e) : qProjWeight;
        q = F.linear(q, wq, inProjBias == null ? null : inProjBias.narrow(0, 0, e));   // [N, L, E]
        q = q.reshape(n, l, h, hd).transpose(1, 2);                                    // [N, H, L, hd]
        AttentionMask attn = attnMask == null ? AttentionMask.none() : attnMask.splitBatchHeads(n, h, l, s);
        AttentionMask kpm = keyPaddingMask == null ? AttentionMask.none() : keyPaddingMask;
        SdpaOptions so = SdpaOptions.defaults().mask(attn).keyPaddingMask(kpm).needWeights(needWeights)
                .training(isTraining()).dropout(options.dropout(), dropoutRng);
        AttentionResult r = Attention.scaledDotProduct(q, kv.keys(), kv.values(), so); // out [N, H, L, hd]
        Tensor out = r.output().transpose(1, 2).reshape(n, l, e);                      // [N, L, E]
        out = F.linear(out, outProj.weight, outProj.bias);                             // [N, L, E]
        if (!options.batchFirst()) out = out.transpose(0, 1);                          // [L, N, E]
        return new AttentionResult(out, r.weights());                                  // weights [N, H, L, S] or null
    }

    private void checkIncremental(String what) {
        if (options.addBiasKv() || options.addZeroAttn()) {
            throw new IllegalArgumentException(what + ": not supported with add_bias_kv or add_zero_attn");
        }
    }

    private static Tensor toBatchFirst(Tensor x, boolean batched, boolean batchFirst) {
        if (!batched) return x.unsqueeze(0);                                           // [1, L, E]
        return batchFirst ? x : x.transpose(0, 1);                                     // [N, L, E]
    }
}
