#!/usr/bin/env bash
# Installs the system libraries InferMesh links against (GSL, SQLite) when they are missing, and the Python
# environment the notebook check needs (`.venv`: pandas, matplotlib, nbclient, ipykernel).
# Idempotent and quiet: does nothing when everything is already installed.
#   --bench     also SimPy, for `make bench`
#   --no-python skip the notebook's Python environment
#   --build-only only what the build links (for `make demo`): no Python environment
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libgsl-dev libsqlite3-dev libssl-dev)
python=1
for arg in "$@"; do
  case "$arg" in
    --no-python | --build-only) python=0 ;;
  esac
done
if ((python)); then
  command -v python3 >/dev/null 2>&1 || packages+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv python3-pip)
fi
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

# The notebook's environment, in .venv (not committed). Versions are pinned loosely: the notebook uses
# only long-stable pandas and matplotlib calls.
if ((python)); then
  venv=.venv
  if ! "$venv/bin/python" -c 'import pandas, matplotlib, nbclient, ipykernel' >/dev/null 2>&1; then
    echo "installing the notebook's Python packages into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      'pandas>=2,<3' 'matplotlib>=3.7,<4' 'nbclient>=0.9,<1' 'nbformat>=5.9,<6' 'ipykernel>=6.25,<7'
  fi
fi

if [ "${1:-}" = "--bench" ]; then
  python3 -c 'import simpy' 2>/dev/null || python3 -m pip install --quiet simpy==4.1.2
fi
