package dev.attn4j.nn;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;

/**
 * One gated recurrent unit step, as torch.nn.GRUCell. With gate order (r, z, n) in the stacked
 * weights weight_ih [3H, in], weight_hh [3H, H] and biases bias_ih, bias_hh [3H]:
 *
 * <pre>
 * r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 * z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 * n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 * h' = (1 - z) * n + z * h
 * </pre>
 *
 * Every weight and bias starts U(-1/sqrt(H), 1/sqrt(H)).
 */
public final class GRUCell extends Module {
    public final int inputSize;
    public final int hiddenSize;
    public final Tensor weightIh;
    public final Tensor weightHh;
    /** Null without bias. */
    public final Tensor biasIh;
    /** Null without bias. */
    public final Tensor biasHh;

    public GRUCell(int inputSize, int hiddenSize, SplittableRandom rng) {
        this(inputSize, hiddenSize, true, rng);
    }

    public GRUCell(int inputSize, int hiddenSize, boolean bias, SplittableRandom rng) {
        if (inputSize <= 0 || hiddenSize <= 0) {
            throw new IllegalArgumentException("GRUCell(" + inputSize + ", " + hiddenSize + "): sizes must be positive");
        }
        this.inputSize = inputSize;
        this.hiddenSize = hiddenSize;
        double k = 1 / Math.sqrt(hiddenSize);
        weightIh = parameter("weight_ih", Init.uniform(rng, Shape.of(3 * hiddenSize, inputSize), k));
        weightHh = parameter("weight_hh", Init.uniform(rng, Shape.of(3 * hiddenSize, hiddenSize), k));
        biasIh = bias ? parameter("bias_ih", Init.uniform(rng, Shape.of(3 * hiddenSize), k)) : null;
        biasHh = bias ? parameter("bias_hh", Init.uniform(rng, Shape.of(3 * hiddenSize), k)) : null;
    }

    /** x [B, in] or [in] with a zero initial state. */
    public Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /** x [B, in] (or unbatched [in]), h [B, H] (or [H]; null means zeros) -> h' of h's shape. */
    public Tensor forward(Tensor x, Tensor h) {
        if ((x.rank() != 1 && x.rank() != 2) || x.dim(-1) != inputSize) {
            throw new IllegalArgumentException("GRUCell(" + inputSize + ", " + hiddenSize + "): input must be [batch, "
                    + inputSize + "] or [" + inputSize + "], got " + x.shape());
        }
        boolean unbatched = x.rank() == 1;
        Tensor xb = unbatched ? x.unsqueeze(0) : x; // [B, in]
        int b = xb.dim(0);
        Shape expected = unbatched ? Shape.of(hiddenSize) : Shape.of(b, hiddenSize);
        if (h != null && !h.shape().equals(expected)) {
            throw new IllegalArgumentException("GRUCell: hidden state must be " + expected + " for input " + x.shape()
                    + ", got " + h.shape());
        }
        Tensor hb = h == null ? Tensor.of(NDArray.zeros(x.dtype(), Shape.of(b, hiddenSize)))
                : unbatched ? h.unsqueeze(0) : h;                   // [B, H]
        Tensor gi = F.linear(xb, weightIh, biasIh);                 // [B, 3H]
        Tensor out = step(gi, hb, weightHh, biasHh, hiddenSize);    // [B, H]
        return unbatched ? out.squeeze(0) : out;
    }

    /**
     * One step from input gates computed ahead, {@code gi = x W_ih^T + b_ih} [B, 3H] (e.g. for a
     * whole sequence at once with {@code F.linear}), and state {@code h} [B, H]: h' [B, H].
     */
    public Tensor stepFromInputGates(Tensor gi, Tensor h) {
        if (gi.rank() != 2 || gi.dim(1) != 3 * hiddenSize || h.rank() != 2 || h.dim(1) != hiddenSize || h.dim(0) != gi.dim(0)) {
            throw new IllegalArgumentException("GRUCell(" + inputSize + ", " + hiddenSize + "): input gates must be [B, "
                    + 3 * hiddenSize + "] and state [B, " + hiddenSize + "], got " + gi.shape() + " and " + h.shape());
        }
        return step(gi, h, weightHh, biasHh, hiddenSize);                          // [B, H]
    }

    /** One step from precomputed input gates gi = W_ih x + b_ih [B, 3H] and state h [B, H]. */
    static Tensor step(Tensor gi, Tensor h, Tensor weightHh, Tensor biasHh, int hidden) {
        Tensor gh = F.linear(h, weightHh, biasHh);                                           // [B, 3H]
        Tensor r = gi.narrow(1, 0, hidden).add(gh.narrow(1, 0, hidden)).sigmoid();          // [B, H]
        Tensor z = gi.narrow(1, hidden, hidden).add(gh.narrow(1, hidden, hidden)).sigmoid(); // [B, H]
        Tensor n = gi.narrow(1, 2 * hidden, hidden).add(r.mul(gh.narrow(1, 2 * hidden, hidden))).tanh(); // [B, H]
        return n.add(z.mul(h.sub(n)));                                                       // (1 - z) n + z h
    }
}
