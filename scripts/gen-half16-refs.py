#!/usr/bin/python3
"""Reference values for attn4j's 16-bit weights (BF16 / F16), from torch (run with /usr/bin/python3,
Debian's python3-torch 1.13). Writes attn4j-core/src/test/resources/half16/:

  rounding.json  float32 values (as raw bits) and the bits torch gives them in bfloat16 and float16
                 (.to(torch.bfloat16) / .to(torch.float16): round to nearest even): ties, subnormals,
                 overflow to infinity, NaN (torch writes one canonical NaN; compare NaN-ness only),
                 signed zeros and random values.
  linear.json    torch.nn.functional.linear (x [2, 3, 70], weight [20, 70]) with a weight rounded to bfloat16 and to float16, the
                 product in float64 on the widened weight (what attn4j's F32 result approximates),
                 and the gradient w.r.t. the input for a given output gradient (weight frozen).
"""
import json
import os
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attn4j-core", "src", "test", "resources", "half16")


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(20261206)
    special = [0.0, -0.0, 1.0, -1.0, 1.00390625, 1.01171875, 1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8,
               3.0e38, 3.4e38, -3.39e38, 65504.0, 65519.0, 65520.0, -65520.0, 2 ** -24, 2 ** -25, 3 * 2 ** -26,
               6.0e-8, 1e-40, -1e-40, 1.17549435e-38, float("inf"), float("-inf"), 0.1, -0.3, 1 / 3, 1e5, -7.77e-5]
    bits = [f32_bits(v) for v in special]
    # exact ties for bfloat16: low 16 bits 0x8000, with even and odd kept bits
    bits += [0x3F808000, 0x3F818000, 0xBF808000, 0x7F7F8000, 0x00008000, 0x00018000]
    # F16 ties: 1 + 2^-11 (tie, even), 1 + 3 * 2^-11 (tie, odd)
    bits += [f32_bits(1 + 2 ** -11), f32_bits(1 + 3 * 2 ** -11)]
    rnd = (torch.randn(200, generator=g) * torch.exp(torch.randn(200, generator=g) * 4)).tolist()
    bits += [f32_bits(v) for v in rnd]
    bits += [0x7FC00000, 0x7F800001, 0xFFC00123]   # NaNs (payloads)
    # the float32 values from their bits (no trip through a Python float, which could quiet a NaN)
    x = torch.tensor([b - (1 << 32) if b >= 1 << 31 else b for b in bits], dtype=torch.int32).view(torch.float32)
    xb = x.to(torch.bfloat16).view(torch.int16).to(torch.int64) & 0xFFFF
    xh = x.to(torch.float16).view(torch.int16).to(torch.int64) & 0xFFFF
    rounding = {"f32_bits": bits, "bf16_bits": xb.tolist(), "f16_bits": xh.tolist()}
    with open(os.path.join(OUT, "rounding.json"), "w") as f:
        json.dump(rounding, f)
        f.write("\n")

    lin = {}
    xin = torch.randn(2, 3, 70, generator=g)
    w = torch.randn(20, 70, generator=g) / 8
    b = torch.randn(20, generator=g) / 10
    dy = torch.randn(2, 3, 20, generator=g)
    lin["x"] = xin.flatten().tolist()
    lin["weight"] = w.flatten().tolist()
    lin["bias"] = b.flatten().tolist()
    lin["dy"] = dy.flatten().tolist()
    for name, dt in (("bf16", torch.bfloat16), ("f16", torch.float16)):
        w16 = w.to(dt)
        x64 = xin.double().requires_grad_(True)
        y = torch.nn.functional.linear(x64, w16.double(), b.double())
        y.backward(dy.double())
        lin["y_" + name] = y.detach().flatten().tolist()
        lin["dx_" + name] = x64.grad.flatten().tolist()
    lin["shapes"] = {"x": [2, 3, 70], "weight": [20, 70], "bias": [20], "dy": [2, 3, 20]}
    with open(os.path.join(OUT, "linear.json"), "w") as f:
        json.dump(lin, f)
        f.write("\n")


if __name__ == "__main__":
    main()
