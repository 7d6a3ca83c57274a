#!/usr/bin/env python3
"""Reference values for attn4j's BLEU (dev.attn4j.train.metrics.Bleu).

sacreBLEU is not installed here, so this script transcribes the rules of sacreBLEU 2.6.0's
default corpus BLEU (sacrebleu/metrics/bleu.py, sacrebleu/tokenizers/tokenizer_13a.py and
tokenizer_re.py, sacrebleu/metrics/helpers.py, sacrebleu/utils.py:my_log) in plain Python:

  * each segment is rstrip()ped, then tokenized by 13a: drop "<skipped>", join "-\\n", turn
    newlines into spaces, unescape &quot; &amp; &lt; &gt; (only when the line holds '&'), pad
    with spaces, apply the four regexes of TokenizerRegexp, and re-join str.split();
  * n-grams of orders 1..4 from str.split(); reference counts are the maximum over the
    references; the reference length is the closest to the hypothesis length (ties: shorter);
  * compute_bleu with smooth_method='exp', effective_order=False.

Output: attn4j-models/src/test/resources/bleu/bleu-references.json, one object per case with the
inputs, the 13a tokenization of every segment, the statistics, the score and the formatted line.

Run: /usr/bin/python3 scripts/make-bleu-references.py
"""
import json
import math
import os
import re
from collections import Counter

VERSION = "2.6.0"

PUNCT = re.compile(r'([\{-\~\[-\` -\&\(-\+\:-\@\/])')
PERIOD_COMMA_AFTER = re.compile(r'([^0-9])([\.,])')
PERIOD_COMMA_BEFORE = re.compile(r'([\.,])([^0-9])')
DIGIT_DASH = re.compile(r'([0-9])(-)')


def tok13a(line):
    line = line.replace('<skipped>', '').replace('-\n', '').replace('\n', ' ')
    if '&' in line:
        for a, b in (('&quot;', '"'), ('&amp;', '&'), ('&lt;', '<'), ('&gt;', '>')):
            line = line.replace(a, b)
    line = ' ' + line + ' '
    line = PUNCT.sub(r' \1 ', line)
    line = PERIOD_COMMA_AFTER.sub(r'\1 \2 ', line)
    line = PERIOD_COMMA_BEFORE.sub(r' \1 \2', line)
    line = DIGIT_DASH.sub(r'\1 \2 ', line)
    return ' '.join(line.split())


def ngram_counts(line, max_order=4):
    toks = line.split()
    grams = Counter()
    for n in range(1, max_order + 1):
        for i in range(len(toks) - n + 1):
            grams[tuple(toks[i:i + n])] += 1
    return grams, len(toks)


def closest(hyp_len, ref_lens):
    best_diff, best = -1, -1
    for r in ref_lens:
        d = abs(hyp_len - r)
        if best_diff == -1 or d < best_diff:
            best_diff, best = d, r
        elif d == best_diff and r < best:
            best = r
    return best


def floored_log(x):
    return -9999999999 if x == 0.0 else math.log(x)


def corpus_bleu(hyps, ref_streams, max_order=4):
    sys_len = ref_len = 0
    correct = [0] * max_order
    total = [0] * max_order
    for i, hyp in enumerate(hyps):
        ref_grams = None
        ref_lens = []
        for stream in ref_streams:
            g, n = ngram_counts(tok13a(stream[i].rstrip()), max_order)
            ref_lens.append(n)
            if ref_grams is None:
                ref_grams = g
            else:
                for k, v in g.items():
                    ref_grams[k] = max(ref_grams[k], v)
        g, n = ngram_counts(tok13a(hyp.rstrip()), max_order)
        sys_len += n
        ref_len += closest(n, ref_lens)
        for k, v in g.items():
            total[len(k) - 1] += v
            if k in ref_grams:
                correct[len(k) - 1] += min(v, ref_grams[k])
    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    precisions = [0.0] * max_order
    if not any(correct):
        score = 0.0
    else:
        smooth = 1.0
        for n in range(1, max_order + 1):
            if total[n - 1] == 0:
                break
            if correct[n - 1] == 0:
                smooth *= 2
                precisions[n - 1] = 100. / (smooth * total[n - 1])
            else:
                precisions[n - 1] = 100. * correct[n - 1] / total[n - 1]
        score = bp * math.exp(sum(floored_log(p) for p in precisions) / max_order)
    ratio = sys_len / ref_len if ref_len else 0
    line = (f"BLEU = {score:.2f} " + "/".join(f"{p:.1f}" for p in precisions)
            + f" (BP = {bp:.3f} ratio = {ratio:.3f} hyp_len = {sys_len:d} ref_len = {ref_len:d})")
    return dict(score=score, counts=correct, totals=total, precisions=precisions, bp=bp, hypLen=sys_len,
                refLen=ref_len, ratio=ratio, formatted=line,
                signature=f"nrefs:{len(ref_streams)}|case:mixed|eff:no|tok:13a|smooth:exp|version:{VERSION}")


CASES = [
    ("captions", [
        "A man in an orange hat starring at something.",
        "A Boston Terrier is running on lush green grass in front of a white fence.",
        "A girl in karate uniform breaking a stick with a front kick.",
        "Five people wearing winter jackets and helmets stand in the snow, with snowmobiles in the background.",
        "People are fixing the roof of a house.",
    ], [[
        "A man in an orange hat looking at something.",
        "A Boston terrier runs over lush green grass in front of a white fence.",
        "A girl in a karate uniform breaks a board with a kick.",
        "Five people in winter jackets and helmets are standing in the snow with snowmobiles in the background.",
        "Men are fixing the roof of a house.",
    ]]),
    ("empty hypothesis line", ["", "the cat sat on the mat", ""], [["a b c", "the cat sat on the mat", "x"]]),
    ("all hypotheses empty", ["", ""], [["a b c d", "e f"]]),
    ("empty hypothesis and reference", [""], [[""]]),
    ("one-word hypothesis, ratio 1/16 rounds half to even", ["the"],
     [["the quick brown fox jumps over the lazy dog while the cat sleeps on a mat"]]),
    ("no 4-gram match", ["the cat is on the mat today", "a dog barks at the moon"],
     [["the cat sat on the mat today", "a dog howls at the moon"]]),
    ("no 3- or 4-gram match", ["the cat is the mat"], [["the cat sat on the mat"]]),
    ("shorter than four tokens", ["a b c", "d e"], [["a b c", "d e"]]),
    ("no unigram match", ["x y z w"], [["a b c d"]]),
    ("unicode punctuation and spaces", [
        "„Hallo“, sagte er — und ging… ‚weg‘!",
        "Preis:\u00a0100\u202f€ «très» bien\u3000ok",
        "emoji 😀 here\u2009and\u2028there",
        "fin\u0085al",
    ], [[
        "„Hallo“, sagte er – und ging … ‚weg‘!",
        "Preis: 100 € « très » bien ok",
        "emoji 😀 here and there",
        "fin al",
    ]]),
    ("numbers, dashes, entities, skipped", [
        "It costs 3.50 dollars, or 1,000 cents.",
        "Pages 10-20 and a-b, end.Next",
        "&quot;Tom &amp; Jerry&quot; &lt;3 <skipped>x",
        "line one-\nline two\nthree",
        "trailing spaces   \t\r",
    ], [[
        "It costs 3.50 dollars , or 1,000 cents .",
        "Pages 10 - 20 and a-b , end . Next",
        "\"Tom & Jerry\" <3 x",
        "line oneline two three",
        "trailing spaces",
    ]]),
    ("case matters", ["The Cat sat on The mat"], [["the cat sat on the mat"]]),
    ("two references, closest length", [
        "the cat sat on the mat",
        "a b c d e",
        "one two three four five six seven",
    ], [[
        "the cat sat on a mat",
        "a b c d",
        "one two three four five six seven eight nine",
    ], [
        "there is a cat on the mat",
        "a b c d e f",
        "one two three four five",
    ]]),
]


def main():
    out = []
    for name, hyps, refs in CASES:
        r = corpus_bleu(hyps, refs)
        r.update(name=name, hyps=hyps, refs=refs,
                 hypTokens=[tok13a(h.rstrip()) for h in hyps],
                 refTokens=[[tok13a(x.rstrip()) for x in s] for s in refs])
        out.append(r)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "attn4j-models/src/test/resources/bleu/bleu-references.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    for r in out:
        print(r["name"], "|", r["formatted"])


if __name__ == "__main__":
    main()
