package dev.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.explain.Explainer;
import dev.attn4j.explain.Explanation;
import dev.attn4j.generate.BeamSearch;
import dev.attn4j.models.bert.EncoderInput;
import dev.attn4j.models.bert.EncoderModel;
import dev.attn4j.tokenizers.Encoding;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /attention}: a model's attention weights on one input, for the explorer page and
 * any other client. Encoders (embedding models, classifiers) and decoder-only LMs give their
 * self-attention [layer][head][query][key]; classifiers add token attributions of the predicted
 * label; encoder-decoder checkpoints give the cross-attention [layer][head][target][source] of a
 * target (given, or decoded by beam search). {@code "encoding": "base64"} sends each tensor as
 * little-endian float16 with its shape instead of nested arrays.
 *
 * <p>{@code POST /tokenize}: the tokens and ids a model reads for a text.
 */
final class AttentionApi {
    static final Set<String> ATTENTION_FIELDS = Set.of("model", "text", "text_pair", "source", "target", "encoding");
    static final Set<String> TOKENIZE_FIELDS = Set.of("model", "text", "text_pair", "add_special_tokens");
    /** Longest input /attention answers for: the weights grow with its square. */
    static final int MAX_TOKENS = 512;
    /** Beam width when a seq2seq request has no target (as {@code attn4j attention}). */
    static final int BEAM = 4;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private final Models models;

    AttentionApi(Models models) {
        this.models = models;
    }

    JsonNode attention(JsonNode body) {
        Fields f = Fields.of(body, ATTENTION_FIELDS);
        String encoding = f.string("encoding", false);
        if (encoding == null) encoding = "json";
        if (!encoding.equals("json") && !encoding.equals("base64")) {
            throw ApiException.invalid("encoding", "'encoding' must be \"json\" or \"base64\", got \"" + encoding + "\"");
        }
        boolean base64 = encoding.equals("base64");
        ServedModel m = pick(f.string("model", false));
        ObjectNode out = NODES.objectNode();
        out.put("model", m.id());
        out.put("kind", m.kind());
        if (m instanceof ServedModel.Seq2Seq s) {
            seq2seq(s, f, out, base64);
            return out;
        }
        if (f.has("source") || f.has("target")) {
            throw ApiException.invalid(f.has("source") ? "source" : "target", "'source' and 'target' are for encoder-decoder models; "
                    + m.id() + " is a " + m.kind() + " model: send 'text'");
        }
        String text = f.string("text", true);
        String pair = f.string("text_pair", false);
        switch (m) {
            case ServedModel.Embedding e -> {
                if (pair != null) throw ApiException.invalid("text_pair", "'text_pair' is for classifiers; " + m.id() + " embeds one text");
                Encoding enc = e.pipeline().tokenize(text);
                encoder(e.pipeline().model(), enc, out, base64);
            }
            case ServedModel.Classifier c -> {
                Encoding enc = pair == null ? c.tokenizer().encode(text, true) : c.tokenizer().encode(text, pair, true);
                c.lock().readLock().lock();
                try {
                    encoder(c.model().encoder(), enc, out, base64);
                } finally {
                    c.lock().readLock().unlock();
                }
                if (!c.model().tokenLevel()) {
                    Explanation x;
                    c.lock().writeLock().lock();
                    try {
                        x = Explainer.explain(c.model(), enc);
                    } finally {
                        c.lock().writeLock().unlock();
                    }
                    ObjectNode a = out.putObject("attributions");
                    a.put("label", x.labelName());
                    a.put("logit", x.logit());
                    ArrayNode gxi = a.putArray("gradient_x_input");
                    for (double v : x.gradientXInput()) gxi.add(v);
                    ArrayNode roll = a.putArray("attention_rollout");
                    for (double v : x.attentionRollout()) roll.add(v);
                }
            }
            case ServedModel.Chat d -> {
                if (pair != null) throw ApiException.invalid("text_pair", "'text_pair' is for classifiers");
                if (d.tokenizer() == null) throw ApiException.invalid("model", m.id() + " has no tokenizer to read 'text' with");
                Encoding enc = d.tokenizer().encode(text, true);
                int[] ids = enc.ids();
                if (ids.length == 0) throw ApiException.invalid("text", "the text has no tokens");
                checkLength(ids.length, Math.min(MAX_TOKENS, d.maxInputTokens()), "text");
                List<Tensor> attn;
                int[] ones = new int[ids.length];
                Arrays.fill(ones, 1);
                try (var g = GradMode.noGrad()) {
                    attn = d.model().forward(new int[][] {ids}, new int[][] {ones}, false, true).attentions();   // L x [1, H, T, T]
                }
                tokens(out.putArray("tokens"), enc.tokens());
                putTensor(out, "attentions", stack(attn, ids.length, ids.length), base64);
            }
            case ServedModel.Seq2Seq s -> throw new IllegalStateException("handled above");
        }
        return out;
    }

    private ServedModel pick(String requested) {
        if (requested == null) {
            List<ServedModel> all = models.all();
            if (all.size() != 1) throw ApiException.invalid("model", "'model' is required: loaded are " + all.stream().map(ServedModel::id).toList());
            return all.getFirst();
        }
        ServedModel m = models.byId(requested);
        if (m == null) {
            throw ApiException.notFound("model", "the model '" + requested + "' does not exist; loaded: "
                    + models.all().stream().map(ServedModel::id).toList());
        }
        return m;
    }

    private static void encoder(EncoderModel model, Encoding enc, ObjectNode out, boolean base64) {
        int t = enc.length();
        checkLength(t, MAX_TOKENS, "text");
        EncoderInput in = new EncoderInput(new int[][] {enc.ids()}, null,
                model.config().typeVocabSize() > 0 ? new int[][] {enc.typeIds()} : null);
        List<Tensor> attn;
        try (var g = GradMode.noGrad()) {
            attn = model.forward(in, false, true).attentions();                         // L x [1, H, T, T]
        }
        tokens(out.putArray("tokens"), enc.tokens());
        putTensor(out, "attentions", stack(attn, t, t), base64);
    }

    private void seq2seq(ServedModel.Seq2Seq s, Fields f, ObjectNode out, boolean base64) {
        String source = f.has("source") ? f.string("source", true) : f.string("text", false);
        if (source == null) throw ApiException.invalid("source", "'source' is required for the encoder-decoder model " + s.id());
        if (source.isEmpty()) throw ApiException.invalid("source", "'source' is empty");
        if (f.has("text_pair")) throw ApiException.invalid("text_pair", "'text_pair' is for classifiers");
        checkLength(source.length(), s.maxInputTokens(), "source");
        int[] src = s.vocab().encode(source);
        String target = f.string("target", false);
        int[] output;
        float[][][][] w;
        synchronized (s) {
            output = target != null ? s.vocab().encode(target)
                    : BeamSearch.best(s.model(), src, BEAM, 1.0, s.model().config().maxTargetLen()).tokens();
            checkLength(output.length + 1, MAX_TOKENS, "target");
            w = s.model().crossAttention(src, output);                                 // [L][H][T][S]
        }
        ArrayNode tokens = out.putArray("tokens");
        for (int id : src) tokens.add(s.vocab().token(id));
        ArrayNode targets = out.putArray("target_tokens");
        for (int id : output) targets.add(s.vocab().token(id));
        targets.add("EOS");
        out.put("output", s.vocab().decode(output));
        int l = w.length, h = w[0].length, t = w[0][0].length, k = w[0][0][0].length;
        float[] flat = new float[l * h * t * k];
        int at = 0;
        for (float[][][] layer : w) for (float[][] head : layer) for (float[] row : head) {
            System.arraycopy(row, 0, flat, at, k);
            at += k;
        }
        putTensor(out, "cross_attentions", new Flat(flat, new int[] {l, h, t, k}), base64);
    }

    JsonNode tokenize(JsonNode body) {
        Fields f = Fields.of(body, TOKENIZE_FIELDS);
        ServedModel m = pick(f.string("model", false));
        String text = f.string("text", true);
        String pair = f.string("text_pair", false);
        boolean special = f.bool("add_special_tokens", true);
        ObjectNode out = NODES.objectNode();
        out.put("model", m.id());
        List<String> tokens;
        int[] ids;
        int[][] offsets = null;
        switch (m) {
            case ServedModel.Embedding e -> {
                if (pair != null) throw ApiException.invalid("text_pair", "'text_pair' is for classifiers");
                if (!special) throw ApiException.invalid("add_special_tokens", "an embedding model's pipeline always adds its special tokens");
                Encoding enc = e.pipeline().tokenize(text);
                tokens = enc.tokens();
                ids = enc.ids();
                offsets = enc.utf16Offsets(text, null);
            }
            case ServedModel.Classifier c -> {
                Encoding enc = pair == null ? c.tokenizer().encode(text, special) : c.tokenizer().encode(text, pair, special);
                tokens = enc.tokens();
                ids = enc.ids();
                offsets = enc.utf16Offsets(text, pair);
            }
            case ServedModel.Chat d -> {
                if (pair != null) throw ApiException.invalid("text_pair", "'text_pair' is for classifiers");
                if (d.tokenizer() == null) throw ApiException.invalid("model", m.id() + " has no tokenizer");
                Encoding enc = d.tokenizer().encode(text, special);
                tokens = enc.tokens();
                ids = enc.ids();
                offsets = enc.utf16Offsets(text, null);
            }
            case ServedModel.Seq2Seq s -> {
                if (pair != null) throw ApiException.invalid("text_pair", "'text_pair' is for classifiers");
                ids = s.vocab().encode(text);
                tokens = new ArrayList<>();
                for (int id : ids) tokens.add(s.vocab().token(id));
            }
        }
        ArrayNode idNode = out.putArray("ids");
        for (int id : ids) idNode.add(id);
        tokens(out.putArray("tokens"), tokens);
        if (offsets != null) {
            ArrayNode o = out.putArray("offsets");
            for (int[] span : offsets) o.addArray().add(span[0]).add(span[1]);
        }
        out.put("count", ids.length);
        out.put("max_model_len", m.maxInputTokens());
        return out;
    }

    private static void tokens(ArrayNode into, List<String> tokens) {
        for (String t : tokens) into.add(t);
    }

    private static void checkLength(int n, int max, String field) {
        if (n > max) throw ApiException.invalid(field, "'" + field + "' has " + n + " tokens; at most " + max + " here");
    }

    /** A flat float array with its shape. */
    record Flat(float[] values, int[] shape) {
    }

    /** Per-layer [1, H, T, K] weights as one [L, H, T, K] array. */
    private static Flat stack(List<Tensor> layers, int t, int k) {
        int l = layers.size();
        int h = layers.getFirst().data().dim(1);
        float[] flat = new float[l * h * t * k];
        for (int i = 0; i < l; i++) {
            float[] a = layers.get(i).data().contiguous().toFloatArray();             // [1, H, T, K]
            if (a.length != h * t * k) {
                throw new IllegalStateException("layer " + i + " attention has " + a.length + " weights, expected " + h + " x " + t + " x " + k);
            }
            System.arraycopy(a, 0, flat, i * h * t * k, a.length);
        }
        return new Flat(flat, new int[] {l, h, t, k});
    }

    /** {@code name}: nested arrays, or with base64 {@code {"data", "shape", "dtype": "float16"}} (little-endian). */
    static void putTensor(ObjectNode out, String name, Flat x, boolean base64) {
        if (base64) {
            ObjectNode o = out.putObject(name);
            ByteBuffer buf = ByteBuffer.allocate(x.values().length * 2).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : x.values()) buf.putShort(Float.floatToFloat16(v));
            o.put("data", Base64.getEncoder().encodeToString(buf.array()));
            ArrayNode shape = o.putArray("shape");
            for (int d : x.shape()) shape.add(d);
            o.put("dtype", "float16");
            return;
        }
        out.set(name, nest(x.values(), x.shape(), 0, 0));
    }

    private static ArrayNode nest(float[] v, int[] shape, int dim, int offset) {
        ArrayNode a = NODES.arrayNode(shape[dim]);
        int stride = 1;
        for (int d = dim + 1; d < shape.length; d++) stride *= shape[d];
        for (int i = 0; i < shape[dim]; i++) {
            if (dim == shape.length - 1) a.add(v[offset + i]);
            else a.add(nest(v, shape, dim + 1, offset + i * stride));
        }
        return a;
    }
}
