package dev.attn4j.models.decoder;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * Rotary position parameters as transformers' {@code modeling_rope_utils} reads them from a
 * config: {@code rope_theta}, {@code partial_rotary_factor} and {@code rope_scaling} of type
 * {@code default}, {@code linear}, {@code dynamic} (NTK), {@code llama3}, {@code yarn} or
 * {@code longrope}. {@link #invFreq(int)} gives the inverse frequencies for a forward whose
 * largest position is {@code seqLen - 1} (only {@code dynamic} and {@code longrope} depend on it,
 * as transformers' {@code dynamic_rope_update} recomputes them per forward), and
 * {@link #attentionScaling()} the factor transformers multiplies into cos and sin (yarn,
 * longrope).
 *
 * @param type                          rope type ("default" without rope_scaling)
 * @param theta                         rope_theta, the base
 * @param dim                           rotated dimensions per head: head_dim * partial_rotary_factor (even)
 * @param maxPositionEmbeddings         config max_position_embeddings
 * @param factor                        rope_scaling factor (1 when absent)
 * @param originalMaxPositionEmbeddings llama3 / yarn / longrope original context
 * @param lowFreqFactor                 llama3
 * @param highFreqFactor                llama3
 * @param attentionFactor               yarn / longrope attention_factor, or null for the default
 * @param betaFast                      yarn
 * @param betaSlow                      yarn
 * @param mscale                        yarn, or null
 * @param mscaleAllDim                  yarn, or null
 * @param truncate                      yarn
 * @param longFactor                    longrope, per frequency
 * @param shortFactor                   longrope, per frequency
 */
public record RopeConfig(String type, double theta, int dim, int maxPositionEmbeddings, double factor,
                         int originalMaxPositionEmbeddings, double lowFreqFactor, double highFreqFactor, Double attentionFactor,
                         double betaFast, double betaSlow, Double mscale, Double mscaleAllDim, boolean truncate,
                         double[] longFactor, double[] shortFactor) {

    /** Rope types supported. */
    public static final List<String> TYPES = List.of("default", "linear", "dynamic", "llama3", "yarn", "longrope");

    public RopeConfig {
        if (!TYPES.contains(type)) throw new IllegalArgumentException("unsupported rope_scaling type '" + type + "'; supported: " + TYPES);
        if (dim <= 0 || dim % 2 != 0) throw new IllegalArgumentException("rotary dimension must be even and positive, got " + dim);
        if (!(theta > 0)) throw new IllegalArgumentException("rope_theta must be positive, got " + theta);
        if (type.equals("longrope")) {
            if (longFactor == null || shortFactor == null || longFactor.length != dim / 2 || shortFactor.length != dim / 2) {
                throw new IllegalArgumentException("rope_scaling longrope: long_factor and short_factor need " + dim / 2 + " entries each");
            }
        }
    }

    /** Reads rope_theta, rope_scaling and partial_rotary_factor of a config.json. */
    static RopeConfig fromJson(JsonNode n, int headDim, double partialRotaryFactor, int maxPos) {
        double theta = n.path("rope_theta").asDouble(10000.0);
        int dim = (int) (headDim * partialRotaryFactor);
        JsonNode s = n.get("rope_scaling");
        if (s == null || s.isNull()) return new RopeConfig("default", theta, dim, maxPos, 1, maxPos, 1, 4, null, 32, 1, null, null, true, null, null);
        String type = s.hasNonNull("rope_type") ? s.get("rope_type").asText() : s.path("type").asText("default");
        if (type.equals("su")) type = "longrope";
        double factor = s.path("factor").asDouble(1.0);
        int orig = s.hasNonNull("original_max_position_embeddings") ? s.get("original_max_position_embeddings").asInt()
                : n.hasNonNull("original_max_position_embeddings") ? n.get("original_max_position_embeddings").asInt() : maxPos;
        if (type.equals("longrope") && n.hasNonNull("original_max_position_embeddings")) {
            orig = n.get("original_max_position_embeddings").asInt();
            factor = (double) maxPos / orig;
        }
        if (type.equals("llama3") && !s.hasNonNull("original_max_position_embeddings")) {
            throw new IllegalArgumentException("rope_scaling llama3 needs original_max_position_embeddings");
        }
        return new RopeConfig(type, theta, dim, maxPos, factor, orig, s.path("low_freq_factor").asDouble(1),
                s.path("high_freq_factor").asDouble(4), s.hasNonNull("attention_factor") ? s.get("attention_factor").asDouble() : null,
                s.hasNonNull("beta_fast") ? s.get("beta_fast").asDouble() : 32, s.hasNonNull("beta_slow") ? s.get("beta_slow").asDouble() : 1,
                s.hasNonNull("mscale") ? s.get("mscale").asDouble() : null,
                s.hasNonNull("mscale_all_dim") ? s.get("mscale_all_dim").asDouble() : null, s.path("truncate").asBoolean(true),
                doubles(s.get("long_factor")), doubles(s.get("short_factor")));
    }

    private static double[] doubles(JsonNode a) {
        if (a == null || !a.isArray()) return null;
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
        return out;
    }

    /** base^(2i / dim) for i &lt; dim / 2. */
    private double[] posFreqs(double base) {
        double[] p = new double[dim / 2];
        for (int i = 0; i < p.length; i++) p[i] = Math.pow(base, 2.0 * i / dim);
        return p;
    }

    /** The inverse frequencies [dim / 2] for a forward whose positions are below {@code seqLen}. */
    public double[] invFreq(int seqLen) {
        double[] pf = posFreqs(theta);
        double[] inv = new double[pf.length];
        switch (type) {
            case "default" -> {
                for (int i = 0; i < inv.length; i++) inv[i] = 1 / pf[i];
            }
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) inv[i] = 1 / pf[i] / factor;
            }
            case "dynamic" -> {
                double len = Math.max(seqLen, maxPositionEmbeddings);
                double base = theta * Math.pow(factor * len / maxPositionEmbeddings - (factor - 1), (double) dim / (dim - 2));
                double[] p = posFreqs(base);
                for (int i = 0; i < inv.length; i++) inv[i] = 1 / p[i];
            }
            case "llama3" -> {
                double lowWavelen = originalMaxPositionEmbeddings / lowFreqFactor;
                double highWavelen = originalMaxPositionEmbeddings / highFreqFactor;
                for (int i = 0; i < inv.length; i++) {
                    double f = 1 / pf[i], wavelen = 2 * Math.PI / f;
                    double scaled = wavelen > lowWavelen ? f / factor : f;
                    if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                        double smooth = (originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                        scaled = (1 - smooth) * scaled / factor + smooth * scaled;
                    }
                    inv[i] = scaled;
                }
            }
            case "yarn" -> {
                double low = correctionDim(betaFast), high = correctionDim(betaSlow);
                if (truncate) {
                    low = Math.floor(low);
                    high = Math.ceil(high);
                }
                low = Math.max(low, 0);
                high = Math.min(high, dim - 1);
                if (low == high) high += 0.001;
                for (int i = 0; i < inv.length; i++) {
                    double ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
                    double extrapolation = 1 - ramp;
                    inv[i] = (1 / (factor * pf[i])) * (1 - extrapolation) + (1 / pf[i]) * extrapolation;
                }
            }
            case "longrope" -> {
                double[] ext = seqLen > originalMaxPositionEmbeddings ? longFactor : shortFactor;
                for (int i = 0; i < inv.length; i++) inv[i] = 1 / (ext[i] * pf[i]);
            }
            default -> throw new IllegalStateException(type);
        }
        return inv;
    }

    private double correctionDim(double rotations) {
        return dim * Math.log(originalMaxPositionEmbeddings / (rotations * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    /** The factor on cos and sin: 1 except for yarn and longrope. */
    public double attentionScaling() {
        return switch (type) {
            case "yarn" -> {
                if (attentionFactor != null) yield attentionFactor;
                if (mscale != null && mscaleAllDim != null && mscale != 0 && mscaleAllDim != 0) {
                    yield yarnMscale(factor, mscale) / yarnMscale(factor, mscaleAllDim);
                }
                yield yarnMscale(factor, 1);
            }
            case "longrope" -> {
                if (attentionFactor != null) yield attentionFactor;
                yield factor <= 1 ? 1.0 : Math.sqrt(1 + Math.log(factor) / Math.log(originalMaxPositionEmbeddings));
            }
            default -> 1.0;
        };
    }

    private static double yarnMscale(double scale, double m) {
        return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
    }
}
