package dev.attn4j.attention;

import dev.attn4j.tensor.NDArray;

/**
 * Independent float64 reference for tests: plain loops over q [B, H, L, E], k [B, Hk, S, E],
 * v [B, Hk, S, Ev] (query head h reads kv head h / (H / Hk)) with a full additive mask
 * [B, H, L, S] (null for none). Rows whose scores are all -infinity give weights and output 0.
 */
final class NaiveAttention {
    final double[] out;      // [B, H, L, Ev]
    final double[] weights;  // [B, H, L, S]

    NaiveAttention(NDArray q, NDArray k, NDArray v, double[] mask, double scale) {
        int B = q.dim(0), H = q.dim(1), L = q.dim(2), E = q.dim(3), Hk = k.dim(1), S = k.dim(2), Ev = v.dim(3);
        int g = H / Hk;
        out = new double[B * H * L * Ev];
        weights = new double[B * H * L * S];
        double[] row = new double[S];
        for (int b = 0; b < B; b++) {
            for (int h = 0; h < H; h++) {
                int hk = h / g;
                for (int i = 0; i < L; i++) {
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < S; j++) {
                        double s = 0;
                        for (int e = 0; e < E; e++) s += q.getDouble(b, h, i, e) * k.getDouble(b, hk, j, e);
                        s *= scale;
                        if (mask != null) s += mask[((b * H + h) * L + i) * S + j];
                        row[j] = s;
                        mx = Math.max(mx, s);
                    }
                    int wBase = ((b * H + h) * L + i) * S;
                    if (mx == Double.NEGATIVE_INFINITY) continue;     // every key masked: zeros
                    double sum = 0;
                    for (int j = 0; j < S; j++) sum += row[j] = Math.exp(row[j] - mx);
                    for (int j = 0; j < S; j++) weights[wBase + j] = row[j] / sum;
                    int oBase = ((b * H + h) * L + i) * Ev;
                    for (int j = 0; j < S; j++) {
                        double w = weights[wBase + j];
                        for (int e = 0; e < Ev; e++) out[oBase + e] += w * v.getDouble(b, hk, j, e);
                    }
                }
            }
        }
    }
}
