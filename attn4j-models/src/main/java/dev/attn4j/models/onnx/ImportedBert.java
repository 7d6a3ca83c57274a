package dev.attn4j.models.onnx;

import dev.attn4j.tensor.NDArray;

import java.util.Collections;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A BERT model imported from ONNX: its config values and a state dict in Hugging Face
 * {@code BertModel} key names and layouts (Linear weights {@code [out, in]}), sorted by key.
 *
 * @param config    the config.json values
 * @param stateDict parameters by HF key, sorted
 * @param skipped   initializers left out on purpose (buffers such as position_ids, graph constants), with why
 * @param notes     how each non-shape config value was obtained (from the graph, or a default)
 */
public record ImportedBert(BertConfigValues config, SortedMap<String, NDArray> stateDict, List<String> skipped,
                           List<String> notes) {
    /** Copies the collections (the arrays are shared). */
    public ImportedBert {
        stateDict = Collections.unmodifiableSortedMap(new TreeMap<>(stateDict));
        skipped = List.copyOf(skipped);
        notes = List.copyOf(notes);
    }
}
