#!/usr/bin/env bash
# Installs the system libraries InferMesh links against (GSL, SQLite) when they are missing.
# Idempotent: does nothing when they are already installed.
set -euo pipefail

packages=(libgsl-dev libsqlite3-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--bench" ]; then
  python3 -c 'import simpy' 2>/dev/null || python3 -m pip install --quiet simpy==4.1.2
fi
