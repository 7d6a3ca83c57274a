#!/usr/bin/python3
"""Writes the reference rows that DataFilesReferenceTest compares attn4j's data reader with.

Makes the fixture files in attn4j-models/src/test/resources/data/ (tricky.csv, tricky.tsv,
tricky.jsonl: quoting, doubled quotes, line breaks inside fields, CRLF, a BOM, blank lines, empty
texts, U+0085 / U+2028 inside texts, no final newline) and parses them with Python's own readers,
csv.DictReader (the file opened with newline='', encoding 'utf-8-sig') and json.loads per line,
writing each file's rows as <file>.expected.json: [{"text", "pair", "label"}, ...].

Run: /usr/bin/python3 scripts/gen-data-reference.py
"""
import csv
import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "attn4j-models", "src", "test", "resources", "data")

ROWS = [
    ("plain text", "second", "pos"),
    ("with, a comma", "and \"quotes\" inside", "neg"),
    ("two\r\nlines (CRLF inside)", "", "pos"),
    ("two\nlines (LF inside)", "x", "neutral"),
    ("", "empty text is a row", "neg"),
    ("nel \u0085 and line separator \u2028 stay inside", "tab\there", "pos"),
    ("  leading and trailing spaces  ", " ", "neg"),
    ("中文，全角标点“引号”😀", "émoji", "1"),
    ("\"starts with a quote\" and goes on", "ends with a quote \"", "0"),
]


def write_fixtures():
    os.makedirs(OUT, exist_ok=True)
    for name, delim in (("tricky.csv", ","), ("tricky.tsv", "\t")):
        with open(os.path.join(OUT, name), "w", newline="", encoding="utf-8-sig") as f:
            w = csv.writer(f, delimiter=delim, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
            w.writerow(["text", "pair", "label"])
            for i, r in enumerate(ROWS):
                w.writerow(r)
                if i == 3:
                    f.write("\r\n")  # a blank line between records
        # no newline after the last record
        path = os.path.join(OUT, name)
        data = open(path, "rb").read()
        open(path, "wb").write(data[:-2])
    with open(os.path.join(OUT, "tricky.jsonl"), "wb") as f:
        lines = []
        for i, (t, p, l) in enumerate(ROWS):
            obj = {"text": t, "pair": p, "label": int(l) if l.isdigit() else l}
            # ensure_ascii=False keeps U+0085 / U+2028 raw inside the JSON strings (valid JSON)
            lines.append(json.dumps(obj, ensure_ascii=False).encode("utf-8"))
        f.write(b"\xef\xbb\xbf" + lines[0] + b"\r\n" + b"\n".join(lines[1:5]) + b"\n\n" + b"\r\n".join(lines[5:]))


def expected_csv(name, delim):
    with open(os.path.join(OUT, name), newline="", encoding="utf-8-sig") as f:
        return [{"text": r["text"], "pair": r["pair"], "label": r["label"]} for r in csv.DictReader(f, delimiter=delim)]


def expected_jsonl(name):
    out = []
    data = open(os.path.join(OUT, name), "rb").read().decode("utf-8-sig")
    for line in data.split("\n"):
        if line.strip():
            o = json.loads(line)
            out.append({"text": o["text"], "pair": o["pair"], "label": str(o["label"])})
    return out


def main():
    write_fixtures()
    for name, rows in (("tricky.csv", expected_csv("tricky.csv", ",")),
                       ("tricky.tsv", expected_csv("tricky.tsv", "\t")),
                       ("tricky.jsonl", expected_jsonl("tricky.jsonl"))):
        with open(os.path.join(OUT, name + ".expected.json"), "w", encoding="utf-8") as f:
            json.dump(rows, f, ensure_ascii=True, indent=1)
            f.write("\n")
        print(name, len(rows), "rows")


if __name__ == "__main__":
    main()
