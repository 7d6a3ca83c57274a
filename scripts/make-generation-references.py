#!/usr/bin/env python3
"""Writes the generation reference files for dev.attn4j.generate's tests, computed by transformers'
own classes (4.57.6 under /opt/pyref, on Debian's torch 1.13):

  attn4j-models/src/test/resources/generation/processors.json
      fixed random logits and token histories, the scores after each LogitsProcessor / LogitsWarper
      (RepetitionPenalty, NoRepeatNGram, MinLength, MinNewTokensLength, Temperature, TopK, TopP, MinP,
      Typical) and after whole pipelines built by GenerationMixin._get_logits_processor from a
      GenerationConfig.
  attn4j-models/src/test/resources/generation/generate.json
      a deterministic table "model" (next-token logits from the last two real tokens and the position
      id) wrapped as a PreTrainedModel, and the outputs of model.generate() for greedy and beam search
      over left-padded batches (sequences, beam scores).
  attn4j-models/src/test/resources/generation/stop_strings.json
      token strings, stop strings and the step at which StopStringCriteria first fires.

Run: PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/make-generation-references.py
"""
import json
import math
import os
import sys

import torch
from transformers import GenerationConfig, GenerationMixin, PretrainedConfig, PreTrainedModel
from transformers.generation.logits_process import (
    ForcedBOSTokenLogitsProcessor,
    ForcedEOSTokenLogitsProcessor,
    LogitsProcessorList,
    MinLengthLogitsProcessor,
    MinNewTokensLengthLogitsProcessor,
    MinPLogitsWarper,
    NoBadWordsLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
    TypicalLogitsWarper,
)
from transformers.generation.stopping_criteria import StopStringCriteria
from transformers.modeling_outputs import CausalLMOutputWithPast
import transformers.generation.utils as generation_utils

# torch 1.13's torch.distributed._shard fails to import under Python 3.11, and generate() asks
# is_fsdp_managed_module() (which imports it) whether the model is sharded: it is not.
generation_utils.is_fsdp_managed_module = lambda module: False

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "attn4j-models", "src", "test", "resources", "generation")


def floats(t):
    return [[float(x) for x in row] for row in t.tolist()]


def write(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))  # -Infinity for masked entries
        f.write("\n")
    os.replace(tmp, path)
    print("wrote", path, os.path.getsize(path), "bytes")


# ---------------------------------------------------------------- processors
def processor_cases():
    g = torch.Generator().manual_seed(1234)
    cases = []

    def inputs(b, v, t, ties):
        logits = torch.randn(b, v, generator=g) * 2.0
        if ties:
            logits = torch.round(logits * 2.0) / 2.0  # many equal values
        ids = torch.randint(0, v, (b, t), generator=g)
        return logits.float(), ids

    def add(name, params, proc, b=3, v=24, t=7, ties=False, logits=None, ids=None):
        if ties:
            # torch's CPU sort is std::sort, an insertion sort (stable) up to 16 elements and unstable
            # beyond: which of several equal scores at a cut survives is then torch's accident. The
            # tie cases use 16 tokens, where transformers' choice is the stable one attn4j makes.
            v = min(v, 16)
        if logits is None:
            logits, ids = inputs(b, v, t, ties)
        out = proc(ids.clone(), logits.clone())
        cases.append({"name": name, "params": params, "input_ids": ids.tolist(),
                      "scores": floats(logits), "expected": floats(out)})

    for ties in (False, True):
        sfx = "/ties" if ties else ""
        for p in (1.3, 0.7):
            add("repetition_penalty" + sfx, {"penalty": p}, RepetitionPenaltyLogitsProcessor(penalty=p), ties=ties)
        for n in (1, 2, 3):
            # small vocab and long histories so n-grams repeat
            add("no_repeat_ngram" + sfx, {"ngram_size": n}, NoRepeatNGramLogitsProcessor(n), v=5, t=12, ties=ties)
        for temp in (0.5, 1.7):
            add("temperature" + sfx, {"temperature": temp}, TemperatureLogitsWarper(temp), ties=ties)
        for k, keep in ((1, 1), (5, 1), (3, 4), (30, 1)):
            add("top_k" + sfx, {"top_k": k, "min_tokens_to_keep": keep},
                TopKLogitsWarper(top_k=k, min_tokens_to_keep=keep), ties=ties)
        for p, keep in ((0.9, 1), (0.5, 1), (0.3, 3), (0.05, 1), (1.0, 1)):
            add("top_p" + sfx, {"top_p": p, "min_tokens_to_keep": keep},
                TopPLogitsWarper(top_p=p, min_tokens_to_keep=keep), ties=ties)
        for p, keep in ((0.1, 1), (0.5, 1), (0.9, 2), (0.0, 1)):
            add("min_p" + sfx, {"min_p": p, "min_tokens_to_keep": keep},
                MinPLogitsWarper(min_p=p, min_tokens_to_keep=keep), ties=ties)
        for m, keep in ((0.9, 1), (0.5, 1), (0.2, 3)):
            add("typical_p" + sfx, {"typical_p": m, "min_tokens_to_keep": keep},
                TypicalLogitsWarper(mass=m, min_tokens_to_keep=keep), ties=ties)
    for t in (3, 5, 9):
        add("min_length", {"min_length": 6, "eos_token_id": [2, 7]}, MinLengthLogitsProcessor(6, [2, 7]), t=t)
        add("min_new_tokens", {"prompt_length": 4, "min_new_tokens": 3, "eos_token_id": [5]},
            MinNewTokensLengthLogitsProcessor(4, 3, [5]), t=t)
    # warpers on scores that already hold -inf entries (as after an earlier filter)
    logits, ids = inputs(3, 24, 5, False)
    logits[:, ::3] = -math.inf
    add("top_p/-inf", {"top_p": 0.8, "min_tokens_to_keep": 1}, TopPLogitsWarper(0.8), logits=logits, ids=ids)
    add("typical_p/-inf", {"typical_p": 0.7, "min_tokens_to_keep": 1}, TypicalLogitsWarper(0.7), logits=logits, ids=ids)
    add("min_p/-inf", {"min_p": 0.2, "min_tokens_to_keep": 1}, MinPLogitsWarper(0.2), logits=logits, ids=ids)
    add("top_k/-inf", {"top_k": 20, "min_tokens_to_keep": 1}, TopKLogitsWarper(20), logits=logits, ids=ids)
    # the encoder-decoder ones: bad words (single tokens, sequences, an EOS-only entry dropped), forced BOS / EOS
    logits, ids = inputs(4, 12, 6, False)
    ids[0, -2:] = torch.tensor([3, 4])
    ids[1, -1] = 7
    bad = [[5], [3, 4, 9], [7, 2], [11], [0, 1, 2, 3, 4, 5, 6, 7]]
    add("bad_words", {"bad_words_ids": bad, "eos_token_id": [11]}, NoBadWordsLogitsProcessor(bad, 11), logits=logits, ids=ids)
    for t in (1, 2):
        add("forced_bos", {"bos_token_id": 3}, ForcedBOSTokenLogitsProcessor(3), t=t)
    for t in (6, 7, 8):
        add("forced_eos", {"max_length": 8, "eos_token_id": [2, 5]}, ForcedEOSTokenLogitsProcessor(8, [2, 5]), t=t)
    return cases


class TableConfig(PretrainedConfig):
    model_type = "attn4j_table"

    def __init__(self, vocab_size=10, **kw):
        self.vocab_size = vocab_size
        super().__init__(**kw)


class TableModel(PreTrainedModel, GenerationMixin):
    """Next-token logits = table[prev2][prev1] + pos * slope, where prev1 is the last token, prev2 the real
    token before it (index V when there is none: it is padding or absent) and pos the position id of the
    last token (cumsum(attention_mask) - 1, as transformers' generate). No cache: every step recomputes."""
    config_class = TableConfig
    main_input_name = "input_ids"

    def __init__(self, config, table, slope):
        super().__init__(config)
        self.register_buffer("table", table)  # [V + 1, V, V]
        self.register_buffer("slope", slope)  # [V]
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids, attention_mask=None, position_ids=None, **kw):
        b, t = input_ids.shape
        v = self.config.vocab_size
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        pos = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)  # [B, T]
        prev_real = torch.zeros_like(attention_mask, dtype=torch.bool)  # [B, T]: the token before is real
        prev_real[:, 1:] = attention_mask[:, :-1] == 1
        prev = torch.full_like(input_ids, v)
        prev[:, 1:] = input_ids[:, :-1]
        prev = torch.where(prev_real, prev, torch.full_like(prev, v))
        logits = self.table[prev, input_ids] + pos.float()[..., None] * self.slope  # [B, T, V]
        return CausalLMOutputWithPast(logits=logits)

    def prepare_inputs_for_generation(self, input_ids, attention_mask=None, **kw):
        return {"input_ids": input_ids, "attention_mask": attention_mask}


def table_model(seed, v, eos_boost):
    g = torch.Generator().manual_seed(seed)
    table = torch.randn(v + 1, v, v, generator=g) * 1.5
    table[:, :, 2] += eos_boost  # token 2 (the usual EOS here) more likely, so beams finish
    table = table.float()
    slope = (torch.randn(v, generator=g) * 0.3).float()
    return TableModel(TableConfig(vocab_size=v), table, slope).eval()


def run_generate(model, batch, s, pad=0):
    t = max(len(p) for p in batch)
    ids = torch.tensor([[pad] * (t - len(p)) + p for p in batch])
    mask = torch.tensor([[0] * (t - len(p)) + [1] * len(p) for p in batch])
    cfg = GenerationConfig(do_sample=False, pad_token_id=pad, use_cache=False, **s)
    out = model.generate(input_ids=ids, attention_mask=mask, generation_config=cfg,
                         return_dict_in_generate=True, output_scores=True)
    run = {"config": s, "prompts": batch, "pad_token_id": pad, "sequences": out.sequences.tolist()}
    if getattr(out, "sequences_scores", None) is not None:
        run["sequences_scores"] = [float(x) for x in out.sequences_scores.tolist()]
    return run


def generation_cases():
    v = 10
    models = [table_model(99, v, 1.0), table_model(3, v, 2.0), table_model(11, v, 2.5)]
    prompts = [[3, 4, 5, 6, 7], [8, 1], [4, 4, 9], [6]]
    runs = []
    settings = [
        {"max_new_tokens": 8},
        {"max_new_tokens": 12, "eos_token_id": [2]},
        {"max_new_tokens": 12, "eos_token_id": [2, 9]},
        {"max_new_tokens": 10, "eos_token_id": [2], "min_new_tokens": 4},
        {"max_new_tokens": 10, "eos_token_id": [2], "repetition_penalty": 1.5},
        {"max_new_tokens": 10, "eos_token_id": [2], "no_repeat_ngram_size": 2},
        {"max_length": 9, "eos_token_id": [2]},
        {"max_new_tokens": 8, "eos_token_id": [2], "num_beams": 3},
        {"max_new_tokens": 8, "eos_token_id": [2, 9], "num_beams": 2},
        {"max_new_tokens": 10, "eos_token_id": [2], "num_beams": 4, "num_return_sequences": 3},
        {"max_new_tokens": 10, "eos_token_id": [2], "num_beams": 3, "length_penalty": 2.0},
        {"max_new_tokens": 10, "eos_token_id": [2], "num_beams": 3, "length_penalty": -1.0},
        {"max_new_tokens": 10, "eos_token_id": [2], "num_beams": 3, "early_stopping": True},
        {"max_new_tokens": 10, "eos_token_id": [2], "num_beams": 3, "early_stopping": "never", "length_penalty": 1.5},
        {"max_new_tokens": 10, "eos_token_id": [2], "num_beams": 3, "no_repeat_ngram_size": 2,
         "repetition_penalty": 1.3, "num_return_sequences": 2},
        {"max_new_tokens": 6, "eos_token_id": [2], "num_beams": 2, "min_new_tokens": 3},
    ]
    for m in range(len(models)):
        for s in settings:
            for batch in ([prompts[0]], prompts):
                runs.append(dict(run_generate(models[m], batch, s), model=m))
    # beam search stopping rules: length penalties and early_stopping over tables that often end early
    for m in (1, 2):
        for beams in (2, 3):
            for lp in (0.0, 1.0, 2.0, -0.5):
                for es in (False, True, "never"):
                    s = {"max_new_tokens": 9, "eos_token_id": [2], "num_beams": beams, "length_penalty": lp,
                         "early_stopping": es, "num_return_sequences": beams}
                    runs.append(dict(run_generate(models[m], prompts, s), model=m))
    # sampling: transformers' frequencies of the first two new tokens over many rows (its own RNG)
    samples = []
    for m, s in ((0, {"temperature": 0.7, "top_k": 5, "top_p": 0.9}),
                 (1, {"temperature": 1.3, "top_k": 0, "min_p": 0.1, "repetition_penalty": 1.4}),
                 (2, {"typical_p": 0.8, "top_k": 4}),
                 (1, {"num_beams": 2, "eos_token_id": [2], "top_k": 6, "temperature": 1.5})):
        torch.manual_seed(1000 + m)
        n = 4000
        cfg = GenerationConfig(do_sample=True, max_new_tokens=2, pad_token_id=0, use_cache=False, **s)
        prompt = [3, 4, 5]
        out = models[m].generate(input_ids=torch.tensor([prompt] * n), attention_mask=torch.ones(n, 3, dtype=torch.long),
                                 generation_config=cfg)
        pairs = {}
        for row in out[:, 3:5].tolist():
            key = "%d,%d" % (row[0], row[1])
            pairs[key] = pairs.get(key, 0) + 1
        samples.append({"model": m, "config": s, "prompt": prompt, "rows": n, "pair_counts": pairs})
    return {"vocab_size": v, "models": [{"table": x.table.tolist(), "slope": x.slope.tolist()} for x in models],
            "runs": runs, "samples": samples}


def pipeline_cases():
    """Whole processor lists as generate() builds them from a GenerationConfig."""
    g = torch.Generator().manual_seed(7)
    v = 32
    model = TableModel(TableConfig(vocab_size=v), torch.zeros(v + 1, v, v), torch.zeros(v))
    cases = []
    configs = [
        {"do_sample": True},
        {"do_sample": True, "temperature": 0.7, "top_k": 10, "top_p": 0.9},
        {"do_sample": True, "temperature": 1.3, "top_k": 0, "min_p": 0.05, "typical_p": 0.8},
        {"do_sample": True, "repetition_penalty": 1.2, "no_repeat_ngram_size": 2, "min_new_tokens": 5,
         "eos_token_id": [1, 3], "top_p": 0.7},
        {"do_sample": False, "repetition_penalty": 1.2, "no_repeat_ngram_size": 3, "eos_token_id": 3,
         "min_length": 12},
        {"do_sample": True, "num_beams": 3, "eos_token_id": [1, 3], "top_k": 2, "top_p": 0.2},
        {"do_sample": False, "no_repeat_ngram_size": 2, "bad_words_ids": [[4], [2, 5]], "min_length": 9, "eos_token_id": 3,
         "forced_bos_token_id": 0, "forced_eos_token_id": [3], "max_length": 9},
    ]
    for c in configs:
        cfg = GenerationConfig(**c)
        eos = c.get("eos_token_id")
        cfg._eos_token_tensor = None if eos is None else torch.tensor(eos if isinstance(eos, list) else [eos])
        prompt_len = 6
        procs = model._get_logits_processor(generation_config=cfg, input_ids_seq_length=prompt_len,
                                            encoder_input_ids=None, logits_processor=LogitsProcessorList(),
                                            device="cpu")
        for t in (6, 8, 11):
            logits = (torch.randn(4, v, generator=g) * 2.0).float()
            ids = torch.randint(0, 6, (4, t), generator=g)
            out = procs(ids.clone(), logits.clone())
            cases.append({"config": c, "prompt_length": prompt_len, "processors": [type(p).__name__ for p in procs],
                          "input_ids": ids.tolist(), "scores": floats(logits), "expected": floats(out)})
    return cases


def stop_string_cases():
    tokens = ["<pad>", "st", "op", "stop", "s", "to", "pped", "las", "topper", "at", "opera", "tion", " ", "x",
              "sto", "pper", "\n\n", "\n", "END", "EN", "D"]
    stops = ["stop", "\n\n", "END"]
    crit = StopStringCriteria.__new__(StopStringCriteria)
    crit.stop_strings = tuple(stops)
    crit.embedding_vec, crit.max_valid_positions, crit.max_valid_end_lens = \
        StopStringCriteria._stop_string_create_embedding_vec(tuple(tokens), tuple(range(len(tokens))), tuple(stops))
    crit.maximum_token_len = max(len(s) for s in stops)
    crit.num_stop_strings = len(stops)
    crit.target_lens = torch.tensor([len(s) for s in stops], dtype=torch.int32)
    g = torch.Generator().manual_seed(5)
    seqs = [[1, 2], [3], [1, 10], [14, 15], [7, 8], [4, 5, 6], [3, 9], [1, 2, 9], [1, 10, 11], [17, 17],
            [16], [19, 20], [13, 18, 13], [12, 4, 5, 2, 13]]
    for _ in range(60):
        n = int(torch.randint(1, 9, (1,), generator=g))
        seqs.append(torch.randint(1, len(tokens), (n,), generator=g).tolist())
    results = []
    for s in seqs:
        # the first prefix length at which the criterion fires (as generate checks after every token)
        first = None
        for n in range(1, len(s) + 1):
            if bool(crit(torch.tensor([s[:n]]), None)[0]):
                first = n
                break
        results.append({"ids": s, "stops_at": first})
    return {"tokens": tokens, "stop_strings": stops, "cases": results}


def main():
    torch.set_grad_enabled(False)
    write("processors.json", {"cases": processor_cases(), "pipelines": pipeline_cases()})
    write("generate.json", generation_cases())
    write("stop_strings.json", stop_string_cases())


if __name__ == "__main__":
    sys.exit(main())
