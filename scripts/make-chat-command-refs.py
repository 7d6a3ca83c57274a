#!/usr/bin/env python3
"""References for attn4j-cli's ChatCommandTest: the prompt `attn4j chat` must render for a first turn.

  PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/make-chat-command-refs.py

Writes attn4j-cli/src/test/resources/chat/chat-refs.json with, for the same conversation (a system
message and one user line; add_generation_prompt=True):
  - "chatml": the ChatML-style template of chat/tokenizer_config.json (test resources) rendered by
    jinja2 set up as transformers 4.57's chat template renderer (ImmutableSandboxedEnvironment,
    trim_blocks, lstrip_blocks, loopcontrols), with its eos_token;
  - "qwen2", "llama3": transformers' AutoTokenizer.from_pretrained(../shared/tokenizers/<name>)
    .apply_chat_template(messages, tokenize=False, add_generation_prompt=True) and the ids of
    tokenize=True (which adds no special tokens beyond the template's).
"""
import json
import os

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RES = os.path.join(ROOT, "attn4j-cli", "src", "test", "resources", "chat")
SHARED = os.path.join(ROOT, "..", "shared", "tokenizers")
SYSTEM = "You are terse."
USER = "Hi there, caf\u00e9?"
MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]


def render_like_transformers(template, **kw):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    return env.from_string(template).render(**kw)


def main():
    cfg = json.load(open(os.path.join(RES, "tokenizer_config.json"), encoding="utf-8"))
    out = {"system": SYSTEM, "user": USER,
           "chatml": render_like_transformers(cfg["chat_template"], messages=MESSAGES, add_generation_prompt=True,
                                              eos_token=cfg["eos_token"])}
    from transformers import AutoTokenizer
    for name in ("qwen2", "llama3"):
        tok = AutoTokenizer.from_pretrained(os.path.join(SHARED, name))
        out[name] = tok.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
        out[name + ".ids"] = list(tok.apply_chat_template(MESSAGES, tokenize=True, add_generation_prompt=True))
    with open(os.path.join(RES, "chat-refs.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(json.dumps(out, ensure_ascii=False)[:600])


if __name__ == "__main__":
    main()
