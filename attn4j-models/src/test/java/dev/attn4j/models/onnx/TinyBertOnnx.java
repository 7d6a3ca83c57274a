package dev.attn4j.models.onnx;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Test helper: a small BertModel-shaped ONNX graph in the torch.onnx export style (named biases and
 * LayerNorm/embedding parameters, Linear weights stored transposed under onnx::MatMul_N names),
 * with the HF state dict it stands for.
 */
final class TinyBertOnnx {
    final int vocab = 11, hidden = 6, heads = 3, layers = 2, inter = 10, positions = 7, types = 2;
    final Map<String, float[]> hf = new LinkedHashMap<>();      // HF key -> values, HF layout
    final Map<String, int[]> hfShape = new LinkedHashMap<>();
    final List<ProtoWriter> nodes = new ArrayList<>();
    final List<ProtoWriter> inits = new ArrayList<>();
    private final SplittableRandom rng;
    private int counter = 100;

    /** What to get wrong on purpose. */
    boolean dropQueryBias;
    boolean extraUnusedMatrix;
    boolean poolerAsGemm;
    boolean packedDims;
    boolean typedData;

    TinyBertOnnx(long seed) {
        rng = new SplittableRandom(seed);
    }

    byte[] build() {
        named("embeddings.word_embeddings.weight", vocab, hidden);
        named("embeddings.position_embeddings.weight", positions, hidden);
        named("embeddings.token_type_embeddings.weight", types, hidden);
        named("embeddings.LayerNorm.weight", hidden);
        named("embeddings.LayerNorm.bias", hidden);
        long[] ids = new long[positions];
        for (int i = 0; i < positions; i++) ids[i] = i;
        inits.add(ProtoWriter.int64Tensor("embeddings.position_ids", new long[] {1, positions}, ids));
        // LayerNorm eps: Sqrt(Add(ReduceMean, 1e-12))
        constant("/ln/eps", 1e-12f);
        nodes.add(ProtoWriter.node("/ln/Add", "Add", new String[] {"/ln/mean", "/ln/eps"}, new String[] {"/ln/add"}));
        nodes.add(ProtoWriter.node("/ln/Sqrt", "Sqrt", new String[] {"/ln/add"}, new String[] {"/ln/sqrt"}));
        String x = "/embeddings/out";
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            String q = linear(p + "attention.self.query", x, hidden, hidden, dropQueryBias && l == 0);
            String k = linear(p + "attention.self.key", x, hidden, hidden, false);
            linear(p + "attention.self.value", x, hidden, hidden, false);
            String s = "/l" + l + "/scores";
            nodes.add(ProtoWriter.node("/l" + l + "/MatMul", "MatMul", new String[] {q, k}, new String[] {s}));
            constant("/l" + l + "/scale", (float) Math.sqrt(hidden / heads));
            nodes.add(ProtoWriter.node("/l" + l + "/Div", "Div", new String[] {s, "/l" + l + "/scale"}, new String[] {s + "/div"}));
            nodes.add(ProtoWriter.node("/l" + l + "/Add", "Add", new String[] {s + "/div", "/mask"}, new String[] {s + "/masked"}));
            nodes.add(ProtoWriter.node("/l" + l + "/Softmax", "Softmax", new String[] {s + "/masked"}, new String[] {s + "/p"}));
            String a = linear(p + "attention.output.dense", s + "/p", hidden, hidden, false);
            named(p + "attention.output.LayerNorm.weight", hidden);
            named(p + "attention.output.LayerNorm.bias", hidden);
            String i = linear(p + "intermediate.dense", a, hidden, inter, false);
            nodes.add(ProtoWriter.node("/l" + l + "/Erf", "Erf", new String[] {i}, new String[] {i + "/erf"}));
            x = linear(p + "output.dense", i + "/erf", inter, hidden, false);
            named(p + "output.LayerNorm.weight", hidden);
            named(p + "output.LayerNorm.bias", hidden);
        }
        if (poolerAsGemm) {
            // Gemm(x, W[out, in], b, transB=1): the weight keeps the HF layout under a generated name.
            float[] w = random(hidden * hidden);
            hf.put("pooler.dense.weight", w);
            hfShape.put("pooler.dense.weight", new int[] {hidden, hidden});
            String wn = "onnx::Gemm_" + (counter++);
            inits.add(ProtoWriter.floatTensor(wn, new long[] {hidden, hidden}, w, typedData, packedDims));
            named("pooler.dense.bias", hidden);
            nodes.add(ProtoWriter.node("/pooler/Gemm", "Gemm", new String[] {x, wn, "pooler.dense.bias"},
                    new String[] {"/pooler/out"}, ProtoWriter.intAttr("transB", 1)));
        } else {
            linear("pooler.dense", x, hidden, hidden, false);
        }
        nodes.add(ProtoWriter.node("/pooler/Tanh", "Tanh", new String[] {"/pooler/out"}, new String[] {"/pooler/tanh"}));
        if (extraUnusedMatrix) {
            inits.add(ProtoWriter.floatTensor("onnx::MatMul_999", new long[] {3, 4}, random(12), false, false));
        }
        ProtoWriter g = new ProtoWriter();
        for (ProtoWriter n : nodes) g.message(1, n);
        g.string(2, "tiny_bert");
        for (ProtoWriter t : inits) g.message(5, t);
        g.message(11, new ProtoWriter().string(1, "input_ids"));
        g.message(12, new ProtoWriter().string(1, "last_hidden_state"));
        return ProtoWriter.model(g);
    }

    private void constant(String output, float v) {
        ProtoWriter t = ProtoWriter.floatTensor("", new long[0], new float[] {v}, false, false);
        nodes.add(ProtoWriter.node(output + "/Constant", "Constant", new String[0], new String[] {output},
                ProtoWriter.tensorAttr("value", t)));
    }

    private void named(String key, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = random(n);
        hf.put(key, v);
        hfShape.put(key, shape);
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) dims[i] = shape[i];
        inits.add(ProtoWriter.floatTensor(key, dims, v, typedData, packedDims));
    }

    /** MatMul(x, W^T [in, out]) + bias, as torch.onnx exports nn.Linear; returns the output name. */
    private String linear(String prefix, String x, int in, int out, boolean noBias) {
        float[] w = random(out * in); // HF [out, in]
        hf.put(prefix + ".weight", w);
        hfShape.put(prefix + ".weight", new int[] {out, in});
        float[] wt = new float[in * out]; // ONNX [in, out]
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) wt[i * out + o] = w[o * in + i];
        }
        String wn = "onnx::MatMul_" + (counter++);
        inits.add(ProtoWriter.floatTensor(wn, new long[] {in, out}, wt, typedData, packedDims));
        String mm = "/" + prefix.replace('.', '/') + "/MatMul_output_0";
        nodes.add(ProtoWriter.node("/" + prefix + "/MatMul", "MatMul", new String[] {x, wn}, new String[] {mm}));
        if (noBias) {
            return mm;
        }
        named(prefix + ".bias", out);
        String add = "/" + prefix.replace('.', '/') + "/Add_output_0";
        nodes.add(ProtoWriter.node("/" + prefix + "/Add", "Add", new String[] {prefix + ".bias", mm}, new String[] {add}));
        return add;
    }

    private float[] random(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rng.nextDouble() * 2 - 1);
        return v;
    }
}
