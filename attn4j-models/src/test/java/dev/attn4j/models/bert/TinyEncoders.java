package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.io.safetensors.SafetensorsWriter;
import dev.attn4j.nn.StateDicts;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Test support: random-weight BERT / RoBERTa / DistilBERT checkpoints written in Hugging Face
 * layout, and a float64 reference forward pass written from the paper / transformers' code
 * (naive loops, nothing shared with the library).
 */
final class TinyEncoders {
    private TinyEncoders() {
    }

    /** Odd sizes: C = 15 with 3 heads of 5, I = 23, 2 layers. */
    static BertConfig config(String type) {
        boolean distil = type.equals("distilbert");
        boolean roberta = type.equals("roberta") || type.equals("xlm-roberta");
        return new BertConfig(type, 41, 15, 2, 3, 23, "gelu", 0.1, 0.1, roberta ? 36 : 33, distil ? 0 : roberta ? 1 : 2,
                1e-12, roberta ? 1 : 0, 0.02);
    }

    /** Random weights under transformers' key names (no prefix), with a pooler for BERT-style types when asked. */
    static Map<String, NDArray> weights(BertConfig c, boolean pooler, SplittableRandom rng) {
        Map<String, NDArray> w = new LinkedHashMap<>();
        int h = c.hiddenSize(), in = c.intermediateSize();
        boolean distil = c.family() == BertConfig.Family.DISTILBERT;
        w.put("embeddings.word_embeddings.weight", normal(rng, 0.6, c.vocabSize(), h));
        w.put("embeddings.position_embeddings.weight", normal(rng, 0.6, c.maxPositionEmbeddings(), h));
        if (!distil) w.put("embeddings.token_type_embeddings.weight", normal(rng, 0.6, c.typeVocabSize(), h));
        layerNorm(w, "embeddings.LayerNorm", h, rng);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            if (distil) {
                String p = "transformer.layer." + l + ".";
                for (String n : List.of("q_lin", "k_lin", "v_lin", "out_lin")) linear(w, p + "attention." + n, h, h, rng);
                layerNorm(w, p + "sa_layer_norm", h, rng);
                linear(w, p + "ffn.lin1", h, in, rng);
                linear(w, p + "ffn.lin2", in, h, rng);
                layerNorm(w, p + "output_layer_norm", h, rng);
            } else {
                String p = "encoder.layer." + l + ".";
                for (String n : List.of("query", "key", "value")) linear(w, p + "attention.self." + n, h, h, rng);
                linear(w, p + "attention.output.dense", h, h, rng);
                layerNorm(w, p + "attention.output.LayerNorm", h, rng);
                linear(w, p + "intermediate.dense", h, in, rng);
                linear(w, p + "output.dense", in, h, rng);
                layerNorm(w, p + "output.LayerNorm", h, rng);
            }
        }
        if (pooler && !distil) linear(w, "pooler.dense", h, h, rng);
        return w;
    }

    static NDArray normal(SplittableRandom rng, double std, int... shape) {
        return NDArray.normal(rng, Shape.of(shape), 0, std);
    }

    private static void linear(Map<String, NDArray> w, String name, int in, int out, SplittableRandom rng) {
        w.put(name + ".weight", normal(rng, 1.2 / Math.sqrt(in), out, in));
        w.put(name + ".bias", normal(rng, 0.1, out));
    }

    private static void layerNorm(Map<String, NDArray> w, String name, int dim, SplittableRandom rng) {
        NDArray g = normal(rng, 0.2, dim);
        for (int i = 0; i < dim; i++) g.set(g.getDouble(i) + 1, i);
        w.put(name + ".weight", g);
        w.put(name + ".bias", normal(rng, 0.1, dim));
    }

    /** Writes config.json and model.safetensors (keys prefixed with {@code prefix}) into {@code dir}. */
    static Path write(Path dir, BertConfig c, Map<String, NDArray> weights, String prefix, SafetensorsDType dtype)
            throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), JsonMapper.builder().build().writerWithDefaultPrettyPrinter()
                .writeValueAsString(c.toJson()));
        Map<String, NDArray> prefixed = new LinkedHashMap<>();
        weights.forEach((k, v) -> prefixed.put(prefix + k, v));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), prefixed, Map.of("format", "pt"), dtype);
        return dir;
    }

    /** The weights as stored (after dtype rounding), unprefixed. */
    static Map<String, double[]> readBack(Path dir, String prefix) throws IOException {
        Map<String, double[]> out = new LinkedHashMap<>();
        StateDicts.read(dir.resolve("model.safetensors")).forEach((k, v) -> {
            if (k.startsWith(prefix)) out.put(k.substring(prefix.length()), v.toDoubleArray());
        });
        return out;
    }

    /** Random ids in [lo, vocab) for rows of the given real lengths, right-padded with {@code pad}. */
    static EncoderInput batch(SplittableRandom rng, BertConfig c, int[] lengths, boolean types) {
        List<int[]> ids = new ArrayList<>(), ty = types ? new ArrayList<>() : null;
        for (int len : lengths) {
            int[] s = new int[len], t = new int[len];
            for (int i = 0; i < len; i++) {
                s[i] = 2 + rng.nextInt(c.vocabSize() - 2);
                t[i] = c.typeVocabSize() > 1 && i >= len / 2 ? 1 : 0;
            }
            ids.add(s);
            if (ty != null) ty.add(t);
        }
        return EncoderInput.padded(ids, ty, c.padTokenId());
    }

    /** Reference outputs: hidden states (L + 1) [B][T][C], attention probabilities per layer [B][H][T][T], pooler [B][C]. */
    record Ref(List<double[][][]> hidden, List<double[][][][]> attn, double[][] pooled) {
    }

    static Ref forward(BertConfig c, Map<String, double[]> w, EncoderInput in) {
        boolean distil = c.family() == BertConfig.Family.DISTILBERT, roberta = c.family() == BertConfig.Family.ROBERTA;
        int bsz = in.batchSize(), t = in.length(), h = c.hiddenSize(), nh = c.numAttentionHeads(), d = h / nh;
        double eps = c.layerNormEps();
        double[][][] x = new double[bsz][t][h];
        for (int b = 0; b < bsz; b++) {
            int count = 0;
            for (int i = 0; i < t; i++) {
                int id = in.inputIds()[b][i];
                int pos = i;
                if (roberta) {
                    if (id != c.padTokenId()) count++;
                    pos = id != c.padTokenId() ? c.padTokenId() + count : c.padTokenId();
                }
                int type = in.tokenTypeIds() == null ? 0 : in.tokenTypeIds()[b][i];
                for (int j = 0; j < h; j++) {
                    double v = w.get("embeddings.word_embeddings.weight")[id * h + j]
                            + w.get("embeddings.position_embeddings.weight")[pos * h + j];
                    if (!distil) v += w.get("embeddings.token_type_embeddings.weight")[type * h + j];
                    x[b][i][j] = v;
                }
                x[b][i] = layerNorm(x[b][i], w.get("embeddings.LayerNorm.weight"), w.get("embeddings.LayerNorm.bias"), eps);
            }
        }
        List<double[][][]> hidden = new ArrayList<>();
        List<double[][][][]> attn = new ArrayList<>();
        hidden.add(x);
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = (distil ? "transformer.layer." : "encoder.layer.") + l + ".";
            String q = p + (distil ? "attention.q_lin" : "attention.self.query");
            String k = p + (distil ? "attention.k_lin" : "attention.self.key");
            String v = p + (distil ? "attention.v_lin" : "attention.self.value");
            String o = p + (distil ? "attention.out_lin" : "attention.output.dense");
            String ln1 = p + (distil ? "sa_layer_norm" : "attention.output.LayerNorm");
            String f1 = p + (distil ? "ffn.lin1" : "intermediate.dense");
            String f2 = p + (distil ? "ffn.lin2" : "output.dense");
            String ln2 = p + (distil ? "output_layer_norm" : "output.LayerNorm");
            double[][][] y = new double[bsz][t][];
            double[][][][] probs = new double[bsz][nh][t][t];
            for (int b = 0; b < bsz; b++) {
                double[][] qs = new double[t][], ks = new double[t][], vs = new double[t][];
                for (int i = 0; i < t; i++) {
                    qs[i] = affine(w, q, x[b][i]);
                    ks[i] = affine(w, k, x[b][i]);
                    vs[i] = affine(w, v, x[b][i]);
                }
                for (int i = 0; i < t; i++) {
                    double[] ctx = new double[h];
                    for (int hd = 0; hd < nh; hd++) {
                        double[] s = new double[t];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < t; j++) {
                            if (in.attentionMask() != null && in.attentionMask()[b][j] == 0) {
                                s[j] = Double.NEGATIVE_INFINITY;
                                continue;
                            }
                            double dot = 0;
                            for (int e = 0; e < d; e++) dot += qs[i][hd * d + e] * ks[j][hd * d + e];
                            s[j] = dot / Math.sqrt(d);
                            max = Math.max(max, s[j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < t; j++) sum += s[j] = Math.exp(s[j] - max);
                        for (int j = 0; j < t; j++) {
                            probs[b][hd][i][j] = s[j] / sum;
                            for (int e = 0; e < d; e++) ctx[hd * d + e] += probs[b][hd][i][j] * vs[j][hd * d + e];
                        }
                    }
                    double[] a = affine(w, o, ctx);
                    for (int j = 0; j < h; j++) a[j] += x[b][i][j];
                    double[] hh = layerNorm(a, w.get(ln1 + ".weight"), w.get(ln1 + ".bias"), eps);
                    double[] mid = affine(w, f1, hh);
                    for (int j = 0; j < mid.length; j++) mid[j] = 0.5 * mid[j] * (1 + erf(mid[j] / Math.sqrt(2)));
                    double[] out = affine(w, f2, mid);
                    for (int j = 0; j < h; j++) out[j] += hh[j];
                    y[b][i] = layerNorm(out, w.get(ln2 + ".weight"), w.get(ln2 + ".bias"), eps);
                }
            }
            x = y;
            hidden.add(x);
            attn.add(probs);
        }
        double[][] pooled = null;
        if (w.containsKey("pooler.dense.weight")) {
            pooled = new double[bsz][];
            for (int b = 0; b < bsz; b++) {
                pooled[b] = affine(w, "pooler.dense", x[b][0]);
                for (int j = 0; j < h; j++) pooled[b][j] = Math.tanh(pooled[b][j]);
            }
        }
        return new Ref(hidden, attn, pooled);
    }

    /** W x + b with W [out, in] row-major. */
    static double[] affine(Map<String, double[]> w, String name, double[] x) {
        double[] wt = w.get(name + ".weight"), bias = w.get(name + ".bias");
        int out = bias.length, in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = bias[o];
            for (int i = 0; i < in; i++) s += wt[o * in + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    static double[] layerNorm(double[] x, double[] g, double[] b, double eps) {
        double mean = 0, var = 0;
        for (double v : x) mean += v;
        mean /= x.length;
        for (double v : x) var += (v - mean) * (v - mean);
        var /= x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (x[i] - mean) / Math.sqrt(var + eps) * g[i] + b[i];
        return y;
    }

    /** erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7). */
    static double erf(double x) {
        double s = Math.signum(x), a = Math.abs(x);
        double t = 1 / (1 + 0.3275911 * a);
        double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
                * Math.exp(-a * a);
        return s * y;
    }
}
