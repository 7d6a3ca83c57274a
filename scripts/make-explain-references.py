#!/usr/bin/env python3
"""Reference attributions for attn4j's explanations (ExplainerTest).

For the sequence-classification checkpoints of scripts/make-classifier-references.py
(attn4j-models/src/test/resources/classifiers/{bert,roberta,distilbert}-seq, written by
transformers' own classes), loaded in float64 with attn_implementation="eager" and in eval
mode, on a right-padded batch, this writes attn4j-models/src/test/resources/explain/<name>.safetensors:

  input_ids, attention_mask, token_type_ids (BERT only): the batch, as float
  logits                    [B, L] the model's logits
  predicted                 [B] argmax of the logits
  gxi.predicted             [B, T] gradient x input for the predicted labels
  gxi.other                 [B, T] gradient x input for label (predicted + 1) % num_labels in each row
  rollout                   [B, T] attention rollout (0 at padding)

Gradient x input: the word embeddings (the output of embeddings.word_embeddings) are passed as
inputs_embeds with requires_grad, as Captum's InputXGradient does; the gradient of the sum over
rows of each row's target logit (rows do not interact) times the embeddings, summed over the hidden
dimension. RoBERTa derives position ids from input_ids but not from inputs_embeds, so they are
given explicitly (create_position_ids_from_input_ids). The same scores are also computed through a
forward hook on word_embeddings (Captum's layer-attribution route) and must agree.

Attention rollout (Abnar & Zuidema 2020; as samiraabnar/attention_flow's compute_joint_attention
with add_residual): per layer the heads' mean over the real tokens' rows and columns, plus the
identity, rows renormalised; joint = A_L @ ... @ A_1; the score is row 0 (the [CLS] / <s> token).

With ../shared/models/all-MiniLM-L6-v2 present it also writes explain/minilm.safetensors: that
real encoder (float64) with its pooler and a two-label classifier head of random N(0, 0.5) weights
(rounded to float32, stored as classifier.weight / classifier.bias so the test rebuilds the same
model), and for each sentence of the metadata's "sentences" (JSON) its input_ids.<i>,
token_type_ids.<i> (from the tokenizer.json by the tokenizers library), logits.<i>,
predicted.<i>, gxi.<i> and rollout.<i>.

Run: PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/make-explain-references.py
(transformers 4.57 source on Debian's torch 1.13).
"""
import os
import torch
from safetensors.torch import save_file, load_file
from transformers import (BertForSequenceClassification, RobertaForSequenceClassification,
                          DistilBertForSequenceClassification)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attn4j-models", "src", "test", "resources")
MODELS = [("bert-seq", BertForSequenceClassification), ("roberta-seq", RobertaForSequenceClassification),
          ("distilbert-seq", DistilBertForSequenceClassification)]


def batch(name):
    g = torch.Generator().manual_seed(11)
    b, t = 4, 9
    lengths = [9, 6, 4, 2]
    pad = 1 if name.startswith("roberta") else 0
    ids = torch.randint(3, 40, (b, t), generator=g)
    mask = torch.zeros(b, t, dtype=torch.long)
    types = torch.zeros(b, t, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
        ids[i, n:] = pad
        types[i, n // 2:n] = 1 if name.startswith("bert") else 0
    ids[:, 0] = 0 if name.startswith("roberta") else 2  # a [CLS] / <s>-like first token
    return ids, mask, types


def kwargs(name, model, ids, mask, types):
    kw = dict(attention_mask=mask)
    if name.startswith("bert"):
        kw["token_type_ids"] = types
    if name.startswith("roberta"):
        from transformers.models.roberta.modeling_roberta import create_position_ids_from_input_ids
        kw["position_ids"] = create_position_ids_from_input_ids(ids, model.config.pad_token_id)
    return kw


def word_embeddings(name, model):
    base = getattr(model, {"bert-seq": "bert", "roberta-seq": "roberta", "distilbert-seq": "distilbert"}[name])
    return base.embeddings.word_embeddings


def gxi(name, model, ids, mask, types, targets):
    emb = word_embeddings(name, model)(ids).detach().requires_grad_(True)
    logits = model(inputs_embeds=emb, **kwargs(name, model, ids, mask, types)).logits
    logits.gather(1, targets[:, None]).sum().backward()
    scores = (emb * emb.grad).sum(-1) * mask
    # the same through a forward hook on word_embeddings, from input_ids
    kept = []

    def hook(module, inp, out):
        leaf = out.detach().requires_grad_(True)  # the parameters are frozen: make the output a leaf
        kept.append(leaf)
        return leaf

    h = word_embeddings(name, model).register_forward_hook(hook)
    kw = kwargs(name, model, ids, mask, types)
    kw.pop("position_ids", None)
    logits2 = model(input_ids=ids, **kw).logits
    h.remove()
    logits2.gather(1, targets[:, None]).sum().backward()
    scores2 = (kept[0] * kept[0].grad).sum(-1) * mask
    assert torch.allclose(scores, scores2, atol=1e-12), (name, scores, scores2)
    assert torch.allclose(logits, logits2, atol=1e-12)
    return scores.detach(), logits.detach()


def rollout(attentions, mask):
    b, t = mask.shape
    out = torch.zeros(b, t, dtype=torch.float64)
    for r in range(b):
        n = int(mask[r].sum())
        joint = torch.eye(n, dtype=torch.float64)
        for att in attentions:  # first layer to last
            a = att[r, :, :n, :n].mean(0) + torch.eye(n, dtype=torch.float64)
            a = a / a.sum(-1, keepdim=True)
            joint = a @ joint
        out[r, :n] = joint[0]
    return out


def main():
    os.makedirs(os.path.join(ROOT, "explain"), exist_ok=True)
    for name, cls in MODELS:
        d = os.path.join(ROOT, "classifiers", name)
        model = cls.from_pretrained(d, torch_dtype=torch.float64, attn_implementation="eager")
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        ids, mask, types = batch(name)
        with torch.no_grad():
            out = model(input_ids=ids, output_attentions=True, **{k: v for k, v in kwargs(name, model, ids, mask, types).items()
                                                                 if k != "position_ids"})
        pred = out.logits.argmax(-1)
        g_pred, logits = gxi(name, model, ids, mask, types, pred)
        assert torch.allclose(logits, out.logits, atol=1e-12)
        g_other, _ = gxi(name, model, ids, mask, types, (pred + 1) % model.config.num_labels)
        roll = rollout(out.attentions, mask)
        exp = {"input_ids": ids.float(), "attention_mask": mask.float(), "logits": out.logits.float(),
               "predicted": pred.float(), "gxi.predicted": g_pred.float(), "gxi.other": g_other.float(),
               "rollout": roll.float()}
        if name.startswith("bert"):
            exp["token_type_ids"] = types.float()
        save_file({k: v.contiguous() for k, v in exp.items()}, os.path.join(ROOT, "explain", name + ".safetensors"))
        print(name, "predicted", pred.tolist())
        print("  gxi", g_pred.numpy().round(4))
        print("  rollout", roll.numpy().round(4))


SENTENCES = ["The film was a wonderful surprise, but the ending dragged.",
             "An utterly boring, lifeless script.",
             "I didn't expect to love it this much!"]


def minilm():
    import json
    from tokenizers import Tokenizer
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "models", "all-MiniLM-L6-v2")
    if not os.path.isdir(d):
        print("no", d, "- skipping the all-MiniLM-L6-v2 references")
        return
    model = BertForSequenceClassification.from_pretrained(d, num_labels=2, torch_dtype=torch.float64,
                                                          attn_implementation="eager")
    model.eval()
    g = torch.Generator().manual_seed(2024)
    w = (torch.randn(model.classifier.weight.shape, generator=g) * 0.5).float()
    b = (torch.randn(model.classifier.bias.shape, generator=g) * 0.5).float()
    with torch.no_grad():
        model.classifier.weight.copy_(w.double())
        model.classifier.bias.copy_(b.double())
    for p in model.parameters():
        p.requires_grad_(False)
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    exp = {"classifier.weight": w, "classifier.bias": b}
    for i, text in enumerate(SENTENCES):
        enc = tok.encode(text)
        ids = torch.tensor([enc.ids])
        types = torch.tensor([enc.type_ids])
        mask = torch.ones_like(ids)
        with torch.no_grad():
            out = model(input_ids=ids, token_type_ids=types, attention_mask=mask, output_attentions=True)
        pred = out.logits.argmax(-1)
        scores, logits = gxi("bert-seq", model, ids, mask, types, pred)
        exp.update({f"input_ids.{i}": ids.float(), f"token_type_ids.{i}": types.float(), f"logits.{i}": logits.float(),
                    f"predicted.{i}": pred.float(), f"gxi.{i}": scores.float(),
                    f"rollout.{i}": rollout(out.attentions, mask).float()})
        print("minilm", enc.tokens, "predicted", int(pred))
        print("  gxi", scores.numpy().round(4))
    save_file({k: v.contiguous() for k, v in exp.items()}, os.path.join(ROOT, "explain", "minilm.safetensors"),
              metadata={"sentences": json.dumps(SENTENCES)})


if __name__ == "__main__":
    main()
    minilm()
