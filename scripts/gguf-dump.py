#!/usr/bin/env python3
"""Reads a GGUF file with gguf-py (llama.cpp's Python package) and dumps what it saw, for
GgufPyInteropTest: a file attn4j wrote must read in gguf-py as attn4j reads it.

    PYTHONPATH=/tmp/quantpy /usr/bin/python3 scripts/gguf-dump.py file.gguf out_dir

out_dir/meta.json     {key: {"type": [type names...], "value": value}} (arrays as lists)
out_dir/tensors.json  [{"name", "type", "shape" (numpy order, outermost first)}]
out_dir/<i>.f32       tensor i dequantized by gguf.quants.dequantize, little-endian F32
"""
import json
import os
import sys

import numpy as np
import gguf

path, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
r = gguf.GGUFReader(path)
meta = {}
for k, f in r.fields.items():
    if k.startswith("GGUF."):
        continue
    v = f.contents()
    if isinstance(v, float) and v != v:
        v = "nan"
    meta[k] = {"type": [t.name for t in f.types], "value": v}
with open(os.path.join(out, "meta.json"), "w") as fh:
    json.dump(meta, fh, ensure_ascii=False)
infos = []
for i, t in enumerate(r.tensors):
    shape = [int(d) for d in reversed(t.shape.tolist())]
    infos.append({"name": t.name, "type": t.tensor_type.name, "shape": shape})
    deq = gguf.quants.dequantize(t.data, t.tensor_type)
    np.asarray(deq, dtype=np.float32).reshape(-1).astype("<f4").tofile(os.path.join(out, "%d.f32" % i))
with open(os.path.join(out, "tensors.json"), "w") as fh:
    json.dump(infos, fh)
