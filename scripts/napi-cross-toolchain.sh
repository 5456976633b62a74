#!/bin/sh
# Puts the gcc + glibc 2.17 sysroot toolchain that `napi build --use-napi-cross` uses where the
# napi CLI looks for it (~/.napi-rs/cross-toolchain/<version>/<triple>), fetched from the npm
# registry and unpacked with the system's tar and xz.
#
# Why not let `napi build` fetch it: the CLI unpacks with @napi-rs/lzma, whose Linux binaries
# need Node >= 22.20 (npm skips them on Node 20), and it asks for the toolchain package at exactly
# the @napi-rs/cross-toolchain version (1.0.5), while the registry's newest x86_64 toolchain is
# 1.0.0. Here we take the newest toolchain package of the same major version instead.
#
#   scripts/napi-cross-toolchain.sh [TARGET_TRIPLE]   (default: the Rust host triple)
set -eu

triple=${1:-$(rustc -vV | sed -n 's/^host: //p')}
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(cd "$root" && node -p "require('@napi-rs/cross-toolchain/package.json').version")
dest="$HOME/.napi-rs/cross-toolchain/$version/$triple"

if [ -f "$dest/package.json" ]; then
  exit 0 # already unpacked; the napi CLI checks the same file
fi

case "$(uname -m)" in
  x86_64) host=x64 ;;
  aarch64 | arm64) host=arm64 ;;
  *) echo "$0: the napi cross toolchains run on x86_64 and aarch64 hosts only" >&2; exit 1 ;;
esac
case "$triple" in
  x86_64-unknown-linux-gnu) pkg_target=x86_64 ;;
  aarch64-unknown-linux-gnu) pkg_target=aarch64 ;;
  *) echo "$0: no napi cross toolchain for $triple (glibc targets only; use -x for musl)" >&2; exit 1 ;;
esac
package="@napi-rs/cross-toolchain-$host-target-$pkg_target"
major=${version%%.*}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetching $package@^$major.0.0 for $triple (about 50 MB) ..." >&2
tarball=$(cd "$work" && npm pack --silent "$package@^$major.0.0" | tail -n 1)
tar -xzf "$work/$tarball" -C "$work"
rm -rf "$dest.partial"
mkdir -p "$dest.partial"
tar -xJf "$work/package/$triple.tar.xz" -C "$dest.partial"
# Rename last, so an interrupted run never leaves a half toolchain that looks complete.
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "napi cross toolchain for $triple in $dest" >&2
