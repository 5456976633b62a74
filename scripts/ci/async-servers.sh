#!/usr/bin/env bash
# The aiohttp server the asyncio tests profile (__test__/async-server.spec.ts), from PyPI, for
# the interpreters whose asyncio tasks pyflame-ts reads (CPython 3.7 to 3.15; aiohttp's
# first release with cp315 wheels is 3.14, its last for 3.8 is 3.10.11 and for 3.7 3.8.6). Installed once per ABI into
# /var/cache/pyflame-ts/async-servers/aiohttp-<version>-<abi>/site with the pip of any local CPython 3.9+
# (`--target` with the target's version and ABI: binary wheels only, nothing is compiled),
# then reused: the tests copy it next to the program they start (the newest interpreters
# run chrooted and see /tmp, not /var/cache). Idempotent; a no-op when already cached.
set -euo pipefail

# ABI, Python version, aiohttp version (pinned: the cache key carries it), then what the target
# needs beyond that: pip evaluates environment markers with its own interpreter, not the
# --python-version given, so dependencies only older Pythons need are named here.
TARGETS=(
  "cp37m 3.7 3.8.6 typing_extensions>=3.7.4"
  "cp38 3.8 3.10.11"
  "cp39 3.9 3.13.5"
  "cp310 3.10 3.13.5"
  "cp311 3.11 3.13.5"
  "cp312 3.12 3.13.5"
  "cp313 3.13 3.13.5"
  "cp314 3.14 3.13.5"
  "cp315 3.15 3.14.5"
)
CACHE=${PYFLAME_CACHE:-/var/cache/pyflame-ts}/async-servers

pip_python=""
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[0-9]*/bin/python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3 python3; do
  if "$candidate" -m pip --version >/dev/null 2>&1; then
    pip_python=$candidate
    break
  fi
done

for target in "${TARGETS[@]}"; do
  read -r abi py_version aiohttp_version extra <<<"$target"
  key="aiohttp-${aiohttp_version}-${abi}"
  dest="$CACHE/$key"
  if [ -f "$dest/.complete" ]; then
    echo "async servers: $key cached"
    continue
  fi
  if [ -z "$pip_python" ]; then
    echo "async servers: no CPython with pip found to install aiohttp; the async server test will not run" >&2
    exit 0
  fi
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  "$pip_python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --root-user-action=ignore \
    --target "$dest.tmp/site" --python-version "$py_version" --implementation cp --abi "$abi" \
    --platform "manylinux_2_17_$(uname -m)" --platform "manylinux2014_$(uname -m)" --only-binary=:all: \
    "aiohttp==$aiohttp_version" ${extra:+"$extra"}
  touch "$dest.tmp/.complete"
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  echo "async servers: installed $key"
done
