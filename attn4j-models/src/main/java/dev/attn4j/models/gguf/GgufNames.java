package dev.attn4j.models.gguf;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp's tensor names ({@code blk.N.attn_q.weight}, ...) for the Hugging Face state-dict keys
 * of the decoder families, both ways. Llama-style keys ({@code model.layers.N.self_attn.q_proj.weight})
 * and GPT-2's ({@code transformer.h.N.attn.c_attn.weight}) map to the same GGUF names, as llama.cpp's
 * {@code convert_hf_to_gguf.py} writes them.
 */
public final class GgufNames {
    private GgufNames() {
    }

    private record Rule(Pattern hf, String gguf) {
    }

    private static final List<Rule> LLAMA = List.of(
            rule("model\\.embed_tokens\\.(weight)", "token_embd.$1"),
            rule("model\\.norm\\.(weight|bias)", "output_norm.$1"),
            rule("lm_head\\.(weight)", "output.$1"),
            rule("model\\.layers\\.(\\d+)\\.self_attn\\.q_proj\\.(weight|bias)", "blk.$1.attn_q.$2"),
            rule("model\\.layers\\.(\\d+)\\.self_attn\\.k_proj\\.(weight|bias)", "blk.$1.attn_k.$2"),
            rule("model\\.layers\\.(\\d+)\\.self_attn\\.v_proj\\.(weight|bias)", "blk.$1.attn_v.$2"),
            rule("model\\.layers\\.(\\d+)\\.self_attn\\.qkv_proj\\.(weight|bias)", "blk.$1.attn_qkv.$2"),
            rule("model\\.layers\\.(\\d+)\\.self_attn\\.o_proj\\.(weight|bias)", "blk.$1.attn_output.$2"),
            rule("model\\.layers\\.(\\d+)\\.self_attn\\.q_norm\\.(weight)", "blk.$1.attn_q_norm.$2"),
            rule("model\\.layers\\.(\\d+)\\.self_attn\\.k_norm\\.(weight)", "blk.$1.attn_k_norm.$2"),
            rule("model\\.layers\\.(\\d+)\\.mlp\\.gate_proj\\.(weight|bias)", "blk.$1.ffn_gate.$2"),
            rule("model\\.layers\\.(\\d+)\\.mlp\\.up_proj\\.(weight|bias)", "blk.$1.ffn_up.$2"),
            rule("model\\.layers\\.(\\d+)\\.mlp\\.gate_up_proj\\.(weight|bias)", "blk.$1.ffn_up.$2"),
            rule("model\\.layers\\.(\\d+)\\.mlp\\.down_proj\\.(weight|bias)", "blk.$1.ffn_down.$2"),
            rule("model\\.layers\\.(\\d+)\\.input_layernorm\\.(weight|bias)", "blk.$1.attn_norm.$2"),
            rule("model\\.layers\\.(\\d+)\\.post_attention_layernorm\\.(weight|bias)", "blk.$1.ffn_norm.$2"));

    private static final List<Rule> GPT2 = List.of(
            rule("transformer\\.wte\\.(weight)", "token_embd.$1"),
            rule("transformer\\.wpe\\.(weight)", "position_embd.$1"),
            rule("transformer\\.ln_f\\.(weight|bias)", "output_norm.$1"),
            rule("lm_head\\.(weight)", "output.$1"),
            rule("transformer\\.h\\.(\\d+)\\.ln_1\\.(weight|bias)", "blk.$1.attn_norm.$2"),
            rule("transformer\\.h\\.(\\d+)\\.attn\\.c_attn\\.(weight|bias)", "blk.$1.attn_qkv.$2"),
            rule("transformer\\.h\\.(\\d+)\\.attn\\.c_proj\\.(weight|bias)", "blk.$1.attn_output.$2"),
            rule("transformer\\.h\\.(\\d+)\\.ln_2\\.(weight|bias)", "blk.$1.ffn_norm.$2"),
            rule("transformer\\.h\\.(\\d+)\\.mlp\\.c_fc\\.(weight|bias)", "blk.$1.ffn_up.$2"),
            rule("transformer\\.h\\.(\\d+)\\.mlp\\.c_proj\\.(weight|bias)", "blk.$1.ffn_down.$2"));

    private static Rule rule(String hf, String gguf) {
        return new Rule(Pattern.compile(hf), gguf);
    }

    /** The GGUF name of Hugging Face key {@code hf} for a model of {@code modelType}, or null when llama.cpp has none. */
    public static String toGguf(String modelType, String hf) {
        for (Rule r : modelType.equals("gpt2") ? GPT2 : LLAMA) {
            Matcher m = r.hf.matcher(hf);
            if (m.matches()) return m.replaceFirst(r.gguf);
        }
        return null;
    }

    /** Whether {@code hf} is a GPT-2 Conv1D weight (stored [in, out] by transformers, [out, in] in GGUF). */
    static boolean isConv1D(String modelType, String hf) {
        return modelType.equals("gpt2") && hf.matches("transformer\\.h\\.\\d+\\.(attn\\.c_attn|attn\\.c_proj|mlp\\.c_fc|mlp\\.c_proj)\\.weight");
    }

    /**
     * Whether llama.cpp's converter permutes this key's rows (q and k projections of the llama
     * family, whose GGUF rope rotates adjacent pairs where transformers rotates halves).
     */
    static boolean isPermuted(String modelType, String hf) {
        return (modelType.equals("llama") || modelType.equals("mistral"))
                && hf.matches("model\\.layers\\.\\d+\\.self_attn\\.[qk]_proj\\.(weight|bias)");
    }

    /** Whether {@code hf} is a k projection (permuted over the key/value heads). */
    static boolean isKey(String hf) {
        return hf.contains(".self_attn.k_proj.");
    }

    /**
     * The GGUF row of Hugging Face row {@code r} of a permuted q / k projection with {@code heads}
     * heads over {@code rows} rows: llama.cpp's {@code permute} reshapes [heads, 2, D / 2, ...],
     * swaps the middle axes, so HF row h D + t D/2 + j sits at GGUF row h D + 2 j + t.
     */
    static int permutedRow(int r, int rows, int heads) {
        int d = rows / heads, h = r / d, w = r % d, t = w / (d / 2), j = w % (d / 2);
        return h * d + 2 * j + t;
    }
}
