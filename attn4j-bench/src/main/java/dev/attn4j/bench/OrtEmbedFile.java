package dev.attn4j.bench;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * The peer of {@code attn4j embed --file F} as a Java programmer would write it with ONNX Runtime:
 * DJL's Hugging Face tokenizer (truncation at 256 tokens, no padding), texts sorted by length and
 * run in batches padded to their longest, mean pooling over the attention mask, L2 normalisation,
 * and the same output: one JSON line {@code {"text", "embedding"}} per input line, in input order.
 * ONNX Runtime with its default session options. {@code scripts/bench-embed-process.sh} times the
 * two as whole processes.
 *
 * <pre>java -cp benchmarks.jar dev.attn4j.bench.OrtEmbedFile --onnx model.onnx --tokenizer tokenizer.json --file F [--batch-size 32]</pre>
 */
public final class OrtEmbedFile {
    private OrtEmbedFile() {
    }

    public static void main(String[] args) throws IOException, OrtException {
        Path onnx = null, tokenizerJson = null, file = null;
        int batchSize = 32;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
            switch (a) {
                case "--onnx" -> onnx = Path.of(args[++i]);
                case "--tokenizer" -> tokenizerJson = Path.of(args[++i]);
                case "--file" -> file = Path.of(args[++i]);
                case "--batch-size" -> {
                    String v = args[++i];
                    try {
                        batchSize = Integer.parseInt(v);
                    } catch (NumberFormatException e) {
                        batchSize = 0;
                    }
                    if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be a positive integer, got '" + v + "'");
                }
                default -> throw new IllegalArgumentException("unknown option " + a
                        + "; usage: OrtEmbedFile --onnx FILE --tokenizer tokenizer.json --file TEXTS [--batch-size N]");
            }
        }
        if (onnx == null || tokenizerJson == null || file == null) {
            throw new IllegalArgumentException("--onnx, --tokenizer and --file are required");
        }
        List<String> texts = Files.readAllLines(file, StandardCharsets.UTF_8);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
                     .optPadding(false).optTruncation(true).optMaxLength(256).build();
             OrtSession session = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
             JsonGenerator g = new JsonFactory().createGenerator((OutputStream) System.out)) {
            g.configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);
            g.setRootValueSeparator(null);
            boolean typeIds = session.getInputNames().contains("token_type_ids");
            Encoding[] enc = tokenizer.batchEncode(texts);
            Integer[] order = new Integer[texts.size()];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, Comparator.comparingInt(i -> enc[i].getIds().length));
            float[][] out = new float[texts.size()][];
            for (int start = 0; start < order.length; start += batchSize) {
                int b = Math.min(batchSize, order.length - start);
                int t = 0;
                for (int k = 0; k < b; k++) t = Math.max(t, enc[order[start + k]].getIds().length);
                long[] ids = new long[b * t], mask = new long[b * t];
                for (int k = 0; k < b; k++) {
                    long[] s = enc[order[start + k]].getIds();
                    System.arraycopy(s, 0, ids, k * t, s.length);
                    Arrays.fill(mask, k * t, k * t + s.length, 1);
                }
                long[] shape = {b, t};
                try (OnnxTensor idT = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                     OnnxTensor maskT = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                     OnnxTensor typeT = OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * t]), shape);
                     OrtSession.Result r = session.run(typeIds
                             ? Map.of("input_ids", idT, "attention_mask", maskT, "token_type_ids", typeT)
                             : Map.of("input_ids", idT, "attention_mask", maskT))) {
                    FloatBuffer h = ((OnnxTensor) r.get(0)).getFloatBuffer();     // last_hidden_state [B, T, C]
                    int c = h.remaining() / (b * t);
                    for (int k = 0; k < b; k++) {
                        float[] v = new float[c];
                        int n = enc[order[start + k]].getIds().length;
                        for (int j = 0; j < n; j++) {
                            for (int x = 0; x < c; x++) v[x] += h.get((k * t + j) * c + x);
                        }
                        double norm = 0;
                        for (int x = 0; x < c; x++) {
                            v[x] /= n;
                            norm += (double) v[x] * v[x];
                        }
                        float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
                        for (int x = 0; x < c; x++) v[x] *= inv;
                        out[order[start + k]] = v;
                    }
                }
            }
            for (int i = 0; i < texts.size(); i++) {
                g.writeStartObject();
                g.writeStringField("text", texts.get(i));
                g.writeArrayFieldStart("embedding");
                for (float v : out[i]) g.writeNumber(v);
                g.writeEndArray();
                g.writeEndObject();
                g.writeRaw('\n');
            }
        }
        System.out.flush();
    }
}
