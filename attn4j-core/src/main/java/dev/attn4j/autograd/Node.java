package dev.attn4j.autograd;

import dev.attn4j.tensor.NDArray;

/**
 * One recorded operation: the tensors it read and the rule turning the gradient of its output
 * into gradients of those inputs. The rule (and with it every array it captured) and the input
 * references are dropped once backward has used them.
 */
final class Node {
    /** Gradient rule: one entry per input; null where that input does not require grad. */
    @FunctionalInterface
    interface Rule {
        NDArray[] apply(NDArray gradOutput);
    }

    final String op;
    Tensor[] inputs;
    Rule rule;

    Node(String op, Tensor[] inputs, Rule rule) {
        this.op = op;
        this.inputs = inputs;
        this.rule = rule;
    }

    boolean released() {
        return rule == null;
    }

    void release() {
        rule = null;
        inputs = null;
    }
}
