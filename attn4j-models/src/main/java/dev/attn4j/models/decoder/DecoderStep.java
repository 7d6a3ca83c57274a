package dev.attn4j.models.decoder;

import dev.attn4j.attention.Attention;
import dev.attn4j.attention.AttentionMask;
import dev.attn4j.attention.AttentionResult;
import dev.attn4j.attention.SdpaOptions;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.transformer.RotaryEmbedding;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What every layer of one forward shares: the batch's attention masks (causal, padding and, per
 * window size, sliding window), the rotary cos and sin at the position ids, and the cache the
 * new keys and values go to. Built once per forward by {@link CausalDecoder}.
 */
public final class DecoderStep {
    final int batch;
    final int steps;
    final int past;
    /** 1 = real token, per row over past + steps positions; null: all real. */
    private final int[][] mask;
    private final DecoderCache cache;
    private final DecoderConfig config;
    /** cos and sin [B, 1, T, rotary dim] (attention scaling applied), or null without rotary positions. */
    private final Tensor cos;
    private final Tensor sin;
    private final Map<Integer, AttentionMask> masks = new HashMap<>();

    DecoderStep(DecoderConfig config, int batch, int steps, int past, int[][] mask, int[][] positionIds, DecoderCache cache) {
        this.config = config;
        this.batch = batch;
        this.steps = steps;
        this.past = past;
        this.mask = mask;
        this.cache = cache;
        RopeConfig rope = config.rope();
        if (rope == null) {
            cos = sin = null;
            return;
        }
        int maxPos = 0;
        for (int[] row : positionIds) for (int p : row) maxPos = Math.max(maxPos, p);
        double[] inv = rope.invFreq(maxPos + 1);
        double scaling = rope.attentionScaling();
        int rd = rope.dim(), half = rd / 2;
        float[] c = new float[batch * steps * rd], s = new float[batch * steps * rd];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < steps; t++) {
                int base = (b * steps + t) * rd;
                for (int j = 0; j < rd; j++) {
                    double a = (double) (float) ((float) positionIds[b][t] * (float) inv[j % half]);  // float32 angle, as HF
                    c[base + j] = (float) (Math.cos(a) * scaling);
                    s[base + j] = (float) (Math.sin(a) * scaling);
                }
            }
        }
        cos = Tensor.of(NDArray.of(c, batch, 1, steps, rd));                       // [B, 1, T, rd]
        sin = Tensor.of(NDArray.of(s, batch, 1, steps, rd));                       // [B, 1, T, rd]
    }

    /** Rotates q or k [B, H, T, D] by the step's positions (the first rotary dim of D; the rest passes). */
    public Tensor rotate(Tensor x) {
        if (cos == null) return x;
        int d = x.dim(-1), rd = cos.dim(-1);
        Tensor rot = rd == d ? x : x.narrow(-1, 0, rd);                              // [B, H, T, rd]
        Tensor out = rot.mul(cos).add(RotaryEmbedding.rotateHalf(rot).mul(sin));    // [B, H, T, rd]
        return rd == d ? out : F.concat(List.of(out, x.narrow(-1, rd, d - rd)), -1);
    }

    /** The mask of layers with sliding window {@code window} (0: full attention) whose keys are positions 0 .. past + T - 1. */
    private AttentionMask mask(int window) {
        return masks.computeIfAbsent(window, w -> {
            int s = past + steps;
            if (mask == null && (w == 0 || w >= s)) {
                // one new query sees every key: no mask, so the one-query whole-row kernel (Kernels.attentionHead) runs
                return steps == 1 ? AttentionMask.none() : AttentionMask.causalBottomRight();
            }
            int[] positions = new int[s];
            for (int j = 0; j < s; j++) positions[j] = j;
            return dense(w, positions);
        });
    }

    /** The mask [B, 1, T, S] for keys at absolute {@code positions} [S] under window {@code w} (0: none). */
    private AttentionMask dense(int w, int[] positions) {
        int s = positions.length;
        float[] allowed = new float[batch * steps * s];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < steps; i++) {
                int q = past + i, base = (b * steps + i) * s;
                for (int j = 0; j < s; j++) {
                    int p = positions[j];
                    boolean real = mask == null || mask[b][p] != 0;
                    if (real && p <= q && (w == 0 || p > q - w)) allowed[base + j] = 1;
                }
            }
        }
        return AttentionMask.allowed(NDArray.of(allowed, batch, 1, steps, s));     // [B, 1, T, S]
    }

    /**
     * Attention of layer {@code layer} for q [B, Hq, T, D] and the new keys and values
     * [B, Hkv, T, D]: appends k and v to the cache (when there is one) and attends over the
     * cache's past + T positions. Output [B, T, Hq D] and, when asked for, weights [B, Hq, T, S]
     * (S = past + T; for a sliding-window layer whose ring has wrapped, S = the slots held plus T,
     * in ring order).
     */
    public AttentionResult attend(int layer, Tensor q, Tensor k, Tensor v, boolean needWeights) {
        int window = config.slidingWindows()[layer];
        Tensor keys = k, values = v;
        AttentionMask m;
        if (cache == null || cache.slots(layer) >= past + steps) {               // in order: slot = position
            if (cache != null) {
                cache.keys[layer].narrow(2, past, steps).copyFrom(k.data());
                cache.values[layer].narrow(2, past, steps).copyFrom(v.data());
                keys = Tensor.of(cache.keys[layer].narrow(2, 0, past + steps));       // [B, Hkv, S, D]
                values = Tensor.of(cache.values[layer].narrow(2, 0, past + steps));   // [B, Hkv, S, D]
            }
            m = mask(window);
        } else {                                                                  // a sliding window's ring of w slots
            NDArray kc = cache.keys[layer], vc = cache.values[layer];
            int slots = kc.dim(2);
            if (steps == 1) {                                                     // decode: the new key replaces the oldest
                int slot = past % slots;
                kc.narrow(2, slot, 1).copyFrom(k.data());
                vc.narrow(2, slot, 1).copyFrom(v.data());
                int held = Math.min(past + 1, slots);
                keys = Tensor.of(kc.narrow(2, 0, held));                            // [B, Hkv, held, D]
                values = Tensor.of(vc.narrow(2, 0, held));
                m = mask == null ? AttentionMask.none() : dense(window, ringPositions(held, slots, past + 1, 0));
            } else {                                                              // several new: held slots, then the new keys
                int held = Math.min(past, slots);
                keys = F.concat(List.of(Tensor.of(kc.narrow(2, 0, held)), k), 2);   // [B, Hkv, held + T, D]
                values = F.concat(List.of(Tensor.of(vc.narrow(2, 0, held)), v), 2);
                m = dense(window, ringPositions(held, slots, past, steps));
                for (int j = Math.max(0, steps - slots); j < steps; j++) {
                    int slot = (past + j) % slots;
                    kc.narrow(2, slot, 1).copyFrom(k.data().narrow(2, j, 1));
                    vc.narrow(2, slot, 1).copyFrom(v.data().narrow(2, j, 1));
                }
            }
        }
        int hq = q.dim(1), d = q.dim(3);
        SdpaOptions o = SdpaOptions.defaults().mask(m).scale(config.attentionScale()[layer])
                .enableGqa(hq != keys.dim(1)).needWeights(needWeights);
        AttentionResult r = Attention.scaledDotProduct(q, keys, values, o);          // [B, Hq, T, D]
        Tensor out = r.output().permute(0, 2, 1, 3).reshape(batch, steps, hq * d);   // [B, T, Hq D]
        return new AttentionResult(out, r.weights());
    }

    /**
     * Absolute positions of the first {@code held} ring slots (slot s holds the latest position p &lt;
     * {@code end} with p mod slots = s), then of {@code fresh} new positions end .. end + fresh - 1.
     */
    private static int[] ringPositions(int held, int slots, int end, int fresh) {
        int[] out = new int[held + fresh];
        for (int s = 0; s < held; s++) out[s] = end - 1 - Math.floorMod(end - 1 - s, slots);
        for (int j = 0; j < fresh; j++) out[held + j] = end + j;
        return out;
    }
}
