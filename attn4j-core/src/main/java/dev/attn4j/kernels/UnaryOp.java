package dev.attn4j.kernels;

/** Elementwise functions of one argument that kernels implement. */
public enum UnaryOp {
    NEG, EXP, LOG, TANH, SQRT, RELU,
    /** x * Phi(x) with the exact normal CDF (erf form), PyTorch's gelu(approximate='none'). */
    GELU_ERF,
    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), PyTorch's gelu(approximate='tanh'). */
    GELU_TANH,
    SILU, SIGMOID, ABS, SQUARE, RECIPROCAL
}
