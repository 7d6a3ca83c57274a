package dev.attn4j.transformer;

import dev.attn4j.kernels.MathF;
import dev.attn4j.tensor.NDArray;
import java.util.Map;

/** Float64 references of the Transformer layers, from a state dict, one sequence at a time. */
final class Reference {
    private Reference() {
    }

    /** x [n][in] @ W^T + b with W [out, in] from the state dict (b may be absent). */
    static double[][] linear(Map<String, NDArray> sd, String w, String b, double[][] x) {
        NDArray wa = sd.get(w), ba = b == null ? null : sd.get(b);
        int out = wa.dim(0), in = wa.dim(1);
        double[][] y = new double[x.length][out];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < out; o++) {
                double s = ba == null ? 0 : ba.getDouble(o);
                for (int i = 0; i < in; i++) s += wa.getDouble(o, i) * x[r][i];
                y[r][o] = s;
            }
        }
        return y;
    }

    /** Rows [rowStart, rowStart + n) of the stacked in_proj weight, as a linear map. */
    static double[][] project(Map<String, NDArray> sd, String prefix, int part, double[][] x) {
        NDArray w = sd.get(prefix + "in_proj_weight"), b = sd.get(prefix + "in_proj_bias");
        int e = w.dim(1);
        double[][] y = new double[x.length][e];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < e; o++) {
                double s = b == null ? 0 : b.getDouble(part * e + o);
                for (int i = 0; i < e; i++) s += w.getDouble(part * e + o, i) * x[r][i];
                y[r][o] = s;
            }
        }
        return y;
    }

    /**
     * nn.MultiheadAttention for one sequence: q [L][E], kv [S][E], blocked [L][S] (true = masked
     * out, may be null). A query with every key blocked gives a zero attention output (before out_proj).
     */
    static double[][] mha(Map<String, NDArray> sd, String prefix, int heads, double[][] q, double[][] kv, boolean[][] blocked) {
        double[][] qp = project(sd, prefix, 0, q), kp = project(sd, prefix, 1, kv), vp = project(sd, prefix, 2, kv);
        int l = q.length, s = kv.length, e = qp[0].length, hd = e / heads;
        double[][] ctx = new double[l][e];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < l; i++) {
                double[] score = new double[s];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < s; j++) {
                    if (blocked != null && blocked[i][j]) {
                        score[j] = Double.NEGATIVE_INFINITY;
                        continue;
                    }
                    double d = 0;
                    for (int c = 0; c < hd; c++) d += qp[i][h * hd + c] * kp[j][h * hd + c];
                    score[j] = d / Math.sqrt(hd);
                    max = Math.max(max, score[j]);
                }
                if (max == Double.NEGATIVE_INFINITY) continue; // every key masked: zero output
                double sum = 0;
                for (int j = 0; j < s; j++) sum += score[j] = Math.exp(score[j] - max);
                for (int j = 0; j < s; j++) {
                    for (int c = 0; c < hd; c++) ctx[i][h * hd + c] += score[j] / sum * vp[j][h * hd + c];
                }
            }
        }
        return linear(sd, prefix + "out_proj.weight", prefix + "out_proj.bias", ctx);
    }

    static double[][] layerNorm(Map<String, NDArray> sd, String prefix, double eps, double[][] x) {
        NDArray w = sd.get(prefix + "weight"), b = sd.get(prefix + "bias");
        double[][] y = new double[x.length][];
        for (int r = 0; r < x.length; r++) {
            int n = x[r].length;
            double mean = 0, var = 0;
            for (double v : x[r]) mean += v;
            mean /= n;
            for (double v : x[r]) var += (v - mean) * (v - mean);
            var /= n;
            y[r] = new double[n];
            for (int c = 0; c < n; c++) {
                y[r][c] = (x[r][c] - mean) / Math.sqrt(var + eps) * (w == null ? 1 : w.getDouble(c)) + (b == null ? 0 : b.getDouble(c));
            }
        }
        return y;
    }

    static double[][] add(double[][] a, double[][] b) {
        double[][] y = new double[a.length][a[0].length];
        for (int r = 0; r < a.length; r++) for (int c = 0; c < a[0].length; c++) y[r][c] = a[r][c] + b[r][c];
        return y;
    }

    static double[][] feedForward(Map<String, NDArray> sd, String prefix, String activation, double[][] x) {
        double[][] h = linear(sd, prefix + "linear1.weight", prefix + "linear1.bias", x);
        for (double[] row : h) {
            for (int c = 0; c < row.length; c++) {
                double v = row[c];
                row[c] = activation.equals("relu") ? Math.max(v, 0) : 0.5 * v * (1 + MathF.erf(v / Math.sqrt(2)));
            }
        }
        return linear(sd, prefix + "linear2.weight", prefix + "linear2.bias", h);
    }

    /** TransformerEncoderLayer in eval mode for one sequence x [T][E]. */
    static double[][] encoderLayer(Map<String, NDArray> sd, String p, TransformerOptions o, double[][] x, boolean[][] blocked) {
        double eps = o.layerNormEps();
        if (o.normFirst()) {
            double[][] h = layerNorm(sd, p + "norm1.", eps, x);
            x = add(x, mha(sd, p + "self_attn.", o.nhead(), h, h, blocked));
            return add(x, feedForward(sd, p, o.activation(), layerNorm(sd, p + "norm2.", eps, x)));
        }
        x = layerNorm(sd, p + "norm1.", eps, add(x, mha(sd, p + "self_attn.", o.nhead(), x, x, blocked)));
        return layerNorm(sd, p + "norm2.", eps, add(x, feedForward(sd, p, o.activation(), x)));
    }

    /** TransformerDecoderLayer in eval mode for one sequence x [T][E] with memory [S][E]. */
    static double[][] decoderLayer(Map<String, NDArray> sd, String p, TransformerOptions o, double[][] x, double[][] mem,
                                   boolean[][] selfBlocked, boolean[][] crossBlocked) {
        double eps = o.layerNormEps();
        if (o.normFirst()) {
            double[][] h = layerNorm(sd, p + "norm1.", eps, x);
            x = add(x, mha(sd, p + "self_attn.", o.nhead(), h, h, selfBlocked));
            x = add(x, mha(sd, p + "multihead_attn.", o.nhead(), layerNorm(sd, p + "norm2.", eps, x), mem, crossBlocked));
            return add(x, feedForward(sd, p, o.activation(), layerNorm(sd, p + "norm3.", eps, x)));
        }
        x = layerNorm(sd, p + "norm1.", eps, add(x, mha(sd, p + "self_attn.", o.nhead(), x, x, selfBlocked)));
        x = layerNorm(sd, p + "norm2.", eps, add(x, mha(sd, p + "multihead_attn.", o.nhead(), x, mem, crossBlocked)));
        return layerNorm(sd, p + "norm3.", eps, add(x, feedForward(sd, p, o.activation(), x)));
    }
}
