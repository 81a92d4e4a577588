#!/usr/bin/env bash
# Runs the M/M/8 (load 0.9) benchmark in SimPy and in InferMesh, one right after the other,
# and prints both outputs and the ratio of customers per second (event-loop wall time only, both sides).
set -euo pipefail
customers="${1:-1000000}"
here="$(cd "$(dirname "$0")" && pwd)"
bench="$here/../.build/release/infermesh-bench"

value() { grep "^$1=" | head -n 1 | cut -d= -f2; }

echo "== SimPy"
simpy_out="$(python3 "$here/simpy/mmc.py" --customers "$customers")"
echo "$simpy_out"
echo "== InferMesh"
ours_out="$("$bench" kernel --customers "$customers")"
echo "$ours_out"

simpy_cps="$(echo "$simpy_out" | value customers_per_second)"
ours_cps="$(echo "$ours_out" | value customers_per_second)"
echo "== ratio"
python3 - "$simpy_cps" "$ours_cps" <<'PY'
import sys
simpy, ours = float(sys.argv[1]), float(sys.argv[2])
print(f"customers_per_second_simpy={simpy:.0f}")
print(f"customers_per_second_infermesh={ours:.0f}")
print(f"speedup_vs_simpy={ours / simpy:.1f}")
PY
