#!/usr/bin/env bash
# Builds Grafana Pyroscope (pinned) from the Go module proxy into a cache outside the clone and
# prints the binary's path. Reuses the cached binary when present; builds from nothing otherwise
# (about 15 minutes and 2.4 GB of memory cold on 2 cores).
set -euo pipefail
VERSION="${PYROSCOPE_VERSION:-v1.21.1}"
API_VERSION="${PYROSCOPE_API_VERSION:-v1.5.0}"
CACHE="${PYFLAME_TS_CACHE:-/var/cache/pyflame-ts}/pyroscope/$VERSION"
BIN="$CACHE/pyroscope"
if [[ -x "$BIN" ]]; then echo "$BIN"; exit 0; fi
command -v go >/dev/null || { echo "pyroscope: go is not installed" >&2; exit 1; }
mkdir -p "$CACHE"
work="$(mktemp -d "$CACHE/build.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
# The proxy serves named versions (not listings or `go install`): download the module, build in it.
dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/grafana/pyroscope@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -d "$dir" ]] || { echo "pyroscope: module download failed" >&2; exit 1; }
cp -r "$dir/." "$work/src"
chmod -R u+w "$work/src"
cd "$work/src"
# The module's go.work names folders the download lacks; its api module is taken from the proxy.
go mod edit -replace "github.com/grafana/pyroscope/api=github.com/grafana/pyroscope/api@$API_VERSION"
GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 nice -n 10 go build -tags netgo -o "$work/pyroscope" ./cmd/pyroscope >&2
mv "$work/pyroscope" "$BIN"
echo "$BIN"
