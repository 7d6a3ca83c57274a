package dev.attn4j.models.onnx;

import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the ONNX export of a Hugging Face {@code BertModel} (as torch.onnx writes it) into a state
 * dict with HF key names plus its config values.
 *
 * <p>Initializers named like parameters ({@code embeddings.word_embeddings.weight}) are taken as
 * they are. The exporter stores each Linear weight transposed ({@code [in, out]}) under a
 * generated name ({@code onnx::MatMul_885}); such a weight is matched through the graph: the
 * MatMul reading it feeds an Add whose other input is a named bias
 * ({@code encoder.layer.0.attention.self.query.bias}), so the weight is that bias's
 * {@code .weight}, transposed back to {@code [out, in]}. Gemm nodes (weight, named bias, transB)
 * are matched the same way. Integer buffers ({@code embeddings.position_ids}, checked to be
 * 0..n-1) and unnamed integer or one-element constants are skipped. Any other initializer that
 * matches no parameter, a parameter missing for the derived sizes, or a misshapen one is an
 * {@link OnnxImportException} listing all of them.
 *
 * <p>Sizes come from the shapes. The number of heads comes from the attention score scale
 * ({@code Div} by sqrt(head_dim) before the Softmax) or the {@code [.., heads, head_dim]}
 * reshape constants; LayerNorm epsilon from the constant added before {@code Sqrt} (or a
 * LayerNormalization node's attribute); the activation from Erf / Gelu / Tanh nodes.
 */
public final class BertOnnxImporter {
    private static final Pattern LAYER_KEY = Pattern.compile("encoder\\.layer\\.(\\d+)\\..*");

    private final OnnxGraph graph;
    private final String source;
    private final Map<String, List<OnnxNode>> consumers;
    private final Map<String, OnnxNode> producers;
    private final OptionalInt headsOverride;

    private BertOnnxImporter(OnnxModel model, String source, OptionalInt headsOverride) {
        this.graph = model.graph();
        this.source = source;
        this.consumers = graph.consumers();
        this.producers = graph.producers();
        this.headsOverride = headsOverride;
    }

    /**
     * Imports {@code model}; {@code source} names it in error messages.
     *
     * @throws OnnxImportException when initializers cannot be matched to BertModel parameters or
     *                             a config value cannot be derived
     * @throws OnnxFormatException when a tensor's data is malformed
     */
    public static ImportedBert importBert(OnnxModel model, String source) throws OnnxImportException, OnnxFormatException {
        return new BertOnnxImporter(model, source, OptionalInt.empty()).run();
    }

    /** As {@link #importBert(OnnxModel, String)} with the number of attention heads given, not derived. */
    public static ImportedBert importBert(OnnxModel model, String source, int numAttentionHeads)
            throws OnnxImportException, OnnxFormatException {
        if (numAttentionHeads <= 0) {
            throw new IllegalArgumentException("numAttentionHeads must be positive, found " + numAttentionHeads);
        }
        return new BertOnnxImporter(model, source, OptionalInt.of(numAttentionHeads)).run();
    }

    /** Whether an initializer name is a parameter path chosen by the exporter from the module tree. */
    static boolean isParameterName(String name) {
        return name.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z0-9_]+)+");
    }

    private ImportedBert run() throws OnnxImportException, OnnxFormatException {
        Map<String, NDArray> state = new TreeMap<>();
        Map<String, String> origin = new LinkedHashMap<>(); // key -> initializer it came from
        List<String> skipped = new ArrayList<>();
        List<String> unmatched = new ArrayList<>();

        for (OnnxTensor t : graph.initializers().values()) {
            String name = t.name();
            if (isParameterName(name)) {
                if (name.endsWith("position_ids") || name.endsWith("token_type_ids")) {
                    if (!t.dataType().isInteger()) {
                        unmatched.add(describe(t) + ": buffer with a non-integer element type");
                        continue;
                    }
                    if (name.endsWith("position_ids")) checkArange(t);
                    skipped.add(name + " (integer buffer, not a parameter)");
                    continue;
                }
                if (!t.dataType().isFloating()) {
                    unmatched.add(describe(t) + ": parameter-like name but element type " + t.dataType());
                    continue;
                }
                put(state, origin, name, t.toNDArray(), name); // same shape as the HF parameter
                continue;
            }
            if (t.dataType().isInteger() || t.dataType() == OnnxDataType.BOOL || t.numel() <= 1) {
                skipped.add(name + " (graph constant " + t.dataType() + " " + Arrays.toString(t.dims()) + ")");
                continue;
            }
            Match m = matchLinearWeight(t);
            if (m.key == null) {
                unmatched.add(describe(t) + ": " + m.why);
                continue;
            }
            int[] d = t.intDims();
            NDArray w = NDArray.of(t.floats(), d); // [in, out] for MatMul, [out, in] for Gemm transB=1
            put(state, origin, m.key, m.transpose ? w.transpose(0, 1).contiguous() : w, name); // [out, in]
        }
        if (!unmatched.isEmpty()) {
            throw new OnnxImportException(source, unmatched.size() + " initializer(s) match no BertModel parameter: "
                    + String.join("; ", unmatched));
        }

        List<String> notes = new ArrayList<>();
        BertConfigValues config = deriveConfig(state, notes);
        checkKeys(state, origin, config);
        return new ImportedBert(config, new TreeMap<>(state), skipped, notes);
    }

    private void put(Map<String, NDArray> state, Map<String, String> origin, String key, NDArray value, String from)
            throws OnnxImportException {
        String prev = origin.putIfAbsent(key, from);
        if (prev != null) {
            throw new OnnxImportException(source, "initializers '" + prev + "' and '" + from
                    + "' both map to parameter '" + key + "'");
        }
        state.put(key, value);
    }

    private record Match(String key, boolean transpose, String why) {
    }

    /** Finds the HF key of an unnamed Linear weight through the MatMul/Gemm that reads it. */
    private Match matchLinearWeight(OnnxTensor t) {
        String name = t.name();
        if (!t.dataType().isFloating() || t.rank() != 2) {
            return new Match(null, false, "not a floating-point matrix, so not a Linear weight");
        }
        List<OnnxNode> users = consumers.getOrDefault(name, List.of());
        if (users.isEmpty()) {
            return new Match(null, false, "no node reads it");
        }
        long[] dims = t.dims();
        String key = null;
        boolean transpose = false;
        for (OnnxNode n : users) {
            String k;
            boolean tr;
            if (n.opType().equals("MatMul") && n.inputs().size() == 2 && n.inputs().get(1).equals(name)
                    && !n.inputs().get(0).equals(name)) {
                if (n.outputs().isEmpty()) return new Match(null, false, n.describe() + " reads it but has no output");
                k = biasKeyAfter(n.outputs().get(0), dims[1]);
                if (k == null) {
                    return new Match(null, false, n.describe() + " reads it, but its output feeds no Add with a named"
                            + " '.bias' initializer of length " + dims[1]);
                }
                tr = true;
            } else if (n.opType().equals("Gemm") && n.inputs().size() >= 3 && n.inputs().get(1).equals(name)) {
                OnnxAttribute transB = n.attributes().get("transB");
                OnnxAttribute transA = n.attributes().get("transA");
                if (transA != null && transA.i() != 0) {
                    return new Match(null, false, n.describe() + " reads it with transA=1");
                }
                tr = transB == null || transB.i() == 0;
                long out = tr ? dims[1] : dims[0];
                k = biasKey(n.inputs().get(2), out);
                if (k == null) {
                    return new Match(null, false, n.describe() + " reads it, but its bias input '" + n.inputs().get(2)
                            + "' is not a named '.bias' initializer of length " + out);
                }
            } else {
                int idx = n.inputs().indexOf(name);
                return new Match(null, false, n.describe() + " reads it as input " + idx
                        + ", not as the weight of a MatMul or Gemm");
            }
            if (key != null && (!key.equals(k) || tr != transpose)) {
                return new Match(null, false, "read by several nodes that point to different parameters ('" + key
                        + "' and '" + k + "')");
            }
            key = k;
            transpose = tr;
        }
        return new Match(key, transpose, null);
    }

    /** The weight key for the bias that an Add reading {@code value} adds, if there is exactly one. */
    private String biasKeyAfter(String value, long length) {
        String found = null;
        for (OnnxNode add : consumers.getOrDefault(value, List.of())) {
            if (!add.opType().equals("Add") || add.inputs().size() != 2) continue;
            String other = add.inputs().get(0).equals(value) ? add.inputs().get(1) : add.inputs().get(0);
            String k = biasKey(other, length);
            if (k != null) {
                if (found != null && !found.equals(k)) return null;
                found = k;
            }
        }
        return found;
    }

    /** {@code x.weight} when {@code name} is a rank-1 initializer {@code x.bias} of {@code length} elements. */
    private String biasKey(String name, long length) {
        OnnxTensor b = graph.initializers().get(name);
        if (b == null || !isParameterName(name) || !name.endsWith(".bias") || b.rank() != 1 || b.dims()[0] != length) {
            return null;
        }
        return name.substring(0, name.length() - ".bias".length()) + ".weight";
    }

    private void checkArange(OnnxTensor t) throws OnnxImportException, OnnxFormatException {
        long[] v = t.longs();
        long[] dims = t.dims();
        long n = dims.length == 0 ? 1 : dims[dims.length - 1];
        for (int i = 0; i < v.length; i++) {
            if (v[i] != i % n) {
                throw new OnnxImportException(source, "buffer '" + t.name() + "' " + Arrays.toString(dims)
                        + " is not 0..n-1 (element " + i + " is " + v[i] + "); such position ids are not supported");
            }
        }
    }

    private BertConfigValues deriveConfig(Map<String, NDArray> state, List<String> notes) throws OnnxImportException {
        NDArray words = require(state, "embeddings.word_embeddings.weight", 2);
        NDArray positions = require(state, "embeddings.position_embeddings.weight", 2);
        NDArray types = require(state, "embeddings.token_type_embeddings.weight", 2);
        int hidden = words.dim(1);
        int layers = 0;
        for (String k : state.keySet()) {
            Matcher m = LAYER_KEY.matcher(k);
            if (m.matches()) layers = Math.max(layers, Integer.parseInt(m.group(1)) + 1);
        }
        if (layers == 0) {
            throw new OnnxImportException(source, "no encoder.layer.N.* parameters found; not a BertModel export");
        }
        NDArray inter = require(state, "encoder.layer.0.intermediate.dense.bias", 1);

        int heads;
        if (headsOverride.isPresent()) {
            heads = headsOverride.getAsInt();
            notes.add("num_attention_heads " + heads + ": given by the caller");
        } else {
            OptionalInt fromScale = headsFromScale(hidden);
            OptionalInt fromReshape = headsFromReshape(hidden);
            if (fromScale.isPresent() && fromReshape.isPresent() && fromScale.getAsInt() != fromReshape.getAsInt()) {
                throw new OnnxImportException(source, "the attention scale says " + fromScale.getAsInt()
                        + " heads but the reshape constants say " + fromReshape.getAsInt());
            }
            if (fromScale.isPresent()) {
                heads = fromScale.getAsInt();
                notes.add("num_attention_heads " + heads + ": from the attention score scale 1/sqrt(head_dim)"
                        + (fromReshape.isPresent() ? " and the [heads, head_dim] reshape" : ""));
            } else if (fromReshape.isPresent()) {
                heads = fromReshape.getAsInt();
                notes.add("num_attention_heads " + heads + ": from the [heads, head_dim] reshape constants");
            } else {
                throw new OnnxImportException(source, "cannot tell the number of attention heads from the graph"
                        + " (no Div/Mul scale before a Softmax, no [heads, head_dim] reshape); give it explicitly");
            }
        }

        double eps;
        Double fromGraph = layerNormEps();
        if (fromGraph != null) {
            eps = fromGraph;
            notes.add("layer_norm_eps " + eps + ": from the LayerNorm graph constant");
        } else {
            eps = 1e-12;
            notes.add("layer_norm_eps 1e-12: BERT default (not visible in the graph)");
        }
        String act = activation();
        if (act != null) {
            notes.add("hidden_act " + act + ": from the activation nodes");
        } else {
            act = "gelu";
            notes.add("hidden_act gelu: BERT default (no Erf/Gelu/Tanh/Relu node seen)");
        }
        try {
            return new BertConfigValues(words.dim(0), hidden, layers, heads, inter.dim(0), positions.dim(0),
                    types.dim(0), eps, act);
        } catch (IllegalArgumentException e) {
            throw new OnnxImportException(source, e.getMessage());
        }
    }

    private NDArray require(Map<String, NDArray> state, String key, int rank) throws OnnxImportException {
        NDArray a = state.get(key);
        if (a == null) {
            throw new OnnxImportException(source, "no initializer for '" + key + "'; not a BertModel export");
        }
        if (a.rank() != rank) {
            throw new OnnxImportException(source, "'" + key + "' has shape " + a.shape() + ", expected rank " + rank);
        }
        return a;
    }

    /** Heads from the score scale: Softmax(Add(Div(QK, sqrt(d)), mask)) or Mul by 1/sqrt(d). */
    private OptionalInt headsFromScale(int hidden) {
        for (OnnxNode sm : graph.nodes()) {
            if (!sm.opType().equals("Softmax") || sm.inputs().isEmpty()) continue;
            List<String> frontier = List.of(sm.inputs().get(0));
            for (int depth = 0; depth < 3 && !frontier.isEmpty(); depth++) {
                List<String> next = new ArrayList<>();
                for (String v : frontier) {
                    OnnxNode p = producers.get(v);
                    if (p == null) continue;
                    if ((p.opType().equals("Div") || p.opType().equals("Mul")) && p.inputs().size() == 2) {
                        for (int side = 0; side < 2; side++) {
                            if (p.opType().equals("Div") && side == 0) continue;
                            Double c = scalarConstant(p.inputs().get(side));
                            if (c == null || !(c > 0)) continue;
                            double d = p.opType().equals("Div") ? c * c : 1 / (c * c);
                            long rd = Math.round(d);
                            if (rd > 0 && Math.abs(d - rd) < 1e-3 * rd && hidden % rd == 0) {
                                return OptionalInt.of((int) (hidden / rd));
                            }
                        }
                    } else if (p.opType().equals("Add") || p.opType().equals("Where") || p.opType().equals("Sub")) {
                        next.addAll(p.inputs());
                    }
                }
                frontier = next;
            }
        }
        return OptionalInt.empty();
    }

    /** Heads from a Reshape whose shape is Concat(..., heads, head_dim) with heads * head_dim == hidden. */
    private OptionalInt headsFromReshape(int hidden) {
        for (OnnxNode r : graph.nodes()) {
            if (!r.opType().equals("Reshape") || r.inputs().size() != 2) continue;
            long[] shape = constantLongs(r.inputs().get(1));
            if (shape == null) {
                OnnxNode concat = producers.get(r.inputs().get(1));
                if (concat == null || !concat.opType().equals("Concat")) continue;
                List<String> in = concat.inputs();
                if (in.size() < 2) continue;
                long[] h = constantLongs(in.get(in.size() - 2));
                long[] d = constantLongs(in.get(in.size() - 1));
                if (h == null || d == null || h.length != 1 || d.length != 1) continue;
                shape = new long[] {h[0], d[0]};
            }
            if (shape.length >= 2) {
                long h = shape[shape.length - 2];
                long d = shape[shape.length - 1];
                if (h > 1 && d > 1 && h * d == hidden) return OptionalInt.of((int) h);
            }
        }
        return OptionalInt.empty();
    }

    /** LayerNorm epsilon: a LayerNormalization attribute, or the constant added under a Sqrt. */
    private Double layerNormEps() {
        for (OnnxNode n : graph.nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                OnnxAttribute e = n.attributes().get("epsilon");
                return shortest(e == null ? 1e-5f : e.f());
            }
            if (n.opType().equals("Sqrt") && !n.inputs().isEmpty()) {
                OnnxNode add = producers.get(n.inputs().get(0));
                if (add == null || !add.opType().equals("Add") || add.inputs().size() != 2) continue;
                for (String in : add.inputs()) {
                    Double c = scalarConstant(in);
                    if (c != null && c > 0 && c < 1e-2) return shortest(c.floatValue());
                }
            }
        }
        return null;
    }

    /** The decimal with the fewest digits that rounds to {@code f} (1e-12 rather than 9.99999996e-13). */
    private static double shortest(float f) {
        return Double.parseDouble(Float.toString(f));
    }

    private String activation() {
        boolean tanh = false;
        boolean relu = false;
        for (OnnxNode n : graph.nodes()) {
            switch (n.opType()) {
                case "Erf" -> { return "gelu"; }
                case "Gelu" -> {
                    OnnxAttribute a = n.attributes().get("approximate");
                    return a != null && "tanh".equals(a.s()) ? "gelu_new" : "gelu";
                }
                case "FastGelu" -> { return "gelu_new"; }
                case "Tanh" -> tanh = true;
                case "Relu" -> relu = true;
                default -> { }
            }
        }
        // The pooler ends in Tanh, so Tanh alone does not mean gelu_new; only without a pooler.
        if (tanh && !graph.initializers().containsKey("pooler.dense.bias")) return "gelu_new";
        return relu ? "relu" : null;
    }

    /** The value of a one-element floating constant (initializer or Constant node), else null. */
    private Double scalarConstant(String value) {
        OnnxTensor t = constantTensor(value);
        if (t != null) {
            try {
                if (t.numel() == 1) {
                    if (t.dataType().isFloating()) return (double) t.floats()[0];
                    if (t.dataType().isInteger()) return (double) t.longs()[0];
                }
            } catch (OnnxFormatException e) {
                return null;
            }
            return null;
        }
        OnnxNode p = producers.get(value);
        if (p != null && p.opType().equals("Constant") && p.attributes().containsKey("value_float")) {
            return (double) p.attributes().get("value_float").f();
        }
        return null;
    }

    /** The values of a small integer constant (initializer or Constant node), else null. */
    private long[] constantLongs(String value) {
        OnnxTensor t = constantTensor(value);
        if (t != null && t.dataType().isInteger() && t.numel() <= 16) {
            try {
                return t.longs();
            } catch (OnnxFormatException e) {
                return null;
            }
        }
        OnnxNode p = producers.get(value);
        if (p != null && p.opType().equals("Constant")) {
            OnnxAttribute a = p.attributes().get("value_ints");
            if (a != null) return a.ints();
            a = p.attributes().get("value_int");
            if (a != null) return new long[] {a.i()};
        }
        return null;
    }

    private OnnxTensor constantTensor(String value) {
        OnnxTensor t = graph.initializers().get(value);
        if (t != null) return t;
        OnnxNode p = producers.get(value);
        if (p != null && p.opType().equals("Constant")) {
            OnnxAttribute a = p.attributes().get("value");
            if (a != null) return a.t();
        }
        return null;
    }

    /** Every BertModel parameter present with its shape, and nothing else. */
    private void checkKeys(Map<String, NDArray> state, Map<String, String> origin, BertConfigValues c)
            throws OnnxImportException {
        int h = c.hiddenSize();
        int i = c.intermediateSize();
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("embeddings.word_embeddings.weight", new int[] {c.vocabSize(), h});
        expected.put("embeddings.position_embeddings.weight", new int[] {c.maxPositionEmbeddings(), h});
        expected.put("embeddings.token_type_embeddings.weight", new int[] {c.typeVocabSize(), h});
        expected.put("embeddings.LayerNorm.weight", new int[] {h});
        expected.put("embeddings.LayerNorm.bias", new int[] {h});
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            String p = "encoder.layer." + l + ".";
            for (String qkv : List.of("query", "key", "value")) {
                expected.put(p + "attention.self." + qkv + ".weight", new int[] {h, h});
                expected.put(p + "attention.self." + qkv + ".bias", new int[] {h});
            }
            expected.put(p + "attention.output.dense.weight", new int[] {h, h});
            expected.put(p + "attention.output.dense.bias", new int[] {h});
            expected.put(p + "attention.output.LayerNorm.weight", new int[] {h});
            expected.put(p + "attention.output.LayerNorm.bias", new int[] {h});
            expected.put(p + "intermediate.dense.weight", new int[] {i, h});
            expected.put(p + "intermediate.dense.bias", new int[] {i});
            expected.put(p + "output.dense.weight", new int[] {h, i});
            expected.put(p + "output.dense.bias", new int[] {h});
            expected.put(p + "output.LayerNorm.weight", new int[] {h});
            expected.put(p + "output.LayerNorm.bias", new int[] {h});
        }
        if (state.containsKey("pooler.dense.weight") || state.containsKey("pooler.dense.bias")) {
            expected.put("pooler.dense.weight", new int[] {h, h});
            expected.put("pooler.dense.bias", new int[] {h});
        }
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, int[]> e : expected.entrySet()) {
            NDArray a = state.get(e.getKey());
            if (a == null) {
                problems.add("missing '" + e.getKey() + "' " + Arrays.toString(e.getValue()));
            } else if (!Arrays.equals(a.shape().toArray(), e.getValue())) {
                problems.add("'" + e.getKey() + "' (from initializer '" + origin.get(e.getKey()) + "') has shape "
                        + a.shape() + ", expected " + Arrays.toString(e.getValue()));
            }
        }
        for (String k : state.keySet()) {
            if (!expected.containsKey(k)) {
                problems.add("initializer '" + origin.get(k) + "' maps to '" + k + "', which BertModel does not have");
            }
        }
        if (!problems.isEmpty()) {
            throw new OnnxImportException(source, "the initializers do not form a BertModel state dict ("
                    + c.numHiddenLayers() + " layers, hidden " + h + "): " + String.join("; ", problems));
        }
    }

    private String describe(OnnxTensor t) {
        return "'" + t.name() + "' " + t.dataType() + " " + Arrays.toString(t.dims());
    }
}
