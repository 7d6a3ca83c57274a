"""PyTorch peer of `attn4j bench finetune`, driven by the attn4j JVM over stdin/stdout.

One JSON object per line each way. The first request carries the set-up:
  {"model": DIR, "threads": T, "ids": [[...]], "labels": [...], "numLabels": L, "lr": 1e-4,
   "weightDecay": 0.01, "maxGradNorm": 1.0, "impl": "auto"|"transformers"|"plain", "seed": S}
and is answered {"ready": true, "impl": "...", "torch": VERSION, "threads": T} (or {"error": ...}).
Then {"op": "train", "steps": N} runs N training steps (dropout on, cross-entropy, backward,
clip_grad_norm_(max norm), AdamW step, zero_grad) and {"op": "infer", "steps": N} N eval-mode
no-grad forwards of the same batch; each answers {"seconds": S, "loss": last loss}, timed here so
neither start-up nor the pipe is counted. {"op": "quit"} ends the process.

"transformers": AutoModelForSequenceClassification (BertForSequenceClassification for BERT) from the model directory (eager attention), when
`import transformers` works. "plain": a float32 transcription of the same BERT forward in plain torch
(embeddings, post-LN encoder layers with erf GELU, tanh pooler, classifier dropout and linear),
weights read from DIR/model.safetensors with a small reader (Debian's torch has no safetensors).
Both use torch.optim.AdamW with transformers Trainer's groups: no weight decay on biases and
LayerNorm weights.
"""
import json
import math
import os
import struct
import sys
import time


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def read_safetensors(path, torch):
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
              "I64": torch.int64, "I32": torch.int32}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[a:b]), dtype=dtypes[info["dtype"]]) if b > a else torch.empty(0)
        out[name] = t.reshape(info["shape"]).float()
    return out


def plain_model(model_dir, num_labels, seed, torch):
    nn = torch.nn
    F = torch.nn.functional
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    h, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    eps = cfg.get("layer_norm_eps", 1e-12)
    p_hidden = cfg.get("hidden_dropout_prob", 0.1)
    p_attn = cfg.get("attention_probs_dropout_prob", 0.1)
    p_cls = cfg.get("classifier_dropout")
    p_cls = p_hidden if p_cls is None else p_cls
    if cfg.get("model_type", "bert") != "bert" or cfg.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError("the plain-torch transcription covers BERT (absolute positions) only; %s needs transformers"
                         % cfg.get("model_type"))
    if cfg.get("hidden_act", "gelu") != "gelu":
        raise ValueError("plain transcription supports hidden_act gelu only, got " + str(cfg.get("hidden_act")))

    class Layer(nn.Module):
        def __init__(self):
            super().__init__()
            self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
            self.attn_out, self.attn_ln = nn.Linear(h, h), nn.LayerNorm(h, eps=eps)
            self.intermediate = nn.Linear(h, cfg["intermediate_size"])
            self.output, self.out_ln = nn.Linear(cfg["intermediate_size"], h), nn.LayerNorm(h, eps=eps)

        def forward(self, x, mask_add):                                        # x [B, T, h]
            B, T, _ = x.shape
            d = h // heads
            q = self.query(x).view(B, T, heads, d).transpose(1, 2)           # [B, H, T, d]
            k = self.key(x).view(B, T, heads, d).transpose(1, 2)
            v = self.value(x).view(B, T, heads, d).transpose(1, 2)
            s = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_add             # [B, H, T, T]
            p = F.dropout(torch.softmax(s, dim=-1), p_attn, self.training)
            c = (p @ v).transpose(1, 2).reshape(B, T, h)                      # [B, T, h]
            x = self.attn_ln(x + F.dropout(self.attn_out(c), p_hidden, self.training))
            m = F.gelu(self.intermediate(x))                                  # [B, T, I]
            return self.out_ln(x + F.dropout(self.output(m), p_hidden, self.training))

    class Bert(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = nn.Embedding(cfg["vocab_size"], h)
            self.pos = nn.Embedding(cfg["max_position_embeddings"], h)
            self.types = nn.Embedding(max(1, cfg.get("type_vocab_size", 2)), h)
            self.emb_ln = nn.LayerNorm(h, eps=eps)
            self.layers = nn.ModuleList([Layer() for _ in range(cfg["num_hidden_layers"])])
            self.pooler = nn.Linear(h, h)
            self.classifier = nn.Linear(h, num_labels)

        def forward(self, ids, types, mask):                                  # [B, T] each
            T = ids.shape[1]
            pos = torch.arange(T).unsqueeze(0)
            x = self.word(ids) + self.pos(pos) + self.types(types)           # [B, T, h]
            x = F.dropout(self.emb_ln(x), p_hidden, self.training)
            mask_add = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
            for layer in self.layers:
                x = layer(x, mask_add)
            pooled = torch.tanh(self.pooler(x[:, 0]))                        # [B, h]
            return self.classifier(F.dropout(pooled, p_cls, self.training))  # [B, L]

    m = Bert()
    w = read_safetensors(os.path.join(model_dir, "model.safetensors"), torch)
    w = {(k[5:] if k.startswith("bert.") else k): v for k, v in w.items()}
    names = {"word.weight": "embeddings.word_embeddings.weight", "pos.weight": "embeddings.position_embeddings.weight",
             "types.weight": "embeddings.token_type_embeddings.weight", "emb_ln.weight": "embeddings.LayerNorm.weight",
             "emb_ln.bias": "embeddings.LayerNorm.bias", "pooler.weight": "pooler.dense.weight", "pooler.bias": "pooler.dense.bias"}
    sub = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
           "attn_out": "attention.output.dense", "attn_ln": "attention.output.LayerNorm",
           "intermediate": "intermediate.dense", "output": "output.dense", "out_ln": "output.LayerNorm"}
    for i in range(cfg["num_hidden_layers"]):
        for a, b in sub.items():
            for p in ("weight", "bias"):
                names["layers.%d.%s.%s" % (i, a, p)] = "encoder.layer.%d.%s.%s" % (i, b, p)
    g = torch.Generator().manual_seed(seed)
    std = cfg.get("initializer_range", 0.02)
    with torch.no_grad():
        for name, p in m.named_parameters():
            key = names.get(name)
            if key is not None and key in w:
                if tuple(w[key].shape) != tuple(p.shape):
                    raise ValueError("%s: shape %s, expected %s" % (key, tuple(w[key].shape), tuple(p.shape)))
                p.copy_(w[key])
            elif name.endswith("bias"):
                p.zero_()
            else:                       # the new head (and a missing pooler), as transformers initialises them
                p.normal_(0.0, std, generator=g)
    no_decay = lambda name: name.endswith("bias") or "_ln." in name
    return m, no_decay, (lambda ids, types, mask: m(ids, types, mask))


def transformers_model(model_dir, num_labels, torch):
    import transformers
    transformers.logging.set_verbosity_error()
    m = transformers.AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=num_labels, attn_implementation="eager")
    # Trainer.get_decay_parameter_names: every parameter outside LayerNorm modules, less biases
    decay = {mn + ("." if mn else "") + pn for mn, mod in m.named_modules() if not isinstance(mod, torch.nn.LayerNorm)
             for pn, _ in mod.named_parameters(recurse=False) if "bias" not in pn}
    return m, (lambda name: name not in decay), (lambda ids, types, mask: m(input_ids=ids, token_type_ids=types,
                                                                               attention_mask=mask).logits)


def main():
    setup = json.loads(sys.stdin.readline())
    threads = int(setup["threads"])
    import torch
    torch.set_num_threads(threads)
    torch.manual_seed(int(setup.get("seed", 42)))
    impl = setup.get("impl", "auto")
    model = None
    if impl in ("auto", "transformers"):
        try:
            model, no_decay, forward = transformers_model(setup["model"], setup["numLabels"], torch)
            impl = "transformers " + __import__("transformers").__version__ + " " + type(model).__name__
        except Exception as e:  # noqa: BLE001 - fall back to the transcription, saying why
            if impl == "transformers":
                reply({"error": "transformers: %s: %s" % (type(e).__name__, e)})
                return
            sys.stderr.write("transformers unavailable (%s: %s); using the plain-torch transcription\n" % (type(e).__name__, e))
    if model is None:
        model, no_decay, forward = plain_model(setup["model"], setup["numLabels"], int(setup.get("seed", 42)), torch)
        impl = "plain-torch BERT transcription"
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [{"params": [p for n, p in named if not no_decay(n)], "weight_decay": setup["weightDecay"]},
              {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=setup["lr"], betas=(0.9, 0.999), eps=1e-8)
    ids = torch.tensor(setup["ids"], dtype=torch.long)                          # [B, T]
    types = torch.zeros_like(ids)
    mask = torch.ones_like(ids)
    labels = torch.tensor(setup["labels"], dtype=torch.long)                    # [B]
    max_norm = setup["maxGradNorm"]
    reply({"ready": True, "impl": impl, "torch": torch.__version__, "threads": torch.get_num_threads(),
           "parameters": sum(p.numel() for _, p in named)})
    for line in sys.stdin:
        req = json.loads(line)
        op = req.get("op")
        if op == "quit":
            return
        steps = int(req.get("steps", 1))
        loss = float("nan")
        if op == "train":
            model.train()
            t0 = time.perf_counter()
            for _ in range(steps):
                logits = forward(ids, types, mask)                              # [B, L]
                l = torch.nn.functional.cross_entropy(logits, labels)
                l.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
                opt.step()
                opt.zero_grad(set_to_none=True)
                loss = l.item()
            dt = time.perf_counter() - t0
        elif op == "infer":
            model.eval()
            t0 = time.perf_counter()
            with torch.no_grad():
                for _ in range(steps):
                    logits = forward(ids, types, mask)
                    loss = torch.nn.functional.cross_entropy(logits, labels).item()
            dt = time.perf_counter() - t0
        else:
            reply({"error": "unknown op " + repr(op)})
            continue
        reply({"seconds": dt, "loss": loss})


if __name__ == "__main__":
    main()
