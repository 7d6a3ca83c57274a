#!/usr/bin/env python3
"""Reference files for QuantsTest and GgufTest, written by the `gguf` Python package (gguf-py,
llama.cpp's own; its quantizers are bit-exact ports of ggml's quantize_row_*_ref).

    pip install --target /tmp/quantpy gguf==0.19.0      # needs numpy
    PYTHONPATH=/tmp/quantpy /usr/bin/python3 scripts/gen-quant-refs.py

Writes attn4j-core/src/test/resources/quant/:
  input.f32            rows x cols little-endian F32 values (edge-case rows first)
  <type>.bin           gguf.quants.quantize(input, type) bytes (Q8_0, Q4_0, Q4_1)
  <type>.deq.f32       gguf.quants.dequantize of those bytes
  <k>.bin, <k>.deq.f32 for the k-quants (Q4_K, Q5_K, Q6_K; gguf-py has no quantizer for them):
                       3 rows x 512 values of random block bytes (finite f16 scales) and
                       gguf.quants.dequantize of them
  gguf-py.gguf         a GGUF v3 file GGUFWriter wrote: metadata of every value type, tensors
                       F32, F16, BF16, Q8_0, Q4_0, Q4_1 (the quantized ones from input.f32)
"""
import os
import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

OUT = os.path.join(os.path.dirname(__file__), "..", "attn4j-core", "src", "test", "resources", "quant")
os.makedirs(OUT, exist_ok=True)

rows, cols = 12, 96
rng = np.random.default_rng(15)
x = rng.standard_normal((rows, cols)).astype(np.float32)
x[0] = 0                                      # all-zero blocks: d = 0
x[1] = 0.25                                   # constant: Q4_1's d = 0
x[2, :32] = -3.0; x[2, 5] = 3.0               # ties in |max|: the first wins (Q4_0's sign)
x[3] *= 1e-3                                  # small values: f16 subnormal scales
x[4] *= 1e4                                   # large values
x[5, ::2] = np.round(x[5, ::2] * 8) / 8       # values on the grid: rounding ties
x[6] = np.arange(cols, dtype=np.float32) - 40.0
x.tofile(os.path.join(OUT, "input.f32"))

quant = {}
for t in (T.Q8_0, T.Q4_0, T.Q4_1):
    q = gguf.quants.quantize(x, t)
    quant[t] = q
    q.tofile(os.path.join(OUT, t.name + ".bin"))
    gguf.quants.dequantize(q, t).astype(np.float32).tofile(os.path.join(OUT, t.name + ".deq.f32"))

krng = np.random.default_rng(16)
for t, size in ((T.Q4_K, 144), (T.Q5_K, 176), (T.Q6_K, 210)):
    blocks = krng.integers(0, 256, size=(3 * 2, size), dtype=np.uint8)
    scales = (krng.standard_normal((3 * 2, 2)) * 0.01).astype(np.float16).view(np.uint8).reshape(3 * 2, 4)
    if t == T.Q6_K:
        blocks[:, 208:210] = scales[:, 0:2]
    else:
        blocks[:, 0:4] = scales
    blocks.tofile(os.path.join(OUT, t.name + ".bin"))
    gguf.quants.dequantize(blocks.reshape(3, 2 * size), t).astype(np.float32).tofile(os.path.join(OUT, t.name + ".deq.f32"))

path = os.path.join(OUT, "gguf-py.gguf")
w = gguf.GGUFWriter(path, arch="llama")
w.add_uint8("test.u8", 200)
w.add_int8("test.i8", -100)
w.add_uint16("test.u16", 60000)
w.add_int16("test.i16", -30000)
w.add_uint32("test.u32", 4000000000)
w.add_int32("test.i32", -2000000000)
w.add_float32("test.f32", 1.5)
w.add_uint64("test.u64", 2**63 + 5)
w.add_int64("test.i64", -(2**62))
w.add_float64("test.f64", -2.25)
w.add_bool("test.bool", True)
w.add_string("test.str", "héllo ✓")
w.add_array("test.arr.str", ["a", "bc", ""])
w.add_array("test.arr.i32", [1, -2, 3])
w.add_array("test.arr.f32", [0.5, -1.0])
w.add_key_value("test.arr.u8", [1, 2, 255], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT8)
small = rng.standard_normal((3, 5)).astype(np.float32)
w.add_tensor("f32", small)
w.add_tensor("f16", small.astype(np.float16))
w.add_tensor("bf16", gguf.quants.quantize(small, T.BF16), raw_dtype=T.BF16)
for t, q in quant.items():
    w.add_tensor(t.name.lower(), q, raw_dtype=t)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()
print("wrote", OUT)
