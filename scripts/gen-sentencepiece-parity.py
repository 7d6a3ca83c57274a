#!/usr/bin/python3
"""SentencePiece parity references for attn4j: thousands of varied strings and what Debian's python3-sentencepiece
(and transformers' slow Marian / T5 tokenizers) make of them.

Run from the repository root (sentencepiece is Debian's python3-sentencepiece; transformers 4.57.6 from /opt/pyref):

    PYTHONPATH=/opt/pyref /usr/bin/python3 scripts/gen-sentencepiece-parity.py [--show N]

Reads ../shared/tokenizers (llama2/tokenizer.model; opus-mt-fr-en/source.spm, target.spm, vocab.json) and writes

* attn4j-models/src/test/resources/tokenizers/sentencepiece-parity.jsonl.gz: a first line {"generator", "seed",
  "count"}, then one line per string [text, spm, marian] where spm and marian are CRC-32s (hex) of the results, each
  result on its own line, ids as "1,2,3" (see spm_part and marian_part):
  spm: sp.encode(text) ids (no BOS/EOS) of llama2/tokenizer.model, sp.decode of those, the ids of source.spm and of
  target.spm;
  marian: MarianTokenizer(text).input_ids, the ids of text_target=text (target.spm + vocab.json), and
  MarianTokenizer.decode(those target ids, skip_special_tokens=True).
  Hashes keep the file small; --show N prints string N's full results, to see what a failing case expected.
* attn4j-models/src/test/resources/tokenizers/t5-spiece/: spiece.model, a small Unigram model trained here with
  sentencepiece itself (on pseudo-sentences made of opus-mt vocabulary pieces, 700 pieces, identity normalization: nmt_nfkc's char map alone is 240 KB, and the normalizer is covered by the models above), and
  t5-refs.json: for 300 of the strings (some with <extra_id_N> sentinels) T5Tokenizer(spiece.model)'s ids and its
  decode with and without special tokens.
* attn4j-models/src/test/resources/tokenizers/bart-files-refs.json: BartTokenizer's ids (the slow one, which the fast one matches; the
  fast one does not build with this environment's tokenizers 0.23.2) for 303 strings, built from
  ../shared/tokenizers/gpt2's vocab.json with <s> <pad> </s> <unk> <mask> added at ids 50257-50261, and its merges.txt
  (what AutoTokenizer builds for a BART directory without tokenizer.json).

The strings (5,200, seeded) mix: runs of vocabulary pieces of the three models with varied separators and casing;
random code points from many scripts and blocks (combining marks, fullwidth forms, ligatures, emoji with ZWJ and
variation selectors, control characters, unusual spaces); numbers, dates, URLs and code; whitespace edge cases;
special-token strings and Marian language codes; long strings.
"""
import gzip
import io
import json
import os
import random
import sys
import zlib

import sentencepiece as spm

SHARED = os.path.join("..", "shared", "tokenizers")
RES = os.path.join("attn4j-models", "src", "test", "resources", "tokenizers")
OUT = os.path.join(RES, "sentencepiece-parity.jsonl.gz")
T5_DIR = os.path.join(RES, "t5-spiece")
SEED = 14
COUNT = 5200

RANGES = [
    (0x20, 0x7E), (0xA0, 0xFF), (0x100, 0x17F), (0x180, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
    (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1EFF),
    (0x2000, 0x206F), (0x2070, 0x209F), (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF),
    (0x2460, 0x24FF), (0x2500, 0x257F), (0x3000, 0x303F), (0x3040, 0x309F), (0x30A0, 0x30FF), (0x3200, 0x32FF),
    (0x3300, 0x33FF), (0x4E00, 0x4FFF), (0xAC00, 0xAD00), (0xE000, 0xE010), (0xFB00, 0xFB4F), (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF), (0x1D400, 0x1D4FF), (0x1F300, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F900, 0x1F9FF),
]
ODD = ["\u200b", "\u200c", "\u200d", "\ufe0f", "\ufeff", "\u00ad", "\u3000", "\u00a0", "\u2028", "\u2029", "\t", "\n", "\r",
       "\x0b", "\x0c", "\x1c", "\x85", "\x00", "\x01", "\x7f", "\u2581", "\u0301", "\u0308", "\ufffd", "\U0001F468\u200d\U0001F469",
       "\u2764\ufe0f", "\U0001F44D\U0001F3FD", "e\u0301", "\u1100\u1161\u11a8"]
SEPARATORS = [" ", " ", " ", " ", "", "  ", "   ", "\t", "\n", "-", ", ", ". ", " - ", "/", "'", "\u00a0", "\u3000"]
SPECIALS = ["</s>", "<unk>", "<s>", "<pad>", "<extra_id_0>", "<extra_id_7>", "\u2581", ">>fr<<", ">>en<<", ">>xx<<"]
PUNCT = list(".,;:!?\"'()[]{}«»“”‘’„…–—-/\\@#$%^&*_+=<>|~`") + ["...", "?!", "!!", " ?", " !", " :", " ;"]


def load_pool():
    pool = []
    for name in ["llama2/tokenizer.model", "opus-mt-fr-en/source.spm", "opus-mt-fr-en/target.spm"]:
        sp = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, name))
        for i in range(sp.get_piece_size()):
            if sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i):
                continue
            p = sp.id_to_piece(i).replace("\u2581", "")
            if p:
                pool.append(p)
    return pool


def rand_char(r):
    if r.random() < 0.12:
        return r.choice(ODD)
    lo, hi = r.choice(RANGES)
    return chr(r.randint(lo, hi))


def make_string(r, pool):
    kind = r.random()
    if kind < 0.35:                                            # vocabulary pieces
        words = [r.choice(pool) for _ in range(r.randint(1, 7))]
        if r.random() < 0.3:
            words = [w.capitalize() if r.random() < 0.5 else w.upper() for w in words]
        s = ""
        for i, w in enumerate(words):
            s += (r.choice(SEPARATORS) if i else "") + w
            if r.random() < 0.15:
                s += r.choice(PUNCT)
        return s
    if kind < 0.55:                                            # code points from many blocks
        return "".join(rand_char(r) for _ in range(r.randint(1, 14)))
    if kind < 0.65:                                            # numbers, dates, URLs, code
        forms = [lambda: str(r.randint(0, 10 ** r.randint(1, 12))),
                 lambda: "%d.%0*d" % (r.randint(0, 9999), r.randint(1, 4), r.randint(0, 9999)),
                 lambda: "%02d/%02d/%04d" % (r.randint(1, 28), r.randint(1, 12), r.randint(1900, 2100)),
                 lambda: "https://example.%s/%s?q=%d" % (r.choice(["com", "fr", "de"]), r.choice(pool), r.randint(0, 99)),
                 lambda: "%s@%s.org" % (r.choice(pool).lower(), r.choice(pool).lower()),
                 lambda: "def f(x): return x ** %d  # %s" % (r.randint(0, 9), r.choice(pool)),
                 lambda: "%s %d,%02d €" % (r.choice(pool), r.randint(0, 999), r.randint(0, 99)),
                 lambda: "x\u00b2 + y\u00b3 = \u00bd \u2162 \u2460"]
        return " ".join(r.choice(forms)() for _ in range(r.randint(1, 2)))
    if kind < 0.75:                                            # whitespace edge cases
        ws = lambda: "".join(r.choice([" ", " ", "\t", "\n", "\u3000", "\u00a0", "\u2009"]) for _ in range(r.randint(0, 4)))
        return ws() + ws().join(r.choice(pool) for _ in range(r.randint(0, 4))) + ws()
    if kind < 0.82:                                            # special-token strings, language codes
        parts = [r.choice(SPECIALS) if r.random() < 0.4 else r.choice(pool) for _ in range(r.randint(1, 5))]
        s = r.choice(["", " "]).join(parts)
        if r.random() < 0.3:
            s = r.choice([">>fr<<", ">>de<<", ">>en<< "]) + s
        return s
    if kind < 0.98:                                            # sentence-like mixes
        n = r.randint(3, 9)
        s = " ".join(r.choice(pool) if r.random() < 0.85 else rand_char(r) for _ in range(n))
        return s[0].upper() + s[1:] + r.choice([".", "!", "?", " ?", " !", "…", ""])
    return "".join(r.choice([r.choice(pool), " ", r.choice(PUNCT), rand_char(r)]) for _ in range(r.randint(40, 90)))


def strings():
    r = random.Random(SEED)
    pool = load_pool()
    fixed = ["", " ", "  ", "\n", "Hello world", " Hello World!", "Le chat est noir.", "L\u2019\u00e9t\u00e9 dernier.",
             ">>fr<< Bonjour", "Hello</s>world", "a<unk>b <pad> c", "\ufb01ne \ufb02ow", "\uff21\uff22\uff23\uff11\uff12\uff13",
             "e\u0301 cafe\u0301", "\U0001F600\U0001F44D\U0001F3FD"]
    out = list(fixed)
    seen = set(out)
    while len(out) < COUNT:
        s = make_string(r, pool)
        if "\ud800" <= s <= "\udfff" or s in seen:
            continue
        seen.add(s)
        out.append(s)
    return out


def crc(x):
    if isinstance(x, list):
        x = ",".join(str(i) for i in x)
    return "%08x" % (zlib.crc32(x.encode("utf-8")) & 0xFFFFFFFF)


def spm_part(res):
    """What the "spm" hash covers: the three models' ids and Llama 2's decode, one field a line."""
    return "\n".join([",".join(map(str, res["llama2"])), res["llama2.decode"], ",".join(map(str, res["source"])),
                      ",".join(map(str, res["target"]))])


def marian_part(res):
    """What the "marian" hash covers: MarianTokenizer's source ids, target ids and decode of the target ids."""
    return "\n".join([",".join(map(str, res["marian"])), ",".join(map(str, res["marian.target"])), res["marian.decode"]])


def results(texts):
    from transformers import MarianTokenizer
    llama = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "llama2", "tokenizer.model"))
    src = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "opus-mt-fr-en", "source.spm"))
    tgt = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, "opus-mt-fr-en", "target.spm"))
    marian = MarianTokenizer.from_pretrained(os.path.join(SHARED, "opus-mt-fr-en"))
    for t in texts:
        ids = llama.encode(t)
        target = marian(text_target=t).input_ids
        yield t, {"llama2": ids, "llama2.decode": llama.decode(ids), "source": src.encode(t), "target": tgt.encode(t),
                  "marian": marian(t).input_ids, "marian.target": target,
                  "marian.decode": marian.decode(target, skip_special_tokens=True)}


def train_t5(texts):
    os.makedirs(T5_DIR, exist_ok=True)
    r = random.Random(SEED + 1)
    pool = load_pool()
    corpus = [" ".join(r.choice(pool) for _ in range(r.randint(3, 12))) for _ in range(4000)]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(corpus), model_writer=model, vocab_size=700, model_type="unigram",
                                   character_coverage=0.995, normalization_rule_name="identity", pad_id=0, eos_id=1,
                                   unk_id=2, bos_id=-1, pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>")
    path = os.path.join(T5_DIR, "spiece.model")
    with open(path, "wb") as f:
        f.write(model.getvalue())
    from transformers import T5Tokenizer
    tok = T5Tokenizer(path)
    cases = []
    r = random.Random(SEED + 2)
    for t in texts[:200] + [texts[i] for i in r.sample(range(200, len(texts)), 60)]:
        cases.append(t)
    for _ in range(40):
        w = [r.choice(pool) for _ in range(r.randint(1, 5))]
        cases.append(" ".join(x if r.random() < 0.7 else "<extra_id_%d> " % r.randint(0, 99) + x for x in w))
    rows = []
    for t in cases:
        ids = tok(t).input_ids
        rows.append({"text": t, "ids": ids, "decode": tok.decode(ids), "decode_skip": tok.decode(ids, skip_special_tokens=True)})
    with open(os.path.join(T5_DIR, "t5-refs.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "transformers T5Tokenizer (slow, legacy) 4.57.6, sentencepiece " + spm.__version__, "cases": rows},
                  f, ensure_ascii=False, indent=0)
        f.write("\n")


def bart_files(texts):
    """BartTokenizer on GPT-2's vocab.json (plus <s> <pad> </s> <unk> <mask> at 50257..50261) and merges.txt."""
    import tempfile
    from transformers import BartTokenizer
    with open(os.path.join(SHARED, "gpt2", "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]):
        vocab[t] = 50257 + i
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f)
        tok = BartTokenizer(vocab_file=os.path.join(d, "vocab.json"), merges_file=os.path.join(SHARED, "gpt2", "merges.txt"))
        r = random.Random(SEED + 3)
        cases = [texts[i] for i in r.sample(range(len(texts)), 300)] + ["Hello<mask> world</s>", "<s>a b <pad>", " <mask>x"]
        rows = [{"text": t, "ids": tok(t).input_ids} for t in cases]
    with open(os.path.join(RES, "bart-files-refs.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "transformers BartTokenizer 4.57.6 (the slow one: the fast one fails to build on this tokenizers 0.23.2)", "cases": rows}, f, ensure_ascii=False,
                  indent=0)
        f.write("\n")


def main():
    texts = strings()
    if "--show" in sys.argv:
        n = int(sys.argv[sys.argv.index("--show") + 1])
        t, res = next((x for i, x in enumerate(results(texts)) if i == n))
        print(json.dumps({"text": t, **res}, ensure_ascii=False, indent=1))
        return
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        head = {"generator": "python3-sentencepiece " + spm.__version__ + ", transformers MarianTokenizer 4.57.6", "seed": SEED,
                "count": len(texts)}
        gz.write((json.dumps(head) + "\n").encode("utf-8"))
        for t, res in results(texts):
            gz.write((json.dumps([t, crc(spm_part(res)), crc(marian_part(res))], ensure_ascii=False) + "\n").encode("utf-8"))
    tmp = OUT + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, OUT)
    print("wrote", OUT, len(buf.getvalue()), "bytes,", len(texts), "strings")
    train_t5(texts)
    print("wrote", T5_DIR)
    bart_files(texts)
    print("wrote", os.path.join(RES, "bart-files-refs.json"))


if __name__ == "__main__":
    main()
