package dev.attn4j.autograd;

import dev.attn4j.kernels.ArrayOps;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayDeque;
import java.util.IdentityHashMap;

/**
 * The reverse pass: orders the graph topologically without recursion (Kahn's algorithm over the
 * number of pending consumers of each node), runs each rule once with the summed gradient of its
 * output, accumulates into leaves and releases each node after use.
 */
final class Backward {
    private Backward() {
    }

    /** {@code -Dattn4j.autograd.profile=true}: wall time of every backward rule, by op name ({@link #profile}). */
    static final boolean PROFILE = Boolean.getBoolean("attn4j.autograd.profile");
    private static final java.util.concurrent.ConcurrentHashMap<String, long[]> TIMES = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * With {@code -Dattn4j.autograd.profile=true}: per op name, {nanoseconds, calls} spent in its
     * backward rules since the last call (and "+grad" for summing gradients that meet, "+leaf" for
     * accumulating into leaves); empty otherwise. Resets the counts.
     */
    public static java.util.Map<String, long[]> profile() {
        java.util.Map<String, long[]> out = new java.util.TreeMap<>(TIMES);
        TIMES.clear();
        return out;
    }

    /**
     * What a rule returns for an input that is a leaf whose gradient it has already accumulated
     * itself ({@link Tensor#denseGradF32}, {@link Tensor#accumulateOwnedGrad}): nothing is left to add.
     */
    static final NDArray ACCUMULATED = NDArray.zeros(dev.attn4j.tensor.DType.F32, dev.attn4j.tensor.Shape.scalar());

    /** The gradients made in the running backward pass and shared with nothing (see {@link #fresh}); null outside a pass. */
    private static final ThreadLocal<java.util.Set<NDArray>> FRESH = new ThreadLocal<>();

    /**
     * For backward rules: marks {@code g}, a gradient the rule has just made, returns for one input
     * only and keeps no reference to, as free to be written: gradients that meet it are added into it
     * in place instead of into a new sum. Returns {@code g}.
     */
    static NDArray fresh(NDArray g) {
        java.util.Set<NDArray> s = FRESH.get();
        if (s != null) s.add(g);
        return g;
    }

    static void record(String op, long t0) {
        long[] c = TIMES.computeIfAbsent(op, k -> new long[2]);
        synchronized (c) {
            c[0] += System.nanoTime() - t0;
            c[1]++;
        }
    }

    static void run(Tensor root, NDArray seed) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward: tensor " + root.shape() + " does not require grad "
                    + "(no input requires grad, or it was computed in no-grad mode)");
        }
        if (!seed.shape().equals(root.shape()) || seed.dtype() != root.dtype()) {
            throw new IllegalArgumentException("backward: gradient " + seed.dtype() + " " + seed.shape()
                    + " does not match output " + root.dtype() + " " + root.shape());
        }
        Node start = root.gradFn;
        if (start == null) {
            root.accumulateGrad(seed);
            return;
        }
        // 1. count, for every reachable node, how many reachable nodes consume its output
        IdentityHashMap<Node, int[]> pending = new IdentityHashMap<>();
        ArrayDeque<Node> stack = new ArrayDeque<>();
        pending.put(start, new int[1]);
        stack.push(start);
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            if (n.released()) {
                throw new IllegalStateException("backward through op '" + n.op + "' a second time: its saved arrays were "
                        + "freed by the first backward; run the forward pass again");
            }
            for (Tensor t : n.inputs) {
                Node in = t.gradFn;
                if (in == null || !t.requiresGrad()) continue;
                int[] c = pending.get(in);
                if (c == null) {
                    pending.put(in, new int[] {1});
                    stack.push(in);
                } else {
                    c[0]++;
                }
            }
        }
        // 2. run rules once all consumers of a node have contributed to its gradient
        java.util.Set<NDArray> owned = java.util.Collections.newSetFromMap(new IdentityHashMap<>());   // written by no one else
        java.util.Set<NDArray> outer = FRESH.get();
        FRESH.set(owned);
        try {
            propagate(start, seed, pending, owned);
        } finally {
            FRESH.set(outer);
        }
    }

    private static void propagate(Node start, NDArray seed, IdentityHashMap<Node, int[]> pending, java.util.Set<NDArray> owned) {
        ArrayDeque<Node> stack = new ArrayDeque<>();
        IdentityHashMap<Node, NDArray> grads = new IdentityHashMap<>();
        grads.put(start, seed);
        stack.push(start);
        while (!stack.isEmpty()) {
            Node n = stack.pop();
            NDArray g = grads.remove(n);
            owned.remove(g);                                                    // the rule may pass it on or keep it
            long t0 = PROFILE ? System.nanoTime() : 0;
            NDArray[] gin = n.rule.apply(g);
            if (PROFILE) record(n.op, t0);
            Tensor[] inputs = n.inputs;
            if (gin == null || gin.length != inputs.length) {
                throw new IllegalStateException("backward rule of op '" + n.op + "' returned "
                        + (gin == null ? "null" : gin.length + " gradients") + " for " + inputs.length + " inputs");
            }
            n.release();
            for (int i = 0; i < inputs.length; i++) {
                Tensor t = inputs[i];
                if (!t.requiresGrad()) continue;
                NDArray gi = gin[i];
                if (gi == ACCUMULATED) {
                    if (t.gradFn != null) {
                        throw new IllegalStateException("backward rule of op '" + n.op + "' accumulated the gradient of input " + i
                                + ", which is not a leaf");
                    }
                    continue;
                }
                if (gi == null || !gi.shape().equals(t.shape()) || gi.dtype() != t.dtype()) {
                    throw new IllegalStateException("backward rule of op '" + n.op + "' returned gradient "
                            + (gi == null ? "null" : gi.dtype() + " " + gi.shape()) + " for input " + i + " of "
                            + t.dtype() + " " + t.shape());
                }
                Node in = t.gradFn;
                long t1 = PROFILE ? System.nanoTime() : 0;
                if (in == null) {
                    if (owned.remove(gi)) t.accumulateOwnedGrad(gi);
                    else t.accumulateGrad(gi);
                    if (PROFILE) record("+leaf", t1);
                    continue;
                }
                NDArray prev = grads.get(in);
                if (prev != null) {
                    // gradients that meet: added in place into one that is ours to write, else into a new sum (then ours)
                    if (owned.contains(prev)) {
                        ArrayOps.addInto(prev, gi);
                        owned.remove(gi);
                    } else if (owned.contains(gi)) {
                        ArrayOps.addInto(gi, prev);
                        grads.put(in, gi);
                    } else {
                        NDArray sum = ArrayOps.add(prev, gi);
                        owned.add(sum);
                        grads.put(in, sum);
                    }
                    if (PROFILE) record("+grad", t1);
                } else {
                    grads.put(in, gi);
                }
                if (--pending.get(in)[0] == 0) stack.push(in);
            }
        }
    }
}
