#!/usr/bin/python3
"""Writes attn4j-core/src/test/resources/lora/linear.json: LoRA Linear forward and merge references.

Run with Debian's torch: /usr/bin/python3 scripts/gen-lora-reference.py

peft itself does not run here (it needs transformers and accelerate), so this is a float64
transcription of peft's tuners/lora/layer.py Linear (peft @ 5d602fd):
  update_layer:      scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora
  forward:           result = base_layer(x) + lora_B(lora_A(dropout(x))) * scaling   (dropout off: eval)
  get_delta_weight:  (lora_B.weight @ lora_A.weight) * scaling
  merge:             base_layer.weight.data += delta
The inputs are float32 values (written exactly); the outputs are computed in float64.
"""
import json
import math
import os

import torch

torch.manual_seed(18)


def f32(shape, scale=1.0):
    return (torch.randn(*shape) * scale).float()


def case(name, n_in, n_out, r, alpha, rslora, x_shape, bias=True):
    w = f32((n_out, n_in), 1 / math.sqrt(n_in))
    b = f32((n_out,), 0.1) if bias else None
    a = f32((r, n_in), 1 / math.sqrt(n_in))
    bb = f32((n_out, r), 0.5)
    x = f32(x_shape)
    scaling = alpha / math.sqrt(r) if rslora else alpha / r
    d = torch.float64
    lin = torch.nn.Linear(n_in, n_out, bias=bias).double()
    lora_a = torch.nn.Linear(n_in, r, bias=False).double()
    lora_b = torch.nn.Linear(r, n_out, bias=False).double()
    with torch.no_grad():
        lin.weight.copy_(w.to(d))
        if bias:
            lin.bias.copy_(b.to(d))
        lora_a.weight.copy_(a.to(d))
        lora_b.weight.copy_(bb.to(d))
        y = lin(x.to(d)) + lora_b(lora_a(x.to(d))) * scaling
        merged = lin.weight + (lora_b.weight @ lora_a.weight) * scaling
    flat = lambda t: [float(v) for v in t.reshape(-1).tolist()]
    return {
        "name": name, "in": n_in, "out": n_out, "r": r, "lora_alpha": alpha, "use_rslora": rslora,
        "x_shape": list(x_shape), "weight": flat(w), "bias": flat(b) if bias else None,
        "lora_A": flat(a), "lora_B": flat(bb), "x": flat(x), "y": flat(y), "merged_weight": flat(merged),
    }


cases = [
    case("r3_alpha6", 7, 5, 3, 6, False, (2, 3, 7)),
    case("rslora_r4_alpha8_nobias", 9, 6, 4, 8, True, (4, 9), bias=False),
]
out = os.path.join(os.path.dirname(__file__), "..", "attn4j-core", "src", "test", "resources", "lora", "linear.json")
with open(out, "w") as f:
    json.dump({"generator": "scripts/gen-lora-reference.py", "torch": torch.__version__, "cases": cases}, f)
print("wrote", os.path.normpath(out))
