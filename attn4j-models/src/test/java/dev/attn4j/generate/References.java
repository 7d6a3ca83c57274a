package dev.attn4j.generate;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Reads the files scripts/make-generation-references.py writes (transformers' outputs). */
final class References {
    private static final JsonMapper MAPPER = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private References() {
    }

    static JsonNode load(String name) {
        try (InputStream in = References.class.getResourceAsStream("/generation/" + name)) {
            if (in == null) throw new IllegalStateException("missing test resource /generation/" + name);
            return MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).intValue();
        return out;
    }

    static int[][] ints2(JsonNode a) {
        int[][] out = new int[a.size()][];
        for (int i = 0; i < out.length; i++) out[i] = ints(a.get(i));
        return out;
    }

    static float[] floats(JsonNode a) {
        float[] out = new float[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) a.get(i).doubleValue();
        return out;
    }

    static float[][] floats2(JsonNode a) {
        float[][] out = new float[a.size()][];
        for (int i = 0; i < out.length; i++) out[i] = floats(a.get(i));
        return out;
    }
}
