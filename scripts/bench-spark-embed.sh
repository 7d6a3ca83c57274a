#!/usr/bin/env bash
# Sentence-embedding throughput of `attn4j spark embed` in local[1] and local[2] against the
# single-process `attn4j embed` on the same rows (short synthetic texts, 1 to 6 words; the built-in
# all-MiniLM-L6-v2). Prints one line per run: wall seconds of the whole command, CPU seconds
# (user + sys), and rows/s; for Spark also the job's own summary line (the write phase alone,
# without JVM start, Spark's start and the model load). Spark runs get -Xmx512m for the whole JVM.
# Usage: scripts/bench-spark-embed.sh [ROWS] (default 100000)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
rows="${1:-100000}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 - "$rows" "$dir" <<'PY'
import json, random, sys
rows, d = int(sys.argv[1]), sys.argv[2]
words = ("the a of to in and is was for on news market search index cluster spark model token batch film plot "
         "good bad great slow fast price rate team game city").split()
rng = random.Random(7)
with open(d + "/in.jsonl", "w") as j, open(d + "/in.txt", "w") as t:
    for i in range(rows):
        s = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
        j.write(json.dumps({"id": i, "text": s}) + "\n")
        t.write(s + "\n")
PY
"$root/attn4j" spark --help >/dev/null 2>&1 || true        # builds the job jar first if needed, outside the timings
"$root/attn4j" --help >/dev/null 2>&1 || true
echo "rows=$rows nproc=$(nproc) load: $(cut -d' ' -f1-3 /proc/loadavg)"

measure() { # NAME COMMAND...: wall, CPU (this process tree), rows/s
    local name="$1"; shift
    local t0 c0 t1 c1
    t0=$(date +%s.%N)
    c0=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
    "$@" >"$dir/$name.out" 2>"$dir/$name.err"
    t1=$(date +%s.%N)
    c1=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
    awk -v n="$name" -v w="$(echo "$t1 - $t0" | bc)" -v c="$(( c1 - c0 ))" -v hz="$(getconf CLK_TCK)" -v r="$rows" \
        'BEGIN { printf "%-14s wall %8.1f s  cpu %8.1f s  %8.1f rows/s (whole command)\n", n, w, c / hz, r / w }'
    grep -h '^{"rows"' "$dir/$name.out" || true
}

measure embed "$root/attn4j" embed --file "$dir/in.txt"
for m in 1 2; do
    ATTN4J_JAVA_OPTS="-Xmx512m" measure "spark-local[$m]" "$root/attn4j" spark embed --input "$dir/in.jsonl" \
        --output "$dir/out-$m" --master "local[$m]" --partitions "$m"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
