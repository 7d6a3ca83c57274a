#!/usr/bin/env bash
# Compares `./attn4j bench gemm` with numpy (OpenBLAS) on the shapes that matter for attention:
# square 1024^3, the two MLP projections, and batched attention scores. For each shape the two run
# one after the other with the same method (warm up ~1 s, 5 runs of >= 0.2 s, best run) and the
# table shows GFLOP/s and the ratio attn4j / numpy.
# Usage: scripts/bench-gemm-vs-openblas.sh [--threads T]   (default: all processors, both sides)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
threads="$(nproc)"
if [ "${1:-}" = --threads ]; then threads="$2"; fi
command -v python3 >/dev/null || { echo "needs python3 with numpy" >&2; exit 2; }
python3 -c "import numpy" 2>/dev/null || { echo "needs numpy: pip install numpy" >&2; exit 2; }

numpy_gflops() {  # m n k batch
    OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" python3 -c '
import sys, time
import numpy as np
m, n, k, batch = map(int, sys.argv[1:5])
rng = np.random.default_rng(42)
shape = lambda r, c: (batch, r, c) if batch > 1 else (r, c)
a = rng.uniform(-1, 1, shape(m, k)).astype(np.float32)
b = rng.uniform(-1, 1, shape(k, n)).astype(np.float32)
c = np.empty(shape(m, n), np.float32)
op = lambda: np.matmul(a, b, out=c)
t0 = time.perf_counter(); calls = 0
while calls < 3 or time.perf_counter() - t0 < 1.0:
    op(); calls += 1
reps = max(1, int(0.2 / ((time.perf_counter() - t0) / calls) + 0.999))
best = 0.0
for _ in range(5):
    t = time.perf_counter()
    for _ in range(reps): op()
    best = max(best, 2.0 * m * n * k * batch * reps / (time.perf_counter() - t) / 1e9)
print(f"{best:.3f}")
' "$@"
}

attn4j_gflops() {  # m n k batch
    "$root/attn4j" bench gemm --m "$1" --n "$2" --k "$3" --batch "$4" --threads "$threads" 2>/dev/null \
        | tail -n 1 | sed -n 's/.*"gflops":\([0-9.]*\).*/\1/p'
}

printf '%-28s %8s %12s %12s %7s\n' shape threads attn4j numpy ratio
for shape in "1024 1024 1024 1" "4096 1536 384 1" "4096 384 1536 1" "256 256 32 48"; do
    set -- $shape
    ours="$(attn4j_gflops "$@")"
    theirs="$(numpy_gflops "$@")"
    label="[$1,$3]x[$3,$2]"
    [ "$4" -gt 1 ] && label="[$4,$1,$3]x[$4,$3,$2]"
    ratio="$(python3 -c "print(f'{$ours / $theirs:.2f}')")"
    printf '%-28s %8s %12s %12s %7s\n' "$label" "$threads" "$ours" "$theirs" "$ratio"
done
