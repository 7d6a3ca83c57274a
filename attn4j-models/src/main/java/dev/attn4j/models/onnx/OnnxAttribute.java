package dev.attn4j.models.onnx;

/**
 * One node attribute ({@code AttributeProto}) with the value kinds the importer reads: a float,
 * an int, a string, a tensor, or lists of floats/ints. Graph-valued attributes are skipped.
 *
 * @param name    attribute name
 * @param f       float value (0 if absent)
 * @param i       int value (0 if absent)
 * @param s       string value (null if absent)
 * @param t       tensor value (null if absent)
 * @param floats  repeated floats (empty if absent)
 * @param ints    repeated ints (empty if absent)
 */
public record OnnxAttribute(String name, float f, long i, String s, OnnxTensor t, float[] floats, long[] ints) {
}
