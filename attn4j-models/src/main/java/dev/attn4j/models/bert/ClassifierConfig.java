package dev.attn4j.models.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attn4j.hub.ModelDirectoryException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The task-head fields of a transformers {@code config.json}: {@code id2label} (which fixes
 * {@code num_labels}), {@code label2id}, {@code problem_type} and {@code classifier_dropout}
 * (DistilBERT: {@code seq_classif_dropout}).
 *
 * @param id2label          label names by class index; its size is {@code num_labels}
 * @param problemType       {@code single_label_classification}, {@code multi_label_classification},
 *                          {@code regression}, or null (chosen from the labels as transformers does)
 * @param classifierDropout dropout before the classifier, or null (falls back to {@code hidden_dropout_prob})
 */
public record ClassifierConfig(List<String> id2label, String problemType, Double classifierDropout) {
    public static final String SINGLE_LABEL = "single_label_classification";
    public static final String MULTI_LABEL = "multi_label_classification";
    public static final String REGRESSION = "regression";
    public static final List<String> PROBLEM_TYPES = List.of(REGRESSION, SINGLE_LABEL, MULTI_LABEL);

    public ClassifierConfig {
        if (id2label == null || id2label.isEmpty()) throw new IllegalArgumentException("id2label: at least one label is needed");
        id2label = List.copyOf(id2label);
        Set<String> seen = new HashSet<>();
        for (String l : id2label) {
            if (!seen.add(l)) throw new IllegalArgumentException("id2label: label '" + l + "' appears twice");
        }
        if (problemType != null && !PROBLEM_TYPES.contains(problemType)) {
            throw new IllegalArgumentException("problem_type '" + problemType + "' is not one of " + PROBLEM_TYPES);
        }
        if (classifierDropout != null && !(classifierDropout >= 0 && classifierDropout <= 1)) {
            throw new IllegalArgumentException("classifier_dropout must be in [0, 1], got " + classifierDropout);
        }
    }

    /** {@code n} labels named as transformers names them by default: LABEL_0, LABEL_1, ... */
    public static ClassifierConfig ofNumLabels(int n) {
        if (n <= 0) throw new IllegalArgumentException("num_labels must be positive, got " + n);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) names.add("LABEL_" + i);
        return new ClassifierConfig(names, null, null);
    }

    public int numLabels() {
        return id2label.size();
    }

    /** The class index of {@code label}, or -1. */
    public int labelId(String label) {
        return id2label.indexOf(label);
    }

    /** The same head with another problem type. */
    public ClassifierConfig withProblemType(String type) {
        return new ClassifierConfig(id2label, type, classifierDropout);
    }

    /** The same head with another classifier dropout (null: hidden_dropout_prob). */
    public ClassifierConfig withClassifierDropout(Double p) {
        return new ClassifierConfig(id2label, problemType, p);
    }

    /**
     * The problem type the loss uses: {@link #problemType()} when set, else transformers' rule
     * ({@code num_labels == 1}: regression; integer class labels: single-label; otherwise
     * multi-label). {@code integerLabels}: the labels are one class index per example.
     */
    public String effectiveProblemType(boolean integerLabels) {
        if (problemType != null) return problemType;
        if (numLabels() == 1) return REGRESSION;
        return integerLabels ? SINGLE_LABEL : MULTI_LABEL;
    }

    /**
     * Reads the head fields of {@code config.json}, or null when it has neither {@code id2label}
     * nor {@code num_labels} (a bare encoder). {@code dropoutKey} is where the classifier dropout lives.
     */
    public static ClassifierConfig fromJson(JsonNode root, Path file, String dropoutKey) throws ModelDirectoryException {
        JsonNode id2 = root.get("id2label");
        JsonNode num = root.get("num_labels");
        if ((id2 == null || id2.isNull()) && (num == null || num.isNull())) return null;
        List<String> names;
        if (id2 != null && !id2.isNull()) {
            if (!id2.isObject() || id2.isEmpty()) throw new ModelDirectoryException(file, "'id2label' must be a non-empty object");
            TreeMap<Integer, String> byId = new TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = id2.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey().trim());
                } catch (NumberFormatException ex) {
                    throw new ModelDirectoryException(file, "'id2label' key '" + e.getKey() + "' is not an integer");
                }
                if (!e.getValue().isTextual()) throw new ModelDirectoryException(file, "'id2label' value of " + id + " is not a string");
                byId.put(id, e.getValue().asText());
            }
            names = new ArrayList<>();
            for (int i = 0; i < byId.size(); i++) {
                String n = byId.get(i);
                if (n == null) throw new ModelDirectoryException(file, "'id2label' lacks id " + i + " (ids must be 0.." + (byId.size() - 1) + ")");
                names.add(n);
            }
            if (num != null && !num.isNull() && num.asInt() != names.size()) {
                throw new ModelDirectoryException(file, "'num_labels' is " + num + " but 'id2label' has " + names.size() + " labels");
            }
        } else {
            if (!num.canConvertToInt() || num.asInt() <= 0) throw new ModelDirectoryException(file, "'num_labels' must be a positive integer");
            names = ofNumLabels(num.asInt()).id2label();
        }
        JsonNode pt = root.get("problem_type");
        String problem = pt == null || pt.isNull() ? null : pt.asText();
        JsonNode cd = root.get(dropoutKey);
        if (cd != null && !cd.isNull() && !cd.isNumber()) throw new ModelDirectoryException(file, "'" + dropoutKey + "' must be a number");
        try {
            return new ClassifierConfig(names, problem, cd == null || cd.isNull() ? null : cd.asDouble());
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(file, e.getMessage());
        }
    }

    /**
     * Writes the head fields as transformers does: {@code id2label} / {@code label2id} with the
     * ids as strings in {@code id2label}'s keys, {@code problem_type}, and the dropout under
     * {@code dropoutKey} (null when unset).
     */
    void writeInto(ObjectNode o, String dropoutKey) {
        o.remove("num_labels");
        ObjectNode id2 = o.putObject("id2label");
        for (int i = 0; i < id2label.size(); i++) id2.put(Integer.toString(i), id2label.get(i));
        ObjectNode l2 = o.putObject("label2id");
        for (int i = 0; i < id2label.size(); i++) l2.put(id2label.get(i), i);
        if (problemType == null) o.remove("problem_type");
        else o.put("problem_type", problemType);
        if (dropoutKey != null) {
            if (classifierDropout == null) {
                if (!o.has(dropoutKey)) o.putNull(dropoutKey);
            } else {
                o.put(dropoutKey, classifierDropout);
            }
        }
    }
}
