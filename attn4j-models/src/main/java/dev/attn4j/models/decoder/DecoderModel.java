package dev.attn4j.models.decoder;

import dev.attn4j.autograd.F;
import dev.attn4j.autograd.Tensor;
import dev.attn4j.models.Params;
import dev.attn4j.nn.Embedding;
import dev.attn4j.nn.Linear;
import dev.attn4j.nn.Module;
import dev.attn4j.nn.ModuleList;
import dev.attn4j.tensor.NDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * The Llama-style causal LM ({@code LlamaForCausalLM}, {@code MistralForCausalLM},
 * {@code Qwen2ForCausalLM}, {@code Qwen3ForCausalLM}, {@code Phi3ForCausalLM},
 * {@code GemmaForCausalLM}, {@code OlmoForCausalLM}): {@code model.embed_tokens},
 * {@code model.layers.N} ({@link DecoderLayer}), {@code model.norm} and {@code lm_head} (absent
 * when tied to the embeddings). The families differ only in {@link DecoderConfig} switches.
 */
public final class DecoderModel extends CausalDecoder {
    /** The base model ({@code model.}). */
    public static final class Base extends Module {
        public final Embedding embedTokens;
        public final ModuleList<DecoderLayer> layers;
        public final Module norm;

        Base(DecoderConfig c, Params p) {
            this.embedTokens = child("embed_tokens", p.embedding16("embed_tokens", c.vocabSize(), c.hiddenSize(), null));
            List<DecoderLayer> ls = new ArrayList<>();
            for (int i = 0; i < c.numHiddenLayers(); i++) ls.add(new DecoderLayer(c, p.at("layers").at(Integer.toString(i)), i));
            this.layers = child("layers", new ModuleList<>(ls));
            this.norm = child("norm", Layers.norm(p, "norm", c, c.hiddenSize()));
        }
    }

    public final Base model;
    /** Null when tied to {@code model.embed_tokens}. */
    public final Linear lmHead;

    /** Builds the model of {@code config} from {@code params} (keys {@code model.*}, {@code lm_head.*}). */
    public DecoderModel(DecoderConfig config, Params params) {
        this(config, params, params.at("model"));
    }

    /**
     * Builds the model with the base model's tensors from {@code base} (a checkpoint of the bare
     * {@code LlamaModel}: keys without {@code model.}) and the head from {@code params}.
     */
    public DecoderModel(DecoderConfig config, Params params, Params base) {
        super(config);
        if (config.mlp() == DecoderConfig.Mlp.GPT2) throw new IllegalArgumentException("gpt2 configs build models.gpt2.Gpt2Model");
        this.model = child("model", new Base(config, base));
        this.lmHead = config.tieWordEmbeddings() ? null
                : child("lm_head", Layers.linear(params, "lm_head", config.hiddenSize(), config.vocabSize(), false));
    }

    @Override
    protected Tensor embed(NDArray ids, int[][] positionIds) {
        Tensor x = model.embedTokens.forward(ids);                                  // [B, T, C]
        if (config.embedScale()) x = x.mul((double) (float) Math.sqrt(config.hiddenSize()));
        return x;
    }

    @Override
    protected List<DecoderLayer> blocks() {
        List<DecoderLayer> out = new ArrayList<>();
        model.layers.forEach(out::add);
        return out;
    }

    @Override
    protected Tensor finalNorm(Tensor x) {
        return Layers.apply(model.norm, x);
    }

    @Override
    protected Tensor lmHead(Tensor x) {
        return lmHead != null ? lmHead.forward(x) : F.linear(x, model.embedTokens.weight, null);   // [..., V]
    }
}
