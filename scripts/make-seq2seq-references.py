#!/usr/bin/env python3
"""Reference outputs of Hugging Face transformers' encoder-decoders for attn4j's seq2seq tests.

Run from the repository root with the transformers under /opt/pyref (4.57.6 on torch 1.13):

    PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/make-seq2seq-references.py

For each tiny random-weight configuration below (MarianMTModel tied, with separate tables and saved in float16,
T5ForConditionalGeneration v1.0 (relu, tied) and v1.1 (gated-gelu, untied), BartForConditionalGeneration,
MBartForConditionalGeneration) it writes, under attn4j-models/src/test/resources/seq2seq/<name>/, the model as
transformers saves it (save_pretrained: config.json, generation_config.json, model.safetensors) with norm weights,
biases and final_logits_bias drawn at random (transformers initialises them to 1 / 0, which would hide bugs), and:

reference.safetensors:
  input_ids / attention_mask [3, S] (I64): a right-padded batch of sources (real lengths S, 5, 2; pad_token_id);
  decoder_input_ids [3, T] (I64): decoder_start_token_id then random ids;
  logits [3, T, V], encoder_last_hidden_state [3, S, C], decoder_last_hidden_state [3, T, C] (forward with
  decoder_input_ids, eager attention, float32), encoder_attentions.<L-1> [3, H, S, S] and
  cross_attentions.<L-1> [3, H, T, S] (the last layer).
generate.json: a list of generate() calls on the padded batch, each {"name", "kwargs", "sequences"} where kwargs are
  the generate() arguments beyond input_ids / attention_mask (the rest comes from generation_config.json) and
  sequences are transformers' output rows (decoder start token first, pad after EOS), num_return_sequences rows per
  source, in source order. Every call also lists the smallest top-2 margin of its scores ("margin") so that a
  near tie (which float rounding could flip) is visible.

Two more directories, under attn4j-cli/src/test/resources/seq2seq/, hold tiny models with real tokenizer files, for the
command line's end-to-end tests: marian-tokenizer
(source.spm = target.spm, a 70-piece SentencePiece model trained here, vocab.json, tokenizer_config.json) and
t5-tokenizer (the same model as spiece.model, 4 extra ids, task_specific_params.summarization as t5-small's); cli.json
lists per text the tokenizer's ids, generate()'s new ids (the model's generation config; for T5 the summarization
parameters and prefix, as the summarization pipeline applies them) and their decode (skip_special_tokens).
"""
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from transformers import (AutoModelForSeq2SeqLM, BartConfig, MarianConfig, MBartConfig, T5Config)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "attn4j-models", "src", "test", "resources", "seq2seq")
OUT_CLI = os.path.join(ROOT, "attn4j-cli", "src", "test", "resources", "seq2seq")
S = 9
T = 6
NEW = 8


def configs():
    common = dict(vocab_size=64, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                  decoder_attention_heads=2, encoder_ffn_dim=24, decoder_ffn_dim=24, max_position_embeddings=40,
                  dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, init_std=0.3)
    yield "marian", MarianConfig(**common, activation_function="swish", scale_embedding=True, pad_token_id=63,
                                 decoder_start_token_id=63, eos_token_id=0, forced_eos_token_id=0, bad_words_ids=[[63]],
                                 num_beams=4, max_length=40), [
        ("greedy", dict(num_beams=1, do_sample=False, max_new_tokens=NEW)),
        ("beam4", dict(num_beams=4, max_new_tokens=NEW)),
        ("beam4-lp2-early", dict(num_beams=4, max_new_tokens=NEW, length_penalty=2.0, early_stopping=True,
                                 num_return_sequences=2)),
    ]
    yield "marian-separate-tables", MarianConfig(**{**common, "vocab_size": 60}, decoder_vocab_size=50,
                                                 share_encoder_decoder_embeddings=False, tie_word_embeddings=False,
                                                 activation_function="relu",
                                                 scale_embedding=False, pad_token_id=49, decoder_start_token_id=49,
                                                 eos_token_id=0, forced_eos_token_id=0), [
        ("greedy", dict(num_beams=1, do_sample=False, max_new_tokens=NEW, bad_words_ids=[[49], [5, 7]])),
        ("greedy-ngram", dict(num_beams=1, do_sample=False, max_new_tokens=NEW, no_repeat_ngram_size=2)),
    ]  # no beam search: transformers' beam search reshapes by vocab_size, not by the 50 logits of decoder_vocab_size
    t5 = dict(vocab_size=64, d_model=16, d_kv=6, d_ff=24, num_layers=2, num_decoder_layers=2, num_heads=3,
              relative_attention_num_buckets=8, relative_attention_max_distance=12, dropout_rate=0.0,
              initializer_factor=1.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    yield "t5", T5Config(**t5, feed_forward_proj="relu", tie_word_embeddings=True), [
        ("greedy", dict(num_beams=1, do_sample=False, max_new_tokens=NEW)),
        ("beam4", dict(num_beams=4, max_new_tokens=NEW)),
        ("beam4-ngram-minlen", dict(num_beams=4, max_length=NEW, no_repeat_ngram_size=2, min_length=5)),
    ]
    yield "t5-v1_1", T5Config(**t5, feed_forward_proj="gated-gelu", tie_word_embeddings=False), [
        ("greedy", dict(num_beams=1, do_sample=False, max_new_tokens=NEW)),
        ("beam4", dict(num_beams=4, max_new_tokens=NEW, length_penalty=0.6)),
    ]
    bart = dict(common, activation_function="gelu", pad_token_id=1, bos_token_id=0, eos_token_id=2,
                decoder_start_token_id=2, forced_eos_token_id=2)
    yield "bart", BartConfig(**bart, forced_bos_token_id=0), [
        ("greedy", dict(num_beams=1, do_sample=False, max_new_tokens=NEW)),
        ("beam4", dict(num_beams=4, max_new_tokens=NEW)),
        ("beam4-summarize", dict(num_beams=4, max_length=NEW + 2, min_length=4, no_repeat_ngram_size=3,
                                 length_penalty=2.0, early_stopping=True)),
    ]
    yield "mbart", MBartConfig(**bart, scale_embedding=True), [
        ("greedy", dict(num_beams=1, do_sample=False, max_new_tokens=NEW, forced_bos_token_id=5)),
        ("beam4", dict(num_beams=4, max_new_tokens=NEW, early_stopping="never")),
    ]
    yield "marian-f16", MarianConfig(**common, activation_function="relu", scale_embedding=True, pad_token_id=63,
                                     decoder_start_token_id=63, eos_token_id=0, forced_eos_token_id=0, bad_words_ids=[[63]],
                                     dtype="float16"), [
        ("greedy", dict(num_beams=1, do_sample=False, max_new_tokens=NEW)),
        ("beam4", dict(num_beams=4, max_new_tokens=NEW)),
    ]  # saved in float16, as OPUS-MT tc-big checkpoints are; the references read it back in float32


def perturb(model, gen):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") and "relative_attention_bias" not in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
        if hasattr(model, "final_logits_bias"):
            model.final_logits_bias.copy_(0.5 * torch.randn(model.final_logits_bias.shape, generator=gen))


def batch(gen, config):
    vocab = config.vocab_size
    pad = config.pad_token_id
    ids = torch.randint(3, vocab - 2, (3, S), generator=gen)
    ids[ids == pad] = 4
    mask = torch.ones(3, S, dtype=torch.long)
    for row, real in enumerate([S, 5, 2]):
        ids[row, real - 1] = config.eos_token_id          # sources end with EOS, as tokenizers make them
        ids[row, real:] = pad
        mask[row, real:] = 0
    dec_vocab = getattr(config, "decoder_vocab_size", None) or vocab
    dec = torch.randint(3, dec_vocab - 2, (3, T), generator=gen)
    dec[:, 0] = config.decoder_start_token_id
    return ids, mask, dec


def margin(scores):
    top = torch.topk(scores[torch.isfinite(scores).any(-1)], 2, dim=-1).values
    gaps = top[..., 0] - top[..., 1]
    gaps = gaps[torch.isfinite(gaps)]
    return gaps.min().item() if gaps.numel() else float("inf")


def make(name, config, calls, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = AutoModelForSeq2SeqLM.from_config(config, attn_implementation="eager").eval()
    perturb(model, gen)
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    if getattr(config, "dtype", None) == "float16" or getattr(config, "torch_dtype", None) == torch.float16:
        model = model.to(torch.float16)
    model.save_pretrained(d, safe_serialization=True)
    # the references come from the saved files, as a user loads them (16-bit weights widened to float32)
    model = AutoModelForSeq2SeqLM.from_pretrained(d, attn_implementation="eager", dtype=torch.float32).eval()
    ids, mask, dec = batch(gen, config)
    out = {"input_ids": ids.clone(), "attention_mask": mask.clone(), "decoder_input_ids": dec.clone()}
    with torch.no_grad():
        o = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, output_attentions=True, use_cache=False)
    out["logits"] = o.logits.float().contiguous()
    out["encoder_last_hidden_state"] = o.encoder_last_hidden_state.float().contiguous()
    last = len(o.cross_attentions) - 1
    with torch.no_grad():
        full = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec, output_hidden_states=True, use_cache=False)
    out["decoder_last_hidden_state"] = full.decoder_hidden_states[-1].float().contiguous()
    out["encoder_attentions.%d" % (len(o.encoder_attentions) - 1)] = o.encoder_attentions[-1].float().contiguous()
    out["cross_attentions.%d" % last] = o.cross_attentions[last].float().contiguous()
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(d, "reference.safetensors"))
    results = []
    for call, kwargs in calls:
        with torch.no_grad():
            g = model.generate(input_ids=ids, attention_mask=mask, return_dict_in_generate=True, output_scores=True, **kwargs)
        m = min(margin(s) for s in g.scores)
        results.append({"name": call, "kwargs": kwargs, "sequences": g.sequences.tolist(), "margin": m})
        print("%-24s %-20s margin %.2e %s" % (name, call, m, g.sequences.tolist()))
    with open(os.path.join(d, "generate.json"), "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print("%-24s %7d bytes" % (name, size))


TEXTS = ["the cat sat on the mat", "une petite maison bleue pr\u00e8s de la mer", "hello world", "rouge"]


def train_spm():
    """A small SentencePiece Unigram model (70 pieces, identity normalization) trained here on pseudo-text."""
    import io
    import random
    import sentencepiece as spm
    r = random.Random(5)
    words = ["the", "cat", "sat", "on", "mat", "une", "petite", "maison", "bleue", "pr\u00e8s", "de", "la", "mer", "hello",
             "world", "rouge", "dog", "house", "blue", "sea", "small", "red", "big", "green", "tree", "car", "road", "city"]
    corpus = [" ".join(r.choice(words) for _ in range(r.randint(3, 9))) for _ in range(3000)]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model, vocab_size=70, model_type="unigram",
                                   normalization_rule_name="identity", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
                                   pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>")
    return model.getvalue()


def with_tokenizer():
    """End-to-end cases for the CLI: tiny models with real tokenizer files (a Marian layout and T5's spiece.model) whose
    vocabularies the models match; cli.json holds, per text, the tokenizer's ids, generate()'s ids and the decoded output."""
    import sentencepiece as spm
    from transformers import MarianTokenizer, T5Tokenizer
    blob = train_spm()
    sp = spm.SentencePieceProcessor(model_proto=blob)
    # Marian: source.spm = target.spm = the model; vocab.json: pieces in order, <pad> last
    d = os.path.join(OUT_CLI, "marian-tokenizer")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f in ["source.spm", "target.spm"]:
        with open(os.path.join(d, f), "wb") as out:
            out.write(blob)
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size()) if sp.id_to_piece(i) != "<pad>"}
    vocab = {p: i for i, p in enumerate(vocab)}
    vocab["<pad>"] = len(vocab)
    with open(os.path.join(d, "vocab.json"), "w") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=0)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"source_lang": "fr", "target_lang": "en", "unk_token": "<unk>", "eos_token": "</s>", "pad_token": "<pad>",
                   "model_max_length": 512, "separate_vocabs": False, "tokenizer_class": "MarianTokenizer"}, f)
    v = len(vocab)
    config = MarianConfig(vocab_size=v, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=2,
                          decoder_attention_heads=2, encoder_ffn_dim=24, decoder_ffn_dim=24, max_position_embeddings=40,
                          init_std=0.3, activation_function="swish", scale_embedding=True, pad_token_id=v - 1,
                          decoder_start_token_id=v - 1, eos_token_id=vocab["</s>"], forced_eos_token_id=vocab["</s>"],
                          bad_words_ids=[[v - 1]], num_beams=3, max_length=12)
    cli(d, config, MarianTokenizer.from_pretrained(d), None, 2000)
    # T5 with spiece.model and task_specific_params.summarization, as t5-small has them
    d = os.path.join(OUT_CLI, "t5-tokenizer")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    with open(os.path.join(d, "spiece.model"), "wb") as out:
        out.write(blob)
    tok = T5Tokenizer(os.path.join(d, "spiece.model"), extra_ids=4)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump({"extra_ids": 4, "tokenizer_class": "T5Tokenizer"}, f)
    params = {"summarization": {"early_stopping": True, "length_penalty": 2.0, "max_length": 10, "min_length": 3,
                                "no_repeat_ngram_size": 2, "num_beams": 2, "prefix": "summarize: "}}
    config = T5Config(vocab_size=len(tok), d_model=16, d_kv=6, d_ff=24, num_layers=2, num_heads=3,
                      relative_attention_num_buckets=8, relative_attention_max_distance=12, feed_forward_proj="gated-gelu",
                      tie_word_embeddings=False, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
                      task_specific_params=params)
    cli(d, config, tok, params["summarization"], 2001)


def cli(d, config, tok, task, seed):
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = AutoModelForSeq2SeqLM.from_config(config, attn_implementation="eager").eval()
    perturb(model, gen)
    model.save_pretrained(d, safe_serialization=True)
    model = AutoModelForSeq2SeqLM.from_pretrained(d, attn_implementation="eager").eval()
    cases = []
    for text in TEXTS:
        kwargs = {}
        source = text
        if task is not None:
            kwargs = {k: v for k, v in task.items() if k != "prefix"}
            source = task["prefix"] + text
        ids = tok(source).input_ids
        with torch.no_grad():
            out = model.generate(input_ids=torch.tensor([ids]), **kwargs)[0].tolist()
        new = out[1:]
        while new and new[-1] == config.pad_token_id:
            new = new[:-1]
        cases.append({"text": text, "input_ids": ids, "token_ids": new, "output": tok.decode(new, skip_special_tokens=True)})
        print("%-24s %r -> %s %r" % (os.path.basename(d), text, new, cases[-1]["output"]))
    with open(os.path.join(d, "cli.json"), "w") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    for seed, (name, config, calls) in enumerate(configs()):
        make(name, config, calls, 1000 + seed)
    with_tokenizer()


if __name__ == "__main__":
    main()
