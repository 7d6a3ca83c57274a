package dev.attn4j.transformer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Losses;
import dev.attn4j.nn.Module;
import dev.attn4j.optim.Adam;
import dev.attn4j.tensor.NDArray;
import dev.attn4j.tensor.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** End to end: a tiny encoder-decoder learns to reverse sequences of 6 tokens from a vocabulary of 10. */
class CopyTaskTest {
    static final int VOCAB = 10, BOS = 10, LEN = 6, D = 32;

    static final class Reverser extends Module {
        final Embedding srcEmbed, tgtEmbed;
        final SinusoidalPositionalEncoding pos;
        final Transformer transformer;
        final Linear head;

        Reverser(SplittableRandom rng) {
            srcEmbed = child("src_embed", new Embedding(VOCAB, D, rng));
            tgtEmbed = child("tgt_embed", new Embedding(VOCAB + 1, D, rng));
            pos = child("pos", new SinusoidalPositionalEncoding(D, 16));
            transformer = child("transformer", new Transformer(TransformerOptions.of(D, 4).numEncoderLayers(1)
                    .numDecoderLayers(1).dimFeedforward(64).dropout(0).batchFirst(true), rng));
            head = child("head", new Linear(D, VOCAB, rng));
        }

        /** src [B, 6], decoder input [B, T] -> logits [B, T, VOCAB]. */
        Tensor forward(NDArray src, NDArray tgtIn) {
            Tensor s = pos.forward(srcEmbed.forward(src));                       // [B, 6, D]
            Tensor t = pos.forward(tgtEmbed.forward(tgtIn));                     // [B, T, D]
            Tensor y = transformer.forward(s, t, TransformerMasks.none().tgtIsCausal(true)); // [B, T, D]
            return head.forward(y);                                              // [B, T, V]
        }
    }

    /** {src, decoder input (BOS + reversed[0..4]), target (reversed)}, each [B, 6]. */
    static NDArray[] batch(SplittableRandom rng, int b) {
        float[] src = new float[b * LEN], in = new float[b * LEN], out = new float[b * LEN];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < LEN; j++) src[i * LEN + j] = rng.nextInt(VOCAB);
            for (int j = 0; j < LEN; j++) out[i * LEN + j] = src[i * LEN + LEN - 1 - j];
            in[i * LEN] = BOS;
            for (int j = 1; j < LEN; j++) in[i * LEN + j] = out[i * LEN + j - 1];
        }
        return new NDArray[] {NDArray.of(src, b, LEN), NDArray.of(in, b, LEN), NDArray.of(out, b, LEN)};
    }

    @Test
    void learnsToReverse() {
        // A fixed seed (-Dattn4j.test.seed=N tries another): with a fresh one per run, a run ended once at loss 0.117.
        long seed = Long.getLong("attn4j.test.seed", 20261206L);
        SplittableRandom rng = new SplittableRandom(seed);
        Reverser model = new Reverser(rng);
        Adam opt = new Adam(model.parameters(), 3e-3);
        double loss = Double.NaN;
        int steps = 450;   // 300 left 1 run in 3 to 5 just under the 90% bar
        for (int step = 0; step < steps; step++) {
            NDArray[] data = batch(rng, 32);
            opt.zeroGrad();
            Tensor logits = model.forward(data[0], data[1]);                     // [B, 6, V]
            Tensor l = Losses.crossEntropy(logits.reshape(-1, VOCAB), data[2].reshape(-1));
            l.backward();
            opt.step();
            loss = step == 0 ? l.item() : 0.9 * loss + 0.1 * l.item();
        }
        assertThat(loss).as("smoothed training loss after %d steps, seed %d", steps, seed).isLessThan(0.1);

        // greedy decoding of fresh sequences, one step at a time
        model.eval();
        NDArray[] test = batch(rng, 64);
        int b = 64, correct = 0;
        try (var g = GradMode.noGrad()) {
            NDArray in = NDArray.full(Shape.of(b, 1), BOS);
            for (int t = 0; t < LEN; t++) {
                NDArray logits = model.forward(test[0], in).data();               // [B, t+1, V]
                NDArray next = logits.select(1, t).copy();                        // [B, V]
                NDArray pred = dev.attn4j.kernels.ArrayOps.argmax(next, 1, true); // [B, 1]
                in = dev.attn4j.kernels.ArrayOps.concat(java.util.List.of(in, pred), 1);
            }
            for (int i = 0; i < b; i++) {
                boolean ok = true;
                for (int j = 0; j < LEN; j++) ok &= in.getDouble(i, j + 1) == test[2].getDouble(i, j);
                if (ok) correct++;
            }
        }
        assertThat(correct).as("fully reversed test sequences out of %d, seed %d", b, seed).isGreaterThanOrEqualTo(b * 9 / 10);
    }
}
