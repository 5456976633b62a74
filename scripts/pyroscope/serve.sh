#!/usr/bin/env bash
# Runs the Pyroscope server built by build.sh in the foreground, on loopback only, with
# filesystem storage in DATA_DIR. Every address is 127.0.0.1: the listen addresses alone are
# not enough, because the rings and memberlist otherwise advertise (and dial) the host's
# external address. Self-profiling push, usage stats and tracing are off.
#
#   scripts/pyroscope/serve.sh DATA_DIR [HTTP_PORT] [GRPC_PORT] [MEMBERLIST_PORT]
#
# Ready when `GET http://127.0.0.1:HTTP_PORT/ready` answers 200 (about 17 s); SIGTERM stops it
# (the script execs the server, so its PID is the server's).
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 DATA_DIR [HTTP_PORT] [GRPC_PORT] [MEMBERLIST_PORT]" >&2
  exit 2
fi
data="$1"
http_port="${2:-4040}"
grpc_port="${3:-9095}"
memberlist_port="${4:-7946}"
bin="${PYROSCOPE_BIN:-$(dirname "$0")/build.sh}"
[[ "$bin" == */build.sh ]] && bin="$("$bin")"
mkdir -p "$data/db" "$data/shared"
data="$(cd "$data" && pwd)"
# Some components keep state in folders relative to the working directory (data-compactor/,
# data/pyroscope-sync/): run in the data folder so nothing lands where the script was called.
cd "$data"
addr=127.0.0.1
exec "$bin" \
  -target=all \
  -server.http-listen-address="$addr" -server.http-listen-port="$http_port" \
  -server.grpc-listen-address="$addr" -server.grpc-listen-port="$grpc_port" \
  -memberlist.bind-addr="$addr" -memberlist.bind-port="$memberlist_port" -memberlist.advertise-addr="$addr" \
  -distributor.ring.instance-addr="$addr" \
  -ingester.lifecycler.addr="$addr" \
  -query-frontend.instance-addr="$addr" \
  -query-scheduler.ring.instance-addr="$addr" \
  -store-gateway.sharding-ring.instance-addr="$addr" \
  -compactor.ring.instance-addr="$addr" \
  -overrides-exporter.ring.instance-addr="$addr" \
  -pyroscopedb.data-path="$data/db" \
  -storage.backend=filesystem -storage.filesystem.dir="$data/shared" \
  -self-profiling.disable-push=true \
  -usage-stats.enabled=false \
  -tracing.enabled=false
