#!/usr/bin/env bash
# Writes the `_Py_DebugOffsets` table that CPython's own headers produce, for the default and
# the free-threaded (-DPy_GIL_DISABLED) build of each minor, into
# crates/pyflame-core/tests/fixtures/debug-offsets/<version>[t].txt (one decimal u64 per line,
# the words after the 8-byte cookie). The tests parse these and compare the default builds
# with the tables inside the interpreters of scripts/pythons/fetch.sh, so free-threaded
# layouts that cannot run here (3.14t, 3.15t) are still checked against the headers.
#
# Headers: Debian unstable's libpython3.X-dev, fetched with the private apt setup of
# scripts/pythons/fetch.sh (run that first). Usage: tools/debug-offsets/probe.sh [3.14 3.15]
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
CACHE="${PYFLAME_TS_CACHE:-/var/cache/pyflame-ts}/pythons"
APT="$CACHE/apt"
out="$repo/crates/pyflame-core/tests/fixtures/debug-offsets"
minors=("$@")
((${#minors[@]})) || minors=(3.14 3.15)
[[ -f "$APT/sources.list" ]] || { echo "run scripts/pythons/fetch.sh first (no private apt lists)" >&2; exit 1; }
aptopts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o Debug::NoLocking=1)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
cat > "$work/probe.c" <<'C'
#include <stdio.h>
#include <stdint.h>
#include "Python.h"
#include "internal/pycore_runtime.h"
#include "internal/pycore_debug_offsets.h"
int main(void) {
    _Py_DebugOffsets d = _Py_DebugOffsets_INIT("xdebugpy");
    const uint64_t *w = (const uint64_t *)&d;
    for (size_t i = 1; i < sizeof(d) / 8; i++) printf("%llu\n", (unsigned long long)w[i]);
    return 0;
}
C
for minor in "${minors[@]}"; do
  (cd "$work" && apt-get -qq "${aptopts[@]}" download "libpython$minor-dev" >&2)
  dpkg-deb -x "$work"/libpython"$minor"-dev_*.deb "$work/root"
  inc="$work/root/usr/include"
  patch="$(awk '/#define PY_VERSION /{gsub(/"/,"",$3); print $3}' "$inc/python$minor/patchlevel.h")"
  for ft in "" t; do
    flags=(-DPy_BUILD_CORE=1 -I"$inc" -I"$inc/python$minor" -I"$inc/python$minor/internal")
    [[ -n "$ft" ]] && flags+=(-DPy_GIL_DISABLED=1)
    cc -w "${flags[@]}" "$work/probe.c" -o "$work/probe$ft"
    { echo "# _Py_DebugOffsets of CPython $patch$ft from libpython$minor-dev headers${ft:+ with -DPy_GIL_DISABLED} (tools/debug-offsets/probe.sh)"
      "$work/probe$ft"; } > "$out/$patch$ft.txt"
    echo "wrote $out/$patch$ft.txt" >&2
  done
done
