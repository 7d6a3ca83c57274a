package dev.attn4j.models.decoder;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Layer;
import dev.attn4j.nn.LayerNorm;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.RMSNorm;
import dev.attn4j.tensor.NDArray;

/** Building blocks the decoder families share: projections with optional bias, the norms. */
public final class Layers {
    private Layers() {
    }

    /**
     * A {@link Linear} from {@code name.weight} [out, in] and, when {@code bias}, {@code name.bias}:
     * 16-bit weights kept [out, in] as stored ({@link Params#linearAsStored}: what a decode step
     * streams best), F32 ones transposed in memory as {@link Params#linear} does.
     */
    public static Linear linear(Params p, String name, int in, int out, boolean bias) {
        return p.linearAsStored(name, in, out, bias);
    }

    /** The norm {@code name} of {@code config}'s kind over [dim]. */
    public static Module norm(Params p, String name, DecoderConfig config, int dim) {
        return switch (config.norm()) {
            case RMS -> {
                RMSNorm n = new RMSNorm(new int[] {dim}, config.normEps(), true);
                n.weight.data().copyFrom(p.at(name).get("weight", Params.Init.ONES, false, dim));
                yield n;
            }
            case RMS_PLUS_ONE -> new OnePlusRMSNorm(p.at(name).get("weight", Params.Init.ZEROS, false, dim), config.normEps());
            case LAYER_NORM -> p.layerNorm(name, dim, config.normEps());
            case LAYER_NORM_NO_AFFINE -> new PlainLayerNorm(dim, config.normEps());
        };
    }

    /** Applies a norm built by {@link #norm}. */
    public static Tensor apply(Module norm, Tensor x) {
        return ((Layer) norm).forward(x);
    }

    /** Gemma's RMSNorm: x / rms(x) * (1 + weight), the weight stored as an offset from one. */
    public static final class OnePlusRMSNorm extends Module implements Layer {
        public final Tensor weight;
        public final double eps;

        public OnePlusRMSNorm(NDArray weight, double eps) {
            this.weight = parameter("weight", weight);
            this.eps = eps;
        }

        @Override
        public Tensor forward(Tensor x) {
            int d = weight.dim(0);
            return F.rmsNorm(x, new int[] {d}, null, eps).mul(weight.add(1.0));   // [..., d]
        }
    }

    /** LayerNorm without weight and bias (OLMo's {@code OlmoLayerNorm}); nothing in the state dict. */
    public static final class PlainLayerNorm extends Module implements Layer {
        public final int dim;
        public final double eps;

        public PlainLayerNorm(int dim, double eps) {
            this.dim = dim;
            this.eps = eps;
        }

        @Override
        public Tensor forward(Tensor x) {
            return F.layerNorm(x, new int[] {dim}, null, null, eps);
        }
    }
}
