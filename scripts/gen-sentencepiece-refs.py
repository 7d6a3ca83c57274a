#!/usr/bin/python3
"""Expected SentencePiece ids for attn4j's SentencePieceTest, made by Debian's python3-sentencepiece.

Run from the repository root with Debian's python (it has python3-sentencepiece):
    /usr/bin/python3 scripts/gen-sentencepiece-refs.py
Reads ../shared/tokenizers (llama2/tokenizer.model, opus-mt-fr-en/source.spm and target.spm) and
the 46 llama.cpp test strings, and writes
attn4j-models/src/test/resources/tokenizers/sentencepiece-refs.json: for each model, for each
string, the ids and pieces sentencepiece gives (encode without BOS/EOS) and its decode.
"""
import json
import os
import sentencepiece as spm

SHARED = os.path.join("..", "shared", "tokenizers")
OUT = os.path.join("attn4j-models", "src", "test", "resources", "tokenizers", "sentencepiece-refs.json")

# More cases beyond the 46: what the nmt_nfkc char map and whitespace rules change, byte fallback,
# and text the 46 do not cover.
EXTRA = [
    "  leading and trailing  ",
    "multiple   inner    spaces",
    "Le garçon a mangé une pomme à l'école, n'est-ce pas ? « Oui » !",
    "L\u2019été dernier, j\u2019ai vu 42 œuvres d\u2019art.",
    "\ufb01ne \ufb02ow \ufb00",
    "\uff21\uff22\uff23\uff11\uff12\uff13 \uff76\uff80\uff76\uff85",
    "e\u0301 cafe\u0301 na\u00efve",
    "\u216b \u2460 \u00bd x\u00b2",
    "tab\there\r\nnew line\u3000ideographic space",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "\u4eca\u65e5\u306f\u3044\u3044\u5929\u6c17\u3067\u3059\u306d\u3002\u6211\u7231\u5317\u4eac",
    "\U0001F600\U0001F44D\U0001F3FD \U0001F468\u200d\U0001F469\u200d\U0001F467 \u2764\ufe0f",
    "\u0915\u094d\u0937\u093f \u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
    "\x01control\x7fchars\x0b",
    "A",
    " ",
    "\u2581already\u2581marked",
]


def cases():
    with open(os.path.join(SHARED, "test-vectors", "ggml-vocab-llama-spm.gguf.inp"), encoding="utf-8") as f:
        parts = f.read().split("\n__ggml_vocab_test__\n")
    assert len(parts) == 47 and parts[-1] == "", len(parts)
    return parts[:-1] + EXTRA


def main():
    texts = cases()
    out = {"generator": "python3-sentencepiece " + spm.__version__, "texts": texts, "models": {}}
    for name in ["llama2/tokenizer.model", "opus-mt-fr-en/source.spm", "opus-mt-fr-en/target.spm"]:
        sp = spm.SentencePieceProcessor(model_file=os.path.join(SHARED, name))
        rows = []
        for t in texts:
            ids = sp.encode(t)
            rows.append({"ids": ids, "pieces": [sp.id_to_piece(i) for i in ids], "decoded": sp.decode(ids)})
        out["models"][name] = rows
    tmp = OUT + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)
        f.write("\n")
    os.replace(tmp, OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
