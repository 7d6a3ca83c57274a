#!/usr/bin/env bash
# Compares `./attn4j bench gemm` with numpy (OpenBLAS) on the shapes that matter for attention:
# square 1024^3, the two MLP projections, and batched attention scores.
#
# The two are interleaved: one JVM runs `bench gemm --paced`, and a Python driver alternates a
# timed numpy run (>= 0.2 s) with a timed attn4j run (>= 0.2 s, triggered over the JVM's stdin),
# RUNS times each, after both have warmed up. On a shared VM the machine's speed drifts by tens of
# percent over seconds; interleaving puts both sides through the same drift. Each side starts its
# turn after a 0.3 s pause, so the other's worker threads (OpenBLAS's spin for ~0.1 s after a call)
# have gone idle. The table shows each
# side's best and median run and the ratios attn4j / numpy of both.
# Usage: scripts/bench-gemm-vs-openblas.sh [--threads T] [--runs R]   (default: all processors, 20 runs;
# PAUSE=seconds changes the 0.3 s pause between turns)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
threads="$(nproc)"
runs=20
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        *) echo "usage: $0 [--threads T] [--runs R]" >&2; exit 2 ;;
    esac
done
command -v python3 >/dev/null || { echo "needs python3 with numpy" >&2; exit 2; }
python3 -c "import numpy" 2>/dev/null || { echo "needs numpy: pip install numpy" >&2; exit 2; }
"$root/attn4j" --version >/dev/null   # builds the CLI first if needed, outside the timed part

export OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads"
python3 - "$root/attn4j" "$threads" "$runs" <<'PY'
import json, statistics, subprocess, sys, time
import numpy as np

attn4j, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
import os
PAUSE = float(os.environ.get("PAUSE", "0.3"))
print(f"{'shape':28} {'threads':>7} {'attn4j best/median':>20} {'numpy best/median':>20} {'ratio best':>10} {'ratio median':>12}")
for m, n, k, batch in [(1024, 1024, 1024, 1), (4096, 1536, 384, 1), (4096, 384, 1536, 1), (256, 256, 32, 48)]:
    rng = np.random.default_rng(42)
    shape = lambda r, c: (batch, r, c) if batch > 1 else (r, c)
    a = rng.uniform(-1, 1, shape(m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, shape(k, n)).astype(np.float32)
    c = np.empty(shape(m, n), np.float32)
    flops = 2.0 * m * n * k * batch
    t0 = time.perf_counter(); calls = 0
    while calls < 3 or time.perf_counter() - t0 < 1.0:
        np.matmul(a, b, out=c); calls += 1
    reps = max(1, int(0.2 / ((time.perf_counter() - t0) / calls) + 0.999))

    jvm = subprocess.Popen([attn4j, "bench", "gemm", "--m", str(m), "--n", str(n), "--k", str(k),
                            "--batch", str(batch), "--threads", str(threads), "--runs", str(runs), "--paced"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ours, theirs = [], []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(reps): np.matmul(a, b, out=c)
        theirs.append(flops * reps / (time.perf_counter() - t) / 1e9)
        time.sleep(PAUSE)   # OpenBLAS's threads spin ~0.1 s after a call: let them sleep before the JVM's turn
        jvm.stdin.write("\n"); jvm.stdin.flush()       # the JVM warms up before its first read
        line = jvm.stdout.readline()
        if not line:
            sys.exit(f"attn4j bench gemm stopped early (exit {jvm.wait()})")
        ours.append(json.loads(line)["gflops"])
        time.sleep(PAUSE)   # and the JVM's pool threads park before numpy's turn
    jvm.stdin.close(); jvm.stdout.read(); jvm.wait()
    label = f"[{batch},{m},{k}]x[{batch},{k},{n}]" if batch > 1 else f"[{m},{k}]x[{k},{n}]"
    ob, om, tb, tm = max(ours), statistics.median(ours), max(theirs), statistics.median(theirs)
    print(f"{label:28} {threads:>7} {ob:>9.1f} / {om:>8.1f} {tb:>9.1f} / {tm:>8.1f} {ob / tb:>10.2f} {om / tm:>12.2f}", flush=True)
PY
