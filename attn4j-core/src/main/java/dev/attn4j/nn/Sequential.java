package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import java.util.List;

/** Layers applied in order; children are named 0, 1, 2, ... as in torch.nn.Sequential. */
public final class Sequential extends Module implements Layer {
    private final List<Layer> layers;

    /** Each argument must be a {@link Layer} (one input, one output). */
    public Sequential(Module... layers) {
        List<Layer> list = new java.util.ArrayList<>();
        for (int i = 0; i < layers.length; i++) {
            if (!(layers[i] instanceof Layer l)) {
                throw new IllegalArgumentException("Sequential entry " + i + " (" + layers[i].getClass().getSimpleName()
                        + ") is not a Layer with one input and one output");
            }
            list.add(l);
            child(Integer.toString(i), layers[i]);
        }
        this.layers = List.copyOf(list);
    }

    public int size() {
        return layers.size();
    }

    public Layer get(int i) {
        return layers.get(i);
    }

    @Override
    public Tensor forward(Tensor x) {
        for (Layer l : layers) x = l.forward(x);
        return x;
    }
}
