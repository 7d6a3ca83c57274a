package dev.attn4j.kernels;

/** Elementwise functions of two arguments that kernels implement. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAX, MIN
}
