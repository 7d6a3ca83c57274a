package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import java.util.function.UnaryOperator;

/** Parameter-free elementwise activations as modules (torch.nn.ReLU, GELU, Tanh, ...). */
public final class Activation extends Module implements Layer {
    private final String name;
    private final UnaryOperator<Tensor> fn;

    private Activation(String name, UnaryOperator<Tensor> fn) {
        this.name = name;
        this.fn = fn;
    }

    public static Activation relu() { return new Activation("ReLU", Tensor::relu); }

    /** GELU with the exact erf form (PyTorch's default, approximate='none'). */
    public static Activation gelu() { return new Activation("GELU", Tensor::gelu); }

    /** GELU with the tanh approximation (approximate='tanh'). */
    public static Activation geluTanh() { return new Activation("GELU(tanh)", Tensor::geluTanh); }

    public static Activation tanh() { return new Activation("Tanh", Tensor::tanh); }

    public static Activation sigmoid() { return new Activation("Sigmoid", Tensor::sigmoid); }

    public static Activation silu() { return new Activation("SiLU", Tensor::silu); }

    /** By name as in configs: relu, gelu, gelu_new / gelu_pytorch_tanh (tanh form), tanh, sigmoid, silu / swish. */
    public static Activation byName(String name) {
        return switch (name.toLowerCase(java.util.Locale.ROOT)) {
            case "relu" -> relu();
            case "gelu" -> gelu();
            case "gelu_new", "gelu_pytorch_tanh", "gelu_tanh" -> geluTanh();
            case "tanh" -> tanh();
            case "sigmoid" -> sigmoid();
            case "silu", "swish" -> silu();
            default -> throw new IllegalArgumentException("unknown activation '" + name
                    + "' (known: relu, gelu, gelu_new, gelu_pytorch_tanh, tanh, sigmoid, silu, swish)");
        };
    }

    @Override
    public Tensor forward(Tensor x) {
        return fn.apply(x);
    }

    @Override
    public String toString() {
        return name + "()";
    }
}
