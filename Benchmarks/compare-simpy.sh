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
kernel_cps="$(echo "$ours_out" | value customers_per_second)"
fleet_cps="$(echo "$ours_out" | value fleet_customers_per_second)"
echo "== ratio (event-loop wall time against event-loop wall time)"
python3 - "$simpy_cps" "$kernel_cps" "$fleet_cps" <<'PY'
import sys
simpy, kernel, fleet = (float(x) for x in sys.argv[1:4])
print(f"customers_per_second_simpy={simpy:.0f}")
print(f"customers_per_second_kernel={kernel:.0f}")
print(f"customers_per_second_fleet={fleet:.0f}")
print(f"speedup_kernel_vs_simpy={kernel / simpy:.1f}")
print(f"speedup_fleet_vs_simpy={fleet / simpy:.1f}")
PY
