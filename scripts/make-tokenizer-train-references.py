#!/usr/bin/env python3
"""References for attn4j's tokenizer training (dev.attn4j.tokenizers.TokenizerTrainer).

Writes into attn4j-models/src/test/resources/tokenizers/train/:
  corpus.txt                  a small synthetic corpus (seeded; German / English / French words,
                              punctuation, digits, a few non-Latin characters), one sequence per line
  hf-bpe-bytelevel.json       Hugging Face tokenizers' BpeTrainer on it: ByteLevel pre-tokenizer,
                              the 256-byte initial alphabet, vocab 600, specials <pad> <s> </s> <unk>
  hf-bpe-metaspace.json       the same with NFKC + Metaspace, vocab 300 (unknown token <unk>)
  samples.json                strings to encode, with the ids Hugging Face gives for each file
                              above and for attn4j-unigram.json (when that file exists)

attn4j-unigram.json is attn4j's own Unigram training on corpus.txt (vocab 300), written by
  ./attn4j tokenizer train --type unigram --vocab-size 300 --files corpus.txt --out attn4j-unigram.json
so run this script, then that command, then this script again (the test checks that attn4j
still trains the same file, and that attn4j and Hugging Face encode the samples alike with it).

Run: PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/make-tokenizer-train-references.py
(tokenizers 0.23.2).
"""
import json
import os
import random

import tokenizers
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                   "attn4j-models/src/test/resources/tokenizers/train")
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]

WORDS = ("ein eine einer zwei drei Mann Frau Kind Hund Katze Straße läuft spielt sitzt steht auf dem der die das "
         "mit einem im vor hinter neben großen kleinen roten blauen weißen Wasser Ball Fahrrad über Brücke "
         "a an the two three man woman child dog cat street runs plays sits stands on in with front of behind "
         "next to large small red blue white water ball bicycle over bridge is are walking playing "
         "un une deux homme femme enfant chien chat rue court joue assis debout sur dans avec devant "
         "derrière à côté grand petit rouge bleu blanc eau ballon vélo pont est sont").split()
PUNCT = [".", ",", "!", "?", ";", ":", "-", "\"", "'s", "(", ")"]
EXTRA = ["Zürich", "naïve", "café", "1999", "3.5", "10-20", "über", "Æsop", "東京", "😀", "ßß", "Ünal"]


def corpus(n=320, seed=14):
    rng = random.Random(seed)
    lines = []
    for _ in range(n):
        k = rng.randint(3, 14)
        toks = []
        for _ in range(k):
            r = rng.random()
            if r < 0.08:
                toks.append(rng.choice(EXTRA))
            else:
                w = rng.choice(WORDS)
                if r > 0.9:
                    w = w.capitalize()
                toks.append(w)
            if rng.random() < 0.12:
                toks[-1] += rng.choice(PUNCT)
        line = " ".join(toks)
        if rng.random() < 0.1:
            line = "  " + line                      # leading spaces
        if rng.random() < 0.1:
            line = line.replace(" ", "  ", 1)       # a double space
        lines.append(line[0].upper() + line[1:] + rng.choice([".", "", "!"]))
    return lines


def bpe(lines, byte_level):
    if byte_level:
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tr = trainers.BpeTrainer(vocab_size=600, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                 show_progress=False)
    else:
        tok = Tokenizer(models.BPE(unk_token="<unk>"))
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        tr = trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIALS, show_progress=False)
    tok.train_from_iterator(lines, tr)
    return tok


SAMPLES = [
    "Ein Mann läuft über die Brücke.",
    "Two dogs are playing with a red ball in the water!",
    "Une femme assise sur un banc, devant le pont.",
    "  leading and  double spaces ",
    "Zürich 1999: 3.5 km, 10-20 Minuten — „Anführungszeichen“",
    "unseen characters: ✓ Ω ق 😀 東京",
    "",
]


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = corpus()
    with open(os.path.join(OUT, "corpus.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    files = {}
    for name, byte_level in (("hf-bpe-bytelevel.json", True), ("hf-bpe-metaspace.json", False)):
        tok = bpe(lines, byte_level)
        tok.save(os.path.join(OUT, name))
        files[name] = tok
    uni = os.path.join(OUT, "attn4j-unigram.json")
    if os.path.exists(uni):
        files["attn4j-unigram.json"] = Tokenizer.from_file(uni)
    out = {"tokenizers_version": tokenizers.__version__, "samples": SAMPLES, "ids": {}, "decoded": {}}
    for name, tok in files.items():
        out["ids"][name] = [tok.encode(s).ids for s in SAMPLES]
        out["decoded"][name] = [tok.decode(tok.encode(s).ids) for s in SAMPLES]
    with open(os.path.join(OUT, "samples.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
