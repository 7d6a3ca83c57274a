package dev.attn4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attn4j.autograd.GradMode;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.optim.Adam;
import dev.attn4j.tensor.NDArray;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** End to end: an MLP learns the two-spirals problem (Lang and Witbrock) to >= 99% accuracy. */
class TwoSpiralsTest {

    /** n points per spiral, two interleaved arms of 1.5 turns each, with small noise. */
    static NDArray[] spirals(SplittableRandom rng, int n) {
        float[] xy = new float[4 * n];
        float[] label = new float[2 * n];
        for (int i = 0; i < n; i++) {
            double r = 0.1 + 0.9 * (double) i / n;
            double theta = 3 * Math.PI * i / n;
            for (int arm = 0; arm < 2; arm++) {
                int k = 2 * i + arm;
                double a = theta + arm * Math.PI;
                xy[2 * k] = (float) (r * Math.cos(a) + 0.01 * NDArray.gaussian(rng));
                xy[2 * k + 1] = (float) (r * Math.sin(a) + 0.01 * NDArray.gaussian(rng));
                label[k] = arm;
            }
        }
        return new NDArray[] {NDArray.of(xy, 2 * n, 2), NDArray.of(label, 2 * n)};
    }

    @Test
    void mlpLearnsTwoSpirals() {
        long seed = System.nanoTime();
        SplittableRandom rng = new SplittableRandom(seed);
        NDArray[] train = spirals(rng, 300);
        NDArray[] test = spirals(rng, 200);
        Sequential model = new Sequential(
                new Linear(2, 64, rng), Activation.tanh(),
                new Linear(64, 64, rng), Activation.tanh(),
                new Linear(64, 2, rng));
        Adam opt = new Adam(model.parameters(), 0.01);
        Tensor x = Tensor.of(train[0]); // [600, 2]
        for (int step = 0; step < 2000; step++) {
            opt.zeroGrad();
            Tensor loss = Losses.crossEntropy(model.forward(x), train[1]);
            loss.backward();
            opt.step();
        }
        double accuracy;
        try (var g = GradMode.noGrad()) {
            NDArray logits = model.forward(Tensor.of(test[0])).data(); // [400, 2]
            int correct = 0;
            for (int i = 0; i < logits.dim(0); i++) {
                int predicted = logits.getFloat(i, 1) > logits.getFloat(i, 0) ? 1 : 0;
                if (predicted == (int) test[1].getFloat(i)) correct++;
            }
            accuracy = (double) correct / logits.dim(0);
        }
        assertThat(accuracy).as("held-out accuracy, seed %d", seed).isGreaterThanOrEqualTo(0.99);
    }
}
