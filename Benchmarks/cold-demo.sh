#!/usr/bin/env bash
# The newcomer's cold set-up: clone this repository at COMMIT (default HEAD) into a fresh folder and time
# `make demo` there, with no .build. Prints `commit=… wall_s=… exit=…`.
#   bash Benchmarks/cold-demo.sh [COMMIT]
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
commit="${1:-HEAD}"
dir="$(mktemp -d /tmp/infermesh-cold-XXXXXX)"
git clone -q "$repo" "$dir" && git -C "$dir" checkout -q "$commit" || exit 1
cd "$dir"
start=$(date +%s.%N)
make demo > "$dir.log" 2>&1
status=$?
end=$(date +%s.%N)
echo "commit=$(git rev-parse --short HEAD) wall_s=$(echo "$end - $start" | bc) exit=$status log=$dir.log"
rm -rf "$dir"
