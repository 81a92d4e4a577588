#!/usr/bin/env bash
# The scale benchmark: scenarios/scale-fleet.yaml (1 simulated hour, 64 replicas in 2 clusters, ~1.1M requests,
# every request row stored), then the same fleet over a quarter and twice the time, to show that peak memory
# does not grow with the number of requests. Prints key=value figures. Needs a release build of infermesh and
# GNU time (/usr/bin/time).
#
#   bash Benchmarks/scale-fleet.sh [INFERMESH] [HORIZONS]     e.g. bash Benchmarks/scale-fleet.sh .build/release/infermesh "15m 1h 2h"
set -euo pipefail
bin=${1:-.build/release/infermesh}
horizons=${2:-"15m 1h"}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for horizon in $horizons; do
    sed "s/^horizon: 1h$/horizon: $horizon/" scenarios/scale-fleet.yaml > "$work/scale-$horizon.yaml"
    db="$work/scale-$horizon.sqlite"
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" run "$work/scale-$horizon.yaml" --db "$db" --quiet --format json > "$work/out.json"
    read -r wall rss_kb < "$work/time"
    python3 - "$work/out.json" "$horizon" "$wall" "$rss_kb" <<'PY'
import json, sys
out, horizon, wall, rss_kb = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
run = json.load(open(out))["runs"][0]
requests = int(run["summary"]["requests_total"])
key = "scale_" + horizon
print(f"{key}_requests={requests}")
print(f"{key}_events={run['events']}")
print(f"{key}_wall_seconds={wall:.2f}")
print(f"{key}_simulation_and_storage_seconds={run['wall_seconds']:.2f}")
print(f"{key}_peak_rss_mb={rss_kb / 1024:.1f}")
print(f"{key}_requests_per_wall_second={requests / wall:.0f}")
PY
    echo "scale_${horizon}_rows_stored=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from request').fetchone()[0])" "$db")"
done
