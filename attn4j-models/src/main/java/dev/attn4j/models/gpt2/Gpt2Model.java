package dev.attn4j.models.gpt2;

import dev.attn4j.attention.AttentionResult;
import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.models.decoder.CausalDecoder;
import dev.attn4j.models.decoder.DecoderConfig;
import dev.attn4j.models.decoder.DecoderStep;
import dev.attn4j.models.decoder.Layers;
import dev.attn4j.nn.Activation;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Layer;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2 ({@code GPT2LMHeadModel}): {@code transformer.wte}, {@code transformer.wpe} (learned
 * positions), blocks {@code transformer.h.N} (ln_1, attn.c_attn / c_proj, ln_2, mlp.c_fc / c_proj,
 * Conv1D weights stored [in, out]), {@code transformer.ln_f}, and the LM head tied to wte.
 * {@code scale_attn_weights} and {@code scale_attn_by_inverse_layer_idx} set the softmax scale;
 * {@code reorder_and_upcast_attn} changes nothing in float32.
 */
public final class Gpt2Model extends CausalDecoder {
    /** transformers' Conv1D: y = x W + b with W stored [in, out]. */
    public static final class Conv1D extends Module implements Layer {
        public final Tensor weight;
        public final Tensor bias;

        Conv1D(Params p, String name, int in, int out) {
            this.weight = parameter("weight", p.at(name).get("weight", Params.Init.NORMAL, false, in, out));   // [in, out]
            this.bias = parameter("bias", p.at(name).get("bias", Params.Init.ZEROS, false, out));            // [out]
        }

        @Override
        public Tensor forward(Tensor x) {
            return F.linear(x, weight.transpose(0, 1), bias);                      // [..., out]
        }
    }

    /** {@code attn}: c_attn [C, 3C] then heads, then c_proj. */
    public static final class Gpt2Attention extends Module {
        public final Conv1D cAttn;
        public final Conv1D cProj;
        private final int layerIdx;
        private final int heads;

        Gpt2Attention(DecoderConfig c, Params p, int layerIdx) {
            int e = c.hiddenSize();
            this.cAttn = child("c_attn", new Conv1D(p, "c_attn", e, 3 * e));
            this.cProj = child("c_proj", new Conv1D(p, "c_proj", e, e));
            this.layerIdx = layerIdx;
            this.heads = c.numAttentionHeads();
        }

        AttentionResult forward(Tensor x, DecoderStep step, boolean needWeights) {
            int b = x.dim(0), t = x.dim(1), e = x.dim(2), d = e / heads;
            Tensor qkv = cAttn.forward(x);                                          // [B, T, 3C]
            Tensor q = qkv.narrow(-1, 0, e).reshape(b, t, heads, d).permute(0, 2, 1, 3);                 // [B, H, T, D]
            Tensor k = qkv.narrow(-1, e, e).reshape(b, t, heads, d).permute(0, 2, 1, 3).contiguous();    // [B, H, T, D]
            Tensor v = qkv.narrow(-1, 2 * e, e).reshape(b, t, heads, d).permute(0, 2, 1, 3).contiguous(); // [B, H, T, D]
            AttentionResult r = step.attend(layerIdx, q, k, v, needWeights);        // [B, T, C]
            return new AttentionResult(cProj.forward(r.output()), r.weights());
        }
    }

    /** {@code mlp}: c_proj(act(c_fc x)). */
    public static final class Gpt2Mlp extends Module implements Layer {
        public final Conv1D cFc;
        public final Conv1D cProj;
        private final Activation act;

        Gpt2Mlp(DecoderConfig c, Params p) {
            this.cFc = child("c_fc", new Conv1D(p, "c_fc", c.hiddenSize(), c.intermediateSize()));
            this.cProj = child("c_proj", new Conv1D(p, "c_proj", c.intermediateSize(), c.hiddenSize()));
            this.act = Activation.byName(c.hiddenAct());
        }

        @Override
        public Tensor forward(Tensor x) {
            return cProj.forward(act.forward(cFc.forward(x)));                      // [..., C]
        }
    }

    /** {@code transformer.h.N}. */
    public static final class Gpt2Block extends Module implements CausalDecoder.Block {
        public final Module ln1;
        public final Gpt2Attention attn;
        public final Module ln2;
        public final Gpt2Mlp mlp;

        Gpt2Block(DecoderConfig c, Params p, int layerIdx) {
            this.ln1 = child("ln_1", Layers.norm(p, "ln_1", c, c.hiddenSize()));
            this.attn = child("attn", new Gpt2Attention(c, p.at("attn"), layerIdx));
            this.ln2 = child("ln_2", Layers.norm(p, "ln_2", c, c.hiddenSize()));
            this.mlp = child("mlp", new Gpt2Mlp(c, p.at("mlp")));
        }

        @Override
        public AttentionResult forward(Tensor x, DecoderStep step, boolean needWeights) {
            AttentionResult a = attn.forward(Layers.apply(ln1, x), step, needWeights);
            Tensor h = x.add(a.output());                                           // [B, T, C]
            return new AttentionResult(h.add(mlp.forward(Layers.apply(ln2, h))), a.weights());
        }
    }

    /** {@code transformer.}. */
    public static final class Transformer extends Module {
        public final Embedding wte;
        public final Embedding wpe;
        public final ModuleList<Gpt2Block> h;
        public final Module lnF;

        Transformer(DecoderConfig c, Params p) {
            this.wte = child("wte", p.embedding("wte", c.vocabSize(), c.hiddenSize(), null));
            this.wpe = child("wpe", p.embedding("wpe", c.maxPositionEmbeddings(), c.hiddenSize(), null));
            List<Gpt2Block> blocks = new ArrayList<>();
            for (int i = 0; i < c.numHiddenLayers(); i++) blocks.add(new Gpt2Block(c, p.at("h").at(Integer.toString(i)), i));
            this.h = child("h", new ModuleList<>(blocks));
            this.lnF = child("ln_f", Layers.norm(p, "ln_f", c, c.hiddenSize()));
        }
    }

    public final Transformer transformer;

    /** Builds the model of {@code config} from {@code params} (keys {@code transformer.*}). */
    public Gpt2Model(DecoderConfig config, Params params) {
        this(config, params.at("transformer"), true);
    }

    /**
     * The model built from {@code base}, the tensors of the bare {@code GPT2Model} (keys {@code wte.weight},
     * {@code h.0.attn.c_attn.weight}, ... as the original {@code gpt2} checkpoints store them).
     */
    public static Gpt2Model ofBase(DecoderConfig config, Params base) {
        return new Gpt2Model(config, base, true);
    }

    private Gpt2Model(DecoderConfig config, Params base, boolean bare) {
        super(config);
        if (config.mlp() != DecoderConfig.Mlp.GPT2) throw new IllegalArgumentException("Gpt2Model needs a gpt2 config, got " + config.modelType());
        this.transformer = child("transformer", new Transformer(config, base));
    }

    @Override
    protected Tensor embed(NDArray ids, int[][] positionIds) {
        int b = positionIds.length, t = positionIds[0].length;
        float[] pos = new float[b * t];
        for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) pos[i * t + j] = positionIds[i][j];
        return transformer.wte.forward(ids).add(transformer.wpe.forward(NDArray.of(pos, b, t)));   // [B, T, C]
    }

    @Override
    protected List<Gpt2Block> blocks() {
        List<Gpt2Block> out = new ArrayList<>();
        transformer.h.forEach(out::add);
        return out;
    }

    @Override
    protected Tensor finalNorm(Tensor x) {
        return Layers.apply(transformer.lnF, x);
    }

    @Override
    protected Tensor lmHead(Tensor x) {
        return F.linear(x, transformer.wte.weight, null);                           // [..., V]
    }
}
