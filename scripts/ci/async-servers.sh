#!/usr/bin/env bash
# The aiohttp server the asyncio tests profile (__test__/async-server.spec.ts), from PyPI, for
# the interpreters whose asyncio tasks pyflame-ts reads (CPython 3.14+). Installed once into
# /var/cache/pyflame-ts/async-servers/<key>/site with the pip of any local CPython 3.9+
# (`--target` with the target's version and ABI: binary wheels only, nothing is compiled),
# then reused: the tests copy it next to the program they start (the newest interpreters
# run chrooted and see /tmp, not /var/cache). Idempotent; a no-op when already cached.
set -euo pipefail

AIOHTTP_VERSION=3.13.5
PY_ABI=cp314
CACHE=${PYFLAME_CACHE:-/var/cache/pyflame-ts}/async-servers
KEY="aiohttp-${AIOHTTP_VERSION}-${PY_ABI}"
DEST="$CACHE/$KEY"

if [ -f "$DEST/.complete" ]; then
  echo "async servers: $KEY cached"
  exit 0
fi

pip_python=""
for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[0-9]*/bin/python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3 python3; do
  if "$candidate" -m pip --version >/dev/null 2>&1; then
    pip_python=$candidate
    break
  fi
done
if [ -z "$pip_python" ]; then
  echo "async servers: no CPython with pip found to install aiohttp; the async server test will not run" >&2
  exit 0
fi

rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp"
"$pip_python" -m pip install --quiet --disable-pip-version-check --no-cache-dir --root-user-action=ignore \
  --target "$DEST.tmp/site" --python-version 3.14 --implementation cp --abi "$PY_ABI" \
  --platform "manylinux_2_17_$(uname -m)" --platform "manylinux2014_$(uname -m)" --only-binary=:all: \
  "aiohttp==$AIOHTTP_VERSION"
touch "$DEST.tmp/.complete"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
echo "async servers: installed $KEY"
