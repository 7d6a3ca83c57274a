package dev.attn4j.train;

import dev.attn4j.autograd.Tensor;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.RMSNorm;
import dev.attn4j.optim.AdamW;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * transformers Trainer's optimizer: AdamW over two parameter groups, weight decay on every
 * parameter but biases and normalisation weights ({@code Trainer.get_decay_parameter_names}:
 * parameters of LayerNorm modules and names matching {@code bias}, {@code layernorm},
 * {@code rmsnorm}, {@code norm} / {@code _norm} as a name part, case-insensitively), with global
 * gradient-norm clipping ({@code clip_grad_norm_}) before each step. The learning rate of each
 * step comes from the caller's schedule.
 */
public final class ParameterGroups {
    private static final List<Pattern> NO_DECAY = List.of(Pattern.compile("bias"), Pattern.compile("layernorm"),
            Pattern.compile("rmsnorm"), Pattern.compile("(?:^|\\.)norm(?:$|\\.)"), Pattern.compile("_norm(?:$|\\.)"));

    private final List<String> decayNames = new ArrayList<>();
    private final List<String> noDecayNames = new ArrayList<>();
    private final List<Tensor> all = new ArrayList<>();
    private final AdamW decay;
    private final AdamW noDecay;

    /** AdamW with betas (0.9, 0.999), eps 1e-8 over the trainable parameters of {@code model}. */
    public ParameterGroups(Module model, double lr, double weightDecay) {
        this(model, lr, weightDecay, 0.9, 0.999, 1e-8);
    }

    public ParameterGroups(Module model, double lr, double weightDecay, double beta1, double beta2, double eps) {
        Map<String, Module> modules = model.namedModules();
        List<Tensor> d = new ArrayList<>(), nd = new ArrayList<>();
        for (var e : model.namedParameters().entrySet()) {
            if (!e.getValue().requiresGrad()) continue;
            String name = e.getKey();
            int dot = name.lastIndexOf('.');
            Module owner = modules.get(dot < 0 ? "" : name.substring(0, dot));
            if (decays(name, owner)) {
                decayNames.add(name);
                d.add(e.getValue());
            } else {
                noDecayNames.add(name);
                nd.add(e.getValue());
            }
            all.add(e.getValue());
        }
        this.decay = new AdamW(d, lr, beta1, beta2, eps, weightDecay);
        this.noDecay = new AdamW(nd, lr, beta1, beta2, eps, 0.0);
    }

    /** Whether transformers' Trainer applies weight decay to parameter {@code name} of module {@code owner}. */
    static boolean decays(String name, Module owner) {
        if (owner instanceof LayerNorm || owner instanceof RMSNorm) return false;
        String lower = name.toLowerCase(Locale.ROOT);
        for (Pattern p : NO_DECAY) if (p.matcher(lower).find()) return false;
        return true;
    }

    public List<String> decayNames() {
        return List.copyOf(decayNames);
    }

    public List<String> noDecayNames() {
        return List.copyOf(noDecayNames);
    }

    public List<Tensor> parameters() {
        return List.copyOf(all);
    }

    /** Completed steps. */
    public long steps() {
        return decay.steps();
    }

    /**
     * Clips the gradients to global norm {@code maxNorm} (0: no clipping) and takes one step at
     * {@code lr}; returns the gradient norm before clipping.
     */
    public double step(double lr, double maxNorm) {
        double norm = maxNorm > 0 ? clipGradNorm(all, maxNorm) : Double.NaN;
        decay.setLr(lr);
        noDecay.setLr(lr);
        decay.step();
        noDecay.step();
        return norm;
    }

    public void zeroGrad() {
        for (Tensor p : all) p.zeroGrad();
    }

    /**
     * torch.nn.utils.clip_grad_norm_: the global L2 norm of all gradients; when above
     * {@code maxNorm} every gradient is scaled by maxNorm / (norm + 1e-6). Works on the gradient
     * arrays in place (made dense first where needed).
     */
    private static final int SQ_PIECE = 1 << 18;

    /** Sum of a[off + i]^2 over n elements in double, four chains of adds. */
    private static double sumOfSquares(float[] a, int off, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                  // four chains of double adds, not one
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            s0 += (double) a[off + i] * a[off + i];
            s1 += (double) a[off + i + 1] * a[off + i + 1];
            s2 += (double) a[off + i + 2] * a[off + i + 2];
            s3 += (double) a[off + i + 3] * a[off + i + 3];
        }
        for (; i < n; i++) s0 += (double) a[off + i] * a[off + i];
        return (s0 + s1) + (s2 + s3);
    }

    public static double clipGradNorm(List<Tensor> params, double maxNorm) {
        double sq = 0;
        for (Tensor p : params) {
            NDArray g = p.grad();
            if (g == null) continue;
            if (!g.isDenseHeapF32()) {
                g = g.contiguous().to(dev.attn4j.tensor.DType.F32);
                if (!g.isDenseHeapF32()) g = g.copy();
                p.setGrad(g);
            }
            float[] a = g.floatArray();
            int off = g.offset(), n = g.numel();
            // fixed pieces on the kernel threads, their sums added in order: the same norm whatever the thread count
            int pieces = (n + SQ_PIECE - 1) / SQ_PIECE;
            double[] part = new double[pieces];
            dev.attn4j.kernels.Parallel.forEachTask(pieces, c -> part[c] = sumOfSquares(a, off + c * SQ_PIECE, Math.min(SQ_PIECE, n - c * SQ_PIECE)));
            for (double v : part) sq += v;
        }
        double norm = Math.sqrt(sq);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            float c = (float) coef;
            java.util.Set<NDArray> scaled = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            for (Tensor p : params) {
                NDArray g = p.grad();
                if (g == null || !scaled.add(g)) continue;                          // a gradient shared by two parameters: once
                float[] a = g.floatArray();
                int off = g.offset(), n = g.numel();
                dev.attn4j.kernels.Kernels k = dev.attn4j.kernels.Kernels.get();
                dev.attn4j.kernels.Parallel.forRange(n, 1 << 16,
                        (f, t) -> k.binaryScalar(dev.attn4j.kernels.BinaryOp.MUL, a, off + f, c, a, off + f, t - f));
            }
        }
        return norm;
    }

    /** Both groups' state ({@code decay.*}, {@code no_decay.*}), for checkpoints. */
    public Map<String, NDArray> stateDict() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        decay.stateDict().forEach((k, v) -> out.put("decay." + k, v));
        noDecay.stateDict().forEach((k, v) -> out.put("no_decay." + k, v));
        return out;
    }

    /** Restores {@link #stateDict()}. */
    public void loadStateDict(Map<String, NDArray> sd) {
        Map<String, NDArray> d = new LinkedHashMap<>(), nd = new LinkedHashMap<>();
        for (var e : sd.entrySet()) {
            if (e.getKey().startsWith("decay.")) d.put(e.getKey().substring(6), e.getValue());
            else if (e.getKey().startsWith("no_decay.")) nd.put(e.getKey().substring(9), e.getValue());
            else throw new IllegalArgumentException("optimizer state key '" + e.getKey() + "' is in neither group (decay., no_decay.)");
        }
        decay.loadStateDict(d);
        noDecay.loadStateDict(nd);
    }
}
