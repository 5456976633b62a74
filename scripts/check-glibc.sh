#!/bin/sh
# Prints the highest GLIBC_x.y symbol version a shared object needs: the oldest glibc it loads on.
# With --max X.Y it also fails when that floor is newer than X.Y (the release build must stay <= 2.17).
#
#   scripts/check-glibc.sh pyflame.linux-x64-gnu.node
#   scripts/check-glibc.sh --max 2.17 pyflame.linux-x64-gnu.node
set -eu

usage() {
  echo "usage: $0 [--max X.Y] FILE.node" >&2
  exit 2
}

max=""
if [ "${1:-}" = "--max" ]; then
  [ $# -ge 2 ] || usage
  max=$2
  shift 2
fi
[ $# -eq 1 ] || usage
file=$1
[ -f "$file" ] || { echo "$0: no such file: $file" >&2; exit 2; }

# Versions the file *requires* (its version needs), never the ones it defines. readelf reads
# any architecture's ELF, so an x86_64 runner can check the aarch64 addon too.
if command -v readelf >/dev/null 2>&1; then
  versions=$(readelf -V --wide "$file" | sed -n "/'.gnu.version_r'/,\$p" | grep -o 'Name: GLIBC_[0-9][0-9.]*' | sed 's/^Name: //' || true)
elif command -v objdump >/dev/null 2>&1; then
  versions=$(objdump -T "$file" | grep '\*UND\*' | grep -o 'GLIBC_[0-9][0-9.]*' || true)
else
  echo "$0: needs readelf or objdump (binutils)" >&2
  exit 2
fi

if [ -z "$versions" ]; then
  # A musl build, or a file that needs no versioned glibc symbol at all.
  echo "none"
  exit 0
fi

highest=$(printf '%s\n' "$versions" | sed 's/^GLIBC_//' | sort -u -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
echo "GLIBC_$highest"

if [ -n "$max" ]; then
  newest=$(printf '%s\n%s\n' "$highest" "$max" | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
  if [ "$newest" != "$max" ]; then
    echo "$0: $file needs GLIBC_$highest, newer than the allowed floor GLIBC_$max" >&2
    exit 1
  fi
fi
