"""Back-fill torch>=2 APIs onto Debian's torch 1.13 so that transformers 4.57.6 imports and runs.
Imported automatically by /opt/pyref/sitecustomize.py (and by transformers/__init__.py)."""
import math
import sys
import types
import contextlib

import torch
import torch.nn.functional as F
import torch.utils._pytree as _pytree

# ---- torch.utils._pytree.register_pytree_node (torch>=2.2) ----
if not hasattr(_pytree, "register_pytree_node"):
    def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None,
                             to_dumpable_context=None, from_dumpable_context=None,
                             flatten_with_keys_fn=None, **kwargs):
        _pytree._register_pytree_node(cls, flatten_fn, unflatten_fn)
    _pytree.register_pytree_node = register_pytree_node

# ---- torch.compiler (torch>=2.1) ----
if not hasattr(torch, "compiler"):
    compiler = types.ModuleType("torch.compiler")
    compiler.is_compiling = lambda: False
    compiler.is_dynamo_compiling = lambda: False
    def _disable(fn=None, recursive=True, **kw):
        if fn is None:
            return lambda f: f
        return fn
    compiler.disable = _disable
    def _allow_in_graph(fn):
        return fn
    compiler.allow_in_graph = _allow_in_graph
    torch.compiler = compiler
    sys.modules["torch.compiler"] = compiler

# ---- F.scaled_dot_product_attention (torch>=2.0): exact eager math ----
if not hasattr(F, "scaled_dot_product_attention"):
    def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                     is_causal=False, scale=None, enable_gqa=False):
        L, S = query.size(-2), key.size(-2)
        scale_factor = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
        if enable_gqa and key.size(-3) != query.size(-3):
            rep = query.size(-3) // key.size(-3)
            key = key.repeat_interleave(rep, dim=-3)
            value = value.repeat_interleave(rep, dim=-3)
        attn_weight = torch.matmul(query, key.transpose(-2, -1)) * scale_factor
        if is_causal:
            causal = torch.ones(L, S, dtype=torch.bool, device=query.device).tril(diagonal=0)
            attn_weight = attn_weight.masked_fill(~causal, float("-inf"))
        if attn_mask is not None:
            if attn_mask.dtype == torch.bool:
                attn_weight = attn_weight.masked_fill(~attn_mask, float("-inf"))
            else:
                attn_weight = attn_weight + attn_mask
        attn_weight = torch.softmax(attn_weight, dim=-1)
        if dropout_p > 0.0:
            attn_weight = torch.dropout(attn_weight, dropout_p, train=True)
        return torch.matmul(attn_weight, value)
    F.scaled_dot_product_attention = scaled_dot_product_attention

# ---- torch._dynamo stub (torch>=2.0): no compilation ever happens on 1.13 ----
if "torch._dynamo" not in sys.modules and not hasattr(torch, "_dynamo"):
    _dynamo = types.ModuleType("torch._dynamo")
    _dynamo.is_compiling = lambda: False
    _dynamo.allow_in_graph = lambda fn: fn
    _dynamo.disable = lambda fn=None, recursive=True, **kw: (fn if fn is not None else (lambda f: f))
    _dynamo.mark_static_address = lambda *a, **k: None
    _dynamo.mark_dynamic = lambda *a, **k: None
    _dynamo.reset = lambda: None
    _dynamo.config = types.SimpleNamespace(cache_size_limit=8, capture_scalar_outputs=False)
    _external_utils = types.ModuleType("torch._dynamo.external_utils")
    _external_utils.is_compiling = lambda: False
    _dynamo.external_utils = _external_utils
    _eval_frame = types.ModuleType("torch._dynamo.eval_frame")

    class OptimizedModule(torch.nn.Module):  # never instantiated: nothing is compiled on 1.13
        pass
    _eval_frame.OptimizedModule = OptimizedModule
    _dynamo.eval_frame = _eval_frame
    _dynamo.OptimizedModule = OptimizedModule
    torch._dynamo = _dynamo
    sys.modules["torch._dynamo"] = _dynamo
    sys.modules["torch._dynamo.eval_frame"] = _eval_frame
    sys.modules["torch._dynamo.external_utils"] = _external_utils

# ---- nn.Module.named_parameters/named_buffers(remove_duplicate=...) (torch>=2.0) ----
import inspect as _inspect
_Module = torch.nn.Module
if "remove_duplicate" not in _inspect.signature(_Module.named_parameters).parameters:
    def _named_members_nodup(self, get_members_fn, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None:
                    continue
                if remove_duplicate:
                    if v in memo:
                        continue
                    memo.add(v)
                yield module_prefix + ("." if module_prefix else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from _named_members_nodup(self, lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from _named_members_nodup(self, lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    _Module.named_parameters = named_parameters
    _Module.named_buffers = named_buffers

# ---- nn.Module.load_state_dict(..., assign=True) (torch>=2.1) ----
if "assign" not in _inspect.signature(_Module.load_state_dict).parameters:
    _orig_load_state_dict = _Module.load_state_dict
    from torch.nn.modules.module import _IncompatibleKeys

    def load_state_dict(self, state_dict, strict=True, assign=False):
        if not assign:
            return _orig_load_state_dict(self, state_dict, strict=strict)
        own = dict(self.named_parameters(remove_duplicate=False))
        own_buf = dict(self.named_buffers(remove_duplicate=False))
        unexpected, errors = [], []
        for key, value in state_dict.items():
            if key in own:
                old = own[key]
            elif key in own_buf:
                old = own_buf[key]
            else:
                unexpected.append(key)
                continue
            if old.shape != value.shape and not old.is_meta:
                errors.append(f"size mismatch for {key}: copying a param with shape {tuple(value.shape)}, "
                              f"the shape in current model is {tuple(old.shape)}.")
                continue
            mod_name, _, attr = key.rpartition(".")
            mod = self.get_submodule(mod_name) if mod_name else self
            if attr in mod._parameters:
                if isinstance(value, torch.nn.Parameter):
                    mod._parameters[attr] = value
                else:
                    mod._parameters[attr] = torch.nn.Parameter(value, requires_grad=old.requires_grad)
            else:
                mod._buffers[attr] = value
        missing = [k for k in list(own) + list(own_buf) if k not in state_dict]
        if strict:
            if unexpected or missing:
                errors.append(f"Missing keys {missing}, unexpected keys {unexpected}")
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                self.__class__.__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    _Module.load_state_dict = load_state_dict

# ---- OPT-IN (not HF behaviour): keep float64 softmax in float64 ----
# HF's Llama-family eager attention calls softmax(..., dtype=torch.float32).to(query.dtype), so a
# float64 model is only float32-accurate in attention (~1e-8), and left padding gives NaN in float64
# (finfo(float64).min -> -inf in float32). PYREF_F64_SOFTMAX=1 (or set_f64_softmax(True)) makes that
# call stay in float64. Off by default, so the default is HF's own behaviour.
import os as _os
_orig_softmax = F.softmax
_F64_SOFTMAX = [_os.environ.get("PYREF_F64_SOFTMAX", "0") == "1"]


def _softmax(input, dim=None, _stacklevel=3, dtype=None):
    if _F64_SOFTMAX[0] and dtype == torch.float32 and input.dtype == torch.float64:
        dtype = None
    return _orig_softmax(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)


F.softmax = _softmax


def set_f64_softmax(on=True):
    _F64_SOFTMAX[0] = bool(on)
