package dev.attn4j.optim;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.tensor.NDArray;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters in place from their gradients. Parameters must be F32 arrays on the heap
 * (trainable tensors always are). Per-parameter state (momentum, moments) is kept as arrays so
 * {@link #stateDict()} / {@link #loadStateDict} can save and restore it exactly for resuming.
 */
public abstract class Optimizer {
    private static final long STEP_SPLIT = 1L << 24;

    protected final List<Tensor> params;
    protected double lr;
    /** Number of completed {@link #step()} calls. */
    protected long steps;
    /** Per-parameter named state arrays, created lazily: state.get(i).get("exp_avg"). */
    protected final List<Map<String, float[]>> state;

    protected Optimizer(List<Tensor> params, double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
        this.params = List.copyOf(params);
        this.lr = lr;
        this.state = new ArrayList<>();
        for (int i = 0; i < this.params.size(); i++) {
            Tensor p = this.params.get(i);
            if (!p.requiresGrad()) throw new IllegalArgumentException("parameter " + i + " " + p.shape() + " does not require grad");
            if (!p.data().isDenseHeapF32()) {
                throw new IllegalArgumentException("parameter " + i + " " + p.shape() + " is not a dense heap F32 array");
            }
            state.add(new LinkedHashMap<>());
        }
    }

    public double lr() {
        return lr;
    }

    public void setLr(double lr) {
        if (!(lr >= 0)) throw new IllegalArgumentException("learning rate must be >= 0, got " + lr);
        this.lr = lr;
    }

    public long steps() {
        return steps;
    }

    public List<Tensor> params() {
        return params;
    }

    /** Clears every parameter's gradient. */
    public void zeroGrad() {
        for (Tensor p : params) p.zeroGrad();
    }

    /** Applies one update to every parameter that has a gradient. */
    public final void step() {
        steps++;
        for (int i = 0; i < params.size(); i++) {
            Tensor p = params.get(i);
            NDArray g = p.grad();
            if (g == null) continue;
            NDArray data = p.data();
            float[] grad = g.isDenseHeapF32() ? g.floatArray() : g.contiguous().to(dev.attn4j.tensor.DType.F32).floatArray();
            int gOff = g.isDenseHeapF32() ? g.offset() : 0;
            update(i, data.floatArray(), data.offset(), grad, gOff, data.numel());
        }
    }

    /** Updates parameter {@code index}: w[wOff .. wOff+n) from grad[gOff .. gOff+n). */
    protected abstract void update(int index, float[] w, int wOff, float[] grad, int gOff, int n);

    /** The state array {@code name} of parameter {@code index}, zero-initialised on first use. */
    protected final float[] buffer(int index, String name, int n) {
        return state.get(index).computeIfAbsent(name, k -> new float[n]);
    }

    protected final boolean hasBuffer(int index, String name) {
        return state.get(index).containsKey(name);
    }

    /**
     * Optimizer state as named F32 arrays (so it fits a safetensors file): "lr" as three floats
     * whose sum is the double exactly, "step" as {steps mod 2^24, steps / 2^24} (exact up to
     * 2^48 steps), and "state.{param index}.{name}".
     */
    public Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        float hi = (float) lr;
        float mid = (float) (lr - hi);
        float lo = (float) (lr - hi - mid);
        out.put("lr", NDArray.of(new float[] {hi, mid, lo}, 3));
        out.put("step", NDArray.of(new float[] {steps % STEP_SPLIT, steps / STEP_SPLIT}, 2));
        for (int i = 0; i < state.size(); i++) {
            for (var e : state.get(i).entrySet()) {
                out.put("state." + i + "." + e.getKey(), NDArray.of(e.getValue().clone(), e.getValue().length));
            }
        }
        return out;
    }

    /** Restores what {@link #stateDict()} returned; checks parameter count and sizes. */
    public void loadStateDict(Map<String, NDArray> sd) {
        NDArray step = sd.get("step");
        NDArray lrParts = sd.get("lr");
        if (step == null || step.numel() != 2 || lrParts == null || lrParts.numel() != 3) {
            throw new IllegalArgumentException("optimizer state dict lacks 'step' [2] or 'lr' [3] (keys: " + sd.keySet() + ")");
        }
        float[] parts = step.toFloatArray();
        long restoredSteps = (long) parts[0] + (long) parts[1] * STEP_SPLIT;
        List<Map<String, float[]>> restored = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) restored.add(new LinkedHashMap<>());
        for (var e : sd.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith("state.")) continue;
            int dot = k.indexOf('.', 6);
            int index;
            try {
                index = Integer.parseInt(k.substring(6, dot));
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException("malformed optimizer state key '" + k + "'");
            }
            if (index < 0 || index >= params.size()) {
                throw new IllegalArgumentException("optimizer state key '" + k + "' names parameter " + index
                        + " but this optimizer has " + params.size());
            }
            int n = params.get(index).numel();
            if (e.getValue().numel() != n) {
                throw new IllegalArgumentException("optimizer state '" + k + "' has " + e.getValue().numel()
                        + " elements, parameter " + index + " " + params.get(index).shape() + " has " + n);
            }
            restored.get(index).put(k.substring(dot + 1), e.getValue().toFloatArray());
        }
        for (int i = 0; i < params.size(); i++) {
            state.get(i).clear();
            state.get(i).putAll(restored.get(i));
        }
        steps = restoredSteps;
        float[] l = lrParts.toFloatArray();
        lr = (double) l[0] + (double) l[1] + (double) l[2];
    }
}
