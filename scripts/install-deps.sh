#!/usr/bin/env bash
# Installs the system libraries InferMesh links against (GSL, SQLite) when they are missing, Chromium for the
# report's browser tests (ReportBrowserTests), and the Python environment the notebook check and the
# browser tests' pixel check need (`.venv`: pandas, matplotlib, nbclient, ipykernel, Pillow, NumPy).
# Idempotent and quiet: does nothing when everything is already installed.
#   --bench     also SimPy, for `make bench`
#   --no-python skip the Python environment
#   --build-only only what the build links (for `make demo`): no Python environment, no Chromium
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libgsl-dev libsqlite3-dev libssl-dev)
# Installed without their recommended packages: a headless browser needs none of a desktop's extras.
no_recommends=(chromium)
python=1
for arg in "$@"; do
  case "$arg" in
    --no-python) python=0 ;;
    --build-only)
      python=0
      no_recommends=()
      ;;
  esac
done
if ((python)); then
  command -v python3 >/dev/null 2>&1 || packages+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || packages+=(python3-venv python3-pip)
fi
missing=() missing_no_recommends=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
for package in ${no_recommends[@]+"${no_recommends[@]}"}; do
  dpkg -s "$package" >/dev/null 2>&1 || missing_no_recommends+=("$package")
done

if ((${#missing[@]} + ${#missing_no_recommends[@]})); then
  echo "installing: ${missing[*]} ${missing_no_recommends[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  if ((${#missing[@]})); then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ((${#missing_no_recommends[@]})); then
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing_no_recommends[@]}" >/dev/null
  fi
fi

# The Python environment of the notebook check and the pixel check, in .venv (not committed). Versions are
# pinned loosely: the notebook uses only long-stable pandas and matplotlib calls, the pixel check Pillow's and
# NumPy's basics.
if ((python)); then
  venv=.venv
  if ! "$venv/bin/python" -c 'import pandas, matplotlib, nbclient, ipykernel, PIL, numpy' >/dev/null 2>&1; then
    echo "installing the Python packages of the notebook and pixel checks into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      'pandas>=2,<3' 'matplotlib>=3.7,<4' 'nbclient>=0.9,<1' 'nbformat>=5.9,<6' 'ipykernel>=6.25,<7' \
      'pillow>=9' 'numpy>=1.23'
  fi
fi

if [ "${1:-}" = "--bench" ]; then
  python3 -c 'import simpy' 2>/dev/null || python3 -m pip install --quiet simpy==4.1.2
fi
