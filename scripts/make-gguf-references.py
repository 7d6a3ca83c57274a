#!/usr/bin/env python3
"""GGUF files of attn4j's tiny decoder test checkpoints, converted as llama.cpp's
convert_hf_to_gguf.py converts Hugging Face checkpoints (its rules written out below, not its code),
for GgufDecodersTest: loading each file must give the logits transformers gave for the checkpoint
(attn4j-models/src/test/resources/decoder/<name>/reference.safetensors).

    pip install --target /tmp/quantpy gguf==0.19.0      # needs numpy
    PYTHONPATH=/tmp/quantpy:/opt/pyref /usr/bin/python3 scripts/make-gguf-references.py

llama.cpp's conventions applied here:
  - tensor names token_embd / output_norm / output / blk.N.{attn_norm, attn_q, attn_k, attn_v,
    attn_output, attn_q_norm, attn_k_norm, ffn_norm, ffn_gate, ffn_up, ffn_down} (GPT-2: position_embd,
    attn_qkv, ffn_up = c_fc, ffn_down = mlp.c_proj);
  - llama / mistral: q_proj and k_proj rows permuted per head from transformers' half rotation to
    adjacent pairs: w.reshape(heads, 2, D/2, C).swapaxes(1, 2) (k over the key/value heads);
  - llama3 rope scaling: a rope_freqs.weight tensor of per-frequency divisors instead of metadata;
  - gemma: norm weights stored as 1 + w;
  - gpt2: Conv1D weights ([in, out] in transformers) transposed to [out, in];
  - metadata {arch}.context_length, embedding_length, block_count, feed_forward_length,
    attention.head_count(_kv), attention.key_length / value_length, attention.layer_norm_rms_epsilon
    (gpt2: layer_norm_epsilon), rope.freq_base, rope.dimension_count, attention.sliding_window.
Tensors keep the checkpoint's dtype (F32; BF16 for qwen3-bf16).
"""
import math
import os

import numpy as np
import torch
import gguf
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(__file__), "..", "attn4j-models", "src", "test", "resources")
NAMES = ["llama", "qwen2", "gemma", "gpt2-sharded", "qwen3-bf16", "llama3-rope", "mistral-swa"]


def permute(w, heads):
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def convert(name):
    src = os.path.join(ROOT, "decoder", name)
    model = AutoModelForCausalLM.from_pretrained(src, torch_dtype="auto")
    c = model.config
    arch = c.model_type
    out = os.path.join(ROOT, "gguf", name + ".gguf")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    w = gguf.GGUFWriter(out, arch=arch)
    if arch == "gpt2":
        w.add_uint32("gpt2.context_length", c.n_positions)
        w.add_uint32("gpt2.embedding_length", c.n_embd)
        w.add_uint32("gpt2.block_count", c.n_layer)
        w.add_uint32("gpt2.feed_forward_length", c.n_inner or 4 * c.n_embd)
        w.add_uint32("gpt2.attention.head_count", c.n_head)
        w.add_float32("gpt2.attention.layer_norm_epsilon", c.layer_norm_epsilon)
    else:
        head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
        w.add_uint32(arch + ".context_length", c.max_position_embeddings)
        w.add_uint32(arch + ".embedding_length", c.hidden_size)
        w.add_uint32(arch + ".block_count", c.num_hidden_layers)
        w.add_uint32(arch + ".feed_forward_length", c.intermediate_size)
        w.add_uint32(arch + ".attention.head_count", c.num_attention_heads)
        w.add_uint32(arch + ".attention.head_count_kv", c.num_key_value_heads)
        w.add_uint32(arch + ".attention.key_length", head_dim)
        w.add_uint32(arch + ".attention.value_length", head_dim)
        w.add_float32(arch + ".attention.layer_norm_rms_epsilon", c.rms_norm_eps)
        w.add_float32(arch + ".rope.freq_base", c.rope_theta)
        w.add_uint32(arch + ".rope.dimension_count", int(head_dim * getattr(c, "partial_rotary_factor", 1.0)))
        if getattr(c, "sliding_window", None) and arch == "mistral":
            w.add_uint32(arch + ".attention.sliding_window", c.sliding_window)
        rs = getattr(c, "rope_scaling", None)
        if rs and rs.get("rope_type", rs.get("type")) == "llama3":
            freqs = 1.0 / (c.rope_theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
            factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
            lo_wl, hi_wl = old / lo, old / hi
            f = []
            for freq in freqs.tolist():
                wl = 2 * math.pi / freq
                if wl < hi_wl:
                    f.append(1.0)
                elif wl > lo_wl:
                    f.append(factor)
                else:
                    smooth = (old / wl - lo) / (hi - lo)
                    f.append(1 / ((1 - smooth) / factor + smooth))
            w.add_tensor("rope_freqs.weight", np.array(f, dtype=np.float32))
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    sd = model.state_dict()
    tied = getattr(c, "tie_word_embeddings", False)
    for key, t in sd.items():
        if key.endswith((".attn.bias", ".attn.masked_bias", "rotary_emb.inv_freq")):
            continue
        if key == "lm_head.weight" and tied:
            continue
        if arch == "gpt2":
            k = key
            for a, b in (("transformer.wte", "token_embd"), ("transformer.wpe", "position_embd"), ("transformer.ln_f", "output_norm"),
                         ("lm_head", "output")):
                k = k.replace(a, b)
            parts = k.split(".")
            if parts[0] == "transformer":
                n, rest = parts[2], ".".join(parts[3:])
                rest = {"ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
                        "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down"}[rest.rsplit(".", 1)[0]] + "." + rest.rsplit(".", 1)[1]
                k = "blk." + n + "." + rest
                if k.endswith(".weight") and t.dim() == 2:
                    t = t.t().contiguous()
        else:
            k = key.replace("model.embed_tokens", "token_embd").replace("model.norm", "output_norm").replace("lm_head", "output")
            if k.startswith("model.layers."):
                parts = k.split(".")
                n, rest = parts[2], ".".join(parts[3:-1])
                k = "blk." + n + "." + {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                                        "self_attn.o_proj": "attn_output", "self_attn.q_norm": "attn_q_norm",
                                        "self_attn.k_norm": "attn_k_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                                        "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
                                        "post_attention_layernorm": "ffn_norm"}[rest] + "." + parts[-1]
                if arch in ("llama", "mistral") and rest == "self_attn.q_proj":
                    t = permute(t, c.num_attention_heads)
                if arch in ("llama", "mistral") and rest == "self_attn.k_proj":
                    t = permute(t, c.num_key_value_heads)
            if arch == "gemma" and k.endswith("norm.weight"):
                t = t + 1
        if t.dtype == torch.bfloat16:
            w.add_tensor(k, gguf.quants.quantize(t.float().numpy(), gguf.GGMLQuantizationType.BF16),
                         raw_dtype=gguf.GGMLQuantizationType.BF16)
        else:
            w.add_tensor(k, t.float().numpy())
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", out, os.path.getsize(out))
    if arch == "gpt2" and c.scale_attn_by_inverse_layer_idx:
        # GGUF has no key for scale_attn_by_inverse_layer_idx (llama.cpp scales by 1/sqrt(D) only):
        # the reference is transformers' logits without it
        from safetensors.torch import load_file, save_file
        ref = load_file(os.path.join(src, "reference.safetensors"))
        model.config.scale_attn_by_inverse_layer_idx = False
        for block in model.transformer.h:
            block.attn.scale_attn_by_inverse_layer_idx = False
        ids = ref["unpadded.input_ids"]
        with torch.no_grad():
            logits = model(ids).logits.float()
        save_file({"unpadded.input_ids": ids, "unpadded.logits": logits.contiguous()},
                  os.path.join(ROOT, "gguf", name + ".reference.safetensors"))


for n in NAMES:
    convert(n)
