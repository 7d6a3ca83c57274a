#!/usr/bin/env python3
"""Reference outputs of Hugging Face transformers' *ForCausalLM models for attn4j's decoder tests.

Run from the repository root with the transformers under /opt/pyref (4.57.6 on torch 1.13):

    PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/make-decoder-references.py

For each tiny random-weight configuration below it writes, under
attn4j-models/src/test/resources/decoder/<name>/, the model as transformers saves it
(save_pretrained: config.json, model.safetensors or shards) and reference.safetensors holding:
  unpadded.input_ids [2, T] (I64), unpadded.logits [2, T, V], unpadded.last_hidden_state [2, T, C],
  unpadded.attentions.<L-1> [2, H, T, T] (the last layer),
  padded.input_ids / padded.attention_mask [3, T] (left padding), padded.position_ids
  (cumsum(mask) - 1, 1 at padding, as generate computes them), padded.logits, padded.last_hidden_state,
  padded.attentions.<L-1>, padded.hidden_states.<i> for every i (L + 1 of them),
  greedy.sequences [3, N] (I64): generate(do_sample=False, max_new_tokens=N) on the padded batch,
  the new tokens only (for phi3-longrope a greedy loop of full forwards: see make());
  beam.sequences [3, N] (I64): generate(num_beams=3, length_penalty=1, early_stopping=False, eos_token_id=beam.eos)
  on each padded row's real tokens alone, the new tokens before EOS, -1 after.
Attention is transformers' eager implementation (output_attentions needs it), float32.

It also converts ../shared/models/stories260K/stories260K.bin (llama2.c format, header read as in
llama2.c's run.c; q/k rows permuted per head from adjacent-pair to half rotation as HF's
convert_llama_weights_to_hf.py does) into a LlamaForCausalLM and writes
attn4j-models/src/test/resources/decoder/stories260K-reference.safetensors (logits for a fixed
prompt, greedy ids from BOS), after checking the first 20 greedy ids against a float64 transcription of
run.c's forward on the unconverted weights.
"""
import json
import math
import os
import shutil
import struct
import sys

import torch

import transformers
from transformers import (AutoModelForCausalLM, GemmaConfig, GPT2Config, LlamaConfig, MistralConfig, OlmoConfig,
                          Phi3Config, Qwen2Config, Qwen3Config, LlamaForCausalLM)
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "attn4j-models", "src", "test", "resources", "decoder")
T = 8
NEW = 6

COMMON = dict(vocab_size=64, hidden_size=32, intermediate_size=32, num_hidden_layers=2, num_attention_heads=4,
              max_position_embeddings=64, initializer_range=0.1, pad_token_id=0, bos_token_id=1, eos_token_id=None)


def configs():
    c = COMMON
    yield "llama", LlamaConfig(**c, num_key_value_heads=2, tie_word_embeddings=False), {}
    yield "llama-bias-tied-linear", LlamaConfig(**{**c, "num_attention_heads": 4}, num_key_value_heads=4, head_dim=12,
                                                attention_bias=True, mlp_bias=True, tie_word_embeddings=True,
                                                rope_scaling={"rope_type": "linear", "factor": 2.0}), {}
    yield "llama3-rope", LlamaConfig(**c, num_key_value_heads=2, rope_theta=500000.0, tie_word_embeddings=False,
                                     rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                   "high_freq_factor": 4.0, "original_max_position_embeddings": 16}), {}
    yield "llama-dynamic", LlamaConfig(**{**c, "max_position_embeddings": 6}, num_key_value_heads=2,
                                       rope_scaling={"rope_type": "dynamic", "factor": 2.0}), {}
    yield "llama-yarn", LlamaConfig(**c, num_key_value_heads=1,
                                    rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 16}), {}
    yield "mistral-swa", MistralConfig(**c, num_key_value_heads=2, sliding_window=3, head_dim=8), {}
    yield "qwen2", Qwen2Config(**c, num_key_value_heads=2, tie_word_embeddings=True), {}
    yield "qwen3-bf16", Qwen3Config(**c, num_key_value_heads=2, head_dim=16), {"dtype": torch.bfloat16}
    yield "phi3-longrope", Phi3Config(**{**c, "max_position_embeddings": 32, "num_attention_heads": 2}, num_key_value_heads=1, partial_rotary_factor=0.5,
                                      original_max_position_embeddings=8,
                                      rope_scaling={"type": "longrope", "long_factor": [1.0, 1.5, 2.0, 4.0],
                                                    "short_factor": [1.0, 1.1, 1.2, 1.3]}), {"uncached_greedy": True}
    yield "gemma", GemmaConfig(**c, num_key_value_heads=1, head_dim=16, hidden_act="gelu_pytorch_tanh"), {}
    yield "olmo-clip", OlmoConfig(**c, num_key_value_heads=4, clip_qkv=0.1), {}
    yield "gpt2-sharded", GPT2Config(vocab_size=64, n_embd=32, n_layer=2, n_head=4, n_positions=64, n_inner=None,
                                     initializer_range=0.1, scale_attn_by_inverse_layer_idx=True, pad_token_id=0,
                                     bos_token_id=1, eos_token_id=None), {"max_shard_size": "60KB"}


def perturb(model, gen):
    """Random norm weights and biases (transformers initialises them to 1 / 0, which would hide bugs)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "norm" in name or ".ln_" in name:
                base = 0.0 if isinstance(model.config, GemmaConfig) else 1.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))


def batch(gen, vocab):
    unpadded = torch.randint(2, vocab, (2, T), generator=gen)
    padded = torch.randint(2, vocab, (3, T), generator=gen)
    mask = torch.ones(3, T, dtype=torch.long)
    for row, real in enumerate([T, 5, 2]):
        mask[row, : T - real] = 0
        padded[row, : T - real] = 0
    return unpadded, padded, mask


def run(model, ids, mask, out, prefix):
    pos = None
    if mask is not None:
        pos = mask.long().cumsum(-1) - 1
        pos.masked_fill_(mask == 0, 1)
        out[prefix + "attention_mask"] = mask.long().clone().contiguous()
        out[prefix + "position_ids"] = pos.contiguous()
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask, position_ids=pos, output_attentions=True, output_hidden_states=True,
                  use_cache=False)
    out[prefix + "input_ids"] = ids.long().clone().contiguous()
    out[prefix + "logits"] = o.logits.float().clone().contiguous()
    out[prefix + "last_hidden_state"] = o.hidden_states[-1].float().clone().contiguous()
    last = len(o.attentions) - 1
    out[prefix + "attentions.%d" % last] = o.attentions[last].float().clone().contiguous()
    if mask is not None:
        for i, h in enumerate(o.hidden_states):
            out[prefix + "hidden_states.%d" % i] = h.float().clone().contiguous()


def margins(logits):
    top = torch.topk(logits, 2, dim=-1).values
    return (top[..., 0] - top[..., 1]).min().item()


def make(name, config, opts, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
    perturb(model, gen)
    dtype = opts.get("dtype")
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    if dtype is not None:
        model = model.to(dtype)
    model.save_pretrained(d, safe_serialization=True, max_shard_size=opts.get("max_shard_size", "5GB"))
    for f in os.listdir(d):
        if f == "generation_config.json":
            os.remove(os.path.join(d, f))
    # The references come from the saved files, read back in float32 (BF16 weights widened exactly; a model
    # converted with .to(bfloat16) would also have rounded its inv_freq buffer).
    model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32, attn_implementation="eager").eval()
    out = {}
    unpadded, padded, mask = batch(gen, config.vocab_size)
    run(model, unpadded, None, out, "unpadded.")
    run(model, padded, mask, out, "padded.")
    with torch.no_grad():
        g = model.generate(input_ids=padded, attention_mask=mask, do_sample=False, num_beams=1, max_new_tokens=NEW,
                           min_new_tokens=NEW, pad_token_id=0, eos_token_id=None, return_dict_in_generate=True, output_scores=True)
    out["greedy.sequences"] = g.sequences[:, T:].long().clone().contiguous()
    gap = min(margins(s) for s in g.scores)
    if opts.get("uncached_greedy"):
        # transformers 4.57.6's Phi-3 generate drops its cache when the sequence first passes
        # original_max_position_embeddings (to re-rotate every key with the long factors) and then feeds the whole
        # sequence with a one-entry cache_position, which does not give the logits of a full forward (printed
        # below). The reference is greedy decoding by full forwards instead, what that recomputation intends.
        seq, am = padded.clone(), mask.clone()
        with torch.no_grad():
            for _ in range(NEW):
                pos = am.cumsum(-1) - 1
                pos.masked_fill_(am == 0, 1)
                nxt = model(input_ids=seq, attention_mask=am, position_ids=pos).logits[:, -1].argmax(-1, keepdim=True)
                seq, am = torch.cat([seq, nxt], 1), torch.cat([am, torch.ones_like(nxt)], 1)
        print("%s: generate gave %s, full forwards %s" % (name, g.sequences[:, T:].tolist(), seq[:, T:].tolist()))
        out["greedy.sequences"] = seq[:, T:].long().clone().contiguous()
    # beam search, one prompt at a time (no padding), with an EOS id taken from the greedy output so that
    # some hypotheses finish early
    eos = int(out["greedy.sequences"][1, 2])
    beams = torch.full((3, NEW), -1, dtype=torch.long)
    for row in range(3):
        prompt = padded[row][mask[row] == 1].unsqueeze(0)
        with torch.no_grad():
            b = model.generate(input_ids=prompt, do_sample=False, num_beams=3, max_new_tokens=NEW, length_penalty=1.0,
                               early_stopping=False, pad_token_id=0, eos_token_id=eos)
        new = b[0, prompt.shape[1]:].tolist()
        if eos in new:
            new = new[: new.index(eos)]
        beams[row, : len(new)] = torch.tensor(new, dtype=torch.long)
    out["beam.sequences"] = beams
    out["beam.eos"] = torch.tensor([eos], dtype=torch.long)
    save_file(out, os.path.join(d, "reference.safetensors"))
    print("%-24s beam (eos %d) %s" % (name, eos, beams.tolist()))
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print("%-24s %7d bytes  greedy %s  smallest top-2 logit gap %.2e" % (name, size, g.sequences[:, T:].tolist(), gap))


def permute(w, heads):
    """llama2.c's adjacent-pair q/k rows -> HF's half rotation (convert_llama_weights_to_hf.py's permute)."""
    out_dim, in_dim = w.shape
    return w.view(heads, out_dim // heads // 2, 2, in_dim).transpose(1, 2).reshape(out_dim, in_dim)


def stories():
    path = os.path.join(ROOT, "..", "shared", "models", "stories260K", "stories260K.bin")
    if not os.path.exists(path):
        print("stories260K: %s absent, skipped" % path)
        return
    with open(path, "rb") as f:
        data = f.read()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    floats = torch.frombuffer(bytearray(data[28:]), dtype=torch.float32)
    hs = dim // heads
    off = 0

    def take(*shape):
        nonlocal off
        n = 1
        for s in shape:
            n *= s
        t = floats[off:off + n].reshape(*shape).clone()
        off += n
        return t

    emb = take(vocab, dim)
    rms_att = take(layers, dim)
    wq = take(layers, heads * hs, dim)
    wk = take(layers, kv_heads * hs, dim)
    wv = take(layers, kv_heads * hs, dim)
    wo = take(layers, dim, heads * hs)
    rms_ffn = take(layers, dim)
    w1 = take(layers, hidden, dim)
    w2 = take(layers, dim, hidden)
    w3 = take(layers, hidden, dim)
    rms_final = take(dim)
    take(seq_len, hs // 2)
    take(seq_len, hs // 2)
    wcls = emb if shared else take(vocab, dim)
    config = LlamaConfig(vocab_size=vocab, hidden_size=dim, intermediate_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=seq_len,
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=shared, bos_token_id=1, eos_token_id=None)
    model = LlamaForCausalLM(config).eval()
    sd = {"model.embed_tokens.weight": emb, "model.norm.weight": rms_final}
    if not shared:
        sd["lm_head.weight"] = wcls
    for l in range(layers):
        p = "model.layers.%d." % l
        sd[p + "input_layernorm.weight"] = rms_att[l]
        sd[p + "post_attention_layernorm.weight"] = rms_ffn[l]
        sd[p + "self_attn.q_proj.weight"] = permute(wq[l], heads)
        sd[p + "self_attn.k_proj.weight"] = permute(wk[l], kv_heads)
        sd[p + "self_attn.v_proj.weight"] = wv[l]
        sd[p + "self_attn.o_proj.weight"] = wo[l]
        sd[p + "mlp.gate_proj.weight"] = w1[l]
        sd[p + "mlp.down_proj.weight"] = w2[l]
        sd[p + "mlp.up_proj.weight"] = w3[l]
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected and all(k == "lm_head.weight" for k in missing), (missing, unexpected)
    model.tie_weights()
    prompt = torch.tensor([[1, 403, 407, 261, 378, 374, 260, 302, 281, 425, 50, 10]])
    with torch.no_grad():
        logits = model(prompt).logits
        g = model.generate(torch.tensor([[1]]), do_sample=False, max_new_tokens=40, min_new_tokens=40,
                           pad_token_id=0, eos_token_id=None)
    runc = run_c_greedy(emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, wcls, heads, kv_heads, 20)
    assert runc == g[0, 1:21].tolist(), ("llama2.c-style forward disagrees with the converted model", runc)
    out = {"prompt": prompt.long(), "logits": logits.float().clone().contiguous(), "greedy": g[:, 1:].long().clone().contiguous()}
    save_file(out, os.path.join(OUT, "stories260K-reference.safetensors"))
    print("stories260K greedy from BOS:", g[0, 1:].tolist())


def run_c_greedy(emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, wcls, heads, kv_heads, steps):
    """Greedy ids from BOS by llama2.c run.c's own forward (adjacent-pair RoPE, unpermuted weights), float64:
    an independent check of the q/k row permutation used for the transformers model."""
    w = [t.double() for t in (emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, wcls)]
    emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, wcls = w
    layers, dim = rms_att.shape
    hs = dim // heads
    kv_dim = kv_heads * hs

    def rms(x, weight):
        return weight * (x / torch.sqrt((x * x).mean() + 1e-5))

    keys = [[] for _ in range(layers)]
    values = [[] for _ in range(layers)]
    tok, out = 1, []
    for pos in range(steps):
        x = emb[tok].clone()
        for l in range(layers):
            xb = rms(x, rms_att[l])
            q, k, v = wq[l] @ xb, wk[l] @ xb, wv[l] @ xb
            for i in range(0, dim, 2):
                angle = pos / (10000.0 ** ((i % hs) / hs))
                c, s = math.cos(angle), math.sin(angle)
                for vec in ((q, k) if i < kv_dim else (q,)):
                    a, b = vec[i].item(), vec[i + 1].item()
                    vec[i], vec[i + 1] = a * c - b * s, a * s + b * c
            keys[l].append(k)
            values[l].append(v)
            att = torch.zeros(dim, dtype=torch.float64)
            for h in range(heads):
                kh = h // (heads // kv_heads)
                ks = torch.stack([kk[kh * hs:(kh + 1) * hs] for kk in keys[l]])
                vs = torch.stack([vv[kh * hs:(kh + 1) * hs] for vv in values[l]])
                p = torch.softmax(ks @ q[h * hs:(h + 1) * hs] / math.sqrt(hs), dim=0)
                att[h * hs:(h + 1) * hs] = p @ vs
            x = x + wo[l] @ att
            xb = rms(x, rms_ffn[l])
            x = x + w2[l] @ (torch.nn.functional.silu(w1[l] @ xb) * (w3[l] @ xb))
        tok = int(torch.argmax(wcls @ rms(x, rms_final)))
        out.append(tok)
    return out


def main():
    print("transformers", transformers.__version__, "torch", torch.__version__)
    os.makedirs(OUT, exist_ok=True)
    for i, (name, config, opts) in enumerate(configs()):
        make(name, config, opts, 1000 + i)
    stories()
    total = 0
    for base, _, files in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(base, f)) for f in files)
    print("total %d bytes" % total)


if __name__ == "__main__":
    main()
