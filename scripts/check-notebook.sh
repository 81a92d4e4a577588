#!/usr/bin/env bash
# The notebook check `make test` runs after the Swift tests: simulate a tiny scenario (two policies, a spike)
# into a temporary database, export it as CSV, and execute notebooks-export/analysis.ipynb on the export with
# nbclient in .venv (scripts/install-deps.sh creates it). Fails if any cell raises.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}

python=.venv/bin/python
"$python" -c 'import pandas, matplotlib, nbclient, ipykernel' 2>/dev/null || {
  echo "check-notebook: $python lacks pandas/matplotlib/nbclient/ipykernel; run scripts/install-deps.sh" >&2
  exit 1
}

$SWIFT build --product infermesh >/dev/null
infermesh="$($SWIFT build --show-bin-path)/infermesh"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat >"$work/tiny.yaml" <<'YAML'
# Notebook check: 3 stations, a Poisson workload with a 2x spike, two policies.
name: notebook-check
seed: 1
horizon: 2m
warmup: 10s
sample-interval: 1s
slo: {e2e: 2s}
policies: [round-robin, least-connections]
pools:
  - name: pool
    replicas: 3
    station: {servers: 1, service: {dist: exponential, mean: 400ms}}
workloads:
  - name: chat
    rate: 4/s
    schedule: {spike: {start: 40s, ramp-up: 5s, peak: 2, hold: 20s, decay: 5s}}
YAML

"$infermesh" run "$work/tiny.yaml" --db "$work/db.sqlite" --quiet >/dev/null
"$infermesh" export --format csv --db "$work/db.sqlite" --out "$work/export" >/dev/null
"$python" scripts/run-notebook.py notebooks-export/analysis.ipynb "$work/export"
