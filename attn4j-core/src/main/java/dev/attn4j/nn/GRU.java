package dev.attn4j.nn;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A multi-layer gated recurrent unit, as torch.nn.GRU (the step is {@link GRUCell}'s). Parameters
 * per layer k: weight_ih_l{k} [3H, in_k], weight_hh_l{k} [3H, H], bias_ih_l{k}, bias_hh_l{k}
 * [3H], gates stacked (r, z, n); in_0 = input_size, in_k = H * directions. The reverse direction
 * of a bidirectional GRU has the same names with suffix {@code _reverse}. All start
 * U(-1/sqrt(H), 1/sqrt(H)).
 *
 * <p>Input [T, B, in] ([B, T, in] with batch_first) or unbatched [T, in]; output [T, B, D*H]
 * (batch_first: [B, T, D*H]) with the forward and reverse halves concatenated on the last
 * dimension; h_n [num_layers * D, B, H] ordered layer by layer, forward before reverse (never
 * batch-first, as in PyTorch). Dropout (training only) applies to the output of every layer but
 * the last. Packed sequences are not supported: pad, and read h_n per sequence yourself.
 */
public final class GRU extends Module {
    public final int inputSize;
    public final int hiddenSize;
    public final int numLayers;
    public final boolean bias;
    public final boolean batchFirst;
    public final double dropout;
    public final boolean bidirectional;
    private final Tensor[][] weightIh;
    private final Tensor[][] weightHh;
    private final Tensor[][] biasIh;
    private final Tensor[][] biasHh;
    private final SplittableRandom dropoutRng;

    /** The output sequence and the final hidden state of every layer and direction. */
    public record Output(Tensor output, Tensor hN) {
    }

    /** One layer, with bias, sequence-first, no dropout, one direction. */
    public GRU(int inputSize, int hiddenSize, SplittableRandom rng) {
        this(inputSize, hiddenSize, 1, true, false, 0, false, rng);
    }

    /** torch.nn.GRU(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional). */
    public GRU(int inputSize, int hiddenSize, int numLayers, boolean bias, boolean batchFirst, double dropout,
               boolean bidirectional, SplittableRandom rng) {
        if (inputSize <= 0 || hiddenSize <= 0 || numLayers <= 0) {
            throw new IllegalArgumentException("GRU(input_size " + inputSize + ", hidden_size " + hiddenSize
                    + ", num_layers " + numLayers + "): sizes must be positive");
        }
        if (!(dropout >= 0 && dropout <= 1)) throw new IllegalArgumentException("GRU dropout must be in [0, 1], got " + dropout);
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        this.numLayers = numLayers;
        this.bias = bias;
        this.batchFirst = batchFirst;
        this.dropout = dropout;
        this.bidirectional = bidirectional;
        int dirs = directions();
        weightIh = new Tensor[numLayers][dirs];
        weightHh = new Tensor[numLayers][dirs];
        biasIh = new Tensor[numLayers][dirs];
        biasHh = new Tensor[numLayers][dirs];
        double k = 1 / Math.sqrt(hiddenSize);
        int g = 3 * hiddenSize;
        for (int l = 0; l < numLayers; l++) {
            int in = l == 0 ? inputSize : hiddenSize * dirs;
            for (int d = 0; d < dirs; d++) {
                String sfx = "_l" + l + (d == 1 ? "_reverse" : "");
                weightIh[l][d] = parameter("weight_ih" + sfx, Init.uniform(rng, Shape.of(g, in), k));
                weightHh[l][d] = parameter("weight_hh" + sfx, Init.uniform(rng, Shape.of(g, hiddenSize), k));
                if (bias) {
                    biasIh[l][d] = parameter("bias_ih" + sfx, Init.uniform(rng, Shape.of(g), k));
                    biasHh[l][d] = parameter("bias_hh" + sfx, Init.uniform(rng, Shape.of(g), k));
                }
            }
        }
        this.dropoutRng = rng.split();
    }

    /** 2 when bidirectional, else 1. */
    public int directions() {
        return bidirectional ? 2 : 1;
    }

    /** weight_ih_l{layer}[_reverse]. */
    public Tensor weightIh(int layer, boolean reverse) { return weightIh[layer][reverse ? 1 : 0]; }

    /** weight_hh_l{layer}[_reverse]. */
    public Tensor weightHh(int layer, boolean reverse) { return weightHh[layer][reverse ? 1 : 0]; }

    /** bias_ih_l{layer}[_reverse], null without bias. */
    public Tensor biasIh(int layer, boolean reverse) { return biasIh[layer][reverse ? 1 : 0]; }

    /** bias_hh_l{layer}[_reverse], null without bias. */
    public Tensor biasHh(int layer, boolean reverse) { return biasHh[layer][reverse ? 1 : 0]; }

    /** With a zero initial state. */
    public Output forward(Tensor input) {
        return forward(input, null);
    }

    /**
     * Runs the GRU over {@code input}; {@code h0} [num_layers * D, B, H] (unbatched:
     * [num_layers * D, H]) may be null for zeros.
     */
    public Output forward(Tensor input, Tensor h0) {
        if ((input.rank() != 2 && input.rank() != 3) || input.dim(-1) != inputSize) {
            throw new IllegalArgumentException("GRU(input_size " + inputSize + "): input must be "
                    + (batchFirst ? "[batch, seq, " : "[seq, batch, ") + inputSize + "] or [seq, " + inputSize
                    + "], got " + input.shape());
        }
        boolean unbatched = input.rank() == 2;
        Tensor x = unbatched ? input.unsqueeze(1) : batchFirst ? input.transpose(0, 1) : input; // [T, B, in]
        int steps = x.dim(0), batch = x.dim(1), dirs = directions();
        if (steps == 0) throw new IllegalArgumentException("GRU: input " + input.shape() + " has no time steps");
        Shape hShape = unbatched ? Shape.of(numLayers * dirs, hiddenSize) : Shape.of(numLayers * dirs, batch, hiddenSize);
        if (h0 != null && !h0.shape().equals(hShape)) {
            throw new IllegalArgumentException("GRU: h0 must be " + hShape + " for input " + input.shape() + ", got " + h0.shape());
        }
        Tensor h0b = h0 == null ? null : unbatched ? h0.unsqueeze(1) : h0; // [L*D, B, H]
        List<Tensor> finals = new ArrayList<>();
        for (int l = 0; l < numLayers; l++) {
            List<Tensor> outs = new ArrayList<>(dirs);
            for (int d = 0; d < dirs; d++) {
                Tensor h = h0b == null ? Tensor.of(NDArray.zeros(x.dtype(), Shape.of(batch, hiddenSize)))
                        : h0b.select(0, l * dirs + d);                          // [B, H]
                Tensor gi = F.linear(x, weightIh[l][d], biasIh[l][d]);          // [T, B, 3H]
                Tensor[] hs = new Tensor[steps];
                for (int i = 0; i < steps; i++) {
                    int t = d == 0 ? i : steps - 1 - i;
                    h = GRUCell.step(gi.select(0, t), h, weightHh[l][d], biasHh[l][d], hiddenSize); // [B, H]
                    hs[t] = h.unsqueeze(0);                                     // [1, B, H]
                }
                outs.add(F.concat(Arrays.asList(hs), 0));                       // [T, B, H]
                finals.add(h.unsqueeze(0));                                     // [1, B, H]
            }
            x = dirs == 1 ? outs.get(0) : F.concat(outs, 2);                    // [T, B, D*H]
            if (l < numLayers - 1) x = F.dropout(x, dropout, isTraining(), dropoutRng);
        }
        Tensor hN = F.concat(finals, 0);                                        // [L*D, B, H]
        Tensor output = unbatched ? x.squeeze(1) : batchFirst ? x.transpose(0, 1) : x;
        return new Output(output, unbatched ? hN.squeeze(1) : hN);
    }
}
