package dev.attn4j.models.onnx;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The main graph ({@code GraphProto}) of a model: nodes in file order, initializers by name (in
 * file order), and the names of the graph inputs and outputs. Offers the producer/consumer links
 * that weight matching walks.
 *
 * @param name         graph name
 * @param nodes        nodes in file order (topologically sorted in valid models)
 * @param initializers initializer tensors by name, in file order
 * @param inputs       names of the graph inputs
 * @param outputs      names of the graph outputs
 */
public record OnnxGraph(String name, List<OnnxNode> nodes, Map<String, OnnxTensor> initializers,
                        List<String> inputs, List<String> outputs) {
    /** Copies the lists; keeps the initializers' order. */
    public OnnxGraph {
        nodes = List.copyOf(nodes);
        initializers = Collections.unmodifiableMap(new LinkedHashMap<>(initializers));
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** The nodes that read each value name, in file order. */
    public Map<String, List<OnnxNode>> consumers() {
        Map<String, List<OnnxNode>> out = new HashMap<>();
        for (OnnxNode n : nodes) {
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    List<OnnxNode> list = out.computeIfAbsent(in, k -> new ArrayList<>());
                    if (list.isEmpty() || list.getLast() != n) list.add(n);
                }
            }
        }
        return out;
    }

    /** The node that writes each value name. */
    public Map<String, OnnxNode> producers() {
        Map<String, OnnxNode> out = new HashMap<>();
        for (OnnxNode n : nodes) {
            for (String o : n.outputs()) {
                if (!o.isEmpty()) out.put(o, n);
            }
        }
        return out;
    }
}
