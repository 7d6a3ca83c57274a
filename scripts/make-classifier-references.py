#!/usr/bin/env python3
"""Reference files for attn4j's task heads (EncoderClassifierTest, FineTuneStepTest).

For each of BERT / RoBERTa / DistilBERT x sequence / token classification, a tiny random
model of transformers' own class is written with save_pretrained (config.json +
model.safetensors) into attn4j-models/src/test/resources/classifiers/<name>/, with
expected.safetensors holding: input_ids / attention_mask / labels (as float), the logits and
loss of the model in eval mode computed in float64, and grad.<key> for every parameter (float64
backward of that loss). For bert-seq, step.<key> holds the parameters after two optimizer
steps as transformers' Trainer takes them (AdamW over the Trainer's decay / no-decay groups,
weight decay 0.01, clip_grad_norm 1.0, linear schedule without warm-up over 4 steps, lr 1e-3),
also in float64.

Run: PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/make-classifier-references.py
(transformers 4.57 source on Debian's torch 1.13).
"""
import os
import re
import torch
import transformers
from safetensors.torch import save_file
from transformers import (BertConfig, RobertaConfig, DistilBertConfig, BertForSequenceClassification,
                          BertForTokenClassification, RobertaForSequenceClassification, RobertaForTokenClassification,
                          DistilBertForSequenceClassification, DistilBertForTokenClassification)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attn4j-models", "src", "test", "resources",
                   "classifiers")


def configs():
    common = dict(vocab_size=40, hidden_size=12, num_hidden_layers=2, num_attention_heads=3, intermediate_size=20,
                  max_position_embeddings=24, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    labels = dict(id2label={0: "neg", 1: "neu", 2: "pos"}, label2id={"neg": 0, "neu": 1, "pos": 2})
    bert = BertConfig(type_vocab_size=2, **common, **labels)
    roberta = RobertaConfig(type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, **common, **labels)
    distil = DistilBertConfig(vocab_size=40, dim=12, n_layers=2, n_heads=3, hidden_dim=20, max_position_embeddings=24,
                              **labels)
    return [("bert-seq", BertForSequenceClassification, bert), ("bert-token", BertForTokenClassification, bert),
            ("roberta-seq", RobertaForSequenceClassification, roberta),
            ("roberta-token", RobertaForTokenClassification, roberta),
            ("distilbert-seq", DistilBertForSequenceClassification, distil),
            ("distilbert-token", DistilBertForTokenClassification, distil)]


def inputs(name):
    g = torch.Generator().manual_seed(7)
    b, t = 3, 7
    ids = torch.randint(3, 40, (b, t), generator=g)
    lengths = [7, 5, 3]
    mask = torch.zeros(b, t, dtype=torch.long)
    pad = 1 if name.startswith("roberta") else 0
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
        ids[i, n:] = pad
    if name.endswith("-seq"):
        labels = torch.tensor([2, 0, 1])
    else:
        labels = torch.randint(0, 3, (b, t), generator=g)
        labels[mask == 0] = -100
        labels[0, 0] = -100  # as for a [CLS] token
    return ids, mask, labels


def perturb(model, seed):
    """Random weights larger than the initialisation (so every path matters), biases and norms too."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * (0.5 if p.dim() > 1 else 0.2) + (1.0 if "LayerNorm.weight" in n
                    or "layer_norm.weight" in n else 0.0))


def main():
    torch.manual_seed(0)
    for i, (name, cls, cfg) in enumerate(configs()):
        model = cls(cfg)
        perturb(model, 100 + i)
        d = os.path.join(OUT, name)
        os.makedirs(d, exist_ok=True)
        model.save_pretrained(d)
        ids, mask, labels = inputs(name)
        m64 = cls.from_pretrained(d, torch_dtype=torch.float64)
        m64.eval()
        out = m64(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        exp = {"input_ids": ids.float(), "attention_mask": mask.float(), "labels": labels.float(),
               "logits": out.logits.detach().float(), "loss": out.loss.detach().reshape(1).float()}
        for n, p in m64.named_parameters():
            exp["grad." + n] = p.grad.detach().float()
        if name == "bert-seq":
            exp.update(trainer_steps(cls, d, ids, mask, labels))
        save_file({k: v.contiguous() for k, v in exp.items()}, os.path.join(d, "expected.safetensors"))
        print(name, "logits", out.logits.shape, "loss", float(out.loss))


def get_parameter_names(model, forbidden_layer_types, forbidden_layer_names):
    """transformers.trainer_pt_utils.get_parameter_names (4.57), transcribed: that module needs torch >= 2."""
    patterns = [re.compile(p) for p in forbidden_layer_names]
    result = []
    for name, child in model.named_children():
        result += [f"{name}.{n}" for n in get_parameter_names(child, forbidden_layer_types, forbidden_layer_names)
                   if not isinstance(child, tuple(forbidden_layer_types))
                   and not any(p.search(f"{name}.{n}".lower()) for p in patterns)]
    result += [k for k in model._parameters if not any(p.search(k.lower()) for p in patterns)]
    return result


def decay_parameter_names(model):
    """Trainer.get_decay_parameter_names (4.57)."""
    return get_parameter_names(model, [torch.nn.LayerNorm],
                               [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"])


def linear_schedule(optimizer, warmup, total):
    """transformers.optimization.get_linear_schedule_with_warmup (4.57)."""
    def f(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, f)


def trainer_steps(cls, d, ids, mask, labels):
    """Two Trainer-style steps in float64 (dropout off); returns step.<key> and the decay names."""
    m = cls.from_pretrained(d, torch_dtype=torch.float64)
    m.eval()
    decay = set(decay_parameter_names(m))
    groups = [{"params": [p for n, p in m.named_parameters() if n in decay], "weight_decay": 0.01},
              {"params": [p for n, p in m.named_parameters() if n not in decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    sched = linear_schedule(opt, 0, 4)
    batches = [(ids, mask, labels), (ids[1:], mask[1:], labels[1:])]
    for bi, bm, bl in batches:
        loss = m(input_ids=bi, attention_mask=bm, labels=bl).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
    out = {"step." + n: p.detach().float() for n, p in m.named_parameters()}
    out.update({"decay." + n: torch.ones(1) for n in decay})
    return out


if __name__ == "__main__":
    main()
