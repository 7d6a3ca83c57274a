#!/usr/bin/python3
"""Loads an adapter directory written by attn4j with peft itself and prints the logits it gives.

  PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/peft-load-check.py ADAPTER_DIR IDS_JSON MASK_JSON

The base is the BertForSequenceClassification directory that adapter_config.json names
(base_model_name_or_path). Prints one JSON line: {"logits": [[...], ...], "missing": [...], "unexpected": [...]}.
PeftAdapterInteropTest runs it when /opt/pyref/READY exists.
"""
import json
import sys
import warnings

import torch
from peft import PeftConfig, PeftModel
from transformers import AutoModelForSequenceClassification

adapter, ids, mask = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
config = PeftConfig.from_pretrained(adapter)
base = AutoModelForSequenceClassification.from_pretrained(config.base_model_name_or_path)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = PeftModel.from_pretrained(base, adapter).eval()
problems = [str(w.message) for w in caught if "missing" in str(w.message).lower() or "unexpected" in str(w.message).lower()]
with torch.no_grad():
    logits = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask)).logits
print(json.dumps({"logits": logits.tolist(), "warnings": problems}))
