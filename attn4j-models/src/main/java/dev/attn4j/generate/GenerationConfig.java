package dev.attn4j.generate;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attn4j.hub.ModelDirectory;
import dev.attn4j.hub.ModelDirectoryException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * transformers' {@code GenerationConfig}: the decoding settings, with its field names (the JSON
 * keys of {@code generation_config.json}) and defaults. Build one with {@link #builder()}, or read a
 * model directory's defaults with {@link #from(ModelDirectory)} and override them with
 * {@link #toBuilder()}.
 *
 * <p>Lengths follow transformers: {@code max_new_tokens}, when set, wins over {@code max_length}
 * (default 20), which counts the (padded) prompt too; {@code min_new_tokens} and {@code min_length}
 * mask the EOS tokens until reached. {@code top_k} defaults to 50 and {@code temperature},
 * {@code top_p}, {@code typical_p} to 1 (off); they act only with {@code do_sample}. {@code seed}
 * is attn4j's own (not a transformers field, never read from JSON): the seed of the sampler (unset:
 * a random one).
 */
public final class GenerationConfig {
    /** transformers' {@code early_stopping}: {@code False}, {@code True} or {@code "never"}. */
    public enum EarlyStopping { FALSE, TRUE, NEVER }

    /** The file {@link #from(ModelDirectory)} reads. */
    public static final String FILE = "generation_config.json";

    private final Integer maxNewTokens;
    private final int maxLength;
    private final Integer minNewTokens;
    private final int minLength;
    private final boolean doSample;
    private final double temperature;
    private final int topK;
    private final double topP;
    private final Double minP;
    private final double typicalP;
    private final double repetitionPenalty;
    private final int noRepeatNgramSize;
    private final int numBeams;
    private final int numReturnSequences;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;
    private final int[] eosTokenId;
    private final Integer padTokenId;
    private final Integer bosTokenId;
    private final Integer decoderStartTokenId;
    private final Integer forcedBosTokenId;
    private final int[] forcedEosTokenId;
    private final int[][] badWordsIds;
    private final List<String> stopStrings;
    private final Long seed;

    private GenerationConfig(Builder b) {
        maxNewTokens = b.maxNewTokens;
        maxLength = b.maxLength;
        minNewTokens = b.minNewTokens;
        minLength = b.minLength;
        doSample = b.doSample;
        temperature = b.temperature;
        topK = b.topK;
        topP = b.topP;
        minP = b.minP;
        typicalP = b.typicalP;
        repetitionPenalty = b.repetitionPenalty;
        noRepeatNgramSize = b.noRepeatNgramSize;
        numBeams = b.numBeams;
        numReturnSequences = b.numReturnSequences;
        lengthPenalty = b.lengthPenalty;
        earlyStopping = b.earlyStopping;
        eosTokenId = b.eosTokenId.clone();
        padTokenId = b.padTokenId;
        bosTokenId = b.bosTokenId;
        decoderStartTokenId = b.decoderStartTokenId;
        forcedBosTokenId = b.forcedBosTokenId;
        forcedEosTokenId = b.forcedEosTokenId == null ? null : b.forcedEosTokenId.clone();
        badWordsIds = copy(b.badWordsIds);
        stopStrings = List.copyOf(b.stopStrings);
        seed = b.seed;
    }

    /** transformers' defaults. */
    public static GenerationConfig defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values, to override some of them. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxNewTokens = maxNewTokens;
        b.maxLength = maxLength;
        b.minNewTokens = minNewTokens;
        b.minLength = minLength;
        b.doSample = doSample;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.typicalP = typicalP;
        b.repetitionPenalty = repetitionPenalty;
        b.noRepeatNgramSize = noRepeatNgramSize;
        b.numBeams = numBeams;
        b.numReturnSequences = numReturnSequences;
        b.lengthPenalty = lengthPenalty;
        b.earlyStopping = earlyStopping;
        b.eosTokenId = eosTokenId.clone();
        b.padTokenId = padTokenId;
        b.bosTokenId = bosTokenId;
        b.decoderStartTokenId = decoderStartTokenId;
        b.forcedBosTokenId = forcedBosTokenId;
        b.forcedEosTokenId = forcedEosTokenId == null ? null : forcedEosTokenId.clone();
        b.badWordsIds = copy(badWordsIds);
        b.stopStrings = new ArrayList<>(stopStrings);
        b.seed = seed;
        return b;
    }

    /**
     * A model directory's generation defaults, as transformers' {@code from_pretrained} finds them:
     * {@code generation_config.json} when present, its missing {@code eos_token_id},
     * {@code bos_token_id}, {@code pad_token_id} and {@code decoder_start_token_id} taken from {@code config.json}; without the file,
     * the generation fields of {@code config.json} (and of its {@code text_config}) over the
     * defaults, as {@code GenerationConfig.from_model_config}. Unknown keys are ignored.
     *
     * @throws ModelDirectoryException when a file is malformed or a field has the wrong type or an
     *                                 invalid value (the message names the file and key)
     */
    public static GenerationConfig from(ModelDirectory dir) throws ModelDirectoryException {
        JsonNode config = dir.has(ModelDirectory.CONFIG) ? dir.config() : null;
        Builder b = builder();
        if (dir.has(FILE)) {
            JsonNode gen = dir.readJson(FILE);
            String where = dir.path().resolve(FILE).toString();
            if (!gen.isObject()) throw new ModelDirectoryException(dir.path().resolve(FILE), "expected a JSON object");
            apply(b, gen, where, false);
            if (config != null) {
                String cfgWhere = dir.path().resolve(ModelDirectory.CONFIG).toString();
                for (JsonNode source : sources(config)) {
                    if (!gen.has("eos_token_id") && b.eosTokenId.length == 0) readEos(b, source, cfgWhere);
                    if (!gen.has("bos_token_id") && b.bosTokenId == null) b.bosTokenId = readId(source, "bos_token_id", cfgWhere);
                    if (!gen.has("pad_token_id") && b.padTokenId == null) b.padTokenId = readId(source, "pad_token_id", cfgWhere);
                    if (!gen.has("decoder_start_token_id") && b.decoderStartTokenId == null) {
                        b.decoderStartTokenId = readId(source, "decoder_start_token_id", cfgWhere);
                    }
                }
            }
        } else if (config != null) {
            String where = dir.path().resolve(ModelDirectory.CONFIG).toString();
            List<JsonNode> src = sources(config);
            for (int i = src.size() - 1; i >= 0; i--) apply(b, src.get(i), where, true);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(dir.path(), e.getMessage());
        }
    }

    /**
     * This configuration with the generation fields of {@code node} over it (transformers' names;
     * unknown keys ignored), as a pipeline applies a model's {@code task_specific_params} entry.
     *
     * @param where names the source in errors (file and key)
     * @throws IllegalArgumentException when a field has the wrong type or an invalid value
     */
    public GenerationConfig withOverrides(JsonNode node, String where) {
        Builder b = toBuilder();
        try {
            apply(b, node, where, true);
        } catch (ModelDirectoryException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        return b.build();
    }

    /** config.json and, when it has one, its text_config (multimodal models keep the decoder's ids there). */
    private static List<JsonNode> sources(JsonNode config) {
        List<JsonNode> out = new ArrayList<>();
        out.add(config);
        JsonNode text = config.get("text_config");
        if (text != null && text.isObject()) out.add(text);
        return out;
    }

    /** Reads the known keys of {@code node} into {@code b}; null values leave the default. */
    private static void apply(Builder b, JsonNode node, String where, boolean modelConfig) throws ModelDirectoryException {
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (v.isNull()) continue;
            switch (key) {
                case "max_new_tokens" -> b.maxNewTokens = intValue(v, key, where);
                case "max_length" -> b.maxLength = intValue(v, key, where);
                case "min_new_tokens" -> b.minNewTokens = intValue(v, key, where);
                case "min_length" -> b.minLength = intValue(v, key, where);
                case "do_sample" -> b.doSample = boolValue(v, key, where);
                case "temperature" -> b.temperature = number(v, key, where);
                case "top_k" -> b.topK = intValue(v, key, where);
                case "top_p" -> b.topP = number(v, key, where);
                case "min_p" -> b.minP = number(v, key, where);
                case "typical_p" -> b.typicalP = number(v, key, where);
                case "repetition_penalty" -> b.repetitionPenalty = number(v, key, where);
                case "no_repeat_ngram_size" -> b.noRepeatNgramSize = intValue(v, key, where);
                case "num_beams" -> b.numBeams = intValue(v, key, where);
                case "num_return_sequences" -> b.numReturnSequences = intValue(v, key, where);
                case "length_penalty" -> b.lengthPenalty = number(v, key, where);
                case "early_stopping" -> {
                    if (v.isBoolean()) b.earlyStopping = v.booleanValue() ? EarlyStopping.TRUE : EarlyStopping.FALSE;
                    else if (v.isTextual() && v.textValue().equals("never")) b.earlyStopping = EarlyStopping.NEVER;
                    else throw bad(where, key, "true, false or \"never\"", v);
                }
                case "eos_token_id" -> readEos(b, node, where);
                case "pad_token_id" -> b.padTokenId = readId(node, key, where);
                case "bos_token_id" -> b.bosTokenId = readId(node, key, where);
                case "decoder_start_token_id" -> b.decoderStartTokenId = readId(node, key, where);
                case "forced_bos_token_id" -> b.forcedBosTokenId = readId(node, key, where);
                case "forced_eos_token_id" -> b.forcedEosTokenId = idList(v, key, where);
                case "bad_words_ids" -> {
                    if (!v.isArray()) throw bad(where, key, "a list of lists of token ids", v);
                    int[][] words = new int[v.size()][];
                    for (int i = 0; i < words.length; i++) {
                        if (!v.get(i).isArray()) throw bad(where, key, "a list of lists of token ids", v);
                        words[i] = idList(v.get(i), key, where);
                    }
                    b.badWordsIds = words;
                }
                case "stop_strings" -> {
                    if (modelConfig) break;
                    List<String> s = new ArrayList<>();
                    if (v.isTextual()) s.add(v.textValue());
                    else if (v.isArray()) {
                        for (JsonNode x : v) {
                            if (!x.isTextual()) throw bad(where, key, "a string or a list of strings", v);
                            s.add(x.textValue());
                        }
                    } else throw bad(where, key, "a string or a list of strings", v);
                    b.stopStrings = s;
                }
                default -> {
                }
            }
        }
    }

    private static void readEos(Builder b, JsonNode node, String where) throws ModelDirectoryException {
        JsonNode v = node.get("eos_token_id");
        if (v == null || v.isNull()) return;
        b.eosTokenId = idList(v, "eos_token_id", where);
    }

    /** An integer or a list of integers. */
    private static int[] idList(JsonNode v, String key, String where) throws ModelDirectoryException {
        if (v.isIntegralNumber() && v.canConvertToInt()) return new int[] {v.intValue()};
        if (!v.isArray()) throw bad(where, key, "an integer or a list of integers", v);
        int[] ids = new int[v.size()];
        for (int i = 0; i < ids.length; i++) {
            if (!v.get(i).isIntegralNumber() || !v.get(i).canConvertToInt()) throw bad(where, key, "an integer or a list of integers", v);
            ids[i] = v.get(i).intValue();
        }
        return ids;
    }

    private static int[][] copy(int[][] a) {
        if (a == null) return null;
        int[][] out = new int[a.length][];
        for (int i = 0; i < a.length; i++) out[i] = a[i].clone();
        return out;
    }

    private static Integer readId(JsonNode node, String key, String where) throws ModelDirectoryException {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) return null;
        // some configs hold a list here (transformers takes the first)
        if (v.isArray() && v.size() > 0 && v.get(0).isIntegralNumber()) return v.get(0).intValue();
        return intValue(v, key, where);
    }

    private static int intValue(JsonNode v, String key, String where) throws ModelDirectoryException {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw bad(where, key, "an integer", v);
        return v.intValue();
    }

    private static double number(JsonNode v, String key, String where) throws ModelDirectoryException {
        if (!v.isNumber()) throw bad(where, key, "a number", v);
        return v.doubleValue();
    }

    private static boolean boolValue(JsonNode v, String key, String where) throws ModelDirectoryException {
        if (!v.isBoolean()) throw bad(where, key, "true or false", v);
        return v.booleanValue();
    }

    private static ModelDirectoryException bad(String where, String key, String expected, JsonNode v) {
        return new ModelDirectoryException(java.nio.file.Path.of(where), "\"" + key + "\" must be " + expected + ", got " + v);
    }

    /**
     * The longest a row may grow, prompt included: {@code promptLength + max_new_tokens} when
     * {@code max_new_tokens} is set, else {@code max_length} (transformers' rule).
     */
    public int maxLength(int promptLength) {
        return maxNewTokens != null ? promptLength + maxNewTokens : maxLength;
    }

    public Integer maxNewTokens() { return maxNewTokens; }

    public int maxLength() { return maxLength; }

    public Integer minNewTokens() { return minNewTokens; }

    public int minLength() { return minLength; }

    public boolean doSample() { return doSample; }

    public double temperature() { return temperature; }

    public int topK() { return topK; }

    public double topP() { return topP; }

    public Double minP() { return minP; }

    public double typicalP() { return typicalP; }

    public double repetitionPenalty() { return repetitionPenalty; }

    public int noRepeatNgramSize() { return noRepeatNgramSize; }

    public int numBeams() { return numBeams; }

    public int numReturnSequences() { return numReturnSequences; }

    public double lengthPenalty() { return lengthPenalty; }

    public EarlyStopping earlyStopping() { return earlyStopping; }

    /** The EOS ids (empty: none). */
    public int[] eosTokenId() { return eosTokenId.clone(); }

    public Integer padTokenId() { return padTokenId; }

    public Integer bosTokenId() { return bosTokenId; }

    /** The id an encoder-decoder's output starts from (null: none set; {@code bos_token_id} is then used). */
    public Integer decoderStartTokenId() { return decoderStartTokenId; }

    /** The token forced as the first generated one (transformers' {@code ForcedBOSTokenLogitsProcessor}), or null. */
    public Integer forcedBosTokenId() { return forcedBosTokenId; }

    /** The token(s) forced when {@code max_length} is reached ({@code ForcedEOSTokenLogitsProcessor}), or null. */
    public int[] forcedEosTokenId() { return forcedEosTokenId == null ? null : forcedEosTokenId.clone(); }

    /** Token sequences never generated ({@code NoBadWordsLogitsProcessor}), or null. */
    public int[][] badWordsIds() { return copy(badWordsIds); }

    public List<String> stopStrings() { return stopStrings; }

    /** The sampler's seed; null (the default): a fresh random seed per run, as transformers without {@code set_seed}. */
    public Long seed() { return seed; }

    /** Whether {@code token} is one of the EOS ids. */
    public boolean isEos(int token) {
        for (int e : eosTokenId) if (e == token) return true;
        return false;
    }

    @Override
    public String toString() {
        return "GenerationConfig{max_new_tokens=" + maxNewTokens + ", max_length=" + maxLength + ", min_new_tokens="
                + minNewTokens + ", min_length=" + minLength + ", do_sample=" + doSample + ", temperature=" + temperature
                + ", top_k=" + topK + ", top_p=" + topP + ", min_p=" + minP + ", typical_p=" + typicalP
                + ", repetition_penalty=" + repetitionPenalty + ", no_repeat_ngram_size=" + noRepeatNgramSize
                + ", num_beams=" + numBeams + ", num_return_sequences=" + numReturnSequences + ", length_penalty="
                + lengthPenalty + ", early_stopping=" + earlyStopping + ", eos_token_id=" + Arrays.toString(eosTokenId)
                + ", pad_token_id=" + padTokenId + ", bos_token_id=" + bosTokenId + ", decoder_start_token_id=" + decoderStartTokenId
                + ", forced_bos_token_id=" + forcedBosTokenId + ", forced_eos_token_id="
                + (forcedEosTokenId == null ? null : Arrays.toString(forcedEosTokenId)) + ", bad_words_ids="
                + (badWordsIds == null ? null : Arrays.deepToString(badWordsIds)) + ", stop_strings=" + stopStrings
                + ", seed=" + seed + "}";
    }

    /** Overrides; {@link #build()} validates as transformers' {@code validate()} and its warpers do. */
    public static final class Builder {
        private Integer maxNewTokens;
        private int maxLength = 20;
        private Integer minNewTokens;
        private int minLength;
        private boolean doSample;
        private double temperature = 1.0;
        private int topK = 50;
        private double topP = 1.0;
        private Double minP;
        private double typicalP = 1.0;
        private double repetitionPenalty = 1.0;
        private int noRepeatNgramSize;
        private int numBeams = 1;
        private int numReturnSequences = 1;
        private double lengthPenalty = 1.0;
        private EarlyStopping earlyStopping = EarlyStopping.FALSE;
        private int[] eosTokenId = new int[0];
        private Integer padTokenId;
        private Integer bosTokenId;
        private Integer decoderStartTokenId;
        private Integer forcedBosTokenId;
        private int[] forcedEosTokenId;
        private int[][] badWordsIds;
        private List<String> stopStrings = new ArrayList<>();
        private Long seed;

        private Builder() {
        }

        public Builder maxNewTokens(Integer v) { maxNewTokens = v; return this; }

        public Builder maxLength(int v) { maxLength = v; return this; }

        public Builder minNewTokens(Integer v) { minNewTokens = v; return this; }

        public Builder minLength(int v) { minLength = v; return this; }

        public Builder doSample(boolean v) { doSample = v; return this; }

        public Builder temperature(double v) { temperature = v; return this; }

        /** 0 turns top-k off. */
        public Builder topK(int v) { topK = v; return this; }

        public Builder topP(double v) { topP = v; return this; }

        /** null turns min-p off (the default). */
        public Builder minP(Double v) { minP = v; return this; }

        public Builder typicalP(double v) { typicalP = v; return this; }

        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }

        public Builder noRepeatNgramSize(int v) { noRepeatNgramSize = v; return this; }

        public Builder numBeams(int v) { numBeams = v; return this; }

        public Builder numReturnSequences(int v) { numReturnSequences = v; return this; }

        public Builder lengthPenalty(double v) { lengthPenalty = v; return this; }

        public Builder earlyStopping(EarlyStopping v) { earlyStopping = v; return this; }

        public Builder earlyStopping(boolean v) { earlyStopping = v ? EarlyStopping.TRUE : EarlyStopping.FALSE; return this; }

        public Builder eosTokenId(int... ids) { eosTokenId = ids.clone(); return this; }

        public Builder padTokenId(Integer v) { padTokenId = v; return this; }

        public Builder bosTokenId(Integer v) { bosTokenId = v; return this; }

        public Builder decoderStartTokenId(Integer v) { decoderStartTokenId = v; return this; }

        public Builder forcedBosTokenId(Integer v) { forcedBosTokenId = v; return this; }

        /** null turns it off. */
        public Builder forcedEosTokenId(int... ids) { forcedEosTokenId = ids == null ? null : ids.clone(); return this; }

        /** null turns it off. */
        public Builder badWordsIds(int[][] v) { badWordsIds = copy(v); return this; }

        public Builder stopStrings(List<String> v) { stopStrings = new ArrayList<>(v); return this; }

        public Builder stopStrings(String... v) { stopStrings = new ArrayList<>(List.of(v)); return this; }

        /** The sampler's seed (attn4j's, not transformers'): equal seeds give equal samples. */
        public Builder seed(Long v) { seed = v; return this; }

        /** @throws IllegalArgumentException naming the first invalid field and its value */
        public GenerationConfig build() {
            if (maxNewTokens != null && maxNewTokens <= 0) fail("max_new_tokens", maxNewTokens, "must be greater than 0");
            if (maxLength < 1) fail("max_length", maxLength, "must be at least 1");
            if (minNewTokens != null && minNewTokens < 0) fail("min_new_tokens", minNewTokens, "must be >= 0");
            if (minLength < 0) fail("min_length", minLength, "must be >= 0");
            if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
                fail("repetition_penalty", repetitionPenalty, "has to be a strictly positive float");
            }
            if (noRepeatNgramSize < 0) fail("no_repeat_ngram_size", noRepeatNgramSize, "must be >= 0 (0 turns it off)");
            if (numBeams < 1) fail("num_beams", numBeams, "must be at least 1");
            if (numReturnSequences < 1) fail("num_return_sequences", numReturnSequences, "must be at least 1");
            if (numReturnSequences != 1) {
                if (numBeams == 1 && !doSample) {
                    fail("num_return_sequences", numReturnSequences,
                            "must be 1 for greedy decoding (transformers: greedy methods without beam search do not support it)");
                }
                if (numBeams > 1 && numReturnSequences > numBeams) {
                    fail("num_return_sequences", numReturnSequences, "has to be smaller or equal to num_beams (" + numBeams + ")");
                }
            }
            if (!Double.isFinite(lengthPenalty)) fail("length_penalty", lengthPenalty, "must be finite");
            if (padTokenId != null && padTokenId < 0) fail("pad_token_id", padTokenId, "must be >= 0");
            if (bosTokenId != null && bosTokenId < 0) fail("bos_token_id", bosTokenId, "must be >= 0");
            for (int e : eosTokenId) if (e < 0) fail("eos_token_id", Arrays.toString(eosTokenId), "ids must be >= 0");
            if (decoderStartTokenId != null && decoderStartTokenId < 0) fail("decoder_start_token_id", decoderStartTokenId, "must be >= 0");
            if (forcedBosTokenId != null && forcedBosTokenId < 0) fail("forced_bos_token_id", forcedBosTokenId, "must be >= 0");
            if (forcedEosTokenId != null) {
                for (int e : forcedEosTokenId) {
                    if (e < 0) fail("forced_eos_token_id", Arrays.toString(forcedEosTokenId), "has to be a list of positive integers");
                }
            }
            if (badWordsIds != null) {
                // NoBadWordsLogitsProcessor._validate_arguments
                if (badWordsIds.length == 0) fail("bad_words_ids", "[]", "has to be a non-empty list");
                for (int[] w : badWordsIds) {
                    boolean ok = w.length > 0;
                    for (int id : w) ok &= id >= 0;
                    if (!ok) fail("bad_words_ids", Arrays.deepToString(badWordsIds), "has to be a list of lists of positive integers");
                }
            }
            for (String s : stopStrings) if (s == null || s.isEmpty()) fail("stop_strings", stopStrings, "must not hold an empty string");
            if (doSample) {
                if (!(temperature > 0) || Double.isInfinite(temperature)) {
                    fail("temperature", temperature, "has to be a strictly positive float, otherwise your next token scores will be"
                            + " invalid" + (temperature == 0 ? "; for greedy decoding set do_sample=false" : ""));
                }
                if (topK < 0) fail("top_k", topK, "has to be a strictly positive integer (0 turns top-k off)");
                if (!(topP > 0 && topP <= 1)) fail("top_p", topP, "has to be a float in (0, 1]");
                if (minP != null && !(minP >= 0 && minP <= 1)) fail("min_p", minP, "has to be a float in the [0, 1] interval");
                if (!(typicalP > 0 && typicalP <= 1)) fail("typical_p", typicalP, "has to be a float in (0, 1]");
            }
            return new GenerationConfig(this);
        }

        private static void fail(String key, Object value, String problem) {
            throw new IllegalArgumentException("generation config: `" + key + "` (=" + value + ") " + problem);
        }
    }
}
