package dev.attn4j.models.bert;

import dev.attn4j.io.safetensors.SafetensorsDType;
import dev.attn4j.tensor.NDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/** Public face of {@link TinyEncoders} for tests in other packages. */
public final class TinyEncodersAccess {
    private TinyEncodersAccess() {
    }

    public static BertConfig config(String type) {
        return TinyEncoders.config(type);
    }

    public static Map<String, NDArray> weights(BertConfig c, boolean pooler, SplittableRandom rng) {
        return TinyEncoders.weights(c, pooler, rng);
    }

    public static Path write(Path dir, BertConfig c, Map<String, NDArray> weights) throws IOException {
        return TinyEncoders.write(dir, c, weights, "", SafetensorsDType.F32);
    }
}
