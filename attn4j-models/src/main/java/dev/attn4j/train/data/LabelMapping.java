package dev.attn4j.train.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Class ids and names, as transformers' config.json holds them ({@code id2label} with string keys
 * {@code "0".."n-1"}, {@code label2id}); {@code num_labels} is {@link #size()}.
 * <p>
 * Built from the training labels ({@link #fromLabels}), ids are given in sorted label order, as
 * transformers' {@code run_classification.py} / {@code run_glue.py} do ({@code label_list.sort()},
 * then {@code enumerate}), so the same data gets the same ids in Python and the ids do not depend
 * on row order:
 * <ul>
 *   <li>when every label is an integer ({@code -?[0-9]+}), in numeric order: labels {@code 0..n-1}
 *       map to themselves, {@code 10} comes after {@code 9}, and {@code 1..4} (AG News) become ids
 *       {@code 0..3} named {@code "1".."4"};</li>
 *   <li>otherwise by Unicode code point (Python's string order), e.g. {@code negative, neutral,
 *       positive}.</li>
 * </ul>
 * A mapping can also come from a model's config.json ({@link #fromConfig}: a fine-tuned model
 * keeps its classes) or be given by the user ({@link #of}).
 */
public final class LabelMapping {
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]+");

    private final List<String> names;            // id -> name
    private final Map<String, Integer> ids;       // name -> id

    private LabelMapping(List<String> names) {
        if (names.isEmpty()) throw new IllegalArgumentException("a label mapping needs at least one label");
        Map<String, Integer> m = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            if (n == null) throw new IllegalArgumentException("label " + i + " has no name");
            Integer prev = m.putIfAbsent(n, i);
            if (prev != null) throw new IllegalArgumentException("label '" + n + "' is given twice (ids " + prev + " and " + i + ")");
        }
        this.names = List.copyOf(names);
        this.ids = Collections.unmodifiableMap(m);
    }

    /** The mapping whose id {@code i} is {@code namesById.get(i)}. */
    public static LabelMapping of(List<String> namesById) {
        return new LabelMapping(namesById);
    }

    /** The mapping of the distinct labels of {@code examples} (nulls are an error), in sorted order (class comment). */
    public static LabelMapping fromExamples(Collection<LabeledExample> examples) {
        List<String> labels = new ArrayList<>(examples.size());
        for (LabeledExample e : examples) {
            if (e.label() == null) throw new IllegalArgumentException("line " + e.line() + " has no label");
            labels.add(e.label());
        }
        return fromLabels(labels);
    }

    /** The mapping of the distinct {@code labels}, in sorted order (see the class comment). */
    public static LabelMapping fromLabels(Collection<String> labels) {
        Set<String> distinct = new LinkedHashSet<>(labels);
        if (distinct.isEmpty()) throw new IllegalArgumentException("no labels");
        List<String> sorted = new ArrayList<>(distinct);
        boolean allIntegers = sorted.stream().allMatch(s -> INTEGER.matcher(s).matches());
        if (allIntegers) {
            Map<BigInteger, String> seen = new TreeMap<>();
            for (String s : sorted) {
                String other = seen.putIfAbsent(new BigInteger(s), s);
                if (other != null) {
                    throw new IllegalArgumentException("labels '" + other + "' and '" + s + "' are the same integer; write each class one way");
                }
            }
            return new LabelMapping(new ArrayList<>(seen.values()));
        }
        sorted.sort(LabelMapping::compareCodePoints);
        return new LabelMapping(sorted);
    }

    /** Python's string order: by Unicode code point (not UTF-16 unit, which differs above U+FFFF). */
    static int compareCodePoints(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    /**
     * The mapping of a model's config.json: its {@code id2label} (keys {@code "0".."n-1"}, checked
     * against {@code label2id} when that is present), or null when the config has no
     * {@code id2label}.
     *
     * @throws IllegalArgumentException naming the key when the two disagree or the ids have gaps
     */
    public static LabelMapping fromConfig(JsonNode config) {
        JsonNode id2label = config.get("id2label");
        if (id2label == null || id2label.isNull()) return null;
        if (!id2label.isObject()) throw new IllegalArgumentException("config.json: id2label is not an object");
        TreeMap<Integer, String> byId = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = id2label.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey().strip());
            } catch (NumberFormatException ex) {
                throw new IllegalArgumentException("config.json: id2label key '" + e.getKey() + "' is not an integer");
            }
            if (!e.getValue().isTextual()) {
                throw new IllegalArgumentException("config.json: id2label['" + e.getKey() + "'] is not a string");
            }
            if (byId.put(id, e.getValue().textValue()) != null) {
                throw new IllegalArgumentException("config.json: id2label has id " + id + " twice");
            }
        }
        List<String> names = new ArrayList<>();
        int expect = 0;
        for (Map.Entry<Integer, String> e : byId.entrySet()) {
            if (e.getKey() != expect) {
                throw new IllegalArgumentException("config.json: id2label ids must be 0.." + (byId.size() - 1) + ", found " + e.getKey());
            }
            names.add(e.getValue());
            expect++;
        }
        LabelMapping m = new LabelMapping(names);
        JsonNode label2id = config.get("label2id");
        if (label2id != null && label2id.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = label2id.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                Integer id = m.ids.get(e.getKey());
                if (id == null || !e.getValue().canConvertToInt() || e.getValue().intValue() != id) {
                    throw new IllegalArgumentException("config.json: label2id['" + e.getKey() + "'] = " + e.getValue()
                            + " disagrees with id2label");
                }
            }
        }
        return m;
    }

    /**
     * The classes a fine-tuning run uses: the model's own mapping ({@code config}'s id2label) when it
     * names its classes, checked to cover every training label; otherwise (no id2label, or only
     * transformers' {@code LABEL_i} placeholders, as a base model's config holds) the training labels'
     * own mapping ({@link #fromExamples}).
     *
     * @param config the model's config.json, or null
     * @param train  the training rows
     * @param file   the training file (error messages)
     * @throws DataFileException naming the first training label the model's mapping lacks, with its line
     */
    public static LabelMapping forTraining(JsonNode config, List<LabeledExample> train, Path file) {
        LabelMapping own = config == null ? null : fromConfig(config);
        if (own == null || own.isDefaultNames()) return fromExamples(train);
        for (LabeledExample e : train) own.id(e.label(), file, e.line());
        return own;
    }

    /**
     * Whether the names are transformers' placeholders {@code LABEL_0 .. LABEL_{n-1}}, which
     * {@code PretrainedConfig} writes when no one named the classes (a base model's config.json
     * often holds them): a caller then names the classes from the data instead.
     */
    public boolean isDefaultNames() {
        for (int i = 0; i < names.size(); i++) {
            if (!names.get(i).equals("LABEL_" + i)) return false;
        }
        return true;
    }

    /** num_labels. */
    public int size() {
        return names.size();
    }

    /** The class names in id order. */
    public List<String> names() {
        return names;
    }

    /** The name of class {@code id}. */
    public String name(int id) {
        if (id < 0 || id >= names.size()) throw new IndexOutOfBoundsException("label id " + id + " outside 0.." + (names.size() - 1));
        return names.get(id);
    }

    /** The id of {@code label}, or -1 when it is not a class. */
    public int idOrMinusOne(String label) {
        Integer id = ids.get(label);
        return id == null ? -1 : id;
    }

    /**
     * The id of {@code label} from row {@code line} of {@code file}.
     *
     * @throws DataFileException {@code file:line: unknown label 'x' (the labels are a, b)} when it is
     *                           not a class
     */
    public int id(String label, Path file, long line) {
        Integer id = label == null ? null : ids.get(label);
        if (id == null) {
            throw new DataFileException(file, line, (label == null ? "row has no label" : "unknown label '" + label + "'")
                    + " (the model's labels are " + describe() + ")");
        }
        return id;
    }

    /** The ids of every example's label, in order ({@link #id} on each). */
    public int[] ids(List<LabeledExample> examples, Path file) {
        int[] out = new int[examples.size()];
        for (int i = 0; i < out.length; i++) {
            LabeledExample e = examples.get(i);
            out[i] = id(e.label(), file, e.line());
        }
        return out;
    }

    /** {@code id2label} as config.json writes it: {@code {"0": name, ...}} in id order. */
    public Map<String, String> id2label() {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) m.put(Integer.toString(i), names.get(i));
        return m;
    }

    /** {@code label2id} as config.json writes it: {@code {name: id, ...}} in id order. */
    public Map<String, Integer> label2id() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) m.put(names.get(i), i);
        return m;
    }

    /** Sets {@code id2label} and {@code label2id} on a config.json object. */
    public void writeTo(ObjectNode config) {
        ObjectNode a = JsonNodeFactory.instance.objectNode();
        id2label().forEach(a::put);
        ObjectNode b = JsonNodeFactory.instance.objectNode();
        label2id().forEach(b::put);
        config.set("id2label", a);
        config.set("label2id", b);
    }

    private String describe() {
        int shown = Math.min(names.size(), 20);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < shown; i++) {
            if (i > 0) sb.append(", ");
            sb.append('\'').append(names.get(i)).append('\'');
        }
        if (shown < names.size()) sb.append(", ... (").append(names.size()).append(" in all)");
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LabelMapping m && m.names.equals(names);
    }

    @Override
    public int hashCode() {
        return names.hashCode();
    }

    @Override
    public String toString() {
        return "LabelMapping" + id2label();
    }

    /** Orders names as {@link #fromLabels} does (exposed for tests and callers that sort labels). */
    public static Comparator<String> pythonStringOrder() {
        return LabelMapping::compareCodePoints;
    }
}
