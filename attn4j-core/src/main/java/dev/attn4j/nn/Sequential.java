package dev.attn4j.nn;

import dev.attn4j.autograd.Tensor;
import java.util.List;

/** Layers applied in order; children are named 0, 1, 2, ... as in torch.nn.Sequential. */
public final class Sequential extends Module implements Layer {
    private final List<Layer> layers;

    @SafeVarargs
    public <L extends Module & Layer> Sequential(L... layers) {
        this.layers = List.of(layers);
        for (int i = 0; i < layers.length; i++) child(Integer.toString(i), layers[i]);
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
