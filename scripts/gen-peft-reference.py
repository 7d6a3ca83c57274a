#!/usr/bin/python3
"""Writes attn4j-models/src/test/resources/peft/: an adapter made by peft itself, and what peft computes with it.

Run with the transformers + peft oracle: PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/gen-peft-reference.py
(transformers 4.57.6, peft 0.21.0 on torch 1.13; see /opt/pyref/READY).

  base/         a tiny BertForSequenceClassification (random weights), save_pretrained
  adapter/      get_peft_model(base, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["query", "value"],
                task_type="SEQ_CLS")) with random lora_B and classifier, save_pretrained (peft's own files)
  expected.json the keys of get_peft_model_state_dict, the adapter model's logits (eval) on a fixed batch, the
                weights merge_and_unload gives for the targeted layers, and the saved keys for RoBERTa and DistilBERT
                sequence classifiers
"""
import json
import os
import shutil

import torch
from peft import LoraConfig, get_peft_model
from peft.utils import get_peft_model_state_dict
from transformers import BertConfig, BertForSequenceClassification

torch.manual_seed(18)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attn4j-models", "src", "test", "resources", "peft")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)

config = BertConfig(vocab_size=41, hidden_size=15, num_hidden_layers=2, num_attention_heads=3, intermediate_size=23,
                    max_position_embeddings=33, type_vocab_size=2, hidden_act="gelu", num_labels=3,
                    initializer_range=0.3)
base = BertForSequenceClassification(config).eval()
with torch.no_grad():
    for name, p in base.named_parameters():
        if name.endswith("bias") or "LayerNorm" in name:
            p.add_(torch.randn_like(p) * 0.1)
base.save_pretrained(os.path.join(out, "base"))

lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["query", "value"], task_type="SEQ_CLS")
model = get_peft_model(base, lora)
with torch.no_grad():
    for name, p in model.named_parameters():
        if "lora_B" in name:
            p.copy_(torch.randn_like(p) * 0.5)
        elif "modules_to_save" in name:
            p.add_(torch.randn_like(p) * 0.3)
model.save_pretrained(os.path.join(out, "adapter"))
os.remove(os.path.join(out, "adapter", "README.md"))

ids = torch.tensor([[2, 9, 17, 30, 3], [2, 40, 3, 0, 0]])
mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
model.eval()
with torch.no_grad():
    logits = model(input_ids=ids, attention_mask=mask).logits
    keys = sorted(get_peft_model_state_dict(model).keys())
    merged = model.merge_and_unload()
    merged_logits = merged(input_ids=ids, attention_mask=mask).logits
    merged_weights = {k: v.reshape(-1).tolist() for k, v in merged.state_dict().items()
                      if k.endswith("attention.self.query.weight") or k.endswith("attention.self.value.weight")}
# The saved keys for the other heads' layouts (no weights kept): RoBERTa's classifier.{dense,out_proj} and DistilBERT's
# pre_classifier + classifier (peft's modules_to_save test is key.endswith("classifier"), which pre_classifier passes).
from transformers import DistilBertConfig, DistilBertForSequenceClassification, RobertaConfig, RobertaForSequenceClassification

other_keys = {}
roberta = RobertaForSequenceClassification(RobertaConfig(vocab_size=41, hidden_size=15, num_hidden_layers=2, num_attention_heads=3,
                                                         intermediate_size=23, max_position_embeddings=36, num_labels=3))
other_keys["roberta"] = sorted(get_peft_model_state_dict(get_peft_model(roberta, LoraConfig(
    r=4, lora_alpha=8, target_modules=["query", "value"], task_type="SEQ_CLS"))).keys())
distil = DistilBertForSequenceClassification(DistilBertConfig(vocab_size=41, dim=15, n_layers=2, n_heads=3, hidden_dim=23,
                                                              max_position_embeddings=33, num_labels=3))
other_keys["distilbert"] = sorted(get_peft_model_state_dict(get_peft_model(distil, LoraConfig(
    r=4, lora_alpha=8, target_modules=["q_lin", "v_lin"], task_type="SEQ_CLS"))).keys())

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"generator": "scripts/gen-peft-reference.py", "peft": __import__("peft").__version__,
               "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "adapter_keys": keys,
               "logits": logits.tolist(), "merged_logits": merged_logits.tolist(), "merged_weights": merged_weights,
               "other_adapter_keys": other_keys}, f,
              indent=None)
print("wrote", os.path.normpath(out))
