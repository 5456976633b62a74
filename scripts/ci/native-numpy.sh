#!/usr/bin/env bash
# For the --native tests: gcc (the tests build a C extension) and numpy from PyPI in one
# cached venv per interpreter under /var/cache/pyflame-ts/native-numpy/<version>.
# Idempotent: a venv whose numpy imports is kept as it is.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v gcc >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends gcc libc6-dev
fi
cache=/var/cache/pyflame-ts/native-numpy
mkdir -p "$cache"
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for minor in 3.9 3.12 3.13; do
  python=$(ls -d "$pyenv_root"/versions/"$minor".*/bin/python3 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$python" ] || { echo "native-numpy: no pyenv $minor, skipped"; continue; }
  venv="$cache/$minor"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import numpy' 2>/dev/null; then
    continue
  fi
  rm -rf "$venv"
  "$python" -m venv "$venv"
  if ! "$venv/bin/python" -m pip install -q numpy; then
    echo "native-numpy: numpy does not install for $minor, skipped"
    rm -rf "$venv"
  fi
done
