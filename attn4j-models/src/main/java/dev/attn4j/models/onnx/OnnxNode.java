package dev.attn4j.models.onnx;

import java.util.List;
import java.util.Map;

/**
 * One graph node ({@code NodeProto}). Input and output names link nodes to each other, to graph
 * inputs and to initializers; an empty input name means an omitted optional input.
 *
 * @param name       node name (may be empty)
 * @param opType     operator, e.g. {@code MatMul}
 * @param domain     operator domain ("" for the default ONNX domain)
 * @param inputs     input value names, in order
 * @param outputs    output value names, in order
 * @param attributes attributes by name
 */
public record OnnxNode(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, OnnxAttribute> attributes) {
    /** Copies the lists and map. */
    public OnnxNode {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        attributes = Map.copyOf(attributes);
    }

    /** The node's name, or {@code <opType> -> <first output>} when it has none, for messages. */
    public String describe() {
        return opType + " node '" + (name.isEmpty() ? (outputs.isEmpty() ? "?" : outputs.get(0)) : name) + "'";
    }
}
